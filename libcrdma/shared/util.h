/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_UTIL_H
#define CRDMA_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CRDMA_TEXT_MAX 4096 /* a sysfs attribute is at most a page */

/* Read a small text file relative to `dirfd` into a NUL-terminated string
 * with the trailing newline removed.  Fails with -EFBIG past `max` bytes
 * (at most CRDMA_TEXT_MAX). */
int crdma_read_text_at(int dirfd, const char *path, size_t max, char **out);

/* Read everything from `fd` (up to `max` bytes; -EFBIG past it). */
int crdma_read_fd(int fd, size_t max, char **out, size_t *len);

/* Read a whole file (up to `max` bytes) by path. */
int crdma_read_file(const char *path, size_t max, char **out, size_t *len);
/* Write `text` to `path` atomically: a temporary file in its directory with
 * `mode` (and owner, unless uid is -1), fsync, rename over it, fsync the
 * directory.  A reader sees the old file or the new one whole.  On failure
 * *step says which step failed. */
int crdma_write_file_atomic(const char *path, const char *text, mode_t mode, uid_t uid,
                            gid_t gid, const char **step);

/* Strict unsigned decimal: digits only, no sign, no spaces, no leading zero
 * (but "0"), no overflow past `limit`.  -EINVAL or -ERANGE. */
int crdma_parse_decimal(const char *s, uint64_t limit, uint64_t *out);

/* Bytes with an optional binary K/M/G/T suffix, or "unlimited"
 * (CRDMA_UNLIMITED). */
int crdma_parse_bytes(const char *s, uint64_t *out);

/* "MAJ:MIN" as sysfs prints it. */
int crdma_parse_devnum(const char *s, unsigned *major, unsigned *minor);

/* A name crdma accepts for an RDMA device: [A-Za-z0-9_.-]{1,63}, not . or .. */
bool crdma_device_name_valid(const char *s);

/* Growable string vector (NULL-terminated). */
struct crdma_strv {
        char **v;
        size_t n;
};
int crdma_strv_push(struct crdma_strv *sv, const char *s);
bool crdma_strv_contains(const struct crdma_strv *sv, const char *s);
void crdma_strv_clear(struct crdma_strv *sv);

/* Names in a directory, skipping those that start with '.': ".", ".." and
 * the ".keep" placeholders of test trees (sysfs has no such names). */
int crdma_dir_list(int dirfd, const char *path, struct crdma_strv *names);
int crdma_dir_count(int dirfd, const char *path, unsigned *count);

/* Format a byte count as crdma prints memlock ("1073741824" or "unlimited"). */
void crdma_format_limit(uint64_t v, const char *unlimited, char *buf, size_t len);

#endif
