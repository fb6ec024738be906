/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OCI state on a hook's stdin plus the bundle's config.json. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "error.h"
#include "fixture.h"
#include "seccomp-profile.h"
#include "state.h"

static char bundle[64];

static void write_config(const char *json)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/config.json", bundle);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(json, f);
        fclose(f);
}

/* States are written with the bundle path spliced in as "%s". */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int load(const char *state_fmt, bool need_pid, struct oci_container *c, struct crdma_error **err)
{
        char state[1024];
        snprintf(state, sizeof(state), state_fmt, bundle);
        int r = oci_container_load(state, strlen(state), need_pid, c, err);
        if (r >= 0) {
                r = oci_container_details(c, err);
                if (r < 0)
                        oci_container_clear(c);
        }
        return r;
}

static const char *ann(const struct oci_container *c, const char *key)
{
        for (size_t i = 0; i < c->annotations.n; i++)
                if (strcmp(c->annotations.kv[i].key, key) == 0)
                        return c->annotations.kv[i].value;
        return NULL;
}

static void test_runc_like(void **state)
{
        (void) state;
        write_config("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
                     "\"process\":{\"capabilities\":{\"bounding\":[\"CAP_KILL\"],"
                     "\"effective\":[\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]}},"
                     "\"annotations\":{\"io.crdma.devices\":\"rxe1\",\"io.crdma.memlock\":\"1G\"},"
                     "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\","
                     "\"path\":\"/run/netns/pod1\"}],\"cgroupsPath\":\"/crdma/c1\",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
                     "\"syscalls\":[{\"names\":[\"ioctl\",\"mmap\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                     "{\"names\":[\"mbind\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
                     "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\"}]}}}");
        struct oci_container c;
        assert_int_equal(load("{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"created\",\"pid\":4242,"
                              "\"bundle\":\"%s\",\"annotations\":{\"io.crdma.devices\":\"rxe0\"}}",
                              true, &c, NULL), 0);
        assert_string_equal(c.id, "c1");
        assert_string_equal(c.status, "created");
        assert_int_equal(c.pid, 4242);
        assert_string_equal(c.bundle, bundle);
        char rootfs[128];
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
        assert_string_equal(c.rootfs, rootfs);
        /* The state's annotation wins; the config fills in what it lacks. */
        assert_string_equal(ann(&c, "io.crdma.devices"), "rxe0");
        assert_string_equal(ann(&c, "io.crdma.memlock"), "1G");
        assert_int_equal(c.annotations.n, 2);
        assert_true(c.has_netns);
        assert_string_equal(c.netns_path, "/run/netns/pod1");
        /* Every namespace, for the pid check: a new pid one, a joined net one. */
        assert_int_equal(c.n_namespaces, 2);
        assert_string_equal(c.namespaces[0].type, "pid");
        assert_null(c.namespaces[0].path);
        assert_string_equal(c.namespaces[1].type, "network");
        assert_string_equal(c.namespaces[1].path, "/run/netns/pod1");
        assert_string_equal(c.cgroups_path, "/crdma/c1");
        assert_true(c.caps_known);
        assert_int_equal(c.n_caps, 2);
        assert_string_equal(c.caps[1], "CAP_NET_BIND_SERVICE");
        assert_true(c.seccomp_denies_by_default);
        /* The one reading of the profile (the editor's too): ioctl and mmap
         * allowed outright, mbind left to its argument filter, the rest to
         * the default. */
        enum oci_seccomp_verdict v;
        const char *allowed[] = { "ioctl", "mmap" };
        for (size_t i = 0; i < 2; i++) {
                assert_int_equal(oci_seccomp_verdict("c", c.seccomp, allowed[i], -1, &v, NULL,
                                                     NULL, NULL), 0);
                assert_int_equal(v, OCI_SECCOMP_ALLOWED);
        }
        assert_int_equal(oci_seccomp_verdict("c", c.seccomp, "mbind", -1, &v, NULL, NULL, NULL), 0);
        assert_int_equal(v, OCI_SECCOMP_CONDITIONAL);
        assert_int_equal(oci_seccomp_verdict("c", c.seccomp, "get_mempolicy", -1, &v, NULL, NULL,
                                             NULL), 0);
        assert_int_equal(v, OCI_SECCOMP_BY_DEFAULT);
        size_t rule = 0;
        const char *action = NULL;
        assert_int_equal(oci_seccomp_verdict("c", c.seccomp, "kill", -1, &v, &rule, &action, NULL), 0);
        assert_int_equal(v, OCI_SECCOMP_OTHER);
        assert_int_equal(rule, 2);
        assert_string_equal(action, "SCMP_ACT_ERRNO");
        oci_container_clear(&c);
}

static void test_podman_runc_like(void **state)
{
        (void) state;
        /* podman+runc: status "creating", no annotations in the state. */
        write_config("{\"root\":{\"path\":\"/var/lib/containers/x/merged\"},"
                     "\"annotations\":{\"io.crdma.devices\":\"all\"}}");
        struct oci_container c;
        assert_int_equal(load("{\"id\":\"p\",\"status\":\"creating\",\"pid\":7,\"bundle\":\"%s\"}",
                              true, &c, NULL), 0);
        assert_string_equal(c.rootfs, "/var/lib/containers/x/merged");
        assert_string_equal(ann(&c, "io.crdma.devices"), "all");
        assert_false(c.caps_known);
        assert_false(c.seccomp_denies_by_default);
        assert_false(c.has_netns);
        assert_null(c.netns_path);
        assert_int_equal(c.n_namespaces, 0);
        assert_null(c.cgroups_path);
        oci_container_clear(&c);
}

static void expect_error(const char *state_fmt, bool need_pid, const char *needle)
{
        struct oci_container c;
        struct crdma_error *err = NULL;
        assert_true(load(state_fmt, need_pid, &c, &err) < 0);
        if (!strstr(crdma_error_message(err), needle))
                fail_msg("\"%s\" lacks \"%s\"", crdma_error_message(err), needle);
        crdma_error_free(err);
}

static void test_errors(void **state)
{
        (void) state;
        write_config("{\"root\":{\"path\":\"rootfs\"}}");
        expect_error("{\"id\":\"x\",\"pid\":1,\"bundle\":\"relative\"%.0s}", true, "absolute \"bundle\"");
        expect_error("{\"pid\":1,\"bundle\":\"%s\"}", true, "\"id\" and an absolute \"bundle\"");
        expect_error("{\"id\":\"x\",\"bundle\":\"%s\"}", true, "no valid \"pid\"");
        expect_error("{\"id\":\"x\",\"pid\":-5,\"bundle\":\"%s\"}", true, "no valid \"pid\"");
        expect_error("{\"id\":\"x\",\"pid\":\"12\",\"bundle\":\"%s\"}", true, "no valid \"pid\"");
        expect_error("{\"id\":\"x\",\"pid\":99999999999,\"bundle\":\"%s\"}", true, "no valid \"pid\"");
        expect_error("{\"id\":\"x\",\"pid\":1,\"bundle\":\"%s\",\"annotations\":[]}", true,
                     "\"annotations\": not a JSON object");
        expect_error("[\"%s\"]", true, "not a JSON object");
        expect_error("{\"id\":\"x\",\"pid\":1,\"bundle\":\"%s/nope\"}", true, "config.json: cannot read");

        /* poststop: no pid needed; crun sends 0. */
        struct oci_container c;
        assert_int_equal(load("{\"id\":\"x\",\"status\":\"stopped\",\"bundle\":\"%s\"}", false, &c, NULL), 0);
        assert_int_equal(c.pid, 0);
        oci_container_clear(&c);
        assert_int_equal(load("{\"id\":\"x\",\"pid\":0,\"status\":\"stopped\",\"bundle\":\"%s\"}", false, &c, NULL), 0);
        oci_container_clear(&c);

        /* Without io.crdma.* annotations the details are never read: a config
         * whose other parts crdma would reject does not fail the container. */
        write_config("{\"root\":{},\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_MEMLOCK\",\"soft\":\"x\"}]}}");
        char text[256];
        snprintf(text, sizeof(text), "{\"id\":\"x\",\"pid\":1,\"bundle\":\"%s\"}", bundle);
        assert_int_equal(oci_container_load(text, strlen(text), true, &c, NULL), 0);
        assert_int_equal(c.annotations.n, 0);
        oci_container_clear(&c);

        write_config("{\"root\":{}}");
        expect_error("{\"id\":\"x\",\"pid\":1,\"bundle\":\"%s\"}", true, "no \"root\".\"path\"");
        write_config("{\"root\":{\"path\":\"r\"},\"annotations\":{\"io.crdma.devices\":true}}");
        expect_error("{\"id\":\"x\",\"pid\":1,\"bundle\":\"%s\"}", true,
                     "annotation io.crdma.devices: value is not a string");
}

/* A key given twice: runc reads the last, crun and yajl_tree_get the
 * first, so the hook would reason about what one runtime does not use.  A
 * container that asks crdma anything is refused, naming the document and
 * the key; one that asks nothing is not crdma's to judge. */
static void expect_duplicate(const char *state_fmt, const char *doc, const char *key,
                             const char *times)
{
        struct oci_container c;
        struct crdma_error *err = NULL;
        char want[512];
        snprintf(want, sizeof(want), "%s: key \"%s\" appears %s; JSON readers differ on which "
                 "one counts (runc takes the last, yajl the first); keep one", doc, key, times);
        assert_int_equal(load(state_fmt, true, &c, &err), -EINVAL);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        if (strcmp(crdma_error_message(err), want) != 0)
                fail_msg("got      \"%s\"\nexpected \"%s\"", crdma_error_message(err), want);
        crdma_error_free(err);
}

static void test_duplicate_keys(void **state)
{
        (void) state;
        const char *asks = "{\"id\":\"d\",\"pid\":7,\"bundle\":\"%s\","
                           "\"annotations\":{\"io.crdma.devices\":\"rxe0\"}}";
        char config[128];
        snprintf(config, sizeof(config), "%s/config.json", bundle);

        /* In config.json: two roots, the hook would use the first. */
        write_config("{\"root\":{\"path\":\"rootfs\"},\"root\":{\"path\":\"/elsewhere\"}}");
        expect_duplicate(asks, config, "root", "twice");
        /* Anywhere in it, named by its path, however often. */
        write_config("{\"root\":{\"path\":\"rootfs\"},\"linux\":{\"namespaces\":[{\"type\":\"pid\"},"
                     "{\"type\":\"network\",\"path\":\"/a\",\"path\":\"/b\",\"path\":\"/c\"}]}}");
        expect_duplicate(asks, config, "linux.namespaces[1].path", "3 times");
        /* The request in the config's annotations. */
        write_config("{\"root\":{\"path\":\"rootfs\"},\"annotations\":{\"io.crdma.memlock\":\"1G\","
                     "\"io.crdma.memlock\":\"unlimited\"}}");
        expect_duplicate("{\"id\":\"d\",\"pid\":7,\"bundle\":\"%s\"}", config,
                         "annotations.io.crdma.memlock", "twice");
        /* Every copy of "annotations" counts for whether it asks: here
         * crdma would read the first, which asks nothing, and runc the
         * second. */
        write_config("{\"root\":{\"path\":\"rootfs\"},\"annotations\":{},"
                     "\"annotations\":{\"io.crdma.devices\":\"all\"}}");
        expect_duplicate("{\"id\":\"d\",\"pid\":7,\"bundle\":\"%s\"}", config, "annotations",
                         "twice");

        /* In the state, before the config's. */
        write_config("{\"root\":{\"path\":\"rootfs\"},\"root\":{}}");
        expect_duplicate("{\"id\":\"d\",\"pid\":7,\"pid\":8,\"bundle\":\"%s\","
                         "\"annotations\":{\"io.crdma.devices\":\"rxe0\"}}",
                         "OCI state (standard input)", "pid", "twice");
        expect_duplicate("{\"id\":\"d\",\"pid\":7,\"bundle\":\"%s\",\"annotations\":"
                         "{\"io.crdma.devices\":\"rxe0\",\"io.crdma.devices\":\"all\"}}",
                         "OCI state (standard input)", "annotations.io.crdma.devices", "twice");

        /* Asking nothing, in either copy of anything: not refused, nothing read. */
        write_config("{\"root\":{\"path\":\"rootfs\"},\"root\":{},\"annotations\":{\"a\":\"1\"},"
                     "\"annotations\":{\"a\":\"2\"}}");
        char text[256];
        snprintf(text, sizeof(text), "{\"id\":\"d\",\"id\":\"e\",\"pid\":7,\"bundle\":\"%s\"}",
                 bundle);
        struct oci_container c;
        assert_int_equal(oci_container_load(text, strlen(text), true, &c, NULL), 0);
        assert_int_equal(c.annotations.n, 0);
        assert_int_equal(c.state_facts.duplicates, 2);
        assert_string_equal(c.state_facts.duplicate, "id");
        assert_string_equal(c.config_facts.duplicate, "root");
        oci_container_clear(&c);
}

static int setup(void **state)
{
        (void) state;
        fixture_tmpdir(bundle, sizeof(bundle), "state");
        return 0;
}

static int teardown(void **state)
{
        (void) state;
        return fixture_rm_tree(bundle);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_runc_like),
                cmocka_unit_test(test_podman_runc_like),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_duplicate_keys),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
