/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container ids and Slurm steps from cgroup paths.
 *
 * Only layouts an engine documents are read, so a cgroup an administrator
 * named by hand is never taken for a container:
 *  - systemd driver: a scope "<prefix>-<id>.scope" (runc's "runc-", crun's
 *    "crun-", podman's "libpod-", Docker's "docker-", containerd's
 *    "cri-containerd-", CRI-O's "crio-"), optionally with crun's "container"
 *    subgroup below it;
 *  - cgroupfs driver: podman's "libpod-<id>" and CRI-O's "crio-<id>", Docker's
 *    "docker/<id>", containerd's "<namespace>/<id>" (two components), and a
 *    bare id as a last component elsewhere (kubepods/.../pod<uid>/<id>: the id
 *    is known, the engine is not);
 *  - Slurm's cgroup v2 plugin: ".../slurmstepd.scope/job_<N>/step_<M>" (or
 *    step_batch, step_extern, step_interactive), and what lies below it.
 * Engines that generate ids (all but runc and crun, where the user names the
 * container) use 64 hex digits: a "libpod-conmon-<id>.scope" or
 * "crio-conmon-<id>.scope" (the monitor's scope, not the container's) fails
 * that test and is no container. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup-owner.h"
#include "util.h"

#define ID_HEX_LEN 64

static bool is_hex_id(const char *s, size_t len)
{
        if (len != ID_HEX_LEN)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!strchr("0123456789abcdef", s[i]) || !s[i])
                        return false;
        return true;
}

/* runc's and crun's container ids: [A-Za-z0-9_+.-]+ (runc's own check). */
static bool is_named_id(const char *s, size_t len)
{
        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!s[i] || !strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789_+.-", s[i]))
                        return false;
        return true;
}

static const struct scope_rule {
        const char *prefix;
        const char *engine;
        bool hex_id;     /* the engine generates 64-hex ids */
        bool cgroupfs;   /* the prefix is also its cgroupfs name (no ".scope") */
} scope_rules[] = {
        { "cri-containerd-", "containerd", true, false },
        { "crio-", "cri-o", true, true },
        { "docker-", "docker", true, false },
        { "libpod-", "podman", true, true },
        { "runc-", "runc", false, false },
        { "crun-", "crun", false, false },
};

/* Path components, without empty ones; at most `max`. */
static size_t split(const char *path, const char **comp, size_t *len, size_t max)
{
        size_t n = 0;
        for (const char *p = path; *p;) {
                size_t l = strcspn(p, "/");
                if (l > 0) {
                        if (n == max)
                                return max + 1;
                        comp[n] = p;
                        len[n++] = l;
                }
                p += l + (p[l] == '/');
        }
        return n;
}

static bool comp_is(const char *comp, size_t len, const char *word)
{
        return strlen(word) == len && memcmp(comp, word, len) == 0;
}

static bool ends_with(const char *comp, size_t len, const char *suffix)
{
        size_t sl = strlen(suffix);
        return len >= sl && memcmp(comp + len - sl, suffix, sl) == 0;
}

/* "job_<N>" / "step_<M>": the decimal (or batch, extern, interactive) after it. */
static bool slurm_part(const char *comp, size_t len, const char *prefix, bool named_ok,
                       char *out, size_t out_len)
{
        size_t pl = strlen(prefix);
        if (len <= pl || memcmp(comp, prefix, pl) != 0 || len - pl >= out_len)
                return false;
        snprintf(out, out_len, "%.*s", (int) (len - pl), comp + pl);
        uint64_t n;
        if (crdma_parse_decimal(out, UINT32_MAX, &n) == 0)
                return true;
        return named_ok && (strcmp(out, "batch") == 0 || strcmp(out, "extern") == 0 ||
                            strcmp(out, "interactive") == 0);
}

static int slurm_step(const char **comp, const size_t *len, size_t n, char **id)
{
        /* "slurmstepd.scope", or "<node>_slurmstepd.scope" with several slurmds. */
        for (size_t k = 0; k + 2 < n; k++) {
                if (!comp_is(comp[k], len[k], "slurmstepd.scope") &&
                    !ends_with(comp[k], len[k], "_slurmstepd.scope"))
                        continue;
                char job[16], step[16];
                if (!slurm_part(comp[k + 1], len[k + 1], "job_", false, job, sizeof(job)) ||
                    !slurm_part(comp[k + 2], len[k + 2], "step_", true, step, sizeof(step)))
                        return 0;
                return asprintf(id, "job %s step %s", job, step) < 0 ? -ENOMEM : 1;
        }
        return 0;
}

static int found(const char *engine, const char *s, size_t len, const char **engine_out,
                 char **id)
{
        char *copy = strndup(s, len);
        if (!copy)
                return -ENOMEM;
        *engine_out = engine;
        *id = copy;
        return 1;
}

int crdma_cgroup_owner(const char *path, const char **engine, char **id)
{
        /* Deep enough for kubepods.slice/kubepods-QOS.slice/kubepods-QOS-podUID.slice/
         * SCOPE/container and Slurm's step with its user/task_N below. */
        enum { MAX_COMPONENTS = 64 };
        const char *comp[MAX_COMPONENTS];
        size_t len[MAX_COMPONENTS];
        *engine = NULL;
        *id = NULL;
        size_t n = split(path, comp, len, MAX_COMPONENTS);
        if (n == 0 || n > MAX_COMPONENTS)
                return 0;

        int r = slurm_step(comp, len, n, id);
        if (r != 0) {
                if (r > 0)
                        *engine = "slurm";
                return r;
        }

        size_t last = n - 1;
        /* crun (systemd driver, cgroup v2) runs the container in a
         * "container" subgroup of its scope. */
        if (last > 0 && comp_is(comp[last], len[last], "container") &&
            ends_with(comp[last - 1], len[last - 1], ".scope"))
                last--;
        const char *name = comp[last];
        size_t name_len = len[last];
        bool scope = ends_with(name, name_len, ".scope");
        if (scope)
                name_len -= strlen(".scope");

        for (size_t i = 0; i < sizeof(scope_rules) / sizeof(scope_rules[0]); i++) {
                const struct scope_rule *rule = &scope_rules[i];
                size_t pl = strlen(rule->prefix);
                if (!(scope || rule->cgroupfs) || name_len <= pl ||
                    memcmp(name, rule->prefix, pl) != 0)
                        continue;
                const char *s = name + pl;
                size_t l = name_len - pl;
                if (rule->hex_id ? is_hex_id(s, l) : is_named_id(s, l))
                        return found(rule->engine, s, l, engine, id);
                return 0;
        }
        if (scope || !is_hex_id(name, name_len))
                return 0;
        const char *bare_engine = NULL;
        if (last == 1)
                bare_engine = comp_is(comp[0], len[0], "docker") ? "docker" : "containerd";
        return found(bare_engine, name, name_len, engine, id);
}
