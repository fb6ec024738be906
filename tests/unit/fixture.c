/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unit tests' shared scaffolding (fixture.h).  Public API only, so every
 * test program can link it, whichever of the library's builds it uses. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cleanup.h"
#include "fixture.h"

#ifndef CRDMA_TEST_DATA
#error "fixture.c needs CRDMA_TEST_DATA, the tests/data directory"
#endif

void fixture_require_root(const char *why)
{
        if (geteuid() == 0)
                return;
        fprintf(stderr, "SKIP: needs root (%s)\n", why);
        exit(FIXTURE_EXIT_SKIP);
}

char *fixture_tmpdir(char *buf, size_t size, const char *name)
{
        int n = snprintf(buf, size, "/tmp/crdma-test-%s-XXXXXX", name);
        assert_true(n > 0 && (size_t) n < size);
        if (!mkdtemp(buf))
                fail_msg("mkdtemp %s: %s", buf, strerror(errno));
        return buf;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void) st, (void) ftw;
        /* FTW_DP: a directory after its contents; FTW_DNR one that could not be
         * read (its removal then fails and says so). */
        int r = type == FTW_DP || type == FTW_DNR ? rmdir(path) : unlink(path);
        return r < 0 ? -errno : 0;
}

int fixture_rm_tree(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        /* FTW_PHYS: a link is removed, never what it points at; FTW_MOUNT: a
         * mount left inside (a test's rootfs) is not emptied. */
        int r = nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        return r < 0 ? -errno : r;
}

static const char *copy_from, *copy_to;

static int copy_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void) ftw;
        char dest[PATH_MAX];
        const char *rel = path + strlen(copy_from);
        if (snprintf(dest, sizeof(dest), "%s%s", copy_to, rel) >= (int) sizeof(dest))
                return -ENAMETOOLONG;
        if (rel[0] == '\0')
                return 0; /* the top: `to` exists */
        switch (type) {
        case FTW_D:
                return mkdir(dest, st->st_mode & 07777) < 0 ? -errno : 0;
        case FTW_SL: {
                char target[PATH_MAX];
                ssize_t n = readlink(path, target, sizeof(target) - 1);
                if (n < 0)
                        return -errno;
                target[n] = '\0';
                return symlink(target, dest) < 0 ? -errno : 0;
        }
        case FTW_F: {
                if (!S_ISREG(st->st_mode))
                        return -EINVAL; /* no device or fifo in a test tree */
                _cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);
                if (in < 0)
                        return -errno;
                _cleanup_close_ int out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                                               st->st_mode & 07777);
                if (out < 0)
                        return -errno;
                char buf[8192];
                ssize_t n;
                while ((n = read(in, buf, sizeof(buf))) > 0)
                        if (write(out, buf, (size_t) n) != n)
                                return errno ? -errno : -EIO;
                return n < 0 ? -errno : 0;
        }
        default:
                return -EACCES; /* unreadable directory, dangling stat */
        }
}

int fixture_copy_tree(const char *from, const char *to)
{
        copy_from = from;
        copy_to = to;
        int r = nftw(from, copy_one, 16, FTW_PHYS);
        return r < 0 ? -errno : r;
}

void fixture_write_file(const char *path, const char *text)
{
        char dir[PATH_MAX];
        assert_true(strlen(path) < sizeof(dir));
        strcpy(dir, path);
        for (char *p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
                *p = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        fail_msg("mkdir %s: %s", dir, strerror(errno));
                *p = '/';
        }
        FILE *f = fopen(path, "w");
        if (!f)
                fail_msg("%s: %s", path, strerror(errno));
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

const char *fixture_sysfs(const char *tree)
{
        static char path[PATH_MAX];
        if (tree[0] == '/')
                return tree;
        snprintf(path, sizeof(path), "%s/sysfs/%s", CRDMA_TEST_DATA, tree);
        return path;
}

struct crdma_context *fixture_context(const char *tree)
{
        struct crdma_context *ctx = NULL;
        struct crdma_error *err = NULL;
        if (crdma_context_new(&ctx, &err) < 0 ||
            crdma_context_set_root(ctx, CRDMA_ROOT_SYSFS, fixture_sysfs(tree), &err) < 0 ||
            crdma_context_set_netlink(ctx, false, &err) < 0 ||
            crdma_context_set_policy_path(ctx, NULL, &err) < 0)
                fail_msg("context on %s: %s", tree, crdma_error_message(err));
        return ctx;
}

struct crdma_device_list *fixture_scan(struct crdma_context *ctx)
{
        struct crdma_device_list *list = NULL;
        struct crdma_error *err = NULL;
        if (crdma_devices_scan(ctx, &list, &err) < 0)
                fail_msg("scan failed: %s", crdma_error_message(err));
        return list;
}

struct crdma_policy *fixture_policy(const char *json)
{
        struct crdma_policy *p = NULL;
        struct crdma_error *err = NULL;
        if (crdma_policy_parse(json, strlen(json), "policy.json", &p, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        return p;
}

int fixture_request(const char *const *kv, struct crdma_request **out, struct crdma_error **err)
{
        struct crdma_kv pairs[32] = { { 0 } };
        char *keys[32];
        size_t n = 0;
        for (; kv[n]; n++) {
                assert_true(n < ELEMENTSOF(pairs));
                const char *eq = strchr(kv[n], '=');
                if (!eq)
                        fail_msg("\"%s\": not key=value", kv[n]);
                keys[n] = strndup(kv[n], (size_t) (eq - kv[n]));
                assert_non_null(keys[n]);
                pairs[n] = (struct crdma_kv){ keys[n], eq + 1 };
        }
        int r = crdma_request_from_annotations(pairs, n, out, err);
        for (size_t i = 0; i < n; i++)
                free(keys[i]);
        return r;
}

int fixture_plan(struct crdma_context *ctx, const struct crdma_device_list *devices,
                 const char *policy_json, const char *const *kv, struct crdma_plan **out,
                 struct crdma_error **err)
{
        struct crdma_request *req = NULL;
        int r = fixture_request(kv, &req, err);
        if (r < 0)
                return r;
        struct crdma_policy *p = fixture_policy(policy_json);
        r = crdma_plan_new(ctx, req, devices, p, out, err);
        crdma_policy_free(p);
        crdma_request_free(req);
        return r;
}

struct crdma_plan *fixture_plan_ok(struct crdma_context *ctx,
                                   const struct crdma_device_list *devices,
                                   const char *policy_json, const char *const *kv)
{
        struct crdma_plan *plan = NULL;
        struct crdma_error *err = NULL;
        if (fixture_plan(ctx, devices, policy_json, kv, &plan, &err) < 0)
                fail_msg("refused: %s", crdma_error_message(err));
        return plan;
}
