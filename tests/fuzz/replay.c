/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A fuzz target without libFuzzer: runs it once on each file named (or in
 * each directory named), so every build, gcc's sanitizer build included,
 * replays the corpus and the inputs that once broke something. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz-common.h"
#include "util.h"

#pragma weak LLVMFuzzerInitialize

static int run_file(const char *path)
{
        char *data = NULL;
        size_t len = 0;
        /* 16 MiB: more than any corpus file, less than a runaway one. */
        int r = crdma_read_file(path, 16 << 20, &data, &len);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
                return 1;
        }
        LLVMFuzzerTestOneInput((const uint8_t *) data, len);
        free(data);
        return 0;
}

static int cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int run_dir(const char *path, unsigned *count)
{
        DIR *d = opendir(path);
        if (!d) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return 1;
        }
        char **names = NULL;
        size_t n = 0;
        for (struct dirent *e; (e = readdir(d));) {
                if (e->d_name[0] == '.')
                        continue;
                names = realloc(names, (n + 1) * sizeof(*names));
                if (!names || asprintf(&names[n++], "%s/%s", path, e->d_name) < 0)
                        abort();
        }
        closedir(d);
        qsort(names, n, sizeof(*names), cmp);
        int bad = 0;
        for (size_t i = 0; i < n; i++) {
                bad |= run_file(names[i]);
                free(names[i]);
        }
        free(names);
        *count += (unsigned) n;
        return bad;
}

int main(int argc, char **argv)
{
        if (LLVMFuzzerInitialize)
                LLVMFuzzerInitialize(&argc, &argv);
        int bad = 0;
        unsigned count = 0;
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
                        bad |= run_dir(argv[i], &count);
                } else {
                        bad |= run_file(argv[i]);
                        count++;
                }
        }
        printf("%u inputs replayed\n", count);
        return bad;
}
