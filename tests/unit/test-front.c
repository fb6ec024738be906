/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The front door (crdma.h, CRDMA_0.2): one call per path, the same plan on
 * every one, nothing done when nothing is asked. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cleanup.h"
#include "context.h"
#include "fixture.h"
#include "nl-replay.h"


struct fixture {
        struct crdma_context *ctx;
        char dir[64];
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->ctx = fixture_context("rxe");
        fixture_tmpdir(f->dir, sizeof(f->dir), "front");
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        crdma_context_free(f->ctx);
        assert_int_equal(fixture_rm_tree(f->dir), 0);
        free(f);
        return 0;
}

/* A policy file that is not JSON: reading it is an error. */
static void broken_policy(struct fixture *f)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/policy.json", f->dir);
        FILE *p = fopen(path, "w");
        assert_non_null(p);
        fputs("{ not json", p);
        fclose(p);
        assert_int_equal(crdma_context_set_policy_path(f->ctx, path, NULL), 0);
}

static void plan_nothing_asked(void **state)
{
        struct fixture *f = *state;
        broken_policy(f); /* not even read: the request comes first */
        const struct crdma_kv kv[] = { { "other.key", "1" } };
        struct crdma_plan *plan = (struct crdma_plan *) 1;
        assert_int_equal(crdma_plan_from_request(f->ctx, kv, 1, &plan, NULL), 0);
        assert_null(plan);
        assert_int_equal(crdma_plan_from_request(f->ctx, NULL, 0, &plan, NULL), 0);
        assert_null(plan);
}

static void plan_of_request(void **state)
{
        struct fixture *f = *state;
        const struct crdma_kv kv[] = { { "io.crdma.devices", "rxe1" },
                                       { "io.crdma.hca-handles", "3" } };
        _cleanup_(crdma_plan_freep) struct crdma_plan *plan = NULL;
        assert_int_equal(crdma_plan_from_request(f->ctx, kv, 2, &plan, NULL), 0);
        assert_non_null(plan);
        assert_int_equal(crdma_plan_device_count(plan), 1);
        assert_string_equal(crdma_plan_rdma_max_line(plan, 0), "rxe1 hca_handle=3 hca_object=65536");
}

static void plan_refusals(void **state)
{
        struct fixture *f = *state;
        struct crdma_plan *plan = NULL;
        _cleanup_(crdma_error_freep) struct crdma_error *err = NULL;
        const struct crdma_kv typo[] = { { "io.crdma.devices", "rxe0" }, { "io.crdma.hca-handle", "4" } };
        assert_int_equal(crdma_plan_from_request(f->ctx, typo, 2, &plan, &err), -EINVAL);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_non_null(strstr(crdma_error_message(err), "io.crdma.hca-handle: unknown key"));
        assert_null(plan);
        crdma_error_free(TAKE_PTR(err));

        const struct crdma_kv absent[] = { { "io.crdma.devices", "mlx5_9" } };
        assert_true(crdma_plan_from_request(f->ctx, absent, 1, &plan, &err) < 0);
        assert_non_null(strstr(crdma_error_message(err), "mlx5_9: no such RDMA device"));
        crdma_error_free(TAKE_PTR(err));

        broken_policy(f);
        const struct crdma_kv ok[] = { { "io.crdma.devices", "rxe0" } };
        assert_true(crdma_plan_from_request(f->ctx, ok, 1, &plan, &err) < 0);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_SYSTEM);
        assert_non_null(strstr(crdma_error_message(err), "policy.json"));
}

/* Nothing asked: the container is not looked at (a pid that is no process). */
static void inject_nothing_asked(void **state)
{
        struct fixture *f = *state;
        _cleanup_(crdma_container_freep) struct crdma_container *c = NULL;
        assert_int_equal(crdma_container_new(999999999, "/nonexistent", &c, NULL), 0);
        const struct crdma_kv kv[] = { { "other.key", "1" } };
        assert_int_equal(crdma_container_inject(f->ctx, c, kv, 1, NULL), 0);
        _cleanup_(crdma_error_freep) struct crdma_error *err = NULL;
        const struct crdma_kv typo[] = { { "io.crdma.device", "rxe0" } };
        assert_true(crdma_container_inject(f->ctx, c, typo, 1, &err) < 0);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_int_equal(crdma_container_inject(f->ctx, NULL, kv, 1, NULL), -EINVAL);
}

static void state_stages(void **state)
{
        struct fixture *f = *state;
        char bundle[128], config[160], text[512];
        snprintf(bundle, sizeof(bundle), "%s", f->dir);
        snprintf(config, sizeof(config), "%s/config.json", bundle);
        FILE *c = fopen(config, "w");
        assert_non_null(c);
        fputs("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}}", c);
        fclose(c);

        /* No io.crdma.* annotation: done at once, the pid never looked at. */
        snprintf(text, sizeof(text), "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"created\","
                 "\"pid\":4194303,\"bundle\":\"%s\"}", bundle);
        assert_int_equal(crdma_state_inject(f->ctx, text, strlen(text), NULL), 0);
        assert_int_equal(crdma_state_release(f->ctx, text, strlen(text), NULL), 0);

        /* A bad request names the container. */
        snprintf(text, sizeof(text), "{\"ociVersion\":\"1.0.2\",\"id\":\"c2\",\"status\":\"created\","
                 "\"pid\":4194303,\"bundle\":\"%s\",\"annotations\":{\"io.crdma.devics\":\"rxe0\"}}",
                 bundle);
        _cleanup_(crdma_error_freep) struct crdma_error *err = NULL;
        assert_true(crdma_state_inject(f->ctx, text, strlen(text), &err) < 0);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_true(strncmp(crdma_error_message(err), "container c2: ", 14) == 0);
        crdma_error_free(TAKE_PTR(err));
        assert_true(crdma_state_release(f->ctx, text, strlen(text), &err) < 0);
        assert_true(strncmp(crdma_error_message(err), "container c2: ", 14) == 0);
        crdma_error_free(TAKE_PTR(err));

        /* Not a state. */
        assert_true(crdma_state_inject(f->ctx, "[]", 2, &err) < 0);
        unlink(config);
}

static void config_plan_and_annotations(void **state)
{
        struct fixture *f = *state;
        const char *config = "{\n  \"ociVersion\": \"1.0.2\",\n  \"annotations\": {\n"
                             "    \"io.crdma.devices\": \"rxe0\"\n  }\n}\n";
        _cleanup_(crdma_plan_freep) struct crdma_plan *plan = NULL;
        assert_int_equal(crdma_config_plan(f->ctx, config, strlen(config), &plan, NULL), 0);
        assert_non_null(plan);
        assert_string_equal(crdma_plan_device_name(plan, 0), "rxe0");

        const struct crdma_kv kv[] = { { "io.crdma.devices", "rxe1" }, { "io.crdma.hca-handles", "2" } };
        _cleanup_free_ char *edited = NULL;
        assert_int_equal(crdma_config_set_annotations(config, strlen(config), kv, 2, &edited, NULL), 0);
        assert_string_equal(edited, "{\n  \"ociVersion\": \"1.0.2\",\n  \"annotations\": {\n"
                                    "    \"io.crdma.devices\": \"rxe1\",\n"
                                    "    \"io.crdma.hca-handles\": \"2\"\n  }\n}\n");
        _cleanup_(crdma_plan_freep) struct crdma_plan *again = NULL;
        assert_int_equal(crdma_config_plan(f->ctx, edited, strlen(edited), &again, NULL), 0);
        assert_string_equal(crdma_plan_rdma_max_line(again, 0), "rxe1 hca_handle=2 hca_object=65536");

        struct crdma_plan *none = (struct crdma_plan *) 1;
        assert_int_equal(crdma_config_plan(f->ctx, "{}", 2, &none, NULL), 0);
        assert_null(none);
}

static void apptainer_nothing_asked(void **state)
{
        struct fixture *f = *state;
        char *toml = (char *) 1;
        assert_int_equal(crdma_apptainer_cgroups(f->ctx, NULL, 0, &toml, NULL), 0);
        assert_null(toml);
        const struct crdma_kv kv[] = { { "io.crdma.devices", "rxe0" }, { "io.crdma.hca-handles", "5" } };
        assert_int_equal(crdma_apptainer_cgroups(f->ctx, kv, 2, &toml, NULL), 0);
        assert_non_null(strstr(toml, "[rdma.rxe0]\nhcaHandles = 5\n"));
        free(toml);
}

static void cdi_spec(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *json = NULL;
        assert_int_equal(crdma_cdi_spec(f->ctx, &json, NULL), 0);
        assert_non_null(strstr(json, "\"crdma.io/hca\""));
        assert_non_null(strstr(json, "\"rxe1\""));
}

static void netns_mode(void **state)
{
        struct fixture *f = *state;
        enum crdma_netns mode = CRDMA_NETNS_SHARED;
        struct nl_replay_pair p = { 0 };
        nl_replay_netns_mode(&p.sys, 0);
        nl_replay_error(&p.sys, 0, NULL);
        crdma_context_set_netlink_ops(f->ctx, &nl_replay_ops, &p);
        assert_int_equal(crdma_system_netns_mode(f->ctx, &mode, NULL), 0);
        assert_int_equal(mode, CRDMA_NETNS_EXCLUSIVE);

        struct nl_replay_pair q = { 0 };
        nl_replay_netns_mode(&q.sys, 1);
        nl_replay_error(&q.sys, 0, NULL);
        crdma_context_set_netlink_ops(f->ctx, &nl_replay_ops, &q);
        assert_int_equal(crdma_system_netns_mode(f->ctx, &mode, NULL), 0);
        assert_int_equal(mode, CRDMA_NETNS_SHARED);

        struct nl_replay_pair busy = { 0 };
        nl_replay_error(&busy.sys, -EBUSY, NULL);
        crdma_context_set_netlink_ops(f->ctx, &nl_replay_ops, &busy);
        _cleanup_(crdma_error_freep) struct crdma_error *err = NULL;
        assert_int_equal(crdma_system_set_netns_mode(f->ctx, CRDMA_NETNS_EXCLUSIVE, &err), -EBUSY);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_non_null(strstr(crdma_error_message(err), "netns_mode=0"));
        assert_int_equal(crdma_system_set_netns_mode(f->ctx, (enum crdma_netns) 7, NULL), -EINVAL);
}

/* Exclusive mode: a device another container's namespace holds is invisible
 * in class/infiniband here but keeps its class/infiniband_verbs entry.  A
 * shared request is refused, saying so instead of "no such device"; an
 * exclusive one is planned from that entry (a pod's second container: the
 * move then tells the pod's namespace from another container's). */
static void device_held_elsewhere(void **state)
{
        (void) state;
        char dir[64], path[160];
        fixture_tmpdir(dir, sizeof(dir), "elsewhere");
        const char *dirs[] = { "class", "class/infiniband", "class/infiniband_verbs",
                               "class/infiniband_verbs/uverbs2" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, dirs[i]);
                assert_int_equal(mkdir(path, 0755), 0);
        }
        snprintf(path, sizeof(path), "%s/class/infiniband_verbs/uverbs2/ibdev", dir);
        fixture_write_file(path, "crdmatest0\n");
        snprintf(path, sizeof(path), "%s/class/infiniband_verbs/uverbs2/dev", dir);
        fixture_write_file(path, "231:194\n");
        snprintf(path, sizeof(path), "%s/policy.json", dir);
        fixture_write_file(path, "{\"version\": 1, \"devices\": [\"crdmatest*\"]}\n");
        struct crdma_context *ctx = NULL;
        assert_int_equal(crdma_context_new(&ctx, NULL), 0);
        assert_int_equal(crdma_context_set_root(ctx, CRDMA_ROOT_SYSFS, dir, NULL), 0);
        assert_int_equal(crdma_context_set_netlink(ctx, false, NULL), 0);
        assert_int_equal(crdma_context_set_policy_path(ctx, path, NULL), 0);
        static const struct crdma_kv held[] = { { "io.crdma.devices", "crdmatest0" } };
        static const struct crdma_kv none[] = { { "io.crdma.devices", "crdmatest7" } };
        struct crdma_plan *plan = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_plan_from_request(ctx, held, 1, &plan, &err), -EBUSY);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_string_equal(crdma_error_message(err),
                            "annotation io.crdma.devices: device crdmatest0: in another network "
                            "namespace (exclusive mode: another container holds it); it comes "
                            "back when that container ends, or ask for another device "
                            "(`crdma-hook devices` lists those here)");
        crdma_error_free(err);
        err = NULL;
        assert_int_equal(crdma_plan_from_request(ctx, none, 1, &plan, &err), -ENODEV);
        crdma_error_free(err);
        err = NULL;

        static const struct crdma_kv excl[] = { { "io.crdma.devices", "crdmatest0" },
                                                { "io.crdma.netns", "exclusive" },
                                                { "io.crdma.rdma-cm", "false" } };
        assert_int_equal(crdma_plan_from_request(ctx, excl, 3, &plan, &err), 0);
        assert_int_equal(crdma_plan_node_count(plan), 1);
        const char *node = NULL;
        char type = 0;
        unsigned major = 0, minor = 0, mode = 0;
        assert_int_equal(crdma_plan_node(plan, 0, &node, &type, &major, &minor, &mode), 0);
        assert_string_equal(node, "/dev/infiniband/uverbs2");
        assert_int_equal(major, 231);
        assert_int_equal(minor, 194);
        crdma_plan_free(plan);
        crdma_context_free(ctx);
        assert_int_equal(fixture_rm_tree(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(plan_nothing_asked, setup, teardown),
                cmocka_unit_test_setup_teardown(plan_of_request, setup, teardown),
                cmocka_unit_test_setup_teardown(plan_refusals, setup, teardown),
                cmocka_unit_test_setup_teardown(inject_nothing_asked, setup, teardown),
                cmocka_unit_test_setup_teardown(state_stages, setup, teardown),
                cmocka_unit_test_setup_teardown(config_plan_and_annotations, setup, teardown),
                cmocka_unit_test_setup_teardown(apptainer_nothing_asked, setup, teardown),
                cmocka_unit_test_setup_teardown(cdi_spec, setup, teardown),
                cmocka_unit_test_setup_teardown(netns_mode, setup, teardown),
                cmocka_unit_test(device_held_elsewhere),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
