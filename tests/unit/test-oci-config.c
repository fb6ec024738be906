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
#include <cmocka.h>

#include "cleanup.h"
#include "config.h"
#include "error.h"
#include "plan.h"
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
        char *deep = nested(OCI_CONFIG_MAX_DEPTH);
        out = roundtrip(deep, strlen(deep), false);
        assert_string_equal(out, deep);
        free(out);
        out = roundtrip(deep, strlen(deep), true);
        free(out);
        free(deep);
        deep = nested(OCI_CONFIG_MAX_DEPTH + 1);
        struct oci_config *c = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(oci_config_parse(deep, strlen(deep), "config.json", &c, &err), -EINVAL);
        assert_string_equal(crdma_error_message(err), "config.json: nested deeper than 127 levels");
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
        struct crdma_error *err = NULL;
        if (crdma_context_new(&f->ctx, &err) < 0 ||
            crdma_context_set_root(f->ctx, CRDMA_ROOT_SYSFS, CRDMA_TEST_DATA "/sysfs/rxe", &err) < 0 ||
            crdma_devices_scan(f->ctx, &f->devices, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
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
        struct crdma_kv kv[8];
        char buf[8][128];
        size_t n = 0;
        for (; ann[n]; n++) {
                snprintf(buf[n], sizeof(buf[n]), "%s", ann[n]);
                char *eq = strchr(buf[n], '=');
                *eq = '\0';
                kv[n] = (struct crdma_kv){ buf[n], eq + 1 };
        }
        struct crdma_request *req = NULL;
        struct crdma_policy *p = NULL;
        struct crdma_plan *plan = NULL;
        struct crdma_error *err = NULL;
        if (crdma_request_from_annotations(kv, n, &req, &err) < 0 ||
            crdma_policy_parse(policy_json, strlen(policy_json), "policy.json", &p, &err) < 0 ||
            crdma_plan_new(f->ctx, req, f->devices, p, &plan, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        crdma_policy_free(p);
        crdma_request_free(req);
        return plan;
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
                  "config.json: \"linux\" is given 2 times; which one counts depends on the runtime" },
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
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
