/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-vm-devcg: drive libcrdma's device-cgroup code on a real cgroup, for the VM scenarios.
 *
 *   crdma-vm-devcg [-v] [--undo [--between CMD]] CGROUP_DIR TYPE:MAJOR:MINOR...
 *   crdma-vm-devcg [-v] [--undo [--between CMD]] --v1 DEVICES_DIR TYPE:MAJOR:MINOR...
 *   crdma-vm-devcg --query CGROUP_DIR
 *
 * The first form is crdma_devcg_v2_allow, the second crdma_devcg_v1_allow, the third only
 * lists the cgroup's device programs.  --undo applies, then undoes (crdma_devcg_undo);
 * --between runs `sh -c CMD` after the apply and before the undo (its status is ignored).
 * After acting it prints what changed and the cgroup's device programs, one line each:
 *
 *   changed=yes
 *   prog id=42 name=crdma_devcg insns=30 flags=multi crdma=c:231:192
 *   count=1 effective=1
 *
 * (crdma=no: a program without crdma's prefix.)  -v: libcrdma's debug log on stderr.
 * Exit: 0 done, 1 libcrdma failed (its message on stderr), 2 usage, 3 query failed. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "crdma.h"
#include "devcgroup.h"

static void usage(FILE *f)
{
        fputs("usage: crdma-vm-devcg [-v] [--undo [--between CMD]] [--v1] CGROUP_DIR "
              "TYPE:MAJOR:MINOR...\n"
              "       crdma-vm-devcg --query CGROUP_DIR\n",
              f);
}

static void log_stderr(enum crdma_log_level level, const char *message, void *userdata)
{
        (void) userdata;
        fprintf(stderr, "crdma-vm-devcg: log(%d): %s\n", (int) level, message);
}

static int parse_rule(const char *s, struct crdma_devcg_rule *r)
{
        char type, end;
        unsigned maj, min;
        if (sscanf(s, "%c:%u:%u%c", &type, &maj, &min, &end) != 3)
                return -1;
        r->type = type;
        r->major = maj;
        r->minor = min;
        return 0;
}

static int list_programs(int cg_fd)
{
        uint32_t ids[64], n = 64, eff = 0;
        LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids, .prog_cnt = n);
        if (bpf_prog_query_opts(cg_fd, BPF_CGROUP_DEVICE, &q) < 0) {
                fprintf(stderr, "crdma-vm-devcg: BPF_PROG_QUERY: %s\n", strerror(errno));
                return 3;
        }
        const char *flags = q.attach_flags & BPF_F_ALLOW_MULTI      ? "multi"
                            : q.attach_flags & BPF_F_ALLOW_OVERRIDE ? "override"
                                                                    : "none";
        for (uint32_t i = 0; i < q.prog_cnt; i++) {
                int fd = bpf_prog_get_fd_by_id(ids[i]);
                if (fd < 0) {
                        printf("prog id=%" PRIu32 " (cannot open: %s)\n", ids[i], strerror(errno));
                        continue;
                }
                struct bpf_prog_info info = { 0 };
                uint32_t len = sizeof(info);
                struct bpf_insn *insns = NULL;
                size_t ninsns = 0;
                if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.xlated_prog_len) {
                        uint32_t bytes = info.xlated_prog_len;
                        insns = calloc(1, bytes);
                        memset(&info, 0, sizeof(info));
                        info.xlated_prog_len = bytes;
                        info.xlated_prog_insns = (uint64_t) (uintptr_t) insns;
                        len = sizeof(info);
                        if (insns && bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
                                ninsns = bytes / sizeof(*insns);
                }
                printf("prog id=%" PRIu32 " name=%s insns=%zu flags=%s crdma=", ids[i],
                       info.name[0] ? info.name : "-", ninsns, flags);
                struct crdma_devcg_rule *rules = NULL;
                size_t nr = 0;
                int r = insns ? crdma_devcg_v2_parse_prefix(insns, ninsns, &rules, &nr, NULL) : 0;
                if (r == 1) {
                        for (size_t k = 0; k < nr; k++)
                                printf("%s%c:%u:%u", k ? "," : "", rules[k].type, rules[k].major,
                                       rules[k].minor);
                        if (nr == 0)
                                printf("(none)");
                } else {
                        printf(r == 0 ? "no" : "damaged");
                }
                printf("\n");
                free(rules);
                free(insns);
                close(fd);
        }
        LIBBPF_OPTS(bpf_prog_query_opts, qe, .query_flags = BPF_F_QUERY_EFFECTIVE);
        if (bpf_prog_query_opts(cg_fd, BPF_CGROUP_DEVICE, &qe) == 0)
                eff = qe.prog_cnt;
        printf("count=%" PRIu32 " effective=%" PRIu32 "\n", q.prog_cnt, eff);
        return 0;
}

int main(int argc, char **argv)
{
        bool undo_too = false, v1 = false, query = false, verbose = false;
        const char *between = NULL;
        int i = 1;
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (!strcmp(argv[i], "--undo"))
                        undo_too = true;
                else if (!strcmp(argv[i], "--between") && i + 1 < argc)
                        between = argv[++i];
                else if (!strcmp(argv[i], "--v1"))
                        v1 = true;
                else if (!strcmp(argv[i], "--query"))
                        query = true;
                else if (!strcmp(argv[i], "-v"))
                        verbose = true;
                else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
                        usage(stdout);
                        return 0;
                } else {
                        usage(stderr);
                        return 2;
                }
        }
        bool bad = query ? (v1 || undo_too || i + 1 != argc)
                         : (i + 1 >= argc || (between && !undo_too));
        if (i >= argc || bad) {
                usage(stderr);
                return 2;
        }
        const char *dir = argv[i++];
        size_t n = (size_t) (argc - i);
        struct crdma_devcg_rule *rules = calloc(n ? n : 1, sizeof(*rules));
        if (!rules)
                return 1;
        for (size_t k = 0; k < n; k++)
                if (parse_rule(argv[i + (int) k], &rules[k]) < 0) {
                        fprintf(stderr, "crdma-vm-devcg: bad rule '%s' (want c:MAJOR:MINOR)\n",
                                argv[i + (int) k]);
                        return 2;
                }

        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "crdma-vm-devcg: %s: %s\n", dir, strerror(errno));
                return 1;
        }
        if (query)
                return list_programs(fd);

        struct crdma_context *ctx = NULL;
        struct crdma_error *err = NULL;
        if (crdma_context_new(&ctx, &err) < 0) {
                fprintf(stderr, "crdma-vm-devcg: error: %s\n", crdma_error_message(err));
                return 1;
        }
        if (verbose)
                crdma_context_set_log(ctx, log_stderr, NULL, CRDMA_LOG_DEBUG);
        struct crdma_devcg_undo *undo = NULL;
        int r = v1 ? crdma_devcg_v1_allow(ctx, fd, dir, rules, n, &undo, &err)
                   : crdma_devcg_v2_allow(ctx, fd, dir, rules, n, &undo, &err);
        if (r < 0) {
                fprintf(stderr, "crdma-vm-devcg: error: %s\n", crdma_error_message(err));
                return 1;
        }
        printf("changed=%s\n", crdma_devcg_undo_changed(undo) ? "yes" : "no");
        if (undo_too) {
                if (between) {
                        fflush(stdout);
                        pid_t pid = fork();
                        if (pid == 0) {
                                execl("/bin/sh", "sh", "-c", between, (char *) NULL);
                                _exit(127);
                        }
                        if (pid > 0)
                                waitpid(pid, NULL, 0);
                }
                r = crdma_devcg_undo(undo, &err);
                if (r < 0) {
                        fprintf(stderr, "crdma-vm-devcg: error: %s\n", crdma_error_message(err));
                        return 1;
                }
                printf("undone\n");
        }
        crdma_devcg_undo_free(undo);
        crdma_context_free(ctx);
        free(rules);
        int ret = v1 ? 0 : list_programs(fd);
        close(fd);
        return ret;
}
