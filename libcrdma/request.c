/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's request, from its io.crdma.* annotations (crdma-annotations(7)).
 * Parsed strictly: a typo must never silently give a container no RDMA or no
 * limit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "error.h"
#include "policy.h"
#include "request.h"

enum key {
        KEY_DEVICES,
        KEY_NETNS,
        KEY_HCA_HANDLES,
        KEY_HCA_OBJECTS,
        KEY_MEMLOCK,
        KEY_RDMA_CM,
        KEY_UMAD,
        KEY_RAW,
        KEY_COUNT,
};

static const char *const key_names[KEY_COUNT] = {
        [KEY_DEVICES] = "io.crdma.devices",
        [KEY_NETNS] = "io.crdma.netns",
        [KEY_HCA_HANDLES] = "io.crdma.hca-handles",
        [KEY_HCA_OBJECTS] = "io.crdma.hca-objects",
        [KEY_MEMLOCK] = "io.crdma.memlock",
        [KEY_RDMA_CM] = "io.crdma.rdma-cm",
        [KEY_UMAD] = "io.crdma.umad",
        [KEY_RAW] = "io.crdma.raw",
};

void crdma_request_free(struct crdma_request *req)
{
        if (!req)
                return;
        crdma_strv_clear(&req->devices);
        free(req->option);
        free(req);
}

/* The value as it may be quoted in a message: short and printable, so a
 * hostile annotation cannot flood or forge the runtime's log line. */
static void quote(const char *v, char *buf, size_t len)
{
        size_t o = 0;
        const unsigned char *p = (const unsigned char *) v;
        for (; *p && o + 8 < len; p++) {
                if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
                        buf[o++] = (char) *p;
                else
                        o += (size_t) snprintf(buf + o, len - o, "\\x%02x", *p);
        }
        if (*p)
                memcpy(buf + o, "...", 3), o += 3;
        buf[o] = '\0';
}

/* How messages name a key: after `prefix` (below), the key's name, from
 * io.crdma.* annotations or from a command-line option such as Slurm's --rdma. */
struct source {
        const char *prefix; /* "annotation " or "--rdma " */
        bool short_names;   /* "hca-handles", not "io.crdma.hca-handles" */
};

static const struct source annotations_source = { "annotation ", false };

static const char *key_name(const struct source *src, enum key k)
{
        return src->short_names ? key_names[k] + strlen(CRDMA_ANNOTATION_PREFIX) : key_names[k];
}

static int refuse_value(struct crdma_error **err, const struct source *src, enum key k,
                        const char *value, const char *why)
{
        char q[80];
        quote(value, q, sizeof(q));
        return crdma_refuse(err, EINVAL, "%s%s=\"%s\": %s", src->prefix, key_name(src, k), q, why);
}

static int parse_bool(struct crdma_error **err, const struct source *src, enum key k, const char *v, bool *out)
{
        if (strcmp(v, "true") == 0)
                *out = true;
        else if (strcmp(v, "false") == 0)
                *out = false;
        else
                return refuse_value(err, src, k, v, "must be \"true\" or \"false\"");
        return 0;
}

static int parse_rdma_limit(struct crdma_error **err, const struct source *src, enum key k, const char *v, uint64_t *out)
{
        if (strcmp(v, "max") == 0) {
                *out = CRDMA_UNLIMITED;
                return 0;
        }
        uint64_t n;
        int r = crdma_parse_decimal(v, CRDMA_RDMA_MAX_LIMIT, &n);
        if (r == -ERANGE)
                return refuse_value(err, src, k, v, "too large; the kernel's limit is 2147483647, "
                                    "or use \"max\"");
        if (r < 0 || n == 0)
                return refuse_value(err, src, k, v, "must be an integer from 1 to 2147483647 "
                                    "(no sign, no leading zero) or \"max\"");
        *out = n;
        return 0;
}

static int parse_memlock(struct crdma_error **err, const struct source *src, const char *v, uint64_t *out)
{
        int r = crdma_parse_bytes(v, out);
        if (r == -ERANGE)
                return refuse_value(err, src, KEY_MEMLOCK, v, "too large; use \"unlimited\"");
        if (r < 0 || *out == 0)
                return refuse_value(err, src, KEY_MEMLOCK, v,
                                    "must be bytes (at least 1) with an optional K, M, G or T "
                                    "suffix, e.g. \"64G\", or \"unlimited\"");
        return 0;
}

static int parse_devices(struct crdma_error **err, const struct source *src, const char *v, struct crdma_request *req)
{
        if (strcmp(v, "all") == 0) {
                req->all_devices = true;
                return 0;
        }
        if (v[0] == '\0')
                return refuse_value(err, src, KEY_DEVICES, v,
                                    "empty; name devices (\"mlx5_0,mlx5_1\") or \"all\"");
        const char *p = v;
        for (;;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t) (comma - p) : strlen(p);
                char name[64];
                if (len == 0)
                        return refuse_value(err, src, KEY_DEVICES, v, "has an empty item in the list");
                if (len >= sizeof(name))
                        return refuse_value(err, src, KEY_DEVICES, v,
                                            "has a device name longer than 63 characters");
                memcpy(name, p, len);
                name[len] = '\0';
                if (strcmp(name, "all") == 0)
                        return refuse_value(err, src, KEY_DEVICES, v,
                                            "\"all\" cannot be combined with device names");
                if (!crdma_device_name_valid(name)) {
                        char why[160], q[80];
                        quote(name, q, sizeof(q));
                        snprintf(why, sizeof(why), "\"%s\" is not a device name "
                                 "([A-Za-z0-9_.-], not \".\" or \"..\")", q);
                        return refuse_value(err, src, KEY_DEVICES, v, why);
                }
                if (crdma_strv_contains(&req->devices, name)) {
                        char why[96];
                        snprintf(why, sizeof(why), "names %s twice", name);
                        return refuse_value(err, src, KEY_DEVICES, v, why);
                }
                if (req->devices.n >= CRDMA_REQUEST_MAX_DEVICES)
                        return refuse_value(err, src, KEY_DEVICES, v, "names more than 1024 devices");
                if (crdma_strv_push(&req->devices, name) < 0)
                        return crdma_fail_oom(err);
                if (!comma)
                        return 0;
                p = comma + 1;
        }
}

static int parse_one(struct crdma_error **err, const struct source *src, enum key k, const char *v,
                     struct crdma_request *req)
{
        switch (k) {
        case KEY_DEVICES:
                return parse_devices(err, src, v, req);
        case KEY_NETNS:
                if (strcmp(v, "shared") == 0)
                        req->netns = CRDMA_NETNS_SHARED;
                else if (strcmp(v, "exclusive") == 0)
                        req->netns = CRDMA_NETNS_EXCLUSIVE;
                else
                        return refuse_value(err, src, k, v, "must be \"shared\" or \"exclusive\"");
                return 0;
        case KEY_HCA_HANDLES:
                req->has_hca_handles = true;
                return parse_rdma_limit(err, src, k, v, &req->hca_handles);
        case KEY_HCA_OBJECTS:
                req->has_hca_objects = true;
                return parse_rdma_limit(err, src, k, v, &req->hca_objects);
        case KEY_MEMLOCK:
                req->has_memlock = true;
                return parse_memlock(err, src, v, &req->memlock);
        case KEY_RDMA_CM:
                req->rdma_cm_given = true;
                return parse_bool(err, src, k, v, &req->rdma_cm);
        case KEY_UMAD:
                return parse_bool(err, src, k, v, &req->umad);
        case KEY_RAW:
                return parse_bool(err, src, k, v, &req->raw);
        case KEY_COUNT:
                break;
        }
        return -EINVAL;
}

/* The request from each key's value (NULL: not given), checked as a whole. */
static int request_build(const struct source *src, const char *const *value,
                         struct crdma_request **out, struct crdma_error **err)
{
        if (!value[KEY_DEVICES] && src->short_names)
                return crdma_refuse(err, EINVAL, "%sdevices: missing; a request must name its "
                                    "devices (or \"all\")", src->prefix);
        if (!value[KEY_DEVICES])
                return crdma_refuse(err, EINVAL,
                                    "annotation io.crdma.devices: missing; a container with "
                                    "io.crdma.* annotations must name its devices (or \"all\")");

        _cleanup_(crdma_request_freep) struct crdma_request *req = calloc(1, sizeof(*req));
        if (!req)
                return crdma_fail_oom(err);
        req->rdma_cm = true;
        for (int k = 0; k < KEY_COUNT; k++) {
                if (!value[k])
                        continue;
                int r = parse_one(err, src, (enum key) k, value[k], req);
                if (r < 0)
                        return r;
        }
        *out = TAKE_PTR(req);
        return 0;
}

int crdma_request_from_annotations(const struct crdma_kv *annotations, size_t n,
                                   struct crdma_request **out, struct crdma_error **err)
{
        const char *value[KEY_COUNT] = { 0 };
        bool any = false;
        size_t plen = strlen(CRDMA_ANNOTATION_PREFIX);

        for (size_t i = 0; i < n; i++) {
                const char *key = annotations[i].key, *v = annotations[i].value;
                if (!key || strncmp(key, CRDMA_ANNOTATION_PREFIX, plen) != 0)
                        continue;
                any = true;
                char q[80];
                quote(key, q, sizeof(q));
                int k = 0;
                while (k < KEY_COUNT && strcmp(key, key_names[k]) != 0)
                        k++;
                if (k == KEY_COUNT)
                        return crdma_refuse(err, EINVAL,
                                            "annotation %s: unknown key; crdma knows io.crdma.devices, "
                                            "netns, hca-handles, hca-objects, memlock, rdma-cm, umad "
                                            "and raw (crdma-annotations(7))", q);
                if (value[k])
                        return crdma_refuse(err, EINVAL, "annotation %s: given twice", q);
                if (!v)
                        return crdma_refuse(err, EINVAL, "annotation %s: has no value", q);
                if (strlen(v) > CRDMA_ANNOTATION_MAX_VALUE)
                        return crdma_refuse(err, E2BIG, "annotation %s: value longer than 64 KiB", q);
                value[k] = v;
        }
        if (!any) {
                *out = NULL;
                return 0;
        }
        return request_build(&annotations_source, value, out, err);
}

/* One comma-separated item of an option: "key=value" starts a key; an item
 * without "=" continues the list of the key before it (devices only). */
static int option_item(const struct source *src, const char *option, const char *item,
                       size_t len, int *last, char **value, struct crdma_error **err)
{
        char q[80], name[32];
        const char *eq = memchr(item, '=', len);
        if (!eq) {
                if (*last == KEY_DEVICES) {
                        size_t have = strlen(value[KEY_DEVICES]);
                        char *longer = realloc(value[KEY_DEVICES], have + 1 + len + 1);
                        if (!longer)
                                return crdma_fail_oom(err);
                        longer[have] = ',';
                        memcpy(longer + have + 1, item, len);
                        longer[have + 1 + len] = '\0';
                        value[KEY_DEVICES] = longer;
                        return 0;
                }
                char whole[80];
                snprintf(whole, sizeof(whole), "%.*s", (int) (len < 79 ? len : 79), item);
                quote(whole, q, sizeof(q));
                return crdma_refuse(err, EINVAL, "%s\"%s\": not key=value; a comma separates keys, "
                                    "and only devices takes a list (e.g. "
                                    "%s=devices=mlx5_0,mlx5_1,hca-handles=4)",
                                    src->prefix, q, option);
        }
        size_t klen = (size_t) (eq - item);
        snprintf(name, sizeof(name), "%.*s", (int) (klen < 31 ? klen : 31), item);
        quote(name, q, sizeof(q));
        int k = 0;
        while (k < KEY_COUNT && (strlen(key_name(src, (enum key) k)) != klen ||
                                 strncmp(item, key_name(src, (enum key) k), klen) != 0))
                k++;
        if (k == KEY_COUNT)
                return crdma_refuse(err, EINVAL, "%s%s: unknown key; crdma knows devices, netns, "
                                    "hca-handles, hca-objects, memlock, rdma-cm, umad and raw "
                                    "(crdma-annotations(7))", src->prefix, q);
        if (value[k])
                return crdma_refuse(err, EINVAL, "%s%s: given twice", src->prefix, q);
        value[k] = strndup(eq + 1, len - klen - 1);
        if (!value[k])
                return crdma_fail_oom(err);
        *last = k;
        return 0;
}

static void values_free(char **value)
{
        for (int k = 0; k < KEY_COUNT; k++)
                free(value[k]);
}

int crdma_request_from_option(const char *spec, const char *option, struct crdma_request **out,
                              struct crdma_error **err)
{
        if (!spec || !option || !out)
                return crdma_fail(err, EINVAL, "crdma_request_from_option: NULL argument");
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "%s ", option);
        const struct source src = { prefix, true };
        if (spec[0] == '\0')
                return crdma_refuse(err, EINVAL, "%s: empty; name the devices, e.g. "
                                    "%s=devices=mlx5_0,hca-handles=4", option, option);
        if (strlen(spec) > CRDMA_ANNOTATION_MAX_VALUE)
                return crdma_refuse(err, E2BIG, "%s: longer than 64 KiB", option);

        char *value[KEY_COUNT] = { 0 };
        int last = KEY_COUNT, r = 0;
        for (const char *p = spec; r >= 0;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t) (comma - p) : strlen(p);
                if (len == 0)
                        r = crdma_refuse(err, EINVAL, "%s: has an empty item (two commas, or one "
                                         "at an end)", option);
                else
                        r = option_item(&src, option, p, len, &last, value, err);
                if (!comma)
                        break;
                p = comma + 1;
        }
        if (r >= 0)
                r = request_build(&src, (const char *const *) value, out, err);
        values_free(value);
        if (r >= 0 && !((*out)->option = strdup(option))) {
                crdma_request_free(*out);
                *out = NULL;
                return crdma_fail_oom(err);
        }
        return r;
}

const char *crdma_request_key_label(const struct crdma_request *req, const char *key, char *buf,
                                    size_t len)
{
        if (req && req->option)
                snprintf(buf, len, "%s %s", req->option, key);
        else
                snprintf(buf, len, "annotation " CRDMA_ANNOTATION_PREFIX "%s", key);
        return buf;
}

const char *crdma_request_key_for_env(const char *name, size_t len)
{
        size_t plen = strlen(CRDMA_ENV_PREFIX), alen = strlen(CRDMA_ANNOTATION_PREFIX);
        if (len <= plen || strncmp(name, CRDMA_ENV_PREFIX, plen) != 0)
                return NULL;
        for (int k = 0; k < KEY_COUNT; k++) {
                const char *tail = key_names[k] + alen;
                if (strlen(tail) != len - plen)
                        continue;
                size_t i = 0;
                for (; i < len - plen; i++) {
                        char want = tail[i] == '-' ? '_' : (char) (tail[i] - 'a' + 'A');
                        if (tail[i] >= '0' && tail[i] <= '9')
                                want = tail[i];
                        if (name[plen + i] != want)
                                break;
                }
                if (i == len - plen)
                        return key_names[k];
        }
        return NULL;
}

bool crdma_request_all_devices(const struct crdma_request *req) { return req->all_devices; }
size_t crdma_request_device_count(const struct crdma_request *req) { return req->devices.n; }

const char *crdma_request_device_name(const struct crdma_request *req, size_t i)
{
        return i < req->devices.n ? req->devices.v[i] : NULL;
}

enum crdma_netns crdma_request_netns(const struct crdma_request *req) { return req->netns; }
