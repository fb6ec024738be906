/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-runtime's command line, read as runc and crun read it: the bundle
 * and config it edits, the log it reports to, and the argv it passes on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "argv.h"

#define ARGS(...) ((char *[]){ "crdma-runtime", __VA_ARGS__, NULL })

static int count(char **v)
{
        int n = 0;
        while (v[n])
                n++;
        return n;
}

static struct shim_args parse_ok(int argc, char **argv)
{
        struct shim_args a;
        char why[256] = "";
        if (shim_args_parse(argc, argv, &a, why, sizeof(why)) < 0)
                fail_msg("refused: %s", why);
        return a;
}

static void assert_passed_on(const struct shim_args *a, char **want, int n)
{
        assert_int_equal(a->argc, n);
        for (int i = 0; i < n; i++)
                assert_string_equal(a->argv[i], want[i]);
        assert_null(a->argv[n]);
}

/* containerd's runc shim (go-runc): global options, then create with its
 * options before the id. */
static void test_containerd_create(void **state)
{
        (void) state;
        char **argv = ARGS("--root", "/run/containerd/runc/default", "--log",
                           "/run/containerd/x/log.json", "--log-format", "json",
                           "--systemd-cgroup", "create", "--bundle", "/run/b", "--pid-file",
                           "/run/b/init.pid", "--console-socket", "/tmp/s", "ctr1");
        struct shim_args a = parse_ok(count(argv), argv);
        assert_true(a.edits);
        assert_string_equal(a.bundle, "/run/b");
        assert_null(a.config);
        assert_string_equal(a.log, "/run/containerd/x/log.json");
        assert_string_equal(a.log_format, "json");
        assert_string_equal(a.argv[a.command], "create");
        assert_passed_on(&a, argv, count(argv));
        shim_args_clear(&a);
}

/* Go-style spellings: one dash, "=value", the bundle after the id (runc
 * reorders), -b; crun's --config/-f. */
static void test_spellings(void **state)
{
        (void) state;
        char **argv = ARGS("-root=/r", "-log", "/l", "run", "-d", "id", "-b", "/b2");
        struct shim_args a = parse_ok(count(argv), argv);
        assert_true(a.edits);
        assert_string_equal(a.bundle, "/b2");
        assert_string_equal(a.log, "/l");
        shim_args_clear(&a);

        char **crun = ARGS("--cgroup-manager=systemd", "create", "--config=/c.json", "--bundle=/b",
                           "id");
        a = parse_ok(count(crun), crun);
        assert_string_equal(a.config, "/c.json");
        assert_string_equal(a.bundle, "/b");
        shim_args_clear(&a);

        /* No --bundle: the working directory (a NULL bundle). */
        char **cwd = ARGS("create", "id");
        a = parse_ok(count(cwd), cwd);
        assert_true(a.edits);
        assert_null(a.bundle);
        shim_args_clear(&a);

        /* Past "--", nothing is an option. */
        char **dash = ARGS("run", "--", "--bundle", "x");
        a = parse_ok(count(dash), dash);
        assert_null(a.bundle);
        shim_args_clear(&a);
}

/* Every other subcommand, and none, goes through untouched. */
static void test_pass_through(void **state)
{
        (void) state;
        const char *commands[] = { "start", "state", "kill", "delete", "exec", "ps", "events",
                                   "features", "update", "pause", "resume", "list", "spec" };
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
                char **argv = ARGS("--root", "/r", (char *) commands[i], "--bundle", "/x", "id");
                struct shim_args a = parse_ok(count(argv), argv);
                assert_false(a.edits);
                assert_null(a.bundle);
                assert_int_equal(a.command, 3);
                assert_passed_on(&a, argv, count(argv));
                shim_args_clear(&a);
        }
        char **version = ARGS("--version");
        struct shim_args a = parse_ok(count(version), version);
        assert_int_equal(a.command, -1);
        assert_false(a.edits);
        assert_passed_on(&a, version, 2);
        shim_args_clear(&a);
}

/* exec: --process and the container id, options up to the id only. */
static void test_exec(void **state)
{
        (void) state;
        char **argv = ARGS("--root", "/r", "exec", "--process", "/tmp/p.json", "--detach",
                           "--pid-file", "/p", "ctr1");
        struct shim_args a = parse_ok(count(argv), argv);
        assert_true(a.execs);
        assert_false(a.edits);
        assert_string_equal(a.process, "/tmp/p.json");
        assert_string_equal(a.id, "ctr1");
        assert_passed_on(&a, argv, count(argv));
        shim_args_clear(&a);
        /* The command after the id is not read as options. */
        char **cmd = ARGS("exec", "-t", "ctr2", "sh", "-p", "/x");
        a = parse_ok(count(cmd), cmd);
        assert_string_equal(a.id, "ctr2");
        assert_null(a.process);
        shim_args_clear(&a);
}

/* The shim's own options are taken out; the runtime never sees them. */
static void test_own_options(void **state)
{
        (void) state;
        char **argv = ARGS("--crdma-policy", "/p.json", "--root", "/r", "--crdma-sysfs-root=/s",
                           "--crdma-cgroup-root", "/c", "create", "id");
        struct shim_args a = parse_ok(count(argv), argv);
        assert_string_equal(a.policy, "/p.json");
        assert_string_equal(a.roots[SHIM_ROOT_SYSFS], "/s");
        assert_string_equal(a.roots[SHIM_ROOT_CGROUP], "/c");
        char *want[] = { "crdma-runtime", "--root", "/r", "create", "id" };
        assert_passed_on(&a, want, 5);
        assert_int_equal(a.command, 3);
        shim_args_clear(&a);
}

static void refused(int argc, char **argv, const char *needle)
{
        struct shim_args a;
        char why[256] = "";
        assert_int_equal(shim_args_parse(argc, argv, &a, why, sizeof(why)), -EINVAL);
        if (!strstr(why, needle))
                fail_msg("\"%s\" lacks \"%s\"", why, needle);
}

static void test_refused(void **state)
{
        (void) state;
        /* A value-taking option without its value. */
        char **a1 = ARGS("--root");
        refused(count(a1), a1, "option --root needs a value");
        char **a2 = ARGS("create", "id", "--bundle");
        refused(count(a2), a2, "option --bundle needs a value");
        /* An unknown global option followed by a word that is no subcommand:
         * it may take that word as its value, so the subcommand is unknown. */
        char **a3 = ARGS("--new-option", "value", "create", "id");
        refused(count(a3), a3, "unknown global option --new-option before \"value\"");
        char **a4 = ARGS("--crdma-polcy", "/p", "create");
        refused(count(a4), a4, "unknown option --crdma-polcy");
        /* ... but one before a subcommand, or with "=", is passed on. */
        char **ok1 = ARGS("--new-flag", "create", "id");
        struct shim_args a = parse_ok(count(ok1), ok1);
        assert_true(a.edits);
        shim_args_clear(&a);
        char **ok2 = ARGS("--new-option=v", "run", "id");
        a = parse_ok(count(ok2), ok2);
        assert_true(a.edits);
        shim_args_clear(&a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_containerd_create),
                cmocka_unit_test(test_spellings),
                cmocka_unit_test(test_pass_through),
                cmocka_unit_test(test_own_options),
                cmocka_unit_test(test_exec),
                cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
