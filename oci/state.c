/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "document.h"
#include "error.h"
#include "json-member.h"
#include "json-read.h"
#include "request.h"
#include "seccomp-profile.h"
#include "state.h"
#include "util.h"

#define STATE_ORIGIN "OCI state (standard input)"

/* The runtime has validated both documents: here a member of another type
 * than OCI's is taken as absent (crdma_json_get), not judged. */
static const char *get_string(yajl_val obj, const char *key)
{
        yajl_val v = crdma_json_get(obj, key, yajl_t_string);
        return v ? v->u.string : NULL;
}

static int push_ptr(const char ***arr, size_t *n, const char *s)
{
        const char **grown = realloc(*arr, (*n + 1) * sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        *arr = grown;
        grown[(*n)++] = s;
        return 0;
}

static int load_state(const char *text, size_t len, bool need_pid, struct oci_container *c,
                      struct crdma_error **err)
{
        int r = crdma_json_read(text, len, &oci_document_bounds, STATE_ORIGIN, &c->state,
                                &c->state_facts, err);
        if (r < 0)
                return r;
        c->id = get_string(c->state, "id");
        c->status = get_string(c->state, "status");
        const char *bundle = get_string(c->state, "bundle");
        if (!c->id || !bundle || bundle[0] != '/')
                return crdma_fail(err, EINVAL, "OCI state: \"id\" and an absolute \"bundle\" are "
                                  "required; is crdma-hook configured as an OCI hook?");
        c->bundle = strdup(bundle);
        if (!c->bundle)
                return crdma_fail_oom(err);

        /* poststop: runc and podman leave the pid out, crun sends 0: unused. */
        if (!need_pid)
                return 0;
        yajl_val pid = crdma_json_get(c->state, "pid", yajl_t_number);
        if (pid && YAJL_IS_INTEGER(pid) && YAJL_GET_INTEGER(pid) > 0 &&
            YAJL_GET_INTEGER(pid) <= 4194304)
                c->pid = (pid_t) YAJL_GET_INTEGER(pid);
        else
                return crdma_fail(err, EINVAL, "OCI state of %s: no valid \"pid\"; this stage "
                                  "needs the created container's process", c->id);
        return 0;
}

/* The runtime read config.json when it created the container; the hook reads
 * it again now.  A bundle or config.json that is a symlink could have been
 * pointed elsewhere since (at another container's config, another rootfs),
 * and a FIFO or device there would hang or mislead a root hook: only a
 * regular file in a real directory is read. */
static int load_config(struct oci_container *c, struct crdma_error **err)
{
        _cleanup_close_ int dir = open(c->bundle, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0 && (errno == ELOOP || errno == ENOTDIR))
                return crdma_refuse(err, ELOOP, "OCI state of %s: bundle %s: is a symbolic link "
                                    "or not a directory; crdma reads config.json only from the "
                                    "real bundle directory (give the runtime the resolved path)",
                                    c->id, c->bundle);
        if (dir < 0)
                return crdma_fail_errno(err, errno, "%s/config.json: cannot read the bundle "
                                        "directory", c->bundle);
        _cleanup_close_ int fd = openat(dir, "config.json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
                                                                    O_NOCTTY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 && errno == ELOOP)
                return crdma_refuse(err, ELOOP, "%s/config.json: is a symbolic link; crdma reads "
                                    "only a regular file there", c->bundle);
        if (fd < 0 || fstat(fd, &st) < 0)
                return crdma_fail_errno(err, errno, "%s/config.json: cannot read", c->bundle);
        if (!S_ISREG(st.st_mode))
                return crdma_refuse(err, EINVAL, "%s/config.json: not a regular file (a FIFO, "
                                    "device or directory); crdma reads only a regular file there",
                                    c->bundle);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (asprintf(&c->config_path, "%s/config.json", c->bundle) < 0) {
                c->config_path = NULL;
                return crdma_fail_oom(err);
        }
        const char *path = c->config_path;
        int r = crdma_read_fd(fd, CRDMA_DOCUMENT_MAX, &text, &len);
        if (r == -EFBIG)
                return crdma_refuse(err, EFBIG, "%s: larger than 16 MiB; not an OCI document", path);
        if (r < 0)
                return crdma_fail_errno(err, r, "%s: cannot read", path);
        return crdma_json_read(text, len, &oci_document_bounds, path, &c->config, &c->config_facts,
                               err);
}

static int resolve_rootfs(struct oci_container *c, struct crdma_error **err)
{
        const char *root = get_string(crdma_json_get(c->config, "root", yajl_t_object), "path");
        if (!root || !root[0])
                return crdma_fail(err, EINVAL, "%s/config.json: no \"root\".\"path\"", c->bundle);
        int r = root[0] == '/' ? asprintf(&c->rootfs, "%s", root)
                               : asprintf(&c->rootfs, "%s/%s", c->bundle, root);
        if (r < 0) {
                c->rootfs = NULL;
                return crdma_fail_oom(err);
        }
        return 0;
}

static int read_namespaces(struct oci_container *c, struct crdma_error **err)
{
        yajl_val lnx = crdma_json_get(c->config, "linux", yajl_t_object);
        c->cgroups_path = get_string(lnx, "cgroupsPath");
        yajl_val nss = crdma_json_get(lnx, "namespaces", yajl_t_array);
        if (!nss)
                return 0;
        c->namespaces = calloc(YAJL_GET_ARRAY(nss)->len + 1, sizeof(*c->namespaces));
        if (!c->namespaces)
                return crdma_fail_oom(err);
        for (size_t i = 0; i < YAJL_GET_ARRAY(nss)->len; i++) {
                yajl_val ns = YAJL_GET_ARRAY(nss)->values[i];
                const char *type = get_string(ns, "type");
                /* The runtime has validated the config: what it accepted
                 * is not ours to judge here. */
                if (!type)
                        continue;
                const char *path = get_string(ns, "path");
                c->namespaces[c->n_namespaces++] =
                        (struct oci_namespace){ type, path && path[0] ? path : NULL };
                if (strcmp(type, "network") == 0) {
                        c->has_netns = true;
                        c->netns_path = path;
                }
        }
        return 0;
}

static int read_capabilities(struct oci_container *c)
{
        yajl_val process = crdma_json_get(c->config, "process", yajl_t_object);
        yajl_val caps = crdma_json_get(process, "capabilities", yajl_t_object);
        yajl_val eff = crdma_json_get(caps, "effective", yajl_t_array);
        if (!eff)
                return 0;
        c->caps_known = true;
        for (size_t i = 0; i < YAJL_GET_ARRAY(eff)->len; i++) {
                const char *s = YAJL_GET_STRING(YAJL_GET_ARRAY(eff)->values[i]);
                if (s && push_ptr(&c->caps, &c->n_caps, s) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* A JSON number as an exact uint64 (yajl keeps the text; values above
 * LLONG_MAX, such as 2^64-1 for "unlimited", are not integers to it). */
static bool get_u64(yajl_val v, uint64_t *out)
{
        return v && YAJL_IS_NUMBER(v) && crdma_parse_decimal(v->u.number.r, UINT64_MAX, out) == 0;
}

static int read_rlimits(struct oci_container *c, struct crdma_error **err)
{
        yajl_val process = crdma_json_get(c->config, "process", yajl_t_object);
        yajl_val rls = crdma_json_get(process, "rlimits", yajl_t_array);
        for (size_t i = 0; rls && i < YAJL_GET_ARRAY(rls)->len; i++) {
                yajl_val rl = YAJL_GET_ARRAY(rls)->values[i];
                const char *type = get_string(rl, "type");
                if (!type || strcmp(type, "RLIMIT_MEMLOCK") != 0)
                        continue;
                if (!get_u64(crdma_json_get(rl, "soft", yajl_t_number), &c->memlock_soft) ||
                    !get_u64(crdma_json_get(rl, "hard", yajl_t_number), &c->memlock_hard))
                        return crdma_fail(err, EINVAL, "%s/config.json: process.rlimits "
                                          "RLIMIT_MEMLOCK: soft and hard must be integers", c->bundle);
                c->memlock_set = true;
        }
        return 0;
}

/* The profile itself, judged per syscall once the plan is known
 * (seccomp-profile.h, the editor's reading too). */
static int read_seccomp(struct oci_container *c, struct crdma_error **err)
{
        yajl_val lnx = crdma_json_get(c->config, "linux", yajl_t_object);
        c->seccomp = crdma_json_get(lnx, "seccomp", yajl_t_object);
        return oci_seccomp_denies_by_default(c->config_path, c->seccomp,
                                             &c->seccomp_denies_by_default, err);
}

/* Only io.crdma.* keys matter here; crdma knows eight, so more than this
 * many is a hostile list, refused before any quadratic work on it. */
#define OCI_MAX_CRDMA_ANNOTATIONS 64

static int crdma_annotations_of(yajl_val doc, const char *origin, struct oci_annotations *out,
                                struct crdma_error **err)
{
        struct oci_annotations all = { 0 };
        yajl_val ann = crdma_json_get(doc, "annotations", yajl_t_any);
        int r = oci_annotations_from_tree(ann, &all, err);
        if (r < 0)
                return r;
        size_t n = 0, plen = strlen(CRDMA_ANNOTATION_PREFIX);
        for (size_t i = 0; i < all.n; i++)
                if (strncmp(all.kv[i].key, CRDMA_ANNOTATION_PREFIX, plen) == 0)
                        all.kv[n++] = all.kv[i];
        all.n = n;
        if (n > OCI_MAX_CRDMA_ANNOTATIONS) {
                oci_annotations_clear(&all);
                return crdma_refuse(err, E2BIG, "%s: more than %d io.crdma.* annotations; crdma "
                                    "knows eight (crdma-annotations(7))", origin,
                                    OCI_MAX_CRDMA_ANNOTATIONS);
        }
        *out = all;
        return 0;
}

/* The state's annotations win; the config's fill in keys the state lacks
 * (runc's state carries them, podman+runc's createRuntime state may not). */
static int merge_annotations(struct oci_container *c, struct crdma_error **err)
{
        int r = crdma_annotations_of(c->state, "OCI state", &c->annotations, err);
        if (r < 0 || !c->config)
                return r;
        struct oci_annotations from_config = { 0 };
        r = crdma_annotations_of(c->config, "config.json", &from_config, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < from_config.n && r >= 0; i++) {
                bool in_state = false;
                for (size_t j = 0; j < c->annotations.n; j++)
                        in_state |= strcmp(c->annotations.kv[j].key, from_config.kv[i].key) == 0;
                if (!in_state && oci_annotations_add(&c->annotations, from_config.kv[i].key,
                                                     from_config.kv[i].value) < 0)
                        r = crdma_fail_oom(err);
        }
        oci_annotations_clear(&from_config);
        return r;
}

/* What the reader let through matters only to a container that asks crdma
 * something; one that asks nothing is not crdma's to judge.
 * yajl_tree cuts a string at an escaped NUL: "io.crdma.devices\u0000x" would
 * read as io.crdma.devices, a key an admission check upstream saw as another
 * one.  Of a key given twice runc reads the last and crun the first: crdma
 * would act on what one runtime does not use.  Every copy of "annotations"
 * counts for whether the container asks. */
static int check_doubts(const struct oci_container *c, struct crdma_error **err)
{
        const struct crdma_json_facts *sf = &c->state_facts, *cf = &c->config_facts;
        if (c->annotations.n > 0 && (sf->escaped_nul || cf->escaped_nul))
                return crdma_refuse(err, EINVAL, "OCI %s of %s: a string holds \"\\u0000\", which "
                                    "would cut an annotation short; crdma refuses to read its "
                                    "io.crdma.* annotations", sf->escaped_nul ? "state" :
                                    "config.json", c->id);
        if ((sf->duplicates == 0 && cf->duplicates == 0) ||
            !(c->annotations.n > 0 || oci_annotations_ask_crdma(c->state) ||
              oci_annotations_ask_crdma(c->config)))
                return 0;
        if (sf->duplicates)
                return crdma_json_refuse_duplicate(STATE_ORIGIN, sf, err);
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/config.json", c->bundle) < 0) {
                path = NULL;
                return crdma_fail_oom(err);
        }
        return crdma_json_refuse_duplicate(path, cf, err);
}

int oci_container_load(const char *state_text, size_t len, bool need_pid,
                       struct oci_container *out, struct crdma_error **err)
{
        struct oci_container c = { 0 };
        int r = load_state(state_text, len, need_pid, &c, err);
        if (r >= 0)
                r = load_config(&c, err);
        if (r >= 0)
                r = merge_annotations(&c, err);
        if (r >= 0)
                r = check_doubts(&c, err);
        if (r < 0) {
                oci_container_clear(&c);
                return r;
        }
        *out = c;
        return 0;
}

int oci_container_details(struct oci_container *c, struct crdma_error **err)
{
        int r = resolve_rootfs(c, err);
        if (r >= 0)
                r = read_namespaces(c, err);
        if (r >= 0 && read_capabilities(c) < 0)
                r = crdma_fail_oom(err);
        if (r >= 0)
                r = read_seccomp(c, err);
        if (r >= 0)
                r = read_rlimits(c, err);
        return r;
}

void oci_container_clear(struct oci_container *c)
{
        if (c->state)
                yajl_tree_free(c->state);
        if (c->config)
                yajl_tree_free(c->config);
        free(c->bundle);
        free(c->config_path);
        free(c->rootfs);
        free(c->caps);
        free(c->namespaces);
        oci_annotations_clear(&c->annotations);
        *c = (struct oci_container){ 0 };
}
