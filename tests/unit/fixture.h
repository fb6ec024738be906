/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Scaffolding the unit tests share (fixture.c, compiled into each program):
 * temporary trees made and removed without a shell, a context on one of
 * the tests/data sysfs trees, a plan from policy JSON and "key=value"
 * strings, and the exit status of a program that cannot run at all.  Every
 * helper that returns a value fails the running cmocka test rather than
 * hand back something half made. */
#ifndef CRDMA_TEST_FIXTURE_H
#define CRDMA_TEST_FIXTURE_H

#include <stddef.h>

#include "crdma.h"

/* What meson counts as SKIP. */
#define FIXTURE_EXIT_SKIP 77

/* For a program every case of which needs root (mknod, mount, setns): exit
 * 77 before cmocka runs, so meson shows SKIP rather than a PASS of nothing.
 * A program with cases that run without root skips per case instead. */
void fixture_require_root(const char *why);

/* mkdtemp of "/tmp/crdma-test-NAME-XXXXXX" into buf; returns buf. */
char *fixture_tmpdir(char *buf, size_t size, const char *name);
/* Remove the tree at `path` depth first, never following a symlink nor
 * leaving its file system; a missing path is fine.  0 or -errno. */
int fixture_rm_tree(const char *path);
/* Copy the tree `from` into the existing directory `to`: directories, files
 * with their modes, symlinks as symlinks (a sysfs tree is mostly links).
 * 0 or -errno. */
int fixture_copy_tree(const char *from, const char *to);
/* Write `text` to `path`, making the directories up to it. */
void fixture_write_file(const char *path, const char *text);

/* tests/data/sysfs/NAME, or NAME itself when it is an absolute path. */
const char *fixture_sysfs(const char *tree);
/* A context reading the sysfs tree `tree` (as fixture_sysfs), with RDMA
 * netlink off (it answers for the running kernel, not for that tree) and no
 * policy file (the built-in policy, whatever /etc holds). */
struct crdma_context *fixture_context(const char *tree);
/* The full scan of ctx's sysfs root. */
struct crdma_device_list *fixture_scan(struct crdma_context *ctx);
struct crdma_policy *fixture_policy(const char *json);

/* A request from "key=value" strings, NULL-terminated; *out is NULL when
 * none is an io.crdma.* key.  The request's refusal is returned. */
int fixture_request(const char *const *kv, struct crdma_request **out, struct crdma_error **err);
/* request (kv) + devices + policy (JSON text, which must parse) -> plan; the
 * request's or the plan's refusal is returned, with *out untouched. */
int fixture_plan(struct crdma_context *ctx, const struct crdma_device_list *devices,
                 const char *policy_json, const char *const *kv, struct crdma_plan **out,
                 struct crdma_error **err);
/* The same, where a refusal fails the test. */
struct crdma_plan *fixture_plan_ok(struct crdma_context *ctx,
                                   const struct crdma_device_list *devices,
                                   const char *policy_json, const char *const *kv);

#endif
