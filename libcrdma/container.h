/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_CONTAINER_H
#define CRDMA_CONTAINER_H

#include "crdma.h"
#include "util.h"

struct crdma_container {
        pid_t pid;
        char *rootfs;
        bool caps_known;
        struct crdma_strv caps;
        bool seccomp_filtered;
        struct crdma_strv seccomp_allowed;
        bool memlock_set;
        uint64_t memlock_soft, memlock_hard;
        /* What the config says of the process, to check the pid is its. */
        struct crdma_container_ns {
                int type;   /* enum crdma_ns_type */
                char *path; /* joined namespace; NULL: a new one */
        } *ns;
        size_t n_ns;
        char *cgroups_path; /* OCI linux.cgroupsPath; NULL: unknown */
};

/* The namespace types whose membership is checked: those every runtime has
 * entered by the time the createRuntime/prestart hooks run. */
enum crdma_ns_type {
        CRDMA_NS_MOUNT,
        CRDMA_NS_PID,
        CRDMA_NS_NET,
        CRDMA_NS_IPC,
        CRDMA_NS_UTS,
        CRDMA_NS_USER,
        CRDMA_NS_UNCHECKED, /* cgroup, time: entered later by some runtimes */
};

/* The cgroup paths of a process, from <proc>/<pid>/cgroup. */
struct crdma_proc_cgroups {
        char *unified;  /* "0::<path>" */
        char *devices;  /* v1 "devices" hierarchy */
        char *rdma;     /* v1 "rdma" hierarchy */
};

void crdma_proc_cgroups_clear(struct crdma_proc_cgroups *cg);

/* The container's process, pinned: made once by crdma_container_pin(), then
 * every later /proc read (piddir), setns (its ns files) and prlimit (pid,
 * valid while crdma_pinned_alive()) goes through it, never through the pid
 * number again. */
struct crdma_pinned {
        pid_t pid;
        int pidfd;  /* while it is live, pid names this process and no other */
        int piddir; /* <proc>/<pid>, opened after the pidfd */
        char *proc; /* <proc>/<pid>, for messages */
        struct crdma_proc_cgroups cgroups; /* <proc>/<pid>/cgroup, read once */
};
void crdma_pinned_clear(struct crdma_pinned *p);
/* The one liveness rule: the pidfd's process has not exited (signal 0 is
 * delivered, or refused with EPERM, which also means it exists). */
bool crdma_pinned_alive(const struct crdma_pinned *p);

/* The host uid/gid of the root of the process's user namespace. */
int crdma_proc_root_ids(const struct crdma_pinned *p, uid_t *uid, gid_t *gid,
                        struct crdma_error **err);

/* A cgroup path as the kernel writes one: absolute, no "." or ".." part. */
bool crdma_cgroup_path_ok(const char *p);

/* Parse the text of a /proc/<pid>/cgroup file. */
int crdma_proc_cgroups_parse(const char *text, struct crdma_proc_cgroups *out);

/* Pin the container's process: pidfd_open its pid, then check from
 * <proc>/<pid> that it is the created container's init and not some other
 * process (the host's pid 1, a zombie, a process of the host's namespaces or
 * of another cgroup, a pid reused after the container exited), and that the
 * pidfd still refers to a live process after those reads.  On success *out
 * holds the pin (crdma_pinned_clear() frees it). */
int crdma_container_pin(struct crdma_context *ctx, const struct crdma_container *c,
                        struct crdma_pinned *out, struct crdma_error **err);

/* Is a process in cgroup `proc_path` (as /proc/<pid>/cgroup shows it) in the
 * cgroup OCI linux.cgroupsPath `cgroups_path` names, or below it?  Both the
 * cgroupfs form ("/a/b", "a/b" relative to the runtime's) and the systemd
 * form ("slice:prefix:name") are understood. */
bool crdma_cgroups_path_matches(const char *cgroups_path, const char *proc_path);

/* Parse the text of <proc>/<pid>/stat: the state letter and the start time. */
int crdma_proc_stat_parse(const char *text, char *state, unsigned long long *start);

#endif
