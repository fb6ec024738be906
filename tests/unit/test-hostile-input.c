/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hostile OCI states and configs, the way the hook reads them
 * (oci_container_load, oci_container_details, the request): each is refused
 * with one clear, short message, or read as what it is, in bounded time and
 * memory.  Every case runs in a child so its peak RSS and CPU time are its
 * own (wait4's rusage). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "document.h"
#include "cleanup.h"
#include "error.h"
#include "fixture.h"
#include "json-read.h"
#include "state.h"
#include "util.h"

/* Bounds for one case, hook-sized: far above what a sane document costs
 * (about 2 MiB and a millisecond), far below what the unbounded parser took
 * (a 14 MiB state of tiny values: 650 MiB and 8 s; 7M levels: a crash). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
/* Shadow memory, quarantine and instrumentation: the same bound, scaled. */
#define SANITIZER_SCALE 6
#else
#define SANITIZER_SCALE 1
#endif
/* ASan's realloc always moves the block, and yajl_tree grows an object's
 * key and value arrays one element at a time: 50,000 keys are quadratic
 * there (88 s and 2.2 GiB under ASan, 5,000 keys 0.8 GiB).  The bound on
 * crdma's own merge is measured with the full count in the other builds. */
#ifdef __SANITIZE_ADDRESS__
#define MANY_ANNOTATIONS 2000
#else
#define MANY_ANNOTATIONS 50000
#endif
#define MAX_RSS_KIB (96 * 1024 * SANITIZER_SCALE)
#define MAX_CPU_MS (1500 * SANITIZER_SCALE)

static char bundle[64];

struct buf {
        char *p;
        size_t n, cap;
};

static void add(struct buf *b, const char *s, size_t len)
{
        if (b->n + len + 1 > b->cap) {
                b->cap = (b->n + len + 1) * 2;
                b->p = realloc(b->p, b->cap);
                assert_non_null(b->p);
        }
        memcpy(b->p + b->n, s, len);
        b->n += len;
        b->p[b->n] = '\0';
}

static void adds(struct buf *b, const char *s) { add(b, s, strlen(s)); }

static void repeat(struct buf *b, const char *s, size_t times)
{
        for (size_t i = 0; i < times; i++)
                adds(b, s);
}

static void write_file(const char *name, const char *text, size_t len)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", bundle, name);
        unlink(path);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t) len);
        close(fd);
}

static const char *plain_config = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}}";

/* A runtime's state with `annotations` (a JSON object's text) and `extra`
 * members. */
static void state_with(struct buf *b, const char *annotations, const char *extra)
{
        adds(b, "{\"ociVersion\":\"1.0.2\",\"id\":\"h1\",\"status\":\"created\",\"pid\":4242,"
                "\"bundle\":\"");
        adds(b, bundle);
        adds(b, "\",\"annotations\":");
        adds(b, annotations);
        adds(b, extra ? extra : "");
        adds(b, "}");
}

/* What the hook does with a state, in this process: 0 and *asks set, or
 * the failure with its message in `msg`. */
static int read_as_hook(const char *text, size_t len, bool *asks, char *msg, size_t msg_len)
{
        struct oci_container c = { 0 };
        struct crdma_error *err = NULL;
        struct crdma_request *req = NULL;
        int r = oci_container_load(text, len, true, &c, &err);
        if (r >= 0)
                r = crdma_request_from_annotations(c.annotations.kv, c.annotations.n, &req, &err);
        if (r >= 0 && req)
                r = oci_container_details(&c, &err);
        *asks = req != NULL;
        snprintf(msg, msg_len, "%s", r < 0 ? crdma_error_message(err) : "");
        crdma_error_free(err);
        crdma_request_free(req);
        oci_container_clear(&c);
        return r;
}

struct outcome {
        int r;
        bool asks;
        char msg[1024];
        size_t msg_len;
        long rss_kib, cpu_ms;
};

static char self_exe[4096];

/* Run read_as_hook on `text` in a fresh process (this test, re-executed),
 * so that its peak RSS and CPU time are the case's own: a forked child
 * would start with every page of this process already counted. */
static void run_case(const char *text, size_t len, struct outcome *o)
{
        char input[128];
        snprintf(input, sizeof(input), "%s.state", bundle);
        int fd = open(input, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t) len);
        close(fd);
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char out_fd[16];
                snprintf(out_fd, sizeof(out_fd), "%d", fds[1]);
                close(fds[0]);
                execl(self_exe, self_exe, "--read-state", input, out_fd, bundle, (char *) NULL);
                _exit(127);
        }
        close(fds[1]);
        struct outcome got = { 0 };
        ssize_t n = read(fds[0], &got, sizeof(got));
        close(fds[0]);
        int status;
        struct rusage ru;
        assert_int_equal(wait4(pid, &status, 0, &ru), pid);
        unlink(input);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n != (ssize_t) sizeof(got))
                fail_msg("the case's process died (status 0x%x): crashed on hostile input", status);
        got.rss_kib = ru.ru_maxrss;
        got.cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
                     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
        print_message("   peak RSS %ld KiB, CPU %ld ms: %s\n", got.rss_kib, got.cpu_ms,
                      got.r < 0 ? got.msg : "accepted");
        *o = got;
}

/* The re-executed side: read the state file, report on fd `out`. */
static int read_state_main(const char *input, int out)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (crdma_read_file(input, CRDMA_DOCUMENT_MAX + 1, &text, &len) < 0)
                return 2;
        struct outcome mine = { 0 };
        char *full = malloc(1 << 16);
        if (!full)
                return 2;
        mine.r = read_as_hook(text, len, &mine.asks, full, 1 << 16);
        mine.msg_len = strlen(full);
        memcpy(mine.msg, full, mine.msg_len < sizeof(mine.msg) ? mine.msg_len + 1
                                                               : sizeof(mine.msg) - 1);
        free(full);
        return write(out, &mine, sizeof(mine)) == (ssize_t) sizeof(mine) ? 0 : 1;
}

static void expect_refused(struct buf *state, int errnum, const char *needle)
{
        struct outcome o;
        run_case(state->p, state->n, &o);
        free(state->p);
        *state = (struct buf){ 0 };
        assert_int_equal(o.r, -errnum);
        if (!strstr(o.msg, needle))
                fail_msg("\"%s\" lacks \"%s\"", o.msg, needle);
        /* One short line: a hostile value is never echoed whole. */
        assert_true(o.msg_len < 512);
        assert_null(strchr(o.msg, '\n'));
        assert_true(o.rss_kib < MAX_RSS_KIB);
        assert_true(o.cpu_ms < MAX_CPU_MS);
}

static void expect_accepted(struct buf *state, bool asks)
{
        struct outcome o;
        run_case(state->p, state->n, &o);
        free(state->p);
        *state = (struct buf){ 0 };
        if (o.r < 0)
                fail_msg("refused: %s", o.msg);
        assert_int_equal(o.asks, asks);
        assert_true(o.rss_kib < MAX_RSS_KIB);
        assert_true(o.cpu_ms < MAX_CPU_MS);
}

static void test_one_mib_values(void **state)
{
        (void) state;
        struct buf mib = { 0 }, s = { 0 };
        repeat(&mib, "aaaaaaaaaaaaaaaa", 65536);
        /* Ours: refused at 64 KiB, the value not echoed. */
        struct buf ann = { 0 };
        adds(&ann, "{\"io.crdma.devices\":\"");
        adds(&ann, mib.p);
        adds(&ann, "\"}");
        state_with(&s, ann.p, NULL);
        expect_refused(&s, E2BIG, "annotation io.crdma.devices: value longer than 64 KiB");
        /* A 1 MiB key under io.crdma.: unknown, quoted short. */
        ann.n = 0;
        adds(&ann, "{\"io.crdma.devices\":\"rxe0\",\"io.crdma.");
        adds(&ann, mib.p);
        adds(&ann, "\":\"1\"}");
        state_with(&s, ann.p, NULL);
        expect_refused(&s, EINVAL, "unknown key");
        /* Someone else's 1 MiB annotation is not crdma's business. */
        ann.n = 0;
        adds(&ann, "{\"io.crdma.devices\":\"rxe0\",\"org.example.blob\":\"");
        adds(&ann, mib.p);
        adds(&ann, "\"}");
        state_with(&s, ann.p, NULL);
        expect_accepted(&s, true);
        free(ann.p);
        free(mib.p);
}

static void test_ten_thousand_devices(void **state)
{
        (void) state;
        struct buf list = { 0 }, s = { 0 };
        adds(&list, "{\"io.crdma.devices\":\"");
        for (int i = 0; i < 10000; i++) {
                char item[16];
                snprintf(item, sizeof(item), "%sd%d", i ? "," : "", i);
                adds(&list, item);
        }
        adds(&list, "\"}");
        state_with(&s, list.p, NULL);
        expect_refused(&s, EINVAL, "names more than 1024 devices");
        free(list.p);
}

static void test_many_annotations(void **state)
{
        (void) state;
        /* 50,000 foreign annotations in both the state and the config:
         * crdma looks only at its own keys, so no quadratic merge. */
        struct buf ann = { 0 }, cfg = { 0 }, s = { 0 };
        adds(&ann, "{\"io.crdma.devices\":\"rxe0\"");
        for (int i = 0; i < MANY_ANNOTATIONS; i++) {
                char kv[48];
                snprintf(kv, sizeof(kv), ",\"org.example.k%d\":\"v\"", i);
                adds(&ann, kv);
        }
        adds(&ann, "}");
        adds(&cfg, "{\"root\":{\"path\":\"rootfs\"},\"annotations\":");
        adds(&cfg, ann.p);
        adds(&cfg, "}");
        write_file("config.json", cfg.p, cfg.n);
        state_with(&s, ann.p, NULL);
        expect_accepted(&s, true);
        /* 65 keys of ours: more than crdma could know, refused up front. */
        ann.n = 0;
        adds(&ann, "{\"io.crdma.devices\":\"rxe0\"");
        for (int i = 0; i < 64; i++) {
                char kv[48];
                snprintf(kv, sizeof(kv), ",\"io.crdma.k%d\":\"v\"", i);
                adds(&ann, kv);
        }
        adds(&ann, "}");
        state_with(&s, ann.p, NULL);
        expect_refused(&s, E2BIG, "more than 64 io.crdma.* annotations");
        write_file("config.json", plain_config, strlen(plain_config));
        free(ann.p);
        free(cfg.p);
}

static void test_nul_bytes(void **state)
{
        (void) state;
        struct buf s = { 0 };
        /* A raw NUL: not JSON. */
        state_with(&s, "{\"io.crdma.devices\":\"rxe0\"}", NULL);
        s.p[s.n - 3] = '\0';
        expect_refused(&s, EINVAL, "contains a NUL byte; not JSON");
        /* An escaped one in our key: it would read as io.crdma.devices. */
        state_with(&s, "{\"io.crdma.devices\\u0000x\":\"all\"}", NULL);
        expect_refused(&s, EINVAL, "a string holds \"\\u0000\", which would cut an annotation short");
        /* ... in our value, or anywhere in the config of a container that asks. */
        state_with(&s, "{\"io.crdma.devices\":\"rxe0\\u0000,all\"}", NULL);
        expect_refused(&s, EINVAL, "OCI state of h1: a string holds");
        const char *cfg = "{\"root\":{\"path\":\"rootfs\"},\"process\":{\"env\":[\"A=\\u0000\"]}}";
        write_file("config.json", cfg, strlen(cfg));
        state_with(&s, "{\"io.crdma.devices\":\"rxe0\"}", NULL);
        expect_refused(&s, EINVAL, "OCI config.json of h1: a string holds");
        /* A container that asks nothing is not failed for it; an escaped
         * backslash before "u0000" is no NUL. */
        state_with(&s, "{\"org.example\":\"x\\u0000y\"}", NULL);
        expect_accepted(&s, false);
        write_file("config.json", plain_config, strlen(plain_config));
        state_with(&s, "{\"io.crdma.devices\":\"rxe0\",\"org.example\":\"\\\\u0000\"}", NULL);
        expect_accepted(&s, true);
}

static void test_not_utf8(void **state)
{
        (void) state;
        struct buf s = { 0 };
        state_with(&s, "{\"io.crdma.devices\":\"rxe\xff\xfe\"}", NULL);
        expect_refused(&s, EINVAL, "invalid JSON");
        /* An overlong encoding of '/': yajl lets it through, the device
         * name rule does not, and the message shows the bytes escaped. */
        state_with(&s, "{\"io.crdma.devices\":\"..\xc0\xaf..\"}", NULL);
        expect_refused(&s, EINVAL, "\"..\\xc0\\xaf..\" is not a device name");
}

static void test_deep_nesting(void **state)
{
        (void) state;
        struct buf extra = { 0 }, s = { 0 };
        adds(&extra, ",\"x\":");
        repeat(&extra, "[", 10000);
        repeat(&extra, "]", 10000);
        state_with(&s, "{\"io.crdma.devices\":\"rxe0\"}", extra.p);
        expect_refused(&s, EINVAL, "OCI state (standard input): nested deeper than 127 levels");
        /* Hidden after a comment holding a quote (yajl_tree reads comments). */
        extra.n = 0;
        adds(&extra, ",\"x\":/* \" */");
        repeat(&extra, "{\"a\":", 200);
        adds(&extra, "1");
        repeat(&extra, "}", 200);
        state_with(&s, "{}", extra.p);
        expect_refused(&s, EINVAL, "nested deeper than 127 levels");
        /* 2 million levels: the recursive tree free would overflow the stack. */
        extra.n = 0;
        adds(&extra, ",\"x\":");
        repeat(&extra, "[[[[[[[[[[", 200000);
        repeat(&extra, "]]]]]]]]]]", 200000);
        state_with(&s, "{}", extra.p);
        expect_refused(&s, EINVAL, "nested deeper than 127 levels");
        /* In config.json too. */
        extra.n = 0;
        adds(&extra, "{\"root\":{\"path\":\"rootfs\"},\"x\":");
        repeat(&extra, "[", 128);
        repeat(&extra, "]", 128);
        adds(&extra, "}");
        write_file("config.json", extra.p, extra.n);
        state_with(&s, "{\"io.crdma.devices\":\"rxe0\"}", NULL);
        expect_refused(&s, EINVAL, "/config.json: nested deeper than 127 levels");
        write_file("config.json", plain_config, strlen(plain_config));
        free(extra.p);
}

static void test_many_tiny_values(void **state)
{
        (void) state;
        /* 14 MiB of zeros: under the 16 MiB size bound, but 7 million tree
         * nodes (650 MiB) without the value bound. */
        struct buf extra = { 0 }, s = { 0 };
        adds(&extra, ",\"x\":[0");
        repeat(&extra, ",0,0,0,0,0,0,0,0", 7 * 131072);
        adds(&extra, "]");
        state_with(&s, "{}", extra.p);
        expect_refused(&s, E2BIG, "more than 262144 values; not an OCI document");
        free(extra.p);
}

static void test_many_duplicates(void **state)
{
        (void) state;
        /* One key given as often as the annotations above have keys, in
         * the state and deep in the config: found by sorting, not by
         * comparing every pair, and named with its count. */
        struct buf ann = { 0 }, cfg = { 0 }, s = { 0 };
        adds(&ann, "{\"io.crdma.devices\":\"rxe0\"");
        repeat(&ann, ",\"org.example.k\":\"v\"", MANY_ANNOTATIONS);
        adds(&ann, "}");
        state_with(&s, ann.p, NULL);
        char needle[96];
        snprintf(needle, sizeof(needle), "OCI state (standard input): key "
                 "\"annotations.org.example.k\" appears %d times", MANY_ANNOTATIONS);
        expect_refused(&s, EINVAL, needle);
        adds(&cfg, "{\"root\":{\"path\":\"rootfs\"},\"process\":{\"env\":[{\"x\":");
        adds(&cfg, ann.p);
        adds(&cfg, "}]}}");
        write_file("config.json", cfg.p, cfg.n);
        state_with(&s, "{\"io.crdma.devices\":\"rxe0\"}", NULL);
        snprintf(needle, sizeof(needle), "/config.json: key \"process.env[0].x.org.example.k\" "
                 "appears %d times", MANY_ANNOTATIONS);
        expect_refused(&s, EINVAL, needle);
        /* A container that asks nothing is not crdma's to judge. */
        state_with(&s, "{\"org.example\":\"x\"}", NULL);
        expect_accepted(&s, false);
        write_file("config.json", plain_config, strlen(plain_config));
        free(ann.p);
        free(cfg.p);
}

static void test_bundle_symlink(void **state)
{
        (void) state;
        /* The runtime's bundle is a symlink: it may point elsewhere now. */
        char link_path[96];
        snprintf(link_path, sizeof(link_path), "%s-link", bundle);
        unlink(link_path);
        assert_int_equal(symlink(bundle, link_path), 0);
        struct buf s = { 0 };
        adds(&s, "{\"id\":\"h1\",\"pid\":4242,\"bundle\":\"");
        adds(&s, link_path);
        adds(&s, "\",\"annotations\":{\"io.crdma.devices\":\"rxe0\"}}");
        expect_refused(&s, ELOOP, "-link: is a symbolic link or not a directory; crdma reads "
                                  "config.json only from the real bundle directory");
        unlink(link_path);

        /* config.json a symlink (to another container's config), or a FIFO
         * that would block a root hook forever. */
        char cfg[128], other[128];
        snprintf(cfg, sizeof(cfg), "%s/config.json", bundle);
        snprintf(other, sizeof(other), "%s/other.json", bundle);
        write_file("other.json", plain_config, strlen(plain_config));
        unlink(cfg);
        assert_int_equal(symlink(other, cfg), 0);
        state_with(&s, "{\"io.crdma.devices\":\"rxe0\"}", NULL);
        expect_refused(&s, ELOOP, "/config.json: is a symbolic link");
        unlink(cfg);
        assert_int_equal(mkfifo(cfg, 0600), 0);
        state_with(&s, "{\"io.crdma.devices\":\"rxe0\"}", NULL);
        expect_refused(&s, EINVAL, "/config.json: not a regular file (a FIFO, device or directory)");
        unlink(cfg);
        write_file("config.json", plain_config, strlen(plain_config));
}

/* What the one reader (json-read.h) finds as it bounds an OCI document:
 * brackets in strings and comments do not count, an escaped backslash
 * before "u0000" is no NUL. */
static void read_facts(const char *t, struct crdma_json_facts *facts)
{
        _cleanup_json_tree_ yajl_val root = NULL;
        struct crdma_error *err = NULL;
        if (crdma_json_read(t, strlen(t), &oci_document_bounds, "t", &root, facts, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
}

static void test_scan_shape(void **state)
{
        (void) state;
        struct crdma_json_facts sh;
        const char *t = "{\"a\":[1,2,{\"b\":\"]]]\\\"[[[\"}],/*[[[*/\"c\"://\"\n\"\\u0000\"}";
        read_facts(t, &sh);
        assert_int_equal(sh.depth, 3);
        assert_true(sh.escaped_nul);
        /* Keys and values: {, a, [, 1, 2, {, b, "]]]\"[[[", c, "\u0000". */
        assert_int_equal(sh.values, 10);
        assert_int_equal(sh.duplicates, 0);
        t = "{\"a\":\"\\\\u0000\"}";
        read_facts(t, &sh);
        assert_false(sh.escaped_nul);
        assert_int_equal(sh.depth, 1);
}

static int setup(void **state)
{
        (void) state;
        fixture_tmpdir(bundle, sizeof(bundle), "hostile");
        write_file("config.json", plain_config, strlen(plain_config));
        return 0;
}

static int teardown(void **state)
{
        (void) state;
        return fixture_rm_tree(bundle);
}

int main(int argc, char **argv)
{
        if (argc == 5 && strcmp(argv[1], "--read-state") == 0) {
                snprintf(bundle, sizeof(bundle), "%s", argv[4]);
                return read_state_main(argv[2], atoi(argv[3]));
        }
        ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
        if (n <= 0)
                return 1;
        self_exe[n] = '\0';

        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_one_mib_values),
                cmocka_unit_test(test_ten_thousand_devices),
                cmocka_unit_test(test_many_annotations),
                cmocka_unit_test(test_nul_bytes),
                cmocka_unit_test(test_not_utf8),
                cmocka_unit_test(test_deep_nesting),
                cmocka_unit_test(test_many_tiny_values),
                cmocka_unit_test(test_many_duplicates),
                cmocka_unit_test(test_bundle_symlink),
                cmocka_unit_test(test_scan_shape),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
