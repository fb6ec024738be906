/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "error.h"
#include "json-read.h"

/* ---- the first pass: yajl's event parser, bounded -------------------- */

enum pass_stop { PASS_OK, PASS_TOO_DEEP, PASS_TOO_MANY, PASS_ESCAPED_NUL };

struct pass {
        const struct crdma_json_bounds *b;
        struct crdma_json_facts facts;
        unsigned depth;
        enum pass_stop stop;
};

static int stop_at(struct pass *p, enum pass_stop why)
{
        p->stop = why;
        return 0; /* yajl: cancel */
}

static int count(struct pass *p)
{
        return ++p->facts.values > p->b->max_values ? stop_at(p, PASS_TOO_MANY) : 1;
}

static int on_null(void *ctx)
{
        return count(ctx);
}

static int on_boolean(void *ctx, int value)
{
        (void) value;
        return count(ctx);
}

static int on_number(void *ctx, const char *s, size_t len)
{
        (void) s, (void) len;
        return count(ctx);
}

/* Strings and keys arrive decoded: an escaped NUL is a NUL byte here. */
static int on_string(void *ctx, const unsigned char *s, size_t len)
{
        struct pass *p = ctx;
        if (memchr(s, '\0', len)) {
                p->facts.escaped_nul = true;
                if (!p->b->keep_escaped_nul)
                        return stop_at(p, PASS_ESCAPED_NUL);
        }
        return count(p);
}

static int on_open(void *ctx)
{
        struct pass *p = ctx;
        if (++p->depth > p->facts.depth)
                p->facts.depth = p->depth;
        return p->depth > p->b->max_depth ? stop_at(p, PASS_TOO_DEEP) : count(p);
}

static int on_close(void *ctx)
{
        ((struct pass *) ctx)->depth--;
        return 1;
}

static int pass_failed(struct pass *p, yajl_handle h, yajl_status st, const char *origin,
                       struct crdma_error **err)
{
        const struct crdma_json_bounds *b = p->b;
        if (st == yajl_status_client_canceled && p->stop == PASS_TOO_DEEP)
                return crdma_fail(err, EINVAL, "%s: nested deeper than %u levels; not %s", origin,
                                  b->max_depth, b->what);
        if (st == yajl_status_client_canceled && p->stop == PASS_TOO_MANY)
                return crdma_fail(err, E2BIG, "%s: more than %zu values; not %s", origin,
                                  b->max_values, b->what);
        if (st == yajl_status_client_canceled)
                return crdma_fail(err, EINVAL, "%s: a string or key holds \"\\u0000\", which "
                                  "crdma cannot keep", origin);
        /* yajl's message spans lines; the first one says what is wrong. */
        unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
        char *m = (char *) msg;
        if (m)
                m[strcspn(m, "\n")] = '\0';
        int r = crdma_fail(err, EINVAL, "%s: invalid JSON: %s", origin,
                           m && m[0] ? m : "parse error");
        if (msg)
                yajl_free_error(h, msg);
        return r;
}

static void handle_freep(yajl_handle *h)
{
        if (*h)
                yajl_free(*h);
}

static int first_pass(const char *text, size_t len, struct pass *p, const char *origin,
                      struct crdma_error **err)
{
        static const yajl_callbacks callbacks = {
                .yajl_null = on_null,
                .yajl_boolean = on_boolean,
                .yajl_number = on_number,
                .yajl_string = on_string,
                .yajl_start_map = on_open,
                .yajl_map_key = on_string,
                .yajl_end_map = on_close,
                .yajl_start_array = on_open,
                .yajl_end_array = on_close,
        };
        /* Otherwise yajl's defaults, those of yajl_tree_parse: UTF-8
         * validated, one value, no trailing garbage. */
        _cleanup_(handle_freep) yajl_handle h = yajl_alloc(&callbacks, NULL, p);
        if (!h)
                return crdma_fail_oom(err);
        yajl_config(h, yajl_allow_comments, p->b->comments ? 1 : 0);
        yajl_status st = yajl_parse(h, (const unsigned char *) text, len);
        if (st == yajl_status_ok)
                st = yajl_complete_parse(h);
        return st == yajl_status_ok ? 0 : pass_failed(p, h, st, origin, err);
}

/* ---- keys given twice, over the tree -------------------------------- */

/* Where a value is, from the document down: each step a key or an index. */
struct crumb {
        const struct crumb *up;
        const char *key; /* NULL: an array element */
        size_t index;
};

static void crumb_path(const struct crumb *c, char *buf, size_t size)
{
        if (!c) {
                buf[0] = '\0';
                return;
        }
        crumb_path(c->up, buf, size);
        size_t n = strlen(buf);
        if (c->key)
                snprintf(buf + n, size - n, "%s%.64s", n ? "." : "", c->key);
        else
                snprintf(buf + n, size - n, "[%zu]", c->index);
}

struct key_at {
        const char *key;
        size_t index;
};

static int key_at_compare(const void *a, const void *b)
{
        const struct key_at *x = a, *y = b;
        int r = strcmp(x->key, y->key);
        return r ? r : (x->index > y->index) - (x->index < y->index);
}

/* The key of `obj` whose second occurrence comes first, and how often it is
 * there (*times 0: every key once).  Sorted, not compared pairwise: an
 * object may have a quarter of a million keys. */
static int object_duplicate(yajl_val obj, const char **key, size_t *times)
{
        size_t n = obj->u.object.len, second = SIZE_MAX;
        *times = 0;
        if (n < 2)
                return 0;
        _cleanup_free_ struct key_at *k = calloc(n, sizeof(*k));
        if (!k)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                k[i] = (struct key_at){ obj->u.object.keys[i], i };
        qsort(k, n, sizeof(*k), key_at_compare);
        for (size_t i = 0, j; i < n; i = j) {
                for (j = i + 1; j < n && strcmp(k[j].key, k[i].key) == 0; j++)
                        ;
                if (j - i > 1 && k[i + 1].index < second) {
                        second = k[i + 1].index;
                        *key = obj->u.object.keys[k[i].index];
                        *times = j - i;
                }
        }
        return 0;
}

/* 1 and facts->duplicate set at the first object, outermost first, that
 * has a key twice; 0 when none has.  The first pass bounded the depth. */
static int find_duplicate(yajl_val v, const struct crumb *at, struct crdma_json_facts *facts)
{
        size_t n = YAJL_IS_ARRAY(v) ? v->u.array.len : YAJL_IS_OBJECT(v) ? v->u.object.len : 0;
        if (YAJL_IS_OBJECT(v)) {
                const char *key = NULL;
                size_t times;
                int r = object_duplicate(v, &key, &times);
                if (r < 0)
                        return r;
                if (times > 0) {
                        struct crumb c = { at, key, 0 };
                        crumb_path(&c, facts->duplicate, sizeof(facts->duplicate));
                        facts->duplicates = times;
                        return 1;
                }
        }
        for (size_t i = 0; i < n; i++) {
                struct crumb c = { at, YAJL_IS_OBJECT(v) ? v->u.object.keys[i] : NULL, i };
                int r = find_duplicate(YAJL_IS_OBJECT(v) ? v->u.object.values[i]
                                                         : v->u.array.values[i], &c, facts);
                if (r != 0)
                        return r;
        }
        return 0;
}

#define DUPLICATE_FORMAT "%s: key \"%s\" appears %s; JSON readers differ on which one counts " \
                         "(runc takes the last, yajl the first); keep one"

static const char *times_text(size_t times, char *buf, size_t size)
{
        if (times == 2)
                return "twice";
        snprintf(buf, size, "%zu times", times);
        return buf;
}

int crdma_json_refuse_duplicate(const char *origin, const struct crdma_json_facts *facts,
                                struct crdma_error **err)
{
        char times[32];
        if (facts->duplicates == 0)
                return 0;
        return crdma_refuse(err, EINVAL, DUPLICATE_FORMAT, origin, facts->duplicate,
                            times_text(facts->duplicates, times, sizeof(times)));
}

/* ---- the reader -------------------------------------------------------- */

static int build_tree(const char *text, size_t len, const struct crdma_json_bounds *b,
                      const char *origin, yajl_val *out, struct crdma_error **err)
{
        /* yajl_tree_parse wants a C string. */
        _cleanup_free_ char *copy = strndup(text, len);
        if (!copy)
                return crdma_fail_oom(err);
        char errbuf[256] = "";
        yajl_val root = yajl_tree_parse(copy, errbuf, sizeof(errbuf));
        if (!root) {
                /* The first pass took the text: only memory is left to fail. */
                errbuf[strcspn(errbuf, "\n")] = '\0';
                return crdma_fail(err, ENOMEM, "%s: cannot read it: %s", origin,
                                  errbuf[0] ? errbuf : "out of memory");
        }
        if (b->object && !YAJL_IS_OBJECT(root)) {
                yajl_tree_free(root);
                return crdma_fail(err, EINVAL, "%s: not a JSON object", origin);
        }
        *out = root;
        return 0;
}

int crdma_json_read(const char *text, size_t len, const struct crdma_json_bounds *b,
                    const char *origin, yajl_val *out, struct crdma_json_facts *facts,
                    struct crdma_error **err)
{
        if (len > b->max_bytes)
                return crdma_fail(err, EFBIG, "%s: larger than %zu MiB; not %s", origin,
                                  b->max_bytes >> 20, b->what);
        if (memchr(text, '\0', len))
                return crdma_fail(err, EINVAL, "%s: contains a NUL byte; not JSON", origin);
        struct pass p = { .b = b };
        int r = first_pass(text, len, &p, origin, err);
        _cleanup_json_tree_ yajl_val root = NULL;
        if (r >= 0)
                r = build_tree(text, len, b, origin, &root, err);
        if (r < 0)
                return r;
        r = find_duplicate(root, NULL, &p.facts);
        if (r < 0)
                return crdma_fail_oom(err);
        if (r > 0 && !b->keep_duplicates) {
                /* Refused like every other fault found here: the document
                 * is not one crdma reads. */
                char times[32];
                return crdma_fail(err, EINVAL, DUPLICATE_FORMAT, origin, p.facts.duplicate,
                                  times_text(p.facts.duplicates, times, sizeof(times)));
        }
        if (facts)
                *facts = p.facts;
        *out = TAKE_PTR(root);
        return 0;
}
