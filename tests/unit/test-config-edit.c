/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The config-edit path through the public API: crdma_config_edit() on fake
 * sysfs and cgroup roots, and crdma_plan_apply_seccomp() on real libseccomp
 * filters, checked by what the kernel does with them in a child. */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "cleanup.h"
#include "crdma.h"
#include "fixture.h"
#include "seccomp-bpf.h"
#include "util.h"

#define HOOK "/usr/libexec/crdma/crdma-hook"

struct fixture {
        char dir[64];      /* scratch: the policy and the cgroup roots */
        char policy[96];   /* an empty policy: the built-in values */
        char cg_v2[96];    /* cgroup.controllers with rdma */
        char cg_v2_no[96]; /* cgroup.controllers without */
        char cg_v1[96];    /* no cgroup.controllers, an rdma hierarchy */
        char cg_v1_no[96]; /* neither */
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        fixture_tmpdir(f->dir, sizeof(f->dir), "edit");
        snprintf(f->policy, sizeof(f->policy), "%s/policy.json", f->dir);
        fixture_write_file(f->policy, "{\"version\": 1}\n");
        snprintf(f->cg_v2, sizeof(f->cg_v2), "%s/v2", f->dir);
        snprintf(f->cg_v2_no, sizeof(f->cg_v2_no), "%s/v2-no-rdma", f->dir);
        snprintf(f->cg_v1, sizeof(f->cg_v1), "%s/v1", f->dir);
        snprintf(f->cg_v1_no, sizeof(f->cg_v1_no), "%s/v1-no-rdma", f->dir);
        char path[160];
        assert_int_equal(mkdir(f->cg_v2, 0755), 0);
        snprintf(path, sizeof(path), "%s/cgroup.controllers", f->cg_v2);
        fixture_write_file(path, "cpuset cpu io memory hugetlb pids rdma misc\n");
        assert_int_equal(mkdir(f->cg_v2_no, 0755), 0);
        snprintf(path, sizeof(path), "%s/cgroup.controllers", f->cg_v2_no);
        fixture_write_file(path, "cpuset cpu io memory pids rdmax\n");
        assert_int_equal(mkdir(f->cg_v1, 0755), 0);
        snprintf(path, sizeof(path), "%s/rdma", f->cg_v1);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/memory", f->cg_v1);
        assert_int_equal(mkdir(path, 0755), 0);
        assert_int_equal(mkdir(f->cg_v1_no, 0755), 0);
        snprintf(path, sizeof(path), "%s/memory", f->cg_v1_no);
        assert_int_equal(mkdir(path, 0755), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        assert_int_equal(fixture_rm_tree(f->dir), 0);
        free(f);
        return 0;
}

static struct crdma_context *context(const char *cgroup_root, const char *policy)
{
        struct crdma_context *ctx = fixture_context("rxe");
        struct crdma_error *err = NULL;
        if (crdma_context_set_root(ctx, CRDMA_ROOT_CGROUP, cgroup_root, &err) < 0 ||
            crdma_context_set_policy_path(ctx, policy, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        return ctx;
}

static char *edit_ok(struct crdma_context *ctx, const char *in, enum crdma_runtime runtime)
{
        char *out = NULL;
        struct crdma_error *err = NULL;
        if (crdma_config_edit(ctx, in, strlen(in), runtime, HOOK, &out, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        assert_non_null(out);
        /* Idempotent: the edited config edits to itself. */
        char *again = NULL;
        if (crdma_config_edit(ctx, out, strlen(out), runtime, HOOK, &again, &err) < 0)
                fail_msg("second edit: %s", crdma_error_message(err));
        assert_string_equal(out, again);
        free(again);
        return out;
}

static void edit_refused(struct crdma_context *ctx, const char *in, enum crdma_runtime runtime,
                         int errnum, const char *message)
{
        char *out = (char *) 0x1;
        struct crdma_error *err = NULL;
        int r = crdma_config_edit(ctx, in, strlen(in), runtime, HOOK, &out, &err);
        if (r >= 0)
                fail_msg("not refused: %s", in);
        assert_int_equal(r, -errnum);
        assert_ptr_equal(out, (char *) 0x1);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        if (strcmp(crdma_error_message(err), message) != 0)
                fail_msg("got      \"%s\"\nexpected \"%s\"", crdma_error_message(err), message);
        crdma_error_free(err);
}

static void assert_has(const char *out, const char *needle)
{
        if (!strstr(out, needle))
                fail_msg("output lacks %s:\n%s", needle, out);
}

static void assert_lacks(const char *out, const char *needle)
{
        if (strstr(out, needle))
                fail_msg("output has %s:\n%s", needle, out);
}

/* ---- crdma_config_edit ------------------------------------------------ */

static void test_unannotated_identical(void **state)
{
        struct fixture *f = *state;
        struct crdma_context *ctx = context(f->cg_v2, f->policy);
        /* Odd spacing, a key twice, escapes, no final newline, numbers
         * yajl would rewrite: all kept, byte for byte. */
        const char *in[] = {
                (" {\"ociVersion\" : \"1.0.2\",\n\"process\":{\"args\":[\"sh\"]},\"process\":1,"
                 "\"x\":\"\\u00e9\\/\",\"n\":1E3,\"annotations\":{\"org.example\":\"io.crdma.devices\"}}  \n\n"),
                "{\"annotations\":{}}",
                "{}",
        };
        for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
                char *out = NULL;
                struct crdma_error *err = NULL;
                if (crdma_config_edit(ctx, in[i], strlen(in[i]), CRDMA_RUNTIME_AUTO, HOOK, &out,
                                      &err) < 0)
                        fail_msg("%s", crdma_error_message(err));
                assert_string_equal(out, in[i]);
                free(out);
        }
        crdma_context_free(ctx);
}

static void test_annotated(void **state)
{
        struct fixture *f = *state;
        struct crdma_context *ctx = context(f->cg_v2, f->policy);
        const char *in = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"]},\"annotations\":"
                         "{\"io.crdma.devices\":\"rxe1\",\"io.crdma.hca-handles\":\"3\"}}";

        /* runc: its rdma field, the devices of rxe1, the policy's memlock. */
        char *out = edit_ok(ctx, in, CRDMA_RUNTIME_RUNC);
        assert_has(out, "{\"path\":\"/dev/infiniband/uverbs1\",\"type\":\"c\",\"major\":231,"
                        "\"minor\":193,\"fileMode\":438,\"uid\":0,\"gid\":0}");
        assert_has(out, "\"rdma\":{\"rxe1\":{\"hcaHandles\":3,\"hcaObjects\":65536}}");
        assert_has(out, "{\"type\":\"RLIMIT_MEMLOCK\",\"hard\":18446744073709551615,"
                        "\"soft\":18446744073709551615}");
        assert_lacks(out, "hooks");
        assert_lacks(out, "\n");
        free(out);
        /* crun on v2, one device, no parent cgroup named: crun would refuse
         * unified["rdma.max"] under a parent without +rdma, so the
         * createRuntime hook writes it (crdma-hook edit --runtime crun BUNDLE
         * then crun run works on a host as it is). */
        out = edit_ok(ctx, in, CRDMA_RUNTIME_CRUN);
        assert_lacks(out, "rdma.max");
        assert_has(out, "\"hooks\":{\"createRuntime\":[{\"path\":\"" HOOK "\"");
        free(out);
        /* Under a parent that has +rdma: unified. */
        char parent[160];
        snprintf(parent, sizeof(parent), "%s/pod", f->cg_v2);
        assert_int_equal(mkdir(parent, 0755), 0);
        snprintf(parent, sizeof(parent), "%s/pod/cgroup.subtree_control", f->cg_v2);
        fixture_write_file(parent, "memory rdma\n");
        const char *in_pod = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"]},"
                             "\"linux\":{\"cgroupsPath\":\"/pod/c1\"},\"annotations\":"
                             "{\"io.crdma.devices\":\"rxe1\",\"io.crdma.hca-handles\":\"3\"}}";
        out = edit_ok(ctx, in_pod, CRDMA_RUNTIME_CRUN);
        assert_has(out, "\"unified\":{\"rdma.max\":\"rxe1 hca_handle=3 hca_object=65536\"}");
        assert_lacks(out, "hooks");
        free(out);
        /* auto: both, and the hook entry names the hook and the policy. */
        out = edit_ok(ctx, in, CRDMA_RUNTIME_AUTO);
        assert_has(out, "\"rdma\":{\"rxe1\":{\"hcaHandles\":3,\"hcaObjects\":65536}}");
        char want[512];
        snprintf(want, sizeof(want), "\"hooks\":{\"createRuntime\":[{\"path\":\"" HOOK "\",\"args\":"
                 "[\"crdma-hook\",\"--policy\",\"%s\",\"createRuntime\"],", f->policy);
        assert_has(out, want);
        free(out);

        /* What the request or policy refuses leaves *out alone. */
        edit_refused(ctx, "{\"annotations\":{\"io.crdma.devices\":\"rxe0\",\"io.crdma.hca-handle\":\"3\"}}",
                     CRDMA_RUNTIME_RUNC, EINVAL,
                     "annotation io.crdma.hca-handle: unknown key; crdma knows io.crdma.devices, "
                     "netns, hca-handles, hca-objects, memlock, rdma-cm, umad and raw "
                     "(crdma-annotations(7))");
        crdma_context_free(ctx);
}

/* The whole edit path (crdma-hook edit, precreate) with a key given twice:
 * a config that asks crdma anything, in any copy of its annotations, is
 * refused naming the key (runc would read the last copy, crdma the first);
 * one that asks nothing comes back byte for byte (test_unannotated_identical). */
static void test_duplicate_keys(void **state)
{
        struct fixture *f = *state;
        struct crdma_context *ctx = context(f->cg_v2, f->policy);
#define WHY "JSON readers differ on which one counts (runc takes the last, yajl the first); keep one"
        edit_refused(ctx, "{\"root\":{\"path\":\"rootfs\"},\"process\":{},\"root\":{\"path\":\"/x\"},"
                     "\"annotations\":{\"io.crdma.devices\":\"rxe0\"}}", CRDMA_RUNTIME_RUNC, EINVAL,
                     "config.json: key \"root\" appears twice; " WHY);
        edit_refused(ctx, "{\"process\":{},\"annotations\":{\"io.crdma.devices\":\"rxe0\","
                     "\"io.crdma.devices\":\"all\"}}", CRDMA_RUNTIME_AUTO, EINVAL,
                     "config.json: key \"annotations.io.crdma.devices\" appears twice; " WHY);
        /* The first copy asks nothing, the second does. */
        const char *second = "{\"process\":{},\"annotations\":{\"org.example\":\"x\"},"
                             "\"annotations\":{\"io.crdma.devices\":\"rxe0\"}}";
        edit_refused(ctx, second, CRDMA_RUNTIME_CRUN, EINVAL,
                     "config.json: key \"annotations\" appears twice; " WHY);
        /* Planning it (crdma-hook plan) is refused the same way. */
        struct crdma_plan *plan = (void *) 0x1;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_config_plan(ctx, second, strlen(second), &plan, &err), -EINVAL);
        assert_ptr_equal(plan, (void *) 0x1);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_string_equal(crdma_error_message(err),
                            "config.json: key \"annotations\" appears twice; " WHY);
        crdma_error_free(err);
#undef WHY
        crdma_context_free(ctx);
}

static char *edit_from(struct crdma_context *ctx, const char *in, unsigned sources,
                       struct crdma_error **err)
{
        char *out = NULL;
        if (crdma_config_edit_from(ctx, in, strlen(in), sources, CRDMA_RUNTIME_RUNC, HOOK, &out,
                                   err) < 0)
                return NULL;
        return out;
}

/* A runtime shim's sources: CRDMA_* variables in process.env, honoured only
 * under a policy that says so, written into the config as the annotations
 * they stand for; annotations, when there, are the request. */
static void test_environment(void **state)
{
        struct fixture *f = *state;
        char allow[160];
        snprintf(allow, sizeof(allow), "%s/allow-env.json", f->dir);
        fixture_write_file(allow, "{\"version\": 1, \"allow\": {\"environment\": true}}\n");
        const unsigned both = CRDMA_SOURCE_ANNOTATIONS | CRDMA_SOURCE_ENVIRONMENT;
        const char *in = "{\"process\":{\"env\":[\"PATH=/bin\",\"CRDMA_DEVICES=rxe1\","
                         "\"CRDMA_HCA_HANDLES=2\"]}}";
        struct crdma_error *err = NULL;

        /* The built-in policy takes no request from the environment. */
        struct crdma_context *ctx = context(f->cg_v2, f->policy);
        assert_null(edit_from(ctx, in, both, &err));
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        char want[512];
        snprintf(want, sizeof(want),
                 "the container's CRDMA_* environment variables: %s does not take requests from "
                 "a container's environment (an image's ENV reaches every container made from "
                 "it); ask with io.crdma.* annotations, or the administrator sets \"allow\": "
                 "{\"environment\": true}", f->policy);
        assert_string_equal(crdma_error_message(err), want);
        crdma_error_free(err);
        err = NULL;
        /* Without the environment source (crdma-hook edit, precreate): not a request. */
        char *out = edit_from(ctx, in, CRDMA_SOURCE_ANNOTATIONS, &err);
        assert_non_null(out);
        assert_string_equal(out, in);
        free(out);
        crdma_context_free(ctx);

        ctx = context(f->cg_v2, allow);
        out = edit_from(ctx, in, both, &err);
        if (!out)
                fail_msg("%s", crdma_error_message(err));
        assert_has(out, "\"rdma\":{\"rxe1\":{\"hcaHandles\":2,");
        assert_has(out, "\"path\":\"/dev/infiniband/uverbs1\"");
        assert_has(out, "\"annotations\":{\"io.crdma.devices\":\"rxe1\",\"io.crdma.hca-handles\":\"2\"}");
        /* Edited once, the annotations are the request: the same again. */
        char *again = edit_from(ctx, out, both, &err);
        assert_non_null(again);
        assert_string_equal(again, out);
        free(again);
        free(out);

        /* Annotations win over the environment. */
        const char *both_in = "{\"process\":{\"env\":[\"CRDMA_DEVICES=rxe1\"]},"
                              "\"annotations\":{\"io.crdma.devices\":\"rxe0\"}}";
        out = edit_from(ctx, both_in, both, &err);
        assert_non_null(out);
        assert_has(out, "/dev/infiniband/uverbs0");
        assert_lacks(out, "/dev/infiniband/uverbs1");
        free(out);

        /* Strict as the annotations: a typo, a key twice, a bad value. */
        static const struct {
                const char *env, *message;
        } bad[] = {
                { "\"CRDMA_DEVICES=rxe0\",\"CRDMA_HCA_HANDLE=2\"",
                  "environment variable CRDMA_HCA_HANDLE: unknown; crdma knows CRDMA_DEVICES, "
                  "CRDMA_NETNS, CRDMA_HCA_HANDLES, CRDMA_HCA_OBJECTS, CRDMA_MEMLOCK, "
                  "CRDMA_RDMA_CM, CRDMA_UMAD and CRDMA_RAW (crdma-annotations(7))" },
                { "\"CRDMA_DEVICES=rxe0\",\"CRDMA_DEVICES=rxe1\"",
                  "environment variable CRDMA_DEVICES: given twice" },
                { "\"CRDMA_HCA_HANDLES=2\"",
                  "the container's CRDMA_* environment variables (as io.crdma.* annotations): "
                  "annotation io.crdma.devices: missing; a container with io.crdma.* "
                  "annotations must name its devices (or \"all\")" },
                { "\"CRDMA_DEVICES=rxe0\",\"CRDMA_MEMLOCK=lots\"",
                  "the container's CRDMA_* environment variables (as io.crdma.* annotations): "
                  "annotation io.crdma.memlock=\"lots\": must be bytes (at least 1) with an "
                  "optional K, M, G or T suffix, e.g. \"64G\", or \"unlimited\"" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char text[256];
                snprintf(text, sizeof(text), "{\"process\":{\"env\":[%s]}}", bad[i].env);
                assert_null(edit_from(ctx, text, both, &err));
                assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
                assert_string_equal(crdma_error_message(err), bad[i].message);
                crdma_error_free(err);
                err = NULL;
        }
        /* A variable that only starts like ours is ours: CRDMA_ is crdma's. */
        assert_null(edit_from(ctx, "{\"process\":{\"env\":[\"CRDMA_=1\"]}}", both, &err));
        crdma_error_free(err);
        err = NULL;
        /* Unknown source bits are an error, not ignored. */
        assert_null(edit_from(ctx, in, 0x80, &err));
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_SYSTEM);
        crdma_error_free(err);
        crdma_context_free(ctx);
}

/* A Kubernetes pod's sandbox (pause) container gets the pod's annotations
 * too; it is left as it came, from either runtime's marker. */
static void test_kubernetes_sandbox(void **state)
{
        struct fixture *f = *state;
        struct crdma_context *ctx = context(f->cg_v2, f->policy);
        struct crdma_error *err = NULL;
        const char *marker[] = { "io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType" };
        for (size_t i = 0; i < 2; i++) {
                char in[256];
                snprintf(in, sizeof(in), "{\"process\":{},\"annotations\":{\"%s\":\"sandbox\","
                         "\"io.crdma.devices\":\"rxe0\"}}", marker[i]);
                char *out = edit_from(ctx, in, CRDMA_SOURCE_ANNOTATIONS, &err);
                assert_non_null(out);
                assert_string_equal(out, in);
                free(out);
                /* The pod's application container gets the request. */
                snprintf(in, sizeof(in), "{\"process\":{},\"annotations\":{\"%s\":\"container\","
                         "\"io.crdma.devices\":\"rxe0\"}}", marker[i]);
                out = edit_from(ctx, in, CRDMA_SOURCE_ANNOTATIONS, &err);
                assert_non_null(out);
                assert_has(out, "/dev/infiniband/uverbs0");
                free(out);
        }
        crdma_context_free(ctx);
}

/* The last warning logged, into `userdata` (256 bytes). */
static void keep_warning(enum crdma_log_level level, const char *message, void *userdata)
{
        if (level == CRDMA_LOG_WARNING)
                snprintf(userdata, 256, "%s", message);
}

static void test_cgroup_layouts(void **state)
{
        struct fixture *f = *state;
        const char *in = "{\"process\":{},\"annotations\":{\"io.crdma.devices\":\"rxe0\"}}";

        /* v1 with the rdma hierarchy: crun cannot carry the limit, the hook does. */
        struct crdma_context *ctx = context(f->cg_v1, f->policy);
        char *out = edit_ok(ctx, in, CRDMA_RUNTIME_CRUN);
        assert_has(out, "\"hooks\":{\"createRuntime\":[{\"path\":\"" HOOK "\"");
        assert_lacks(out, "rdma.max");
        free(out);
        out = edit_ok(ctx, in, CRDMA_RUNTIME_RUNC);
        assert_has(out, "\"rdma\":{\"rxe0\":{\"hcaHandles\":16,\"hcaObjects\":65536}}");
        free(out);
        crdma_context_free(ctx);

        /* No rdma controller, v1 or v2 ("rdmax" is not "rdma"): refused. */
        const char *none[] = { f->cg_v1_no, f->cg_v2_no };
        for (size_t i = 0; i < 2; i++) {
                ctx = context(none[i], f->policy);
                edit_refused(ctx, in, CRDMA_RUNTIME_RUNC, EOPNOTSUPP,
                             "config.json: this kernel has no rdma cgroup controller "
                             "(CONFIG_CGROUP_RDMA) to enforce the request's hca limits; run on a "
                             "kernel that has it, or set the policy's \"limits\": {\"enforce\": "
                             "\"best-effort\"}");
                crdma_context_free(ctx);
        }

        /* best-effort: the devices without limits, and a warning. */
        char policy[160];
        snprintf(policy, sizeof(policy), "%s/best-effort.json", f->dir);
        fixture_write_file(policy, "{\"version\": 1, \"limits\": {\"enforce\": \"best-effort\"}}");
        ctx = context(f->cg_v2_no, policy);
        char warning[256] = "";
        crdma_context_set_log(ctx, keep_warning, warning, CRDMA_LOG_WARNING);
        out = edit_ok(ctx, in, CRDMA_RUNTIME_AUTO);
        assert_has(out, "/dev/infiniband/uverbs0");
        assert_lacks(out, "rdma\"");
        assert_lacks(out, "hooks");
        assert_string_equal(warning, "config.json: no rdma cgroup controller on this kernel: the "
                                     "hca limits are not enforced (policy: best-effort)");
        free(out);
        crdma_context_free(ctx);
}

/* Each line of `out` after the first starts with a whole number of `unit`s
 * and then no more whitespace, and some line is indented twice. */
static void assert_indent(const char *out, const char *unit)
{
        size_t u = strlen(unit);
        bool deeper = false;
        for (const char *line = strchr(out, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
                const char *p = line + 1;
                size_t levels = 0;
                while (strncmp(p, unit, u) == 0) {
                        p += u;
                        levels++;
                }
                if (*p == ' ' || *p == '\t')
                        fail_msg("a line indented other than by \"%s\":\n%s", unit, out);
                deeper |= levels >= 2;
        }
        assert_true(deeper);
        assert_int_equal(out[strlen(out) - 1], '\n');
}

static void test_indent_kept(void **state)
{
        struct fixture *f = *state;
        struct crdma_context *ctx = context(f->cg_v2, f->policy);
        struct {
                const char *unit, *in;
        } cases[] = {
                { "\t", "{\n\t\"process\": {\n\t\t\"args\": [\n\t\t\t\"sh\"\n\t\t]\n\t},\n\t\"annotations\": "
                        "{\n\t\t\"io.crdma.devices\": \"rxe0\"\n\t}\n}\n" },
                { "  ", "{\n  \"process\": {\n    \"args\": [\n      \"sh\"\n    ]\n  },\n  \"annotations\": "
                        "{\n    \"io.crdma.devices\": \"rxe0\"\n  }\n}" },
                { "    ", "{\n    \"process\": {},\n    \"annotations\": {\"io.crdma.devices\": \"rxe0\"}\n}\n" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *out = edit_ok(ctx, cases[i].in, CRDMA_RUNTIME_RUNC);
                assert_has(out, "/dev/infiniband/uverbs0");
                assert_indent(out, cases[i].unit);
                free(out);
        }
        /* Compact in, compact out. */
        const char *in = "{\"process\":{},\"annotations\":{\"io.crdma.devices\":\"rxe0\"}}";
        char *out = edit_ok(ctx, in, CRDMA_RUNTIME_RUNC);
        assert_lacks(out, "\n");
        assert_lacks(out, " ");
        assert_has(out, "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_MEMLOCK\"");
        /* Compact with a final newline (jq -c, echo): compact, newline kept. */
        char with_nl[1024];
        snprintf(with_nl, sizeof(with_nl), "%s\n", in);
        char *out_nl = edit_ok(ctx, with_nl, CRDMA_RUNTIME_RUNC);
        snprintf(with_nl, sizeof(with_nl), "%s\n", out);
        assert_string_equal(out_nl, with_nl);
        free(out_nl);
        free(out);
        crdma_context_free(ctx);
}

/* ---- crdma_plan_apply_seccomp ------------------------------------------- */

static struct crdma_plan *plan_for(struct fixture *f, const char *devices)
{
        struct crdma_context *ctx = context(f->cg_v2, f->policy);
        struct crdma_kv kv[] = { { "io.crdma.devices", devices } };
        struct crdma_request *req = NULL;
        struct crdma_policy *policy = NULL;
        struct crdma_device_list *list = NULL;
        struct crdma_plan *plan = NULL;
        struct crdma_error *err = NULL;
        if (crdma_request_from_annotations(kv, 1, &req, &err) < 0 ||
            crdma_policy_load(ctx, &policy, &err) < 0 || crdma_devices_scan(ctx, &list, &err) < 0 ||
            crdma_plan_new(ctx, req, list, policy, &plan, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        crdma_device_list_free(list);
        crdma_policy_free(policy);
        crdma_request_free(req);
        crdma_context_free(ctx);
        return plan;
}

/* The filter's program as libseccomp exports it. */
static char *program(scmp_filter_ctx filter, size_t *len)
{
        FILE *f = tmpfile();
        assert_non_null(f);
        assert_int_equal(seccomp_export_bpf(filter, fileno(f)), 0);
        rewind(f);
        char *buf = NULL;
        assert_int_equal(crdma_read_fd(fileno(f), 1 << 20, &buf, len), 0);
        fclose(f);
        return buf;
}

static void assert_program_same(const char *a, size_t alen, scmp_filter_ctx filter)
{
        size_t blen;
        char *b = program(filter, &blen);
        assert_int_equal(alen, blen);
        assert_memory_equal(a, b, alen);
        free(b);
}

/* What the kernel does under `filter`, in a child: each syscall's errno as
 * a bit, 1 for "denied with EPERM" (the test filters' default), in the
 * child's exit status.  The child leaves through exit_group directly, so
 * nothing at exit (a sanitizer's leak check) runs under the filter. */
enum probe {
        PROBE_MBIND,         /* mbind(0, 0, MPOL_DEFAULT, NULL, 0, 0) */
        PROBE_GET_MEMPOLICY, /* get_mempolicy(NULL, NULL, 0, NULL, 0) */
        PROBE_NETLINK,       /* socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) */
        PROBE_INET,          /* socket(AF_INET, SOCK_DGRAM, 0) */
        PROBE_GETPPID,       /* getppid(): in no plan */
};

static long probe(enum probe p)
{
        switch (p) {
        case PROBE_MBIND:
                return syscall(SYS_mbind, 0, 0, 0, NULL, 0, 0);
        case PROBE_GET_MEMPOLICY:
                return syscall(SYS_get_mempolicy, NULL, NULL, 0, NULL, 0);
        case PROBE_NETLINK:
                return syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        case PROBE_INET:
                return syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        case PROBE_GETPPID:
                return syscall(SYS_getppid);
        }
        return -1;
}

/* Bit p set: probe p failed with `errnum`.  -1: no seccomp here. */
static int kernel_denies(scmp_filter_ctx filter, int errnum)
{
        /* The child must still be able to leave. */
        assert_int_equal(seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (seccomp_load(filter) < 0)
                        syscall(SYS_exit_group, 255);
                int bits = 0;
                for (int p = PROBE_MBIND; p <= PROBE_GETPPID; p++) {
                        errno = 0;
                        if (probe(p) < 0 && errno == errnum)
                                bits |= 1 << p;
                }
                syscall(SYS_exit_group, bits);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status) == 255 ? -1 : WEXITSTATUS(status);
}

#define BIT(p) (1 << (p))

static void test_seccomp_filter(void **state)
{
        struct fixture *f = *state;
        struct crdma_plan *plan = plan_for(f, "rxe0");
        struct crdma_error *err = NULL;

        /* Deny by default: after the plan, the kernel lets the RDMA calls
         * and netlink sockets through, and nothing else. */
        scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        assert_non_null(filter);
        if (crdma_plan_apply_seccomp(plan, filter, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        /* Twice is harmless. */
        if (crdma_plan_apply_seccomp(plan, filter, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        int denied = kernel_denies(filter, EPERM);
        if (denied < 0) {
                seccomp_release(filter);
                crdma_plan_free(plan);
                skip(); /* no seccomp filters in this sandbox */
        }
        assert_int_equal(denied, BIT(PROBE_INET) | BIT(PROBE_GETPPID));
        seccomp_release(filter);

        /* Without the plan, the same probes are all denied: the probes see
         * the filter. */
        filter = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        assert_int_equal(kernel_denies(filter, EPERM), BIT(PROBE_MBIND) | BIT(PROBE_GET_MEMPOLICY) |
                                                           BIT(PROBE_NETLINK) | BIT(PROBE_INET) |
                                                           BIT(PROBE_GETPPID));
        seccomp_release(filter);

        /* A filter that allows by default is left as it is. */
        filter = seccomp_init(SCMP_ACT_ALLOW);
        assert_int_equal(seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(getppid), 0), 0);
        size_t len;
        char *before = program(filter, &len);
        assert_int_equal(crdma_plan_apply_seccomp(plan, filter, &err), 0);
        assert_program_same(before, len, filter);
        free(before);
        seccomp_release(filter);
        crdma_plan_free(plan);
}

static void test_seccomp_conflict(void **state)
{
        struct fixture *f = *state;
        struct crdma_plan *plan = plan_for(f, "rxe0");
        struct crdma_error *err = NULL;

        /* Why a conflict must be found before adding: libseccomp 2.5
         * answers 0 to an allow rule for a syscall an unconditional rule
         * already denies, and the kernel still denies it. */
        scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        assert_int_equal(seccomp_rule_add(filter, SCMP_ACT_ERRNO(ENOLINK), SCMP_SYS(mbind), 0), 0);
        assert_int_equal(seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(mbind), 0), 0);
        int denied = kernel_denies(filter, ENOLINK);
        seccomp_release(filter);
        if (denied < 0) {
                crdma_plan_free(plan);
                skip();
        }
        assert_int_equal(denied, BIT(PROBE_MBIND));

        /* So crdma refuses, names the syscall, and adds nothing. */
        struct {
                int nr;
                unsigned arg_count;
                struct scmp_arg_cmp arg;
                const char *name;
        } conflicts[] = {
                { SCMP_SYS(mbind), 0, { 0 }, "mbind" },
                { SCMP_SYS(process_vm_writev), 0, { 0 }, "process_vm_writev" },
                /* socket(AF_NETLINK) itself denied... */
                { SCMP_SYS(socket), 1, { .arg = 0, .op = SCMP_CMP_EQ, .datum_a = AF_NETLINK }, "socket" },
                /* ...or every socket. */
                { SCMP_SYS(socket), 0, { 0 }, "socket" },
        };
        for (size_t i = 0; i < sizeof(conflicts) / sizeof(conflicts[0]); i++) {
                filter = seccomp_init(SCMP_ACT_ERRNO(EPERM));
                assert_int_equal(seccomp_rule_add_array(filter, SCMP_ACT_KILL_PROCESS, conflicts[i].nr,
                                                        conflicts[i].arg_count, &conflicts[i].arg), 0);
                size_t len;
                char *before = program(filter, &len);
                assert_int_equal(crdma_plan_apply_seccomp(plan, filter, &err), -EEXIST);
                assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
                char want[256];
                snprintf(want, sizeof(want), "seccomp filter: it already has a rule with another "
                         "action for %s, which RDMA stacks need allowed; drop that rule",
                         conflicts[i].name);
                assert_string_equal(crdma_error_message(err), want);
                crdma_error_free(err);
                err = NULL;
                assert_program_same(before, len, filter);
                free(before);
                seccomp_release(filter);
        }

        /* A deny for some arguments only is no conflict (as in a config):
         * the unconditional allow is added, and libseccomp keeps it. */
        filter = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        assert_int_equal(seccomp_rule_add(filter, SCMP_ACT_ERRNO(ENOLINK), SCMP_SYS(mbind), 1,
                                          SCMP_A0(SCMP_CMP_EQ, 4096, 0)), 0);
        if (crdma_plan_apply_seccomp(plan, filter, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        assert_int_equal(kernel_denies(filter, EPERM), BIT(PROBE_INET) | BIT(PROBE_GETPPID));
        seccomp_release(filter);

        /* Without the native architecture there is nothing to check against. */
        filter = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        assert_int_equal(seccomp_arch_add(filter, SCMP_ARCH_X86), 0);
        assert_int_equal(seccomp_arch_remove(filter, SCMP_ARCH_NATIVE), 0);
        assert_int_equal(crdma_plan_apply_seccomp(plan, filter, &err), -EINVAL);
        assert_string_equal(crdma_error_message(err), "seccomp filter: it has no rules for the "
                            "native architecture, where crdma checks what its rules do");
        crdma_error_free(err);
        seccomp_release(filter);
        crdma_plan_free(plan);
}

/* ---- the program evaluator itself ---------------------------------------- */

static void test_bpf_run(void **state)
{
        (void) state;
        struct seccomp_data data = { .nr = 7, .arch = 0xc000003e, .args = { 0x100000010ULL } };
        uint32_t v = 0;
        /* nr == 7 ? (arg0.hi == 1 ? ERRNO(5) : KILL) : ALLOW */
        struct sock_filter prog[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 4),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]) + 4),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 5),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        size_t n = sizeof(prog) / sizeof(prog[0]);
        assert_int_equal(crdma_seccomp_bpf_run(prog, n, &data, &v), 0);
        assert_int_equal(v, SECCOMP_RET_ERRNO | 5);
        data.args[0] = 0x10;
        assert_int_equal(crdma_seccomp_bpf_run(prog, n, &data, &v), 0);
        assert_int_equal(v, SECCOMP_RET_KILL_PROCESS);
        data.nr = 8;
        assert_int_equal(crdma_seccomp_bpf_run(prog, n, &data, &v), 0);
        assert_int_equal(v, SECCOMP_RET_ALLOW);

        /* What the kernel would not load: refused, never guessed. */
        struct sock_filter past_end[] = { BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
                                          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
        assert_int_equal(crdma_seccomp_bpf_run(past_end, 2, &data, &v), -EINVAL);
        struct sock_filter no_ret[] = { BPF_STMT(BPF_LD | BPF_IMM, 1) };
        assert_int_equal(crdma_seccomp_bpf_run(no_ret, 1, &data, &v), -EINVAL);
        struct sock_filter unaligned[] = { BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2),
                                           BPF_STMT(BPF_RET | BPF_A, 0) };
        assert_int_equal(crdma_seccomp_bpf_run(unaligned, 2, &data, &v), -EINVAL);
        struct sock_filter outside[] = { BPF_STMT(BPF_LD | BPF_W | BPF_ABS, sizeof(data)),
                                         BPF_STMT(BPF_RET | BPF_A, 0) };
        assert_int_equal(crdma_seccomp_bpf_run(outside, 2, &data, &v), -EINVAL);
        struct sock_filter div0[] = { BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
                                      BPF_STMT(BPF_RET | BPF_A, 0) };
        assert_int_equal(crdma_seccomp_bpf_run(div0, 2, &data, &v), -EINVAL);
        /* Scratch memory, X and A. */
        struct sock_filter scratch[] = {
                BPF_STMT(BPF_LD | BPF_IMM, 40), BPF_STMT(BPF_ST, 3),
                BPF_STMT(BPF_LDX | BPF_MEM, 3), BPF_STMT(BPF_LD | BPF_IMM, 2),
                BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0), BPF_STMT(BPF_RET | BPF_A, 0),
        };
        assert_int_equal(crdma_seccomp_bpf_run(scratch, 6, &data, &v), 0);
        assert_int_equal(v, 42);
}

/* A rootless runtime: bind mounts of the host's 0666 nodes, memlock, no
 * linux.devices, no rdma limits, no hook.  Needs mknod for the fake /dev. */
static void test_rootless(void **state)
{
        struct fixture *f = *state;
        if (geteuid() != 0)
                skip(); /* mknod of the fake host nodes */
        char dev[128], node[192];
        snprintf(dev, sizeof(dev), "%s/dev", f->dir);
        snprintf(node, sizeof(node), "%s/infiniband/uverbs1", dev);
        fixture_write_file(node, "");
        assert_int_equal(unlink(node), 0);
        assert_int_equal(mknod(node, S_IFCHR | 0666, makedev(231, 193)), 0);
        assert_int_equal(chmod(node, 0666), 0);
        snprintf(node, sizeof(node), "%s/infiniband/rdma_cm", dev);
        assert_int_equal(mknod(node, S_IFCHR | 0666, makedev(10, 124)), 0);
        assert_int_equal(chmod(node, 0666), 0);
        struct crdma_context *ctx = context(f->cg_v2, f->policy);
        assert_int_equal(crdma_context_set_root(ctx, CRDMA_ROOT_DEV, dev, NULL), 0);

        const char *in = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"]},"
                         "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\","
                         "\"source\":\"proc\"}],\"annotations\":"
                         "{\"io.crdma.devices\":\"rxe1\",\"io.crdma.hca-handles\":\"3\","
                         "\"io.crdma.memlock\":\"1G\"}}";
        char *out = edit_ok(ctx, in, CRDMA_RUNTIME_ROOTLESS);
        assert_has(out, "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                        "{\"destination\":\"/dev/infiniband/uverbs1\",\"type\":\"bind\","
                        "\"source\":\"/dev/infiniband/uverbs1\",\"options\":[\"bind\","
                        "\"nosuid\",\"noexec\"]},{\"destination\":\"/dev/infiniband/rdma_cm\"");
        assert_has(out, "{\"type\":\"RLIMIT_MEMLOCK\",\"hard\":1073741824,\"soft\":1073741824}");
        assert_lacks(out, "\"devices\":[");
        assert_lacks(out, "\"linux\"");
        assert_lacks(out, "hooks");
        free(out);

        /* A node the runtime's user cannot open. */
        assert_int_equal(chmod(node, 0600), 0);
        char want[400];
        snprintf(want, sizeof(want), "/dev/infiniband/rdma_cm: mode 0600, owner 0: a rootless "
                 "container opens it as its user, so it must be readable and writable by all "
                 "(rdma-core's udev rules make uverbs and rdma_cm 0666); do not ask for it rootless");
        edit_refused(ctx, in, CRDMA_RUNTIME_ROOTLESS, EACCES, want);
        assert_int_equal(chmod(node, 0666), 0);

        /* A mount of something else at a node's path. */
        const char *taken = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"]},"
                            "\"mounts\":[{\"destination\":\"/dev/infiniband/uverbs1\","
                            "\"type\":\"bind\",\"source\":\"/tmp/fake\"}],\"annotations\":"
                            "{\"io.crdma.devices\":\"rxe1\"}}";
        edit_refused(ctx, taken, CRDMA_RUNTIME_ROOTLESS, EEXIST,
                     "config.json: mounts[0] already puts /tmp/fake at /dev/infiniband/uverbs1, "
                     "where crdma binds the host's RDMA node; remove that mount");
        /* Exclusive mode needs the hook, as root. */
        const char *excl = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"]},"
                           "\"annotations\":{\"io.crdma.devices\":\"rxe1\","
                           "\"io.crdma.netns\":\"exclusive\"}}";
        edit_refused(ctx, excl, CRDMA_RUNTIME_ROOTLESS, EOPNOTSUPP,
                     "config.json: netns=exclusive: a rootless runtime cannot move a device into "
                     "the container's network namespace (that needs the createRuntime hook, as "
                     "root)");
        crdma_context_free(ctx);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unannotated_identical),
                cmocka_unit_test(test_annotated),
                cmocka_unit_test(test_duplicate_keys),
                cmocka_unit_test(test_environment),
                cmocka_unit_test(test_kubernetes_sandbox),
                cmocka_unit_test(test_cgroup_layouts),
                cmocka_unit_test(test_indent_kept),
                cmocka_unit_test(test_seccomp_filter),
                cmocka_unit_test(test_seccomp_conflict),
                cmocka_unit_test(test_bpf_run),
                cmocka_unit_test(test_rootless),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
