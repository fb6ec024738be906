/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OCI state a hook reads on stdin, and the config.json of its bundle.
 * Input: STATE %% CONFIG.  "@BUNDLE@" in the state stands for a scratch
 * bundle whose config.json is CONFIG (no second part: no config.json). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fuzz-common.h"
#include "request.h"
#include "state.h"

#define PLACEHOLDER "@BUNDLE@"

static char bundle[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void) argc, (void) argv;
        snprintf(bundle, sizeof(bundle), "%s/bundle", fuzz_scratch_dir());
        if (mkdir(bundle, 0700) < 0 && errno != EEXIST)
                abort();
        return 0;
}

/* The state with every placeholder replaced by the bundle's path. */
static char *expand(const char *s, size_t len, size_t *out_len)
{
        size_t plen = strlen(PLACEHOLDER), blen = strlen(bundle), n = 0;
        for (const char *p = s; (p = memmem(p, len - (size_t) (p - s), PLACEHOLDER, plen)); p += plen)
                n++;
        char *out = malloc(len + n * blen + 1), *o = out;
        if (!out)
                abort();
        for (const char *p = s, *end = s + len; p < end;) {
                const char *hit = memmem(p, (size_t) (end - p), PLACEHOLDER, plen);
                size_t chunk = (size_t) ((hit ? hit : end) - p);
                memcpy(o, p, chunk), o += chunk, p += chunk;
                if (hit)
                        memcpy(o, bundle, blen), o += blen, p += plen;
        }
        *o = '\0';
        *out_len = (size_t) (o - out);
        return out;
}

static void write_config(const struct fuzz_part *config, bool present)
{
        char path[4300];
        snprintf(path, sizeof(path), "%s/config.json", bundle);
        if (!present) {
                unlink(path);
                return;
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, config->data, config->len) != (ssize_t) config->len)
                abort();
        close(fd);
}

static void load(const char *state, size_t len, bool need_pid)
{
        struct oci_container c = { 0 };
        struct crdma_error *err = NULL;
        int r = oci_container_load(state, len, need_pid, &c, &err);
        if (r < 0) {
                fuzz_check_error(r, &err);
                return;
        }
        FUZZ_ASSERT(c.id && c.bundle && c.bundle[0] == '/', "id or bundle missing");
        FUZZ_ASSERT(!need_pid || c.pid > 0, "pid %d", (int) c.pid);
        r = oci_container_details(&c, &err);
        if (r < 0) {
                fuzz_check_error(r, &err);
        } else {
                FUZZ_ASSERT(c.rootfs && c.rootfs[0] == '/', "rootfs %s", c.rootfs);
        }
        /* What the hook does next with the merged annotations. */
        struct crdma_request *req = NULL;
        r = crdma_request_from_annotations(c.annotations.kv, c.annotations.n, &req, &err);
        if (r < 0)
                fuzz_check_error(r, &err);
        crdma_request_free(req);
        oci_container_clear(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_part parts[2];
        fuzz_split(data, size, parts, 2);
        bool has_config = parts[0].len < size;
        write_config(&parts[1], has_config);
        size_t len;
        char *state = expand(parts[0].data, parts[0].len, &len);
        load(state, len, true);  /* prestart, createRuntime */
        load(state, len, false); /* poststop */
        free(state);
        return 0;
}
