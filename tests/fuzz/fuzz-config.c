/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The config editor (crdma-hook edit, precreate): config.json parsed, a
 * plan applied, written back.  Input: CONFIG %% ANNOTATIONS, the second part
 * "key=value" lines that make the plan, from the shipped `mixed` sysfs tree
 * and a policy that allows everything; a request that tree or policy
 * refuses falls back to a fixed plan, so every config meets a plan.  Lines
 * "@runtime=runc|crun", "@cgroup2", "@rdma", "@hook" set the edit options.
 * Invariants (oci/config.h): a parsed config writes; what it writes parses
 * and writes the same again; applying twice is applying once; a refused
 * apply leaves the config as it was.
 * The config alone then goes through crdma_config_edit, the whole path of
 * `crdma-hook edit` and precreate (its own annotations, the same tree and
 * policy from a file, a cgroup v2 root with the rdma controller): one without
 * io.crdma.* annotations comes back byte for byte; editing the edited config
 * changes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "context.h"
#include "error.h"
#include "fuzz-common.h"

#define MAX_ANNOTATIONS 16

static struct crdma_plan *fallback;
static struct crdma_context *whole; /* the plans and crdma_config_edit read everything from it */

static const char permissive[] =
        "{\"version\":1,\"devices\":[\"*\"],"
        "\"limits\":{\"hcaHandles\":\"max\",\"hcaObjects\":\"max\",\"memlock\":\"unlimited\"},"
        "\"allow\":{\"umad\":true,\"issm\":true,\"netRaw\":true,\"ipcLock\":true,\"exclusive\":true}}";

/* Through the front door, as every path plans. */
static struct crdma_plan *plan_for(const struct crdma_kv *kv, size_t n, struct crdma_error **err)
{
        struct crdma_plan *plan = NULL;
        return crdma_plan_from_request(whole, kv, n, &plan, err) >= 0 ? plan : NULL;
}

static void write_scratch(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text))
                fuzz_fail(__FILE__, __LINE__, "setup", "cannot write %s", path);
        close(fd);
}

/* The context crdma_config_edit reads everything from. */
static int whole_context(struct crdma_error **err)
{
        char cgroup[4200], policy_path[4200], controllers[4300];
        snprintf(cgroup, sizeof(cgroup), "%s/cgroup", fuzz_scratch_dir());
        snprintf(policy_path, sizeof(policy_path), "%s/policy.json", fuzz_scratch_dir());
        snprintf(controllers, sizeof(controllers), "%s/cgroup.controllers", cgroup);
        if (mkdir(cgroup, 0755) < 0 && errno != EEXIST)
                fuzz_fail(__FILE__, __LINE__, "setup", "cannot make %s", cgroup);
        write_scratch(controllers, "cpuset cpu io memory pids rdma\n");
        write_scratch(policy_path, permissive);
        if (crdma_context_new(&whole, err) < 0 ||
            crdma_context_set_root(whole, CRDMA_ROOT_SYSFS, CRDMA_TEST_DATA "/sysfs/mixed", err) < 0 ||
            crdma_context_set_netlink(whole, false, err) < 0 || /* not this kernel's tree */
            crdma_context_set_root(whole, CRDMA_ROOT_CGROUP, cgroup, err) < 0)
                return -1;
        return crdma_context_set_policy_path(whole, policy_path, err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void) argc, (void) argv;
        struct crdma_error *err = NULL;
        static const struct crdma_kv all[] = {
                { "io.crdma.devices", "all" },    { "io.crdma.raw", "true" },
                { "io.crdma.hca-handles", "7" }, { "io.crdma.memlock", "1G" },
        };
        if (whole_context(&err) < 0 || !(fallback = plan_for(all, sizeof(all) / sizeof(all[0]), &err)))
                fuzz_fail(__FILE__, __LINE__, "setup", "%s", crdma_error_message(err));
        return 0;
}

static char *write_ok(const struct oci_config *c, bool pretty)
{
        char *out = NULL;
        struct crdma_error *err = NULL;
        int r = oci_config_write(c, pretty, &out, &err);
        FUZZ_ASSERT(r >= 0, "a parsed config does not write: %s", crdma_error_message(err));
        return out;
}

/* "key=value" lines into `kv`, pointing into `buf` (a NUL-terminated copy),
 * and "@option" lines into `opts`. */
static size_t split_annotations(char *buf, struct crdma_kv *kv, struct oci_edit_options *opts)
{
        size_t n = 0;
        for (char *line = buf, *next; line && n < MAX_ANNOTATIONS; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (line[0] == '@') {
                        if (strcmp(line, "@runtime=runc") == 0)
                                opts->runtime = CRDMA_RUNTIME_RUNC;
                        else if (strcmp(line, "@runtime=crun") == 0)
                                opts->runtime = CRDMA_RUNTIME_CRUN;
                        else if (strcmp(line, "@cgroup2") == 0)
                                opts->cgroup2 = true;
                        else if (strcmp(line, "@rdma") == 0)
                                opts->rdma_controller = true;
                        else if (strcmp(line, "@hook") == 0)
                                opts->hook_path = "/usr/bin/crdma-hook",
                                opts->policy_path = "/etc/crdma/policy.json";
                        continue;
                }
                char *eq = strchr(line, '=');
                if (!eq)
                        continue;
                *eq = '\0';
                kv[n++] = (struct crdma_kv){ line, eq + 1 };
        }
        return n;
}

static void edit(const struct fuzz_part *text, const struct crdma_plan *plan,
                 const struct oci_edit_options *opts)
{
        struct crdma_error *err = NULL;
        struct oci_config *c = NULL;
        int r = oci_config_parse(text->data, text->len, "config.json", &c, &err);
        if (r < 0) {
                fuzz_check_error(r, &err);
                return;
        }
        char *before = write_ok(c, false);
        r = oci_config_apply_plan(c, plan, opts, &err);
        char *once = write_ok(c, false);
        if (r < 0) {
                FUZZ_ASSERT(r == -ENOMEM || strcmp(before, once) == 0,
                            "refused (%s) but changed:\n%s\n%s", crdma_error_message(err), before, once);
                fuzz_check_error(r, &err);
        } else {
                r = oci_config_apply_plan(c, plan, opts, &err);
                FUZZ_ASSERT(r >= 0, "a second apply fails: %s", crdma_error_message(err));
                char *twice = write_ok(c, false);
                FUZZ_ASSERT(strcmp(once, twice) == 0, "not idempotent:\n%s\n%s", once, twice);
                free(twice);
                free(write_ok(c, true));

                struct oci_config *back = NULL;
                r = oci_config_parse(once, strlen(once), "written", &back, &err);
                FUZZ_ASSERT(r >= 0, "the written config does not parse: %s\n%s",
                            crdma_error_message(err), once);
                char *again = write_ok(back, false);
                FUZZ_ASSERT(strcmp(once, again) == 0, "not a fixed point:\n%s\n%s", once, again);
                free(again);
                oci_config_free(back);
        }
        free(once);
        free(before);
        oci_config_free(c);
}

/* Whether a parsed config has an io.crdma.* annotation. */
static bool asks_crdma(const struct fuzz_part *text)
{
        struct oci_config *c = NULL;
        struct crdma_error *err = NULL;
        if (oci_config_parse(text->data, text->len, "config.json", &c, &err) < 0) {
                crdma_error_free(err);
                return true; /* unknown: no claim */
        }
        const char *path[] = { "annotations", NULL };
        yajl_val ann = yajl_tree_get(oci_config_root(c), path, yajl_t_object);
        bool asks = false;
        for (size_t i = 0; ann && i < YAJL_GET_OBJECT(ann)->len; i++)
                asks |= strncmp(YAJL_GET_OBJECT(ann)->keys[i], "io.crdma.", 9) == 0;
        oci_config_free(c);
        return asks;
}

static void edit_whole(const struct fuzz_part *text, const struct oci_edit_options *opts)
{
        char *out = NULL, *again = NULL;
        struct crdma_error *err = NULL;
        int r = crdma_config_edit(whole, text->data, text->len, opts->runtime, opts->hook_path,
                                  &out, &err);
        if (r < 0) {
                fuzz_check_error(r, &err);
                return;
        }
        size_t len = strlen(out);
        FUZZ_ASSERT(asks_crdma(text) || (len == text->len && memcmp(out, text->data, len) == 0),
                    "a config without io.crdma.* annotations changed:\n%s", out);
        r = crdma_config_edit(whole, out, len, opts->runtime, opts->hook_path, &again, &err);
        FUZZ_ASSERT(r >= 0, "the edited config is refused: %s\n%s", crdma_error_message(err), out);
        FUZZ_ASSERT(strcmp(out, again) == 0, "editing again changed it:\n%s\n%s", out, again);
        free(again);
        free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_part parts[2];
        fuzz_split(data, size, parts, 2);

        struct crdma_error *err = NULL;
        char *ann = strndup(parts[1].data, parts[1].len);
        if (!ann)
                abort();
        struct crdma_kv kv[MAX_ANNOTATIONS];
        struct oci_edit_options opts = { .runtime = CRDMA_RUNTIME_AUTO };
        struct crdma_plan *plan = plan_for(kv, split_annotations(ann, kv, &opts), &err);
        if (!plan && err)
                fuzz_check_error(-crdma_error_errno(err), &err);
        edit(&parts[0], plan ? plan : fallback, &opts);
        edit_whole(&parts[0], &opts);
        crdma_plan_free(plan);
        free(ann);
        return 0;
}
