/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* A message is one line of text: names in it come from annotations, policy
 * files, OCI state and sysfs, and a newline or escape sequence there must not
 * forge or garble a runtime's log.  Control characters become "\xNN".
 * Takes `msg`; returns it or its escaped copy (NULL only if `msg` is). */
static char *one_line(char *msg)
{
        if (!msg)
                return NULL;
        size_t n = 0, len = 0;
        for (const unsigned char *p = (const unsigned char *) msg; *p; p++, len++)
                n += *p < 0x20 || *p == 0x7f;
        if (n == 0)
                return msg;
        char *out = malloc(len + 3 * n + 1), *o = out;
        if (!out) {
                /* No memory for the copy: blank them out in place. */
                for (char *p = msg; *p; p++)
                        if ((unsigned char) *p < 0x20 || *p == 0x7f)
                                *p = '?';
                return msg;
        }
        for (const unsigned char *p = (const unsigned char *) msg; *p; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        o += sprintf(o, "\\x%02x", *p);
                else
                        *o++ = (char) *p;
        }
        *o = '\0';
        free(msg);
        return out;
}

/* The format attribute lets clang check the callers' formats, and keeps
 * -Werror=format-nonliteral quiet about the vasprintf below. */
__attribute__((format(printf, 6, 0)))
static int error_set(struct crdma_error **err, enum crdma_error_kind kind, int errnum,
                     bool with_strerror, const char *hint, const char *fmt, va_list ap)
{
        if (errnum < 0)
                errnum = -errnum;
        if (errnum == 0)
                errnum = EIO;
        if (!err || *err)
                return -errnum;

        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        if (msg && with_strerror) {
                char buf[128];
                char *full = NULL;
                /* GNU strerror_r returns the message, maybe not in buf. */
                const char *s = strerror_r(errnum, buf, sizeof(buf));
                if (asprintf(&full, "%s: %s%s%s", msg, s, hint ? "; " : "", hint ? hint : "") >= 0) {
                        free(msg);
                        msg = full;
                }
        }

        msg = one_line(msg);
        struct crdma_error *e = calloc(1, sizeof(*e));
        if (!e) {
                free(msg);
                return -errnum;
        }
        e->errnum = errnum;
        e->kind = kind;
        e->message = msg;
        *err = e;
        return -errnum;
}

int crdma_fail(struct crdma_error **err, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_set(err, CRDMA_ERROR_SYSTEM, errnum, false, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int crdma_fail_errno(struct crdma_error **err, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_set(err, CRDMA_ERROR_SYSTEM, errnum, true, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int crdma_fail_errno_hint(struct crdma_error **err, int errnum, const char *hint,
                          const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_set(err, CRDMA_ERROR_SYSTEM, errnum, true, hint, fmt, ap);
        va_end(ap);
        return r;
}

int crdma_refuse(struct crdma_error **err, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_set(err, CRDMA_ERROR_REFUSED, errnum, false, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int crdma_fail_oom(struct crdma_error **err)
{
        return crdma_fail(err, ENOMEM, "out of memory");
}

void crdma_error_prefix(struct crdma_error **err, const char *fmt, ...)
{
        if (!err || !*err)
                return;
        char *prefix = NULL, *full = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&prefix, fmt, ap);
        va_end(ap);
        if (r < 0)
                return;
        if (asprintf(&full, "%s: %s", prefix,
                     (*err)->message ? (*err)->message : "unknown error") >= 0) {
                free((*err)->message);
                (*err)->message = one_line(full);
        }
        free(prefix);
}

const char *crdma_error_message(const struct crdma_error *err)
{
        if (!err)
                return NULL;
        /* A message allocation can fail; never hand out NULL for a real error. */
        return err->message ? err->message : strerror(err->errnum);
}

int crdma_error_errno(const struct crdma_error *err)
{
        return err ? err->errnum : 0;
}

enum crdma_error_kind crdma_error_kind(const struct crdma_error *err)
{
        return err ? err->kind : CRDMA_ERROR_SYSTEM;
}

void crdma_error_free(struct crdma_error *err)
{
        if (!err)
                return;
        free(err->message);
        free(err);
}
