/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the fuzz targets share: splitting one input into parts, a scratch
 * directory per process, and a hard stop when an invariant breaks. */
#ifndef CRDMA_FUZZ_COMMON_H
#define CRDMA_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "crdma.h"

/* libFuzzer's entry points (no header ships with clang). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parts of an input are separated by this line; seeds use it too. */
#define FUZZ_SEPARATOR "\n%%\n"

struct fuzz_part {
        const char *data;
        size_t len;
};

/* Up to `max` parts; a missing part is empty (data at the end). */
size_t fuzz_split(const uint8_t *data, size_t size, struct fuzz_part *parts, size_t max);

/* A private directory under $TMPDIR (else /dev/shm, else /tmp), made once per process
 * and removed at exit.  Aborts when it cannot: the target cannot run. */
const char *fuzz_scratch_dir(void);

/* Remove everything below `path` (the directory itself too). */
void fuzz_remove_tree(const char *path);

/* An invariant of the code under test broke: report and abort, which
 * libFuzzer records as a crash with the input. */
#define FUZZ_ASSERT(cond, ...)                                            \
        do {                                                              \
                if (!(cond))                                              \
                        fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
        } while (0)
/* A failure's error as crdma-hook prints it: set, one line ("crdma-hook:
 * error: ..." must stay one line in a runtime's log), free of control
 * characters an input could use to forge log lines.  Frees it, and resets
 * *err for the next call. */
void fuzz_check_error(int r, struct crdma_error **err);

_Noreturn void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

#endif
