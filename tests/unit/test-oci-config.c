/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json read, edited with a plan and written back: golden files under
 * tests/data/oci (CRDMA_UPDATE_GOLDEN=1 rewrites the expected outputs). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "cleanup.h"
#include "config.h"
#include "error.h"
#include "fixture.h"
#include "plan.h"
#include "syscalls.h"
#include "util.h"

#define OCI_DATA CRDMA_TEST_DATA "/oci/"

static char *read_data(const char *name, size_t *len)
{
        char path[256], *text = NULL;
        size_t n = 0;
        snprintf(path, sizeof(path), OCI_DATA "%s", name);
        if (crdma_read_file(path, 1 << 24, &text, &n) < 0)
                fail_msg("cannot read %s", path);
        if (len)
                *len = n;
        return text;
}

static struct oci_config *parse_ok(const char *text, size_t len)
{
        struct oci_config *c = NULL;
        struct crdma_error *err = NULL;
        if (oci_config_parse(text, len, "config.json", &c, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        return c;
}

static char *write_ok(const struct oci_config *c, bool pretty)
{
        char *out = NULL;
        struct crdma_error *err = NULL;
        if (oci_config_write(c, pretty, &out, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        return out;
}

static char *roundtrip(const char *text, size_t len, bool pretty)
{
        struct oci_config *c = parse_ok(text, len);
        char *out = write_ok(c, pretty);
        oci_config_free(c);
        return out;
}

/* Same type, same number text, same keys in the same order. */
static bool tree_equal(yajl_val a, yajl_val b)
{
        if (a->type != b->type)
                return false;
        switch (a->type) {
        case yajl_t_string:
                return strcmp(a->u.string, b->u.string) == 0;
        case yajl_t_number:
                return strcmp(a->u.number.r, b->u.number.r) == 0;
        case yajl_t_object:
                if (a->u.object.len != b->u.object.len)
                        return false;
                for (size_t i = 0; i < a->u.object.len; i++)
                        if (strcmp(a->u.object.keys[i], b->u.object.keys[i]) != 0 ||
                            !tree_equal(a->u.object.values[i], b->u.object.values[i]))
                                return false;
                return true;
        case yajl_t_array:
                if (a->u.array.len != b->u.array.len)
                        return false;
                for (size_t i = 0; i < a->u.array.len; i++)
                        if (!tree_equal(a->u.array.values[i], b->u.array.values[i]))
                                return false;
                return true;
        default:
                return true;
        }
}

static void assert_golden(const char *name, const char *got)
{
        char path[256];
        snprintf(path, sizeof(path), OCI_DATA "%s", name);
        if (getenv("CRDMA_UPDATE_GOLDEN")) {
                FILE *f = fopen(path, "w");
                assert_non_null(f);
                fputs(got, f);
                fclose(f);
        }
        char *want = read_data(name, NULL);
        if (strcmp(want, got) != 0)
                fail_msg("%s differs from the output:\n%s", path, got);
        free(want);
}

/* ---- round trips ------------------------------------------------------ */

static void test_compact_identical(void **state)
{
        (void) state;
        /* Inputs already in compact form come back byte for byte. */
        const char *names[] = { "podman-precreate.json", "numbers-strings.json" };
        for (size_t i = 0; i < 2; i++) {
                size_t len;
                char *in = read_data(names[i], &len);
                char *out = roundtrip(in, len, false);
                if (strcmp(in, out) != 0)
                        fail_msg("%s:\n%s\n%s", names[i], in, out);
                free(out);
                free(in);
        }
}

static void test_runtime_specs(void **state)
{
        (void) state;
        const char *names[] = { "runc-spec.json", "crun-spec.json" };
        for (size_t i = 0; i < 2; i++) {
                size_t len;
                char *in = read_data(names[i], &len);
                /* Compact: nothing lost (same tree), and a fixed point. */
                char *compact = roundtrip(in, len, false);
                char *again = roundtrip(compact, strlen(compact), false);
                assert_string_equal(compact, again);
                struct oci_config *a = parse_ok(in, len), *b = parse_ok(compact, strlen(compact));
                assert_true(tree_equal(oci_config_root(a), oci_config_root(b)));
                oci_config_free(a);
                oci_config_free(b);
                /* Pretty: what the runtime wrote, but for runc's missing
                 * final newline and crun's two leading spaces. */
                char *pretty = roundtrip(in, len, true);
                const char *want = in;
                while (*want == ' ')
                        want++;
                size_t want_len = strlen(want);
                assert_int_equal(strlen(pretty), want_len + (in[len - 1] == '\n' ? 0 : 1));
                assert_memory_equal(pretty, want, want_len);
                free(pretty);
                free(again);
                free(compact);
                free(in);
        }
}

/* {"a":[[...]]} with `levels` containers. */
static char *nested(size_t levels)
{
        char *s = malloc(2 * levels + 6), *p = s;
        assert_non_null(s);
        p += sprintf(p, "{\"a\":");
        for (size_t i = 1; i < levels; i++)
                *p++ = '[';
        for (size_t i = 1; i < levels; i++)
                *p++ = ']';
        strcpy(p, "}");
        return s;
}

static void test_numbers_and_strings(void **state)
{
        (void) state;
        /* Escapes are decoded and written the way yajl writes them. */
        const char *in = "{\"a\":\"caf\\u00e9 \\/ \\u001f \\ud83d\\ude00\",\"n\":[18446744073709551615,"
                         "1e3,-0,1.50,1E+2]}";
        char *out = roundtrip(in, strlen(in), false);
        assert_string_equal(out, "{\"a\":\"café / \\u001F 😀\",\"n\":[18446744073709551615,1e3,-0,"
                                 "1.50,1E+2]}");
        free(out);
        /* Whitespace goes, pretty output keeps everything. */
        in = " { \"x\" : [ 1 , {} , [ ] ] , \"y\":\"\" }\n";
        out = roundtrip(in, strlen(in), false);
        assert_string_equal(out, "{\"x\":[1,{},[]],\"y\":\"\"}");
        free(out);
        out = roundtrip(in, strlen(in), true);
        assert_string_equal(out, "{\n\t\"x\": [\n\t\t1,\n\t\t{\n\t\t},\n\t\t[\n\t\t]\n\t],\n\t\"y\": \"\"\n}\n");
        free(out);
        /* The deepest nesting yajl_gen can write, and one level more. */
        char *deep = nested(OCI_DOCUMENT_MAX_DEPTH);
        out = roundtrip(deep, strlen(deep), false);
        assert_string_equal(out, deep);
        free(out);
        out = roundtrip(deep, strlen(deep), true);
        free(out);
        free(deep);
        deep = nested(OCI_DOCUMENT_MAX_DEPTH + 1);
        struct oci_config *c = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(oci_config_parse(deep, strlen(deep), "config.json", &c, &err), -EINVAL);
        assert_string_equal(crdma_error_message(err),
                            "config.json: nested deeper than 127 levels; not an OCI document");
        crdma_error_free(err);
        free(deep);
}

static void parse_refused(const char *text, const char *message)
{
        struct oci_config *c = (void *) 0x1;
        struct crdma_error *err = NULL;
        assert_true(oci_config_parse(text, strlen(text), "config.json", &c, &err) < 0);
        assert_ptr_equal(c, (void *) 0x1);
        if (strcmp(crdma_error_message(err), message) != 0)
                fail_msg("got      \"%s\"\nexpected \"%s\"", crdma_error_message(err), message);
        crdma_error_free(err);
}

static void test_parse_refusals(void **state)
{
        (void) state;
        parse_refused("[1]", "config.json: not a JSON object");
        parse_refused("{\"a\":1 /* note */}",
                      "config.json: invalid JSON: lexical error: probable comment found in input "
                      "text, comments are not enabled.");
        parse_refused("{\"a\":\"x\\u0000y\"}",
                      "config.json: a string or key holds \"\\u0000\", which crdma cannot keep");
        parse_refused("{\"a\\u0000\":1}",
                      "config.json: a string or key holds \"\\u0000\", which crdma cannot keep");
        parse_refused("{\"a\":1}{}", "config.json: invalid JSON: parse error: trailing garbage");
        parse_refused("{\"a\":\"\xff\"}",
                      "config.json: invalid JSON: lexical error: invalid bytes in UTF8 string.");
        parse_refused("{\"a\":", "config.json: invalid JSON: parse error: premature EOF");
        struct oci_config *c = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(oci_config_parse("{}\0{}", 5, "config.json", &c, &err), -EINVAL);
        assert_string_equal(crdma_error_message(err), "config.json: contains a NUL byte; not JSON");
        crdma_error_free(err);
}

/* ---- plans ------------------------------------------------------------ */

struct fixture {
        struct crdma_context *ctx;
        struct crdma_device_list *devices;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->ctx = fixture_context("rxe");
        f->devices = fixture_scan(f->ctx);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        crdma_device_list_free(f->devices);
        crdma_context_free(f->ctx);
        free(f);
        return 0;
}

/* A plan from annotations "key=value", NULL-terminated, and the built-in
 * policy but for `policy_json`. */
static struct crdma_plan *make_plan(struct fixture *f, const char *policy_json,
                                    const char *const *ann)
{
        return fixture_plan_ok(f->ctx, f->devices, policy_json, ann);
}

/* runc on a cgroup v2 host with the rdma controller, the hook at hand. */
static const struct oci_edit_options runc_v2 = {
        .runtime = CRDMA_RUNTIME_RUNC,
        .cgroup2 = true,
        .rdma_controller = true,
        .hook_path = "/usr/bin/crdma-hook",
};

/* No hca limits: only devices, rules and memlock are edited. */
#define NO_LIMITS                                                                         \
        "{\"version\":1,\"defaults\":{\"hcaHandles\":\"max\",\"hcaObjects\":\"max\"},"  \
        "\"limits\":{\"hcaHandles\":\"max\",\"hcaObjects\":\"max\"}}"

static char *apply_with(const char *text, size_t len, const struct crdma_plan *plan,
                        const struct oci_edit_options *opts, bool pretty)
{
        struct oci_config *c = parse_ok(text, len);
        struct crdma_error *err = NULL;
        if (oci_config_apply_plan(c, plan, opts, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        char *once = write_ok(c, pretty);
        /* Idempotent: applying again changes nothing... */
        if (oci_config_apply_plan(c, plan, opts, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        char *twice = write_ok(c, pretty);
        assert_string_equal(once, twice);
        free(twice);
        oci_config_free(c);
        /* ...and neither does applying to the edited text. */
        c = parse_ok(once, strlen(once));
        if (oci_config_apply_plan(c, plan, opts, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        twice = write_ok(c, pretty);
        assert_string_equal(once, twice);
        free(twice);
        oci_config_free(c);
        return once;
}

static char *apply_ok(const char *text, size_t len, const struct crdma_plan *plan, bool pretty)
{
        return apply_with(text, len, plan, &runc_v2, pretty);
}

static void test_apply_golden(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=rxe0", "io.crdma.memlock=1G", NULL };
        struct crdma_plan *plan = make_plan(f, "{\"version\":1}", ann);
        struct {
                const char *in, *out;
        } cases[] = {
                { "runc-spec.json", "runc-spec.rxe0.json" },
                { "crun-spec.json", "crun-spec.rxe0.json" },
                { "podman-precreate.json", "podman-precreate.rxe0.json" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len;
                char *in = read_data(cases[i].in, &len);
                char *out = apply_ok(in, len, plan, true);
                assert_golden(cases[i].out, out);
                free(out);
                free(in);
        }
        crdma_plan_free(plan);
}

static void test_apply_minimal(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=rxe0", NULL };
        struct crdma_plan *plan = make_plan(f, NO_LIMITS, ann);
        /* Nothing there: linux, its devices and resources are made, at the end. */
        const char *in = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"]},\"x\":null}";
        char *out = apply_ok(in, strlen(in), plan, false);
        assert_string_equal(out,
                "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"rlimits\":[{\"type\":"
                "\"RLIMIT_MEMLOCK\",\"hard\":18446744073709551615,\"soft\":18446744073709551615}]},"
                "\"x\":null,\"linux\":{\"devices\":[{\"path\":\"/dev/infiniband/uverbs0\",\"type\":"
                "\"c\",\"major\":231,\"minor\":192,\"fileMode\":438,\"uid\":0,\"gid\":0},{\"path\":"
                "\"/dev/infiniband/rdma_cm\",\"type\":\"c\",\"major\":10,\"minor\":124,\"fileMode\":"
                "438,\"uid\":0,\"gid\":0}],\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"c\","
                "\"major\":231,\"minor\":192,\"access\":\"rw\"},{\"allow\":true,\"type\":\"c\","
                "\"major\":10,\"minor\":124,\"access\":\"rw\"}]}}}");
        free(out);

        /* null members count as absent and are replaced in place. */
        in = "{\"process\":{\"rlimits\":null,\"cwd\":\"/\"},\"linux\":{\"devices\":null,"
             "\"resources\":null,\"z\":1}}";
        out = apply_ok(in, strlen(in), plan, false);
        assert_non_null(strstr(out, "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_MEMLOCK\""));
        assert_non_null(strstr(out, "\"linux\":{\"devices\":[{\"path\":\"/dev/infiniband/uverbs0\""));
        assert_non_null(strstr(out, "}],\"resources\":{\"devices\":[{\"allow\":true"));
        assert_non_null(strstr(out, "}]},\"z\":1}}"));
        free(out);

        /* Covering rules: a wildcard allow counts; a later deny undoes it. */
        in = "{\"process\":{},\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwm\"}]}}}";
        out = apply_ok(in, strlen(in), plan, false);
        assert_non_null(strstr(out, "\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwm\"}]}"));
        free(out);
        in = "{\"process\":{},\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"c\","
             "\"major\":231,\"minor\":-1,\"access\":\"rw\"},{\"allow\":false,\"type\":\"c\",\"major\":10,"
             "\"access\":\"w\"},{\"allow\":true,\"type\":\"c\",\"major\":10,\"minor\":124,\"access\":\"r\"}]}}}";
        out = apply_ok(in, strlen(in), plan, false);
        assert_non_null(strstr(out, "\"access\":\"r\"},{\"allow\":true,\"type\":\"c\",\"major\":10,"
                                    "\"minor\":124,\"access\":\"rw\"}]}"));
        assert_null(strstr(out, "\"minor\":192,\"access\":\"rw\"}"));
        free(out);
        crdma_plan_free(plan);
}

static void test_apply_memlock(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=rxe0", "io.crdma.memlock=1G", NULL };
        struct crdma_plan *plan = make_plan(f, NO_LIMITS, ann);
        struct {
                const char *rlimit, *want;
        } cases[] = {
                /* lower: raised */
                { "{\"type\":\"RLIMIT_MEMLOCK\",\"hard\":65536,\"soft\":65536}",
                  "{\"type\":\"RLIMIT_MEMLOCK\",\"hard\":1073741824,\"soft\":1073741824}" },
                /* higher: kept, even as 2^64-1 */
                { "{\"soft\":18446744073709551615,\"type\":\"RLIMIT_MEMLOCK\",\"hard\":18446744073709551615}",
                  "{\"soft\":18446744073709551615,\"type\":\"RLIMIT_MEMLOCK\",\"hard\":18446744073709551615}" },
                /* each on its own */
                { "{\"type\":\"RLIMIT_MEMLOCK\",\"soft\":8192,\"hard\":2147483648}",
                  "{\"type\":\"RLIMIT_MEMLOCK\",\"soft\":1073741824,\"hard\":2147483648}" },
                /* equal: kept */
                { "{\"type\":\"RLIMIT_MEMLOCK\",\"soft\":1073741824,\"hard\":1073741824}",
                  "{\"type\":\"RLIMIT_MEMLOCK\",\"soft\":1073741824,\"hard\":1073741824}" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char in[512], want[512];
                snprintf(in, sizeof(in), "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\","
                         "\"hard\":1024,\"soft\":1024},%s,{\"type\":\"RLIMIT_NPROC\"}]}}", cases[i].rlimit);
                snprintf(want, sizeof(want), "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\","
                         "\"hard\":1024,\"soft\":1024},%s,{\"type\":\"RLIMIT_NPROC\"}]},", cases[i].want);
                char *out = apply_ok(in, strlen(in), plan, false);
                if (strncmp(out, want, strlen(want)) != 0)
                        fail_msg("got  %s\nwant %s...", out, want);
                free(out);
        }
        crdma_plan_free(plan);
}

static void apply_refused_with(const struct crdma_plan *plan, const struct oci_edit_options *opts,
                               const char *text, int errnum, const char *message)
{
        struct oci_config *c = parse_ok(text, strlen(text));
        struct crdma_error *err = NULL;
        char *before = write_ok(c, false);
        int r = oci_config_apply_plan(c, plan, opts, &err);
        if (r >= 0)
                fail_msg("not refused: %s", text);
        assert_int_equal(r, -errnum);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        if (strcmp(crdma_error_message(err), message) != 0)
                fail_msg("got      \"%s\"\nexpected \"%s\"", crdma_error_message(err), message);
        crdma_error_free(err);
        /* Nothing changed. */
        char *after = write_ok(c, false);
        assert_string_equal(before, after);
        free(before);
        free(after);
        oci_config_free(c);
}

static void apply_refused(const struct crdma_plan *plan, const char *text, int errnum,
                          const char *message)
{
        apply_refused_with(plan, &runc_v2, text, errnum, message);
}

static void test_apply_refusals(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=rxe0", NULL };
        struct crdma_plan *plan = make_plan(f, NO_LIMITS, ann);

        /* Another device where crdma puts uverbs0; the process part is
         * valid, so a refusal there would show a partial edit. */
        apply_refused(plan, "{\"process\":{},\"linux\":{\"devices\":[{\"path\":\"/dev/infiniband/uverbs0\","
                      "\"type\":\"c\",\"major\":231,\"minor\":193}]}}", EEXIST,
                      "config.json: linux.devices already has /dev/infiniband/uverbs0 as type c "
                      "231:193, not the RDMA device c 231:192 crdma adds there; remove that entry");
        apply_refused(plan, "{\"process\":{},\"linux\":{\"devices\":[{\"path\":\"/dev/infiniband/rdma_cm\","
                      "\"type\":\"b\",\"major\":10,\"minor\":124}]}}", EEXIST,
                      "config.json: linux.devices already has /dev/infiniband/rdma_cm as type b "
                      "10:124, not the RDMA device c 10:124 crdma adds there; remove that entry");
        apply_refused(plan, "{\"process\":{},\"linux\":{\"devices\":[{\"path\":\"/dev/infiniband/rdma_cm\"}]}}",
                      EEXIST, "config.json: linux.devices already has /dev/infiniband/rdma_cm as type "
                      "(none) ?:?, not the RDMA device c 10:124 crdma adds there; remove that entry");

        struct {
                const char *json, *message;
        } wrong[] = {
                { "{\"process\":{},\"linux\":[]}", "config.json: \"linux\" is not a JSON object" },
                { "{\"process\":{},\"linux\":\"x\"}", "config.json: \"linux\" is not a JSON object" },
                { "{\"process\":{},\"linux\":{},\"linux\":{}}",
                  "config.json: key \"linux\" appears twice; JSON readers differ on which one "
                  "counts (runc takes the last, yajl the first); keep one" },
                { "{\"process\":{},\"linux\":{\"devices\":{}}}",
                  "config.json: \"linux.devices\" is not a JSON array" },
                { "{\"process\":{},\"linux\":{\"devices\":[1]}}",
                  "config.json: \"linux.devices[0]\" is not a JSON object" },
                { "{\"process\":{},\"linux\":{\"devices\":[{\"path\":7}]}}",
                  "config.json: \"linux.devices[0].path\" is not a string" },
                { "{\"process\":{},\"linux\":{\"devices\":[{\"path\":\"/dev/infiniband/uverbs0\","
                  "\"type\":\"c\",\"major\":231.0,\"minor\":192}]}}",
                  "config.json: \"linux.devices[0].major\" is 231.0, not an integer from 0 to 4294967295" },
                { "{\"process\":{},\"linux\":{\"resources\":[]}}",
                  "config.json: \"linux.resources\" is not a JSON object" },
                { "{\"process\":{},\"linux\":{\"resources\":{\"devices\":\"a\"}}}",
                  "config.json: \"linux.resources.devices\" is not a JSON array" },
                { "{\"process\":{},\"linux\":{\"resources\":{\"devices\":[null]}}}",
                  "config.json: \"linux.resources.devices[0]\" is not a JSON object" },
                { "{\"process\":{},\"linux\":{\"resources\":{\"devices\":[{\"allow\":\"yes\"}]}}}",
                  "config.json: \"linux.resources.devices[0].allow\" is not true or false" },
                { "{\"process\":{},\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"major\":-2}]}}}",
                  "config.json: \"linux.resources.devices[0].major\" is -2, not an integer from 0 to 4294967295" },
                { "{\"process\":{},\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"access\":[]}]}}}",
                  "config.json: \"linux.resources.devices[0].access\" is not a string" },
                { "{\"linux\":{}}", "config.json: no \"process\" to set RLIMIT_MEMLOCK for" },
                { "{\"process\":[]}", "config.json: \"process\" is not a JSON object" },
                { "{\"process\":{\"rlimits\":{}}}", "config.json: \"process.rlimits\" is not a JSON array" },
                { "{\"process\":{\"rlimits\":[\"RLIMIT_MEMLOCK\"]}}",
                  "config.json: \"process.rlimits[0]\" is not a JSON object" },
                { "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_MEMLOCK\",\"soft\":\"1G\",\"hard\":1}]}}",
                  "config.json: \"process.rlimits[0].soft\" is not a number" },
                { "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_MEMLOCK\",\"soft\":1e3,\"hard\":1}]}}",
                  "config.json: \"process.rlimits[0].soft\" is 1e3, not an integer from 0 to "
                  "18446744073709551615" },
                { "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_MEMLOCK\",\"soft\":1,\"hard\":"
                  "18446744073709551616}]}}",
                  "config.json: \"process.rlimits[0].hard\" is 18446744073709551616, not an integer "
                  "from 0 to 18446744073709551615" },
                { "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_MEMLOCK\",\"soft\":1}]}}",
                  "config.json: process.rlimits RLIMIT_MEMLOCK needs both \"soft\" and \"hard\"" },
                { "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_MEMLOCK\",\"soft\":1,\"hard\":1},"
                  "{\"type\":\"RLIMIT_MEMLOCK\",\"soft\":1,\"hard\":1}]}}",
                  "config.json: process.rlimits has RLIMIT_MEMLOCK twice; runtimes refuse such a config" },
        };
        for (size_t i = 0; i < ELEMENTSOF(wrong); i++)
                apply_refused(plan, wrong[i].json, EINVAL, wrong[i].message);
        crdma_plan_free(plan);
}

/* ---- rdma limits, capabilities, seccomp, hook entries ------------------ */

static const struct oci_edit_options crun_v2 = {
        .runtime = CRDMA_RUNTIME_CRUN,
        .cgroup2 = true,
        .rdma_controller = true,
        .hook_path = "/usr/bin/crdma-hook",
};
static const struct oci_edit_options crun_v1 = {
        .runtime = CRDMA_RUNTIME_CRUN,
        .cgroup2 = false,
        .rdma_controller = true,
        .hook_path = "/usr/bin/crdma-hook",
};
static const struct oci_edit_options auto_v2 = {
        .runtime = CRDMA_RUNTIME_AUTO,
        .cgroup2 = true,
        .rdma_controller = true,
        .hook_path = "/usr/bin/crdma-hook",
};

/* The createRuntime entry crdma writes for /usr/bin/crdma-hook. */
#define HOOK_ENTRY(stage)                                                                         \
        "{\"path\":\"/usr/bin/crdma-hook\",\"args\":[\"crdma-hook\",\"" stage "\"],\"env\":["     \
        "\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\"],\"timeout\":30}"

/* How often `needle` occurs in `hay`. */
static size_t count(const char *hay, const char *needle)
{
        size_t n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
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

static void test_rdma_runc(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=rxe0", "io.crdma.hca-handles=4",
                              "io.crdma.hca-objects=100", NULL };
        struct crdma_plan *plan = make_plan(f, "{\"version\":1}", ann);

        /* Nothing there: the plan's limits, and nothing for crun. */
        const char *in = "{\"process\":{}}";
        char *out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_has(out, "\"resources\":{\"devices\":[");
        assert_has(out, "],\"rdma\":{\"rxe0\":{\"hcaHandles\":4,\"hcaObjects\":100}}}}");
        assert_lacks(out, "unified");
        assert_lacks(out, "hooks");
        free(out);

        /* A stricter value there stays, a looser one is lowered in place;
         * other devices and keys are left alone. */
        in = "{\"process\":{},\"linux\":{\"resources\":{\"rdma\":{\"mlx5_0\":{\"hcaHandles\":99},"
             "\"rxe0\":{\"hcaObjects\":1000,\"x\":true,\"hcaHandles\":2}}}}}";
        out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_has(out, "\"rdma\":{\"mlx5_0\":{\"hcaHandles\":99},"
                        "\"rxe0\":{\"hcaObjects\":100,\"x\":true,\"hcaHandles\":2}}");
        free(out);
        /* Equal: kept as written. */
        in = "{\"process\":{},\"linux\":{\"resources\":{\"rdma\":{\"rxe0\":{\"hcaHandles\":4,"
             "\"hcaObjects\":100}}}}}";
        out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_has(out, "\"rdma\":{\"rxe0\":{\"hcaHandles\":4,\"hcaObjects\":100}}");
        assert_int_equal(count(out, "hcaHandles"), 1);
        free(out);
        crdma_plan_free(plan);

        /* "max" is no limit: the field is not written, and one there stays. */
        const char *ann_max[] = { "io.crdma.devices=rxe0,rxe1", "io.crdma.hca-handles=max",
                                  "io.crdma.hca-objects=100", NULL };
        plan = make_plan(f, "{\"version\":1,\"limits\":{\"hcaHandles\":\"max\"}}", ann_max);
        in = "{\"process\":{},\"linux\":{\"resources\":{\"rdma\":{\"rxe1\":{\"hcaHandles\":7}}}}}";
        out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_has(out, "\"rdma\":{\"rxe1\":{\"hcaHandles\":7,\"hcaObjects\":100},"
                        "\"rxe0\":{\"hcaObjects\":100}}");
        free(out);
        crdma_plan_free(plan);

        /* Malformed limits are refused, naming the field. */
        plan = make_plan(f, "{\"version\":1}", ann);
        struct {
                const char *json, *message;
        } wrong[] = {
                { "{\"process\":{},\"linux\":{\"resources\":{\"rdma\":[]}}}",
                  "config.json: \"linux.resources.rdma\" is not a JSON object" },
                { "{\"process\":{},\"linux\":{\"resources\":{\"rdma\":{\"rxe0\":4}}}}",
                  "config.json: \"linux.resources.rdma.rxe0\" is not a JSON object" },
                { "{\"process\":{},\"linux\":{\"resources\":{\"rdma\":{\"rxe0\":{\"hcaHandles\":\"4\"}}}}}",
                  "config.json: \"linux.resources.rdma.rxe0.hcaHandles\" is not a number" },
                { "{\"process\":{},\"linux\":{\"resources\":{\"rdma\":{\"rxe0\":{\"hcaObjects\":-1}}}}}",
                  "config.json: \"linux.resources.rdma.rxe0.hcaObjects\" is -1, not an integer "
                  "from 0 to 4294967295" },
        };
        for (size_t i = 0; i < ELEMENTSOF(wrong); i++)
                apply_refused_with(plan, &runc_v2, wrong[i].json, EINVAL, wrong[i].message);
        crdma_plan_free(plan);
}

static void test_rdma_crun(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=rxe1", "io.crdma.hca-handles=4", NULL };
        struct crdma_plan *plan = make_plan(f, "{\"version\":1}", ann);

        /* cgroup v2, one device, a parent cgroup with +rdma: crun's unified
         * rdma.max, no runc field, no hook. */
        char dir[64], path[128];
        fixture_tmpdir(dir, sizeof(dir), "crun-parent");
        snprintf(path, sizeof(path), "%s/pod", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/pod/cgroup.subtree_control", dir);
        fixture_write_file(path, "cpu memory rdma pids\n");
        snprintf(path, sizeof(path), "%s/bare", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/bare/cgroup.subtree_control", dir);
        fixture_write_file(path, "cpu memory pids\n");
        struct crdma_context *cg_ctx = fixture_context("rxe");
        assert_int_equal(crdma_context_set_root(cg_ctx, CRDMA_ROOT_CGROUP, dir, NULL), 0);
        struct oci_edit_options crun_v2_parent = crun_v2;
        crun_v2_parent.ctx = cg_ctx;
#define CG "\"cgroupsPath\":\"/pod/c1\","
        const char *in = "{\"process\":{},\"linux\":{" CG "\"resources\":{\"unified\":{\"memory.high\":\"1G\"}}}}";
        char *out = apply_with(in, strlen(in), plan, &crun_v2_parent, false);
        assert_has(out, "\"unified\":{\"memory.high\":\"1G\",\"rdma.max\":\"rxe1 hca_handle=4 "
                        "hca_object=65536\"}");
        assert_lacks(out, "\"rdma\":");
        assert_lacks(out, "hooks");
        free(out);
        /* The same line there: kept, once. */
        in = "{\"process\":{},\"linux\":{" CG "\"resources\":{\"unified\":{\"rdma.max\":\"rxe1 hca_handle=4 "
             "hca_object=65536\"}}}}";
        out = apply_with(in, strlen(in), plan, &crun_v2_parent, false);
        assert_int_equal(count(out, "rdma.max"), 1);
        free(out);
        /* A parent without +rdma (crun would refuse the unified key and
         * does not enable it), or no cgroupsPath that names the parent
         * (systemd's slice:prefix:name, a relative path, none): the
         * createRuntime hook writes rdma.max. */
        const char *no_parent[] = {
                "{\"process\":{},\"linux\":{\"cgroupsPath\":\"/bare/c1\"}}",
                "{\"process\":{},\"linux\":{\"cgroupsPath\":\"/none/c1\"}}",
                "{\"process\":{},\"linux\":{\"cgroupsPath\":\"machine.slice:libpod:c1\"}}",
                "{\"process\":{},\"linux\":{\"cgroupsPath\":\"pod/c1\"}}",
                "{\"process\":{}}",
        };
        for (size_t i = 0; i < ELEMENTSOF(no_parent); i++) {
                out = apply_with(no_parent[i], strlen(no_parent[i]), plan, &crun_v2_parent, false);
                assert_has(out, "\"createRuntime\":[" HOOK_ENTRY("createRuntime") "]");
                assert_lacks(out, "rdma.max");
                free(out);
        }
        /* Another one: refused, nothing changed. */
        apply_refused_with(plan, &crun_v2_parent,
                           "{\"process\":{},\"linux\":{" CG "\"resources\":{\"unified\":{\"rdma.max\":"
                           "\"rxe1 hca_handle=8 hca_object=65536\"}}}}",
                           EEXIST,
                           "config.json: linux.resources.unified[\"rdma.max\"] is already \"rxe1 "
                           "hca_handle=8 hca_object=65536\", not the \"rxe1 hca_handle=4 "
                           "hca_object=65536\" the request asks for; remove it and put the limits "
                           "in the io.crdma annotations");
        apply_refused_with(plan, &crun_v2_parent,
                           "{\"process\":{},\"linux\":{" CG "\"resources\":{\"unified\":{\"rdma.max\":1}}}}",
                           EINVAL,
                           "config.json: \"linux.resources.unified[\"rdma.max\"]\" is not a string");

        /* cgroup v1: crun writes no rdma limit, the createRuntime hook does. */
        in = "{\"process\":{}}";
        out = apply_with(in, strlen(in), plan, &crun_v1, false);
        assert_has(out, "\"hooks\":{\"createRuntime\":[" HOOK_ENTRY("createRuntime") "]}}");
        assert_lacks(out, "rdma.max");
        assert_lacks(out, "\"rdma\":");
        assert_lacks(out, "poststop");
        free(out);

        /* auto: runc's field and the hook, for whichever runtime comes. */
        out = apply_with(in, strlen(in), plan, &auto_v2, false);
        assert_has(out, "\"rdma\":{\"rxe1\":{\"hcaHandles\":4,\"hcaObjects\":65536}}");
        assert_has(out, "\"hooks\":{\"createRuntime\":[" HOOK_ENTRY("createRuntime") "]}}");
        assert_lacks(out, "rdma.max");
        free(out);
        crdma_plan_free(plan);
#undef CG
        crdma_context_free(cg_ctx);
        assert_int_equal(fixture_rm_tree(dir), 0);

        /* Two devices: rdma.max takes one per write, so the hook does it. */
        const char *ann2[] = { "io.crdma.devices=rxe0,rxe1", NULL };
        plan = make_plan(f, "{\"version\":1}", ann2);
        out = apply_with(in, strlen(in), plan, &crun_v2, false);
        assert_has(out, "\"hooks\":{\"createRuntime\":[" HOOK_ENTRY("createRuntime") "]}}");
        assert_lacks(out, "unified");
        assert_lacks(out, "\"rdma\":");
        free(out);
        crdma_plan_free(plan);
}

static void test_rdma_no_controller(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=rxe0", NULL };
        struct oci_edit_options opts[] = { runc_v2, crun_v2, crun_v1, auto_v2 };
        const char *in = "{\"process\":{}}";

        /* Limits the kernel cannot enforce: refused, for every runtime. */
        struct crdma_plan *plan = make_plan(f, "{\"version\":1}", ann);
        for (size_t i = 0; i < ELEMENTSOF(opts); i++) {
                opts[i].rdma_controller = false;
                apply_refused_with(plan, &opts[i], in, EOPNOTSUPP,
                                   "config.json: this kernel has no rdma cgroup controller "
                                   "(CONFIG_CGROUP_RDMA) to enforce the request's hca limits; run "
                                   "on a kernel that has it, or set the policy's \"limits\": "
                                   "{\"enforce\": \"best-effort\"}");
        }
        crdma_plan_free(plan);

        /* best-effort: the devices, and nothing rdma-related. */
        plan = make_plan(f, "{\"version\":1,\"limits\":{\"enforce\":\"best-effort\"}}", ann);
        for (size_t i = 0; i < ELEMENTSOF(opts); i++) {
                char *out = apply_with(in, strlen(in), plan, &opts[i], false);
                assert_has(out, "/dev/infiniband/uverbs0");
                assert_lacks(out, "rdma\"");
                assert_lacks(out, "rdma.max");
                assert_lacks(out, "hooks");
                free(out);
        }
        crdma_plan_free(plan);

        /* No limit asked at all ("max" both): nothing rdma-related, even
         * with the controller there, for every runtime. */
        plan = make_plan(f, NO_LIMITS, ann);
        for (size_t i = 0; i < ELEMENTSOF(opts); i++) {
                opts[i].rdma_controller = true;
                char *out = apply_with(in, strlen(in), plan, &opts[i], false);
                assert_has(out, "/dev/infiniband/uverbs0");
                assert_lacks(out, "rdma\"");
                assert_lacks(out, "rdma.max");
                assert_lacks(out, "hooks");
                free(out);
        }
        crdma_plan_free(plan);
}

#define ALLOW_RAW                                                                          \
        "{\"version\":1,\"defaults\":{\"hcaHandles\":\"max\",\"hcaObjects\":\"max\"},"   \
        "\"limits\":{\"hcaHandles\":\"max\",\"hcaObjects\":\"max\"},\"allow\":{\"netRaw\":true}}"

static void test_capabilities(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=rxe0", "io.crdma.raw=true", NULL };
        struct crdma_plan *plan = make_plan(f, ALLOW_RAW, ann);

        /* Bounding, permitted and effective get it; inheritable and ambient
         * do not; a set that has it already is left as it is. */
        const char *in = "{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_CHOWN\"],"
                         "\"effective\":[\"CAP_NET_RAW\",\"CAP_CHOWN\"],\"inheritable\":[\"CAP_CHOWN\"],"
                         "\"permitted\":[\"CAP_CHOWN\"],\"ambient\":[]}}}";
        char *out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_has(out, "{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_NET_RAW\"],"
                        "\"effective\":[\"CAP_NET_RAW\",\"CAP_CHOWN\"],\"inheritable\":[\"CAP_CHOWN\"],"
                        "\"permitted\":[\"CAP_CHOWN\",\"CAP_NET_RAW\"],\"ambient\":[]}");
        assert_int_equal(count(out, "CAP_NET_RAW"), 3);
        free(out);

        /* No capabilities at all: made, with the three sets. */
        in = "{\"process\":{\"args\":[\"sh\"]}}";
        out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_has(out, "}],\"capabilities\":{\"bounding\":[\"CAP_NET_RAW\"],"
                        "\"permitted\":[\"CAP_NET_RAW\"],\"effective\":[\"CAP_NET_RAW\"]}},\"linux\":");
        assert_lacks(out, "ambient");
        assert_lacks(out, "inheritable");
        free(out);
        /* null sets count as absent. */
        in = "{\"process\":{\"capabilities\":{\"bounding\":null}}}";
        out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_has(out, "{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_NET_RAW\"],"
                        "\"permitted\":[\"CAP_NET_RAW\"],\"effective\":[\"CAP_NET_RAW\"]}");
        free(out);

        struct {
                const char *json, *message;
        } wrong[] = {
                { "{\"process\":{\"capabilities\":[]}}",
                  "config.json: \"process.capabilities\" is not a JSON object" },
                { "{\"process\":{\"capabilities\":{\"bounding\":\"CAP_NET_RAW\"}}}",
                  "config.json: \"process.capabilities.bounding\" is not a JSON array" },
                { "{\"process\":{\"capabilities\":{\"bounding\":[],\"permitted\":[\"CAP_CHOWN\",12]}}}",
                  "config.json: \"process.capabilities.permitted[1]\" is not a string" },
                { "{\"process\":{\"capabilities\":{\"effective\":[\"CAP_NET_RAW\"],\"effective\":[]}}}",
                  "config.json: key \"process.capabilities.effective\" appears twice; JSON "
                  "readers differ on which one counts (runc takes the last, yajl the first); "
                  "keep one" },
        };
        for (size_t i = 0; i < ELEMENTSOF(wrong); i++)
                apply_refused_with(plan, &runc_v2, wrong[i].json, EINVAL, wrong[i].message);
        crdma_plan_free(plan);

        /* Without io.crdma.raw, capabilities are not touched, malformed or not. */
        const char *ann_plain[] = { "io.crdma.devices=rxe0", NULL };
        plan = make_plan(f, ALLOW_RAW, ann_plain);
        in = "{\"process\":{\"capabilities\":{\"bounding\":\"x\"}}}";
        out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_has(out, "{\"process\":{\"capabilities\":{\"bounding\":\"x\"}");
        assert_lacks(out, "CAP_NET_RAW");
        free(out);
        crdma_plan_free(plan);
}

/* What the plan's syscalls add to a profile that allows none of them. */
#define RDMA_ALLOW_REST                                                                           \
        "\"madvise\",\"mlock\",\"mlock2\",\"munlock\",\"mlockall\",\"munlockall\",\"mbind\","  \
        "\"set_mempolicy\",\"get_mempolicy\",\"process_vm_readv\",\"process_vm_writev\"]"
#define NETLINK_RULE                                                                              \
        "{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"         \
        "\"value\":16,\"op\":\"SCMP_CMP_EQ\"}]}"

/* {"process":{},"linux":{"seccomp":{"defaultAction":DEF, ARCHES "syscalls":[RULES]}}} */
static char *profile(const char *def, const char *arches, const char *rules)
{
        char *s = NULL;
        if (asprintf(&s, "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"%s\",%s"
                     "\"syscalls\":[%s]}}}", def, arches, rules) < 0)
                fail();
        return s;
}

/* `out` has `in`'s linux.seccomp as it was (profile() puts it last). */
static void assert_seccomp_kept(const char *in, const char *out)
{
        const char *a = strstr(in, "\"seccomp\""), *b = strstr(out, "\"seccomp\"");
        size_t n = strlen(a) - 2; /* without the "}}" closing linux and the config */
        if (!b || strncmp(a, b, n) != 0 || (b[n] != ',' && b[n] != '}'))
                fail_msg("seccomp changed:\n%s\n%s", in, out);
}

static void test_seccomp(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=rxe0", NULL };
        struct crdma_plan *plan = make_plan(f, NO_LIMITS, ann);
        /* The plan's list, which the expectations below spell out. */
        const char *want[] = { "ioctl", "mmap", "munmap", "madvise", "mlock", "mlock2", "munlock",
                               "mlockall", "munlockall", "mbind", "set_mempolicy", "get_mempolicy",
                               "process_vm_readv", "process_vm_writev", "socket" };
        assert_int_equal(crdma_plan_syscall_count(plan), ELEMENTSOF(want));
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                const char *name;
                long long arg0;
                assert_int_equal(crdma_plan_syscall(plan, i, &name, &arg0), 0);
                assert_string_equal(name, want[i]);
                assert_int_equal(arg0, strcmp(name, "socket") == 0 ? 16 : -1);
        }

        /* Deny by default: one allow rule with what is missing (ioctl and
         * mmap are allowed already: "args": [] is no condition); munmap and
         * socket have rules on their arguments, the profile's own choice,
         * which libseccomp would refuse to overlap: left alone. */
        const char *arches = "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],";
        char *in = profile("SCMP_ACT_ERRNO", arches,
                           "{\"names\":[\"read\",\"ioctl\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                           "{\"names\":[\"mmap\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[]},"
                           "{\"names\":[\"munmap\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":1,"
                           "\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]},"
                           "{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
                           "\"value\":2,\"op\":\"SCMP_CMP_EQ\"}]}");
        char *out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_has(out, "\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":[" RDMA_ALLOW_REST
                        ",\"action\":\"SCMP_ACT_ALLOW\"}]},\"devices\":[");
        assert_int_equal(count(out, "\"ioctl\""), 1);
        assert_int_equal(count(out, "\"mmap\""), 1);
        assert_int_equal(count(out, "\"munmap\""), 1);
        assert_int_equal(count(out, "\"socket\""), 1);
        free(out);
        free(in);

        /* Everything there already (socket's rule with other keys too):
         * nothing added.  Any other deny-by-default action counts. */
        in = profile("SCMP_ACT_KILL_PROCESS", "",
                     "{\"names\":[\"ioctl\",\"mmap\",\"munmap\"," RDMA_ALLOW_REST
                     ",\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\","
                     "\"args\":[{\"index\":0,\"value\":16,\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]}");
        out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_seccomp_kept(in, out);
        free(out);
        free(in);
        /* SCMP_ACT_LOG lets a call through, for the editor as for the inject
         * path (one reading of a profile): enough, and no refusal. */
        in = profile("SCMP_ACT_ERRNO", "",
                     "{\"names\":[\"ioctl\",\"mmap\",\"munmap\"," RDMA_ALLOW_REST
                     ",\"action\":\"SCMP_ACT_LOG\"},{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_LOG\"}");
        out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_seccomp_kept(in, out);
        free(out);
        free(in);
        /* socket allowed for every family: enough. */
        in = profile("SCMP_ACT_ERRNO", "", "{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\"}");
        out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_lacks(out, "\"args\"");
        assert_int_equal(count(out, "\"socket\""), 1);
        free(out);
        free(in);
        /* No syscalls yet: made. */
        in = strdup("{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\"}}}");
        out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_has(out, "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":"
                        "[\"ioctl\",\"mmap\",\"munmap\"," RDMA_ALLOW_REST ",\"action\":\"SCMP_ACT_ALLOW\"},"
                        NETLINK_RULE "]}");
        free(out);
        free(in);

        /* A conditional deny is the profile's own choice for that syscall:
         * no unconditional allow overrides it (podman's profile denies only
         * audit netlink sockets, and libseccomp refuses an overlapping
         * socket rule with "File exists"). */
        in = profile("SCMP_ACT_ERRNO", arches,
                     "{\"names\":[\"mbind\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
                     "\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}");
        out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_has(out, "\"set_mempolicy\",");
        assert_int_equal(count(out, "\"mbind\""), 1);
        free(out);
        free(in);

        /* Profiles that allow by default: untouched. */
        const char *allowing[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_LOG" };
        for (size_t i = 0; i < ELEMENTSOF(allowing); i++) {
                in = profile(allowing[i], "", "{\"names\":[\"mbind\"],\"action\":\"SCMP_ACT_ERRNO\"}");
                out = apply_with(in, strlen(in), plan, &runc_v2, false);
                assert_seccomp_kept(in, out);
                free(out);
                free(in);
        }
        /* No seccomp: none made. */
        in = strdup("{\"process\":{}}");
        out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_lacks(out, "seccomp");
        free(out);
        free(in);

        /* A syscall no listed architecture has is left out, as runtimes
         * skip it: 32-bit ARM has mmap2 but no mmap (libseccomp knows it on
         * no ARM kernel), and has all the others. */
        assert_int_equal(crdma_syscall_known_on("mmap", "SCMP_ARCH_ARM"), 0);
        assert_int_equal(crdma_syscall_known_on("mmap2", "SCMP_ARCH_ARM"), 1);
        assert_int_equal(crdma_syscall_known_on("mmap", "SCMP_ARCH_AARCH64"), 1);
        in = profile("SCMP_ACT_ERRNO", "\"architectures\":[\"SCMP_ARCH_ARM\"],", "");
        out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_has(out, "\"syscalls\":[{\"names\":[\"ioctl\",\"munmap\"," RDMA_ALLOW_REST
                        ",\"action\":\"SCMP_ACT_ALLOW\"}," NETLINK_RULE "]}");
        assert_lacks(out, "\"mmap\"");
        free(out);
        free(in);
        /* Listed with an architecture that has it: in. */
        in = profile("SCMP_ACT_ERRNO", "\"architectures\":[\"SCMP_ARCH_ARM\",\"SCMP_ARCH_AARCH64\"],", "");
        out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_has(out, "\"syscalls\":[{\"names\":[\"ioctl\",\"mmap\",");
        free(out);
        free(in);

        struct {
                const char *json;
                int errnum;
                const char *message;
        } wrong[] = {
                { "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
                  "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                  "{\"names\":[\"getpid\",\"mbind\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}}}",
                  EEXIST,
                  "config.json: linux.seccomp.syscalls[1] gives mbind the action SCMP_ACT_ERRNO, but "
                  "RDMA stacks need it allowed; remove mbind from that rule" },
                { "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
                  "\"syscalls\":[{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_KILL\",\"args\":[]}]}}}",
                  EEXIST,
                  "config.json: linux.seccomp.syscalls[0] gives socket the action SCMP_ACT_KILL, but "
                  "RDMA stacks need it allowed; remove socket from that rule" },
                { "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
                  "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_NOPE\"]}}}",
                  EINVAL,
                  "config.json: linux.seccomp.architectures[1] \"SCMP_ARCH_NOPE\" is no architecture "
                  "libseccomp knows; fix the profile" },
                { "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
                  "\"architectures\":[\"x86_64\"]}}}",
                  EINVAL,
                  "config.json: linux.seccomp.architectures[0] \"x86_64\" is no architecture "
                  "libseccomp knows; fix the profile" },
                { "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
                  "\"architectures\":[7]}}}",
                  EINVAL, "config.json: \"linux.seccomp.architectures[0]\" is not a string" },
                { "{\"process\":{},\"linux\":{\"seccomp\":{\"syscalls\":[]}}}",
                  EINVAL, "config.json: linux.seccomp has no \"defaultAction\"" },
                { "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
                  "\"syscalls\":{}}}}",
                  EINVAL, "config.json: \"linux.seccomp.syscalls\" is not a JSON array" },
                { "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
                  "\"syscalls\":[{\"names\":[\"read\"]}]}}}",
                  EINVAL, "config.json: linux.seccomp.syscalls[0] has no \"action\"" },
                { "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
                  "\"syscalls\":[{\"names\":[\"read\",null],\"action\":\"SCMP_ACT_ALLOW\"}]}}}",
                  EINVAL, "config.json: \"linux.seccomp.syscalls[0].names[1]\" is not a string" },
                { "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
                  "\"syscalls\":[\"read\"]}}}",
                  EINVAL, "config.json: \"linux.seccomp.syscalls[0]\" is not a JSON object" },
        };
        for (size_t i = 0; i < ELEMENTSOF(wrong); i++)
                apply_refused_with(plan, &runc_v2, wrong[i].json, wrong[i].errnum, wrong[i].message);
        crdma_plan_free(plan);
}

static void test_hooks(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=rxe0", "io.crdma.netns=exclusive", NULL };
        struct crdma_plan *plan = make_plan(f, NO_LIMITS, ann);

        /* Exclusive mode: the hook moves the devices (createRuntime) and
         * returns them (poststop). */
        const char *in = "{\"process\":{}}";
        char *out = apply_with(in, strlen(in), plan, &runc_v2, false);
        assert_has(out, ",\"hooks\":{\"createRuntime\":[" HOOK_ENTRY("createRuntime") "],"
                        "\"poststop\":[" HOOK_ENTRY("poststop") "]}}");
        free(out);
        /* The policy file the edit used goes to the hook too. */
        struct oci_edit_options opts = runc_v2;
        opts.policy_path = "/etc/crdma/site.json";
        out = apply_with(in, strlen(in), plan, &opts, false);
        assert_has(out, "\"createRuntime\":[{\"path\":\"/usr/bin/crdma-hook\",\"args\":[\"crdma-hook\","
                        "\"--policy\",\"/etc/crdma/site.json\",\"createRuntime\"],");
        assert_has(out, "\"poststop\":[{\"path\":\"/usr/bin/crdma-hook\",\"args\":[\"crdma-hook\","
                        "\"--policy\",\"/etc/crdma/site.json\",\"poststop\"],");
        free(out);

        /* Entries there already are not repeated: the same path, another
         * crdma-hook with the stage in its args, a prestart one; other
         * hooks are kept and crdma's goes after them. */
        struct {
                const char *hooks, *want;
        } cases[] = {
                { "{\"createRuntime\":[" HOOK_ENTRY("createRuntime") "]}",
                  "{\"createRuntime\":[" HOOK_ENTRY("createRuntime") "],\"poststop\":["
                  HOOK_ENTRY("poststop") "]}" },
                { "{\"poststop\":[{\"path\":\"/opt/crdma/bin/crdma-hook\",\"args\":[\"x\",\"--debug\","
                  "\"poststop\"]}],\"createRuntime\":[{\"path\":\"/usr/bin/other-hook\","
                  "\"args\":[\"other-hook\",\"createRuntime\"]}]}",
                  "{\"poststop\":[{\"path\":\"/opt/crdma/bin/crdma-hook\",\"args\":[\"x\",\"--debug\","
                  "\"poststop\"]}],\"createRuntime\":[{\"path\":\"/usr/bin/other-hook\","
                  "\"args\":[\"other-hook\",\"createRuntime\"]}," HOOK_ENTRY("createRuntime") "]}" },
                { "{\"prestart\":[{\"path\":\"/usr/libexec/crdma-hook\",\"args\":[\"crdma-hook\","
                  "\"prestart\"]}],\"poststop\":[" HOOK_ENTRY("poststop") "]}",
                  "{\"prestart\":[{\"path\":\"/usr/libexec/crdma-hook\",\"args\":[\"crdma-hook\","
                  "\"prestart\"]}],\"poststop\":[" HOOK_ENTRY("poststop") "]}" },
                /* crdma-hook for another stage does not count. */
                { "{\"createRuntime\":[" HOOK_ENTRY("poststop") "],\"poststop\":[]}",
                  "{\"createRuntime\":[" HOOK_ENTRY("poststop") "," HOOK_ENTRY("createRuntime") "],"
                  "\"poststop\":[" HOOK_ENTRY("poststop") "]}" },
                /* A path merely ending in crdma-hook's name does not either. */
                { "{\"createRuntime\":[{\"path\":\"/usr/bin/not-crdma-hook\",\"args\":[\"createRuntime\"]}]}",
                  "{\"createRuntime\":[{\"path\":\"/usr/bin/not-crdma-hook\",\"args\":[\"createRuntime\"]},"
                  HOOK_ENTRY("createRuntime") "],\"poststop\":[" HOOK_ENTRY("poststop") "]}" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char text[1024], want[1024];
                snprintf(text, sizeof(text), "{\"process\":{},\"hooks\":%s}", cases[i].hooks);
                snprintf(want, sizeof(want), "\"hooks\":%s,\"linux\":", cases[i].want);
                out = apply_with(text, strlen(text), plan, &runc_v2, false);
                assert_has(out, want);
                free(out);
        }

        /* No hook to name: refused, saying why a hook is needed. */
        opts = runc_v2;
        opts.hook_path = NULL;
        apply_refused_with(plan, &opts, in, EINVAL,
                           "config.json: the request needs crdma-hook as a createRuntime hook "
                           "(exclusive mode moves the devices into the container's network "
                           "namespace, which needs its pid), and no hook path was given");
        struct {
                const char *json, *message;
        } wrong[] = {
                { "{\"process\":{},\"hooks\":[]}", "config.json: \"hooks\" is not a JSON object" },
                { "{\"process\":{},\"hooks\":{\"createRuntime\":{}}}",
                  "config.json: \"hooks.createRuntime\" is not a JSON array" },
                { "{\"process\":{},\"hooks\":{\"prestart\":[\"/usr/bin/crdma-hook\"]}}",
                  "config.json: \"hooks.prestart[0]\" is not a JSON object" },
                { "{\"process\":{},\"hooks\":{\"poststop\":[{\"path\":1}]}}",
                  "config.json: \"hooks.poststop[0].path\" is not a string" },
                { "{\"process\":{},\"hooks\":{\"createRuntime\":[{\"path\":\"/x\",\"args\":[1]}]}}",
                  "config.json: \"hooks.createRuntime[0].args[0]\" is not a string" },
        };
        for (size_t i = 0; i < ELEMENTSOF(wrong); i++)
                apply_refused_with(plan, &runc_v2, wrong[i].json, EINVAL, wrong[i].message);
        crdma_plan_free(plan);

        /* crun on v1 needs the hook for its limits: the same refusal, its reason. */
        const char *ann_lim[] = { "io.crdma.devices=rxe0", NULL };
        plan = make_plan(f, "{\"version\":1}", ann_lim);
        opts = crun_v1;
        opts.hook_path = NULL;
        apply_refused_with(plan, &opts, in, EINVAL,
                           "config.json: the request needs crdma-hook as a createRuntime hook (crun "
                           "applies no rdma limit on cgroup v1), and no hook path was given");
        /* A shared-mode plan with runc's limits needs no hook, named or not. */
        opts = runc_v2;
        opts.hook_path = NULL;
        out = apply_with(in, strlen(in), plan, &opts, false);
        assert_lacks(out, "hooks");
        free(out);
        crdma_plan_free(plan);
}

/* A key given twice, anywhere: the faithful document keeps it, and writes
 * it back, for a config that asks nothing; applying a plan or setting an
 * annotation refuses it, naming the key, and changes nothing. */
static void test_duplicate_keys(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=rxe0", NULL };
        struct crdma_plan *plan = make_plan(f, NO_LIMITS, ann);
        const char *twice = "{\"root\":{\"path\":\"rootfs\"},\"process\":{},"
                            "\"root\":{\"path\":\"/elsewhere\"}}";
        char *out = roundtrip(twice, strlen(twice), false);
        assert_string_equal(out, twice);
        free(out);

#define WHY "JSON readers differ on which one counts (runc takes the last, yajl the first); keep one"
        struct {
                const char *json, *message;
        } wrong[] = {
                { twice, "config.json: key \"root\" appears twice; " WHY },
                /* Where the editor never reads, deep down. */
                { "{\"process\":{},\"mounts\":[{},{\"options\":[\"ro\"],\"type\":\"bind\","
                  "\"type\":\"tmpfs\",\"type\":\"proc\"}]}",
                  "config.json: key \"mounts[1].type\" appears 3 times; " WHY },
                /* The outermost first. */
                { "{\"process\":{\"env\":[],\"env\":[]},\"process\":{}}",
                  "config.json: key \"process\" appears twice; " WHY },
                { "{\"process\":{},\"linux\":{\"devices\":[{\"path\":\"/dev/infiniband/uverbs0\","
                  "\"type\":\"c\",\"major\":231,\"minor\":192,\"minor\":193}]}}",
                  "config.json: key \"linux.devices[0].minor\" appears twice; " WHY },
        };
        for (size_t i = 0; i < ELEMENTSOF(wrong); i++)
                apply_refused(plan, wrong[i].json, EINVAL, wrong[i].message);
        crdma_plan_free(plan);

        /* Setting an annotation in it: refused, the config as it was. */
        struct oci_config *c = parse_ok(twice, strlen(twice));
        struct crdma_error *err = NULL;
        const struct crdma_kv kv = { "io.crdma.devices", "rxe0" };
        assert_int_equal(oci_config_set_annotations(c, &kv, 1, &err), -EINVAL);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_string_equal(crdma_error_message(err), "config.json: key \"root\" appears twice; " WHY);
        crdma_error_free(err);
        out = write_ok(c, false);
        assert_string_equal(out, twice);
        free(out);
        oci_config_free(c);
#undef WHY
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_compact_identical),
                cmocka_unit_test(test_runtime_specs),
                cmocka_unit_test(test_numbers_and_strings),
                cmocka_unit_test(test_parse_refusals),
                cmocka_unit_test(test_apply_golden),
                cmocka_unit_test(test_apply_minimal),
                cmocka_unit_test(test_apply_memlock),
                cmocka_unit_test(test_apply_refusals),
                cmocka_unit_test(test_rdma_runc),
                cmocka_unit_test(test_rdma_crun),
                cmocka_unit_test(test_rdma_no_controller),
                cmocka_unit_test(test_capabilities),
                cmocka_unit_test(test_seccomp),
                cmocka_unit_test(test_hooks),
                cmocka_unit_test(test_duplicate_keys),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
