/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "crdma.h"
#include "util.h"

int crdma_read_fd(int fd, size_t max, char **out, size_t *len)
{
        size_t cap = 256, n = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (n == cap) {
                        if (cap > max)
                                return -EFBIG;
                        cap *= 2;
                        char *grown = realloc(buf, cap + 1);
                        if (!grown)
                                return -ENOMEM;
                        buf = grown;
                }
                ssize_t r = read(fd, buf + n, cap - n);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        break;
                n += (size_t) r;
                if (n > max)
                        return -EFBIG;
        }
        buf[n] = '\0';
        *out = TAKE_PTR(buf);
        if (len)
                *len = n;
        return 0;
}

int crdma_read_text_at(int dirfd, const char *path, size_t max, char **out)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* sysfs hands out a whole attribute in one read, so a read that does
         * not fill the buffer is the end: no second read() per attribute. */
        char text[CRDMA_TEXT_MAX + 1];
        if (max > CRDMA_TEXT_MAX)
                max = CRDMA_TEXT_MAX;
        size_t len = 0;
        for (;;) {
                ssize_t r = read(fd, text + len, max + 1 - len);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                len += (size_t) r;
                if (len > max)
                        return -EFBIG;
                if (r == 0 || len < max)
                        break;
        }
        text[len] = '\0';
        if (memchr(text, '\0', len))
                return -EINVAL;
        while (len > 0 && text[len - 1] == '\n')
                text[--len] = '\0';
        char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        *out = copy;
        return 0;
}

int crdma_read_file(const char *path, size_t max, char **out, size_t *len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        return crdma_read_fd(fd, max, out, len);
}

int crdma_parse_decimal(const char *s, uint64_t limit, uint64_t *out)
{
        if (!s || s[0] == '\0')
                return -EINVAL;
        if (s[0] == '0' && s[1] != '\0')
                return -EINVAL;
        uint64_t v = 0;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                unsigned d = (unsigned) (*p - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        if (v > limit)
                return -ERANGE;
        *out = v;
        return 0;
}

int crdma_parse_bytes(const char *s, uint64_t *out)
{
        if (s && strcmp(s, "unlimited") == 0) {
                *out = CRDMA_UNLIMITED;
                return 0;
        }
        if (!s || s[0] == '\0')
                return -EINVAL;
        size_t len = strlen(s);
        unsigned shift = 0;
        switch (s[len - 1]) {
        case 'K': shift = 10; break;
        case 'M': shift = 20; break;
        case 'G': shift = 30; break;
        case 'T': shift = 40; break;
        default: break;
        }
        char digits[32];
        size_t dlen = shift ? len - 1 : len;
        if (dlen == 0 || dlen >= sizeof(digits))
                return dlen == 0 ? -EINVAL : -ERANGE;
        memcpy(digits, s, dlen);
        digits[dlen] = '\0';
        uint64_t v;
        /* UINT64_MAX itself means "unlimited": keep real sizes below it. */
        int r = crdma_parse_decimal(digits, (UINT64_MAX - 1) >> shift, &v);
        if (r < 0)
                return r;
        *out = v << shift;
        return 0;
}

int crdma_parse_devnum(const char *s, unsigned *major, unsigned *minor)
{
        const char *colon = strchr(s, ':');
        if (!colon || colon == s)
                return -EINVAL;
        char maj[16];
        size_t mlen = (size_t) (colon - s);
        if (mlen >= sizeof(maj))
                return -EINVAL;
        memcpy(maj, s, mlen);
        maj[mlen] = '\0';
        uint64_t a, b;
        /* Linux majors are 12 bits, minors 20 bits. */
        if (crdma_parse_decimal(maj, 0xfff, &a) < 0 ||
            crdma_parse_decimal(colon + 1, 0xfffff, &b) < 0)
                return -EINVAL;
        *major = (unsigned) a;
        *minor = (unsigned) b;
        return 0;
}

bool crdma_device_name_valid(const char *s)
{
        size_t len = 0;
        for (const char *p = s; *p; p++, len++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
                        return false;
        }
        if (len == 0 || len > 63)
                return false;
        return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

int crdma_strv_push(struct crdma_strv *sv, const char *s)
{
        char *copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        char **grown = realloc(sv->v, (sv->n + 2) * sizeof(char *));
        if (!grown) {
                free(copy);
                return -ENOMEM;
        }
        sv->v = grown;
        sv->v[sv->n++] = copy;
        sv->v[sv->n] = NULL;
        return 0;
}

bool crdma_strv_contains(const struct crdma_strv *sv, const char *s)
{
        for (size_t i = 0; i < sv->n; i++)
                if (strcmp(sv->v[i], s) == 0)
                        return true;
        return false;
}

void crdma_strv_clear(struct crdma_strv *sv)
{
        for (size_t i = 0; i < sv->n; i++)
                free(sv->v[i]);
        free(sv->v);
        sv->v = NULL;
        sv->n = 0;
}

void crdma_format_limit(uint64_t v, const char *unlimited, char *buf, size_t len)
{
        if (v == CRDMA_UNLIMITED)
                snprintf(buf, len, "%s", unlimited);
        else
                snprintf(buf, len, "%" PRIu64, v);
}

/* getdents64 straight into a buffer: readdir() would add an fcntl and an
 * allocation per directory, which shows at hundreds of devices. */
static int for_each_entry(int dirfd, const char *path, struct crdma_strv *names, unsigned *count)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        char buf[16384] __attribute__((aligned(8)));
        for (;;) {
                long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 0;
                for (long off = 0; off < n;) {
                        /* struct linux_dirent64: ino, off, reclen, type, name */
                        unsigned short reclen;
                        memcpy(&reclen, buf + off + 16, sizeof(reclen));
                        const char *name = buf + off + 19;
                        off += reclen;
                        if (name[0] == '.')
                                continue; /* ".", "..", and hidden placeholders */
                        if (count)
                                (*count)++;
                        if (names && crdma_strv_push(names, name) < 0)
                                return -ENOMEM;
                }
        }
}

int crdma_dir_list(int dirfd, const char *path, struct crdma_strv *names)
{
        struct crdma_strv sv = { 0 };
        int r = for_each_entry(dirfd, path, &sv, NULL);
        if (r < 0) {
                crdma_strv_clear(&sv);
                return r;
        }
        *names = sv;
        return 0;
}

int crdma_dir_count(int dirfd, const char *path, unsigned *count)
{
        unsigned n = 0;
        int r = for_each_entry(dirfd, path, NULL, &n);
        if (r < 0)
                return r;
        *count = n;
        return 0;
}

static int write_all(int fd, const char *text, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, text, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                text += n;
                len -= (size_t) n;
        }
        return 0;
}

/* Temp file in the target's directory, fsync, rename over the target, fsync
 * the directory so the rename survives a crash. */
int crdma_write_file_atomic(const char *path, const char *text, mode_t mode, uid_t uid,
                            gid_t gid, const char **step)
{
        _cleanup_free_ char *dcopy = strdup(path), *bcopy = strdup(path), *tmp = NULL;
        if (!dcopy || !bcopy)
                return -ENOMEM;
        const char *dir = dirname(dcopy), *base = basename(bcopy);
        *step = "cannot open its directory";
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        *step = "cannot create a temporary file next to it";
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        const char *tmp_base = strrchr(tmp, '/') + 1;
        int r = 0;
        *step = "cannot give the new file the mode and owner of the old one";
        if (fchmod(fd, mode) < 0 || (uid != (uid_t) -1 && fchown(fd, uid, gid) < 0))
                r = -errno;
        if (r == 0)
                *step = "cannot write it";
        if (r == 0)
                r = write_all(fd, text, strlen(text));
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r == 0) {
                *step = "cannot rename the temporary file over it";
                if (renameat(dfd, tmp_base, dfd, base) < 0)
                        r = -errno;
        }
        if (r < 0) {
                unlinkat(dfd, tmp_base, 0);
                return r;
        }
        *step = "written, but its directory cannot be synced";
        return fsync(dfd) < 0 ? -errno : 0;
}
