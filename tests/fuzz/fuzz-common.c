/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-common.h"

size_t fuzz_split(const uint8_t *data, size_t size, struct fuzz_part *parts, size_t max)
{
        const char *p = (const char *) data, *end = p + size;
        size_t seplen = strlen(FUZZ_SEPARATOR), n = 0;
        while (n < max) {
                const char *sep = n + 1 < max ? memmem(p, (size_t) (end - p), FUZZ_SEPARATOR, seplen)
                                              : NULL;
                parts[n++] = (struct fuzz_part){ p, (size_t) ((sep ? sep : end) - p) };
                p = sep ? sep + seplen : end;
        }
        return n;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void) st, (void) flag, (void) ftw;
        if (remove(path) < 0 && errno != ENOENT)
                fprintf(stderr, "fuzz: cannot remove %s: %m\n", path);
        return 0;
}

void fuzz_remove_tree(const char *path)
{
        /* FTW_PHYS: never follow the symlinks the input made. */
        (void) nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static char scratch[4096];

static void remove_scratch(void)
{
        /* Only the process that made it (libFuzzer's -fork children share it). */
        if (scratch[0])
                fuzz_remove_tree(scratch);
}

const char *fuzz_scratch_dir(void)
{
        if (scratch[0])
                return scratch;
        /* $TMPDIR first: the runner points it at a directory it removes
         * even after a crash; else tmpfs, which keeps the sysfs target fast. */
        const char *base = getenv("TMPDIR");
        if (!base || !base[0])
                base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(scratch, sizeof(scratch), "%s/crdma-fuzz-XXXXXX", base);
        if (!mkdtemp(scratch)) {
                fprintf(stderr, "fuzz: cannot make a scratch directory %s: %m\n", scratch);
                abort();
        }
        atexit(remove_scratch);
        return scratch;
}

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
        va_list ap;
        fprintf(stderr, "%s:%d: invariant broken: %s: ", file, line, cond);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        abort();
}

void fuzz_check_error(int r, struct crdma_error **errp)
{
        struct crdma_error *err = *errp;
        FUZZ_ASSERT(r < 0, "r = %d", r);
        FUZZ_ASSERT(err, "failure %d without an error object", r);
        FUZZ_ASSERT(crdma_error_errno(err) == -r, "errno %d, returned %d", crdma_error_errno(err), r);
        const char *msg = crdma_error_message(err);
        FUZZ_ASSERT(msg && msg[0], "empty message");
        for (const unsigned char *p = (const unsigned char *) msg; *p; p++)
                FUZZ_ASSERT(*p >= 0x20 && *p != 0x7f, "control character 0x%02x in \"%s\"", *p, msg);
        crdma_error_free(err);
        *errp = NULL;
}
