/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Least privilege for crdma-hook, which runs as root next to a root
 * filesystem and annotations a container's user controls: keep only the
 * capabilities the command needs (in every set and the bounding set), set
 * no_new_privs, and refuse an LD_PRELOAD the runtime passed on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "cli.h"

/* What the inject path does, and the capability each step needs. */
static const cap_value_t inject_caps[] = {
        CAP_SYS_ADMIN,      /* setns into the container's namespaces; BPF device programs */
        CAP_SYS_CHROOT,     /* setns(CLONE_NEWNS) also wants it */
        CAP_SYS_PTRACE,     /* /proc/<pid>/ns of the runtime's non-dumpable init */
        CAP_MKNOD,          /* the /dev/infiniband nodes */
        CAP_CHOWN,          /* nodes owned by the container's root (user namespaces) */
        CAP_DAC_OVERRIDE,   /* its rootfs and cgroup files may belong to other ids */
        CAP_DAC_READ_SEARCH,
        CAP_BPF,            /* load the device program */
        CAP_SYS_RESOURCE,   /* raise RLIMIT_MEMLOCK's hard limit */
        CAP_NET_ADMIN,      /* RDMA netns mode and device moves */
        CAP_KILL,           /* pidfd liveness check of another user's process */
};

static const cap_value_t system_caps[] = {
        CAP_NET_ADMIN, /* RDMA_NLDEV_CMD_SYS_SET */
};

/* status: reading <proc>/PID/ns/net of a container's process is a ptrace
 * access check, which a process with fewer capabilities than its target
 * fails (every root container's process has some). */
static const cap_value_t status_caps[] = {
        CAP_SYS_PTRACE,
};

/* edit: the bundle may belong to another user (a Slurm job's); the new
 * config.json keeps the old one's owner. */
static const cap_value_t edit_caps[] = {
        CAP_DAC_OVERRIDE,
        CAP_DAC_READ_SEARCH,
        CAP_CHOWN,
};

static int drop_to(const cap_value_t *keep, size_t n_keep, bool debug)
{
        cap_t now = cap_get_proc();
        cap_t want = cap_init();
        if (!now || !want) {
                cap_free(now);
                cap_free(want);
                return -errno;
        }
        /* Keep what the command needs and the process has; nothing else. */
        for (size_t i = 0; i < n_keep; i++) {
                cap_flag_value_t has = CAP_CLEAR;
                if (cap_get_flag(now, keep[i], CAP_PERMITTED, &has) == 0 && has == CAP_SET) {
                        cap_set_flag(want, CAP_PERMITTED, 1, &keep[i], CAP_SET);
                        cap_set_flag(want, CAP_EFFECTIVE, 1, &keep[i], CAP_SET);
                }
        }
        /* The bounding set first: dropping from it needs CAP_SETPCAP, which
         * the new sets no longer have. */
        int r = 0;
        for (cap_value_t c = 0; c <= CAP_LAST_CAP && r == 0; c++) {
                bool needed = false;
                for (size_t i = 0; i < n_keep; i++)
                        needed |= keep[i] == c;
                if (!needed && CAP_IS_SUPPORTED(c) && cap_get_bound(c) == 1 && cap_drop_bound(c) < 0 &&
                    errno != EPERM)
                        r = -errno;
        }
        /* One call clears the ambient set (libcap's cap_reset_ambient asks
         * about each capability first). */
        if (r == 0 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                r = -errno;
        if (r == 0 && cap_set_proc(want) < 0)
                r = -errno;
        if (r == 0 && debug) {
                char *text = cap_to_text(want, NULL);
                fprintf(stderr, "crdma-hook: debug: capabilities kept: %s\n",
                        text && strcmp(text, "=") != 0 ? text : "none");
                cap_free(text);
        }
        cap_free(now);
        cap_free(want);
        return r;
}

int cli_drop_privileges(struct cli *cli, int (*run)(struct cli *))
{
        /* A preloaded library in a root hook is the NVIDIAScape lesson
         * (CVE-2025-23266): refuse rather than run with it.  LD_AUDIT makes
         * the loader run a library's code just the same. */
        const char *injector = getenv("LD_PRELOAD") ? "LD_PRELOAD"
                               : getenv("LD_AUDIT") ? "LD_AUDIT"
                                                    : NULL;
        if (injector) {
                fprintf(stderr, "crdma-hook: error: %s is set: crdma-hook refuses to run "
                        "with a preloaded library; give the hook an explicit env (the hooks.d and "
                        "config.json files crdma ships do)\n", injector);
                return CLI_EXIT_REFUSED;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                fprintf(stderr, "crdma-hook: error: prctl(PR_SET_NO_NEW_PRIVS): %s\n", strerror(errno));
                return CLI_EXIT_SYSTEM;
        }
        const cap_value_t *keep = NULL;
        size_t n = 0;
        if (run == cli_inject || run == cli_poststop) {
                keep = inject_caps;
                n = sizeof(inject_caps) / sizeof(inject_caps[0]);
        } else if (run == cli_system) {
                keep = system_caps;
                n = sizeof(system_caps) / sizeof(system_caps[0]);
        } else if (run == cli_status) {
                keep = status_caps;
                n = sizeof(status_caps) / sizeof(status_caps[0]);
        } else if (run == cli_edit) {
                keep = edit_caps;
                n = sizeof(edit_caps) / sizeof(edit_caps[0]);
        }
        /* Without CAP_SETPCAP (an unprivileged user) only the sets shrink. */
        int r = drop_to(keep, n, cli->debug);
        if (r < 0) {
                fprintf(stderr, "crdma-hook: error: dropping capabilities failed: %s\n", strerror(-r));
                return CLI_EXIT_SYSTEM;
        }
        return CLI_EXIT_OK;
}
