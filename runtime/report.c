/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Errors where the engine looks: runc's --log file in its --log-format.
 * containerd's runc shim reads the last "error" entry of that file into
 * "OCI runtime create failed: ...", which docker run and ctr run print. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cleanup.h"
#include "json.h"
#include "shim.h"

static void now_rfc3339(char *buf, size_t len)
{
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        char base[32];
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, len, "%s.%09ldZ", base, ts.tv_nsec);
}

static void log_line(const struct shim_args *a, const char *level, const char *msg)
{
        if (!a->log)
                return;
        _cleanup_close_ int fd = open(a->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return; /* stderr has it */
        char when[64];
        now_rfc3339(when, sizeof(when));
        _cleanup_free_ char *line = NULL;
        if (a->log_format && strcmp(a->log_format, "json") == 0) {
                _cleanup_json_ yajl_gen g = crdma_json_new(false);
                if (!g)
                        return;
                yajl_gen_map_open(g);
                crdma_json_kv_str(g, "level", level);
                crdma_json_kv_str(g, "msg", msg);
                crdma_json_kv_str(g, "time", when);
                yajl_gen_map_close(g);
                if (crdma_json_finish(g, &line, NULL) < 0)
                        return;
        } else {
                /* logrus's text format quotes with Go's %q: escape " and \. */
                char quoted[2048];
                size_t o = 0;
                for (const char *p = msg; *p && o + 3 < sizeof(quoted); p++) {
                        if (*p == '"' || *p == '\\')
                                quoted[o++] = '\\';
                        quoted[o++] = *p == '\n' ? ' ' : *p;
                }
                quoted[o] = '\0';
                if (asprintf(&line, "time=\"%s\" level=%s msg=\"%s\"", when, level, quoted) < 0)
                        line = NULL;
        }
        if (line && dprintf(fd, "%s\n", line) < 0)
                return;
}

int shim_report(const struct shim_args *a, int code, const char *msg)
{
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "crdma-runtime: error: %s", msg) < 0)
                line = NULL;
        fprintf(stderr, "%s\n", line ? line : msg);
        log_line(a, "error", line ? line : msg);
        return code;
}

void shim_warn(const struct shim_args *a, const char *msg)
{
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "crdma-runtime: warning: %s", msg) < 0)
                return;
        if (a->log)
                log_line(a, "warning", line);
        else
                fprintf(stderr, "%s\n", line);
}
