/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcrdma: RDMA devices for containers.
 *
 * Discover the host's RDMA devices, read the administrator's policy, turn a
 * container's request (annotations) into a plan, and print or apply it.
 *
 * Conventions, for every function below unless it says otherwise:
 *  - int returns are >= 0 on success, a negative errno on failure;
 *  - outputs are written only on success;
 *  - the last argument, `struct crdma_error **err`, may be NULL; when not NULL
 *    and the call fails, *err receives an error object the caller owns and
 *    frees with crdma_error_free();
 *  - objects are opaque; every _free() accepts NULL;
 *  - objects are not shared between threads without the caller's locking;
 *    distinct contexts are independent, and the library has no global state.
 *
 * See libcrdma(3).
 */
#ifndef CRDMA_H
#define CRDMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CRDMA_API_VERSION 0

/* "max" / "unlimited" for the numeric limits below. */
#define CRDMA_UNLIMITED UINT64_MAX

/* The largest OCI document (config.json, state) the library reads: a
 * caller reading one from a file or a pipe may stop there. */
#define CRDMA_DOCUMENT_MAX (16 * 1024 * 1024)

const char *crdma_version(void);

/* ------------------------------------------------------------------ errors */

struct crdma_error;

enum crdma_error_kind {
        /* The host or the library failed (I/O, memory, a broken sysfs tree).
         * crdma-hook exits 3. */
        CRDMA_ERROR_SYSTEM = 0,
        /* The request is refused: a bad annotation, the policy denies it, or
         * it is impossible on this host.  crdma-hook exits 1. */
        CRDMA_ERROR_REFUSED = 1,
};

/* Human message: "<what is at fault>: <why>[; <how to fix>]". */
const char *crdma_error_message(const struct crdma_error *err);
/* Positive errno value describing the failure. */
int crdma_error_errno(const struct crdma_error *err);
enum crdma_error_kind crdma_error_kind(const struct crdma_error *err);
void crdma_error_free(struct crdma_error *err);

/* ----------------------------------------------------------------- context */

struct crdma_context;

enum crdma_root {
        CRDMA_ROOT_SYSFS = 0,   /* default "/sys" */
        CRDMA_ROOT_DEV = 1,     /* default "/dev": the host's nodes, checked against sysfs */
        CRDMA_ROOT_CGROUP = 2,  /* default "/sys/fs/cgroup" */
        CRDMA_ROOT_PROC = 3,    /* default "/proc" */
};

enum crdma_log_level {
        CRDMA_LOG_ERROR = 3,
        CRDMA_LOG_WARNING = 4,
        CRDMA_LOG_INFO = 6,
        CRDMA_LOG_DEBUG = 7,
};

typedef void (*crdma_log_fn)(enum crdma_log_level level, const char *message,
                             void *userdata);

int crdma_context_new(struct crdma_context **out, struct crdma_error **err);
void crdma_context_free(struct crdma_context *ctx);

/* Point a root at another directory (tests, chroots).  The directory is
 * opened at once and kept as a file descriptor.  RDMA netlink stays as it
 * is: see crdma_context_set_netlink. */
int crdma_context_set_root(struct crdma_context *ctx, enum crdma_root root,
                           const char *path, struct crdma_error **err);
/* RDMA netlink answers for the running kernel: device indexes, the netns
 * mode, moving devices between network namespaces.  On by default.  A
 * consumer reading a sysfs tree that is not the running kernel's (a copy, a
 * test tree) turns it off, since the kernel's answers would not match that
 * tree: scans then leave device indexes at -1 and the netns mode unknown,
 * and netns mode changes and moves are refused (EOPNOTSUPP). */
int crdma_context_set_netlink(struct crdma_context *ctx, bool enabled,
                              struct crdma_error **err);
/* Policy file; NULL means "no file: built-in defaults".  The default is
 * "/etc/crdma/policy.json", where a missing file means the defaults too. */
int crdma_context_set_policy_path(struct crdma_context *ctx, const char *path,
                                  struct crdma_error **err);
/* Messages at `max_level` or more severe go to `fn`.  Default: none. */
void crdma_context_set_log(struct crdma_context *ctx, crdma_log_fn fn,
                           void *userdata, enum crdma_log_level max_level);

/* ----------------------------------------------------------------- devices */

enum crdma_netns {
        CRDMA_NETNS_SHARED = 0,
        CRDMA_NETNS_EXCLUSIVE = 1,
};


struct crdma_device_list;
struct crdma_device;

enum crdma_chardev_kind {
        CRDMA_CHARDEV_UVERBS = 0,
        CRDMA_CHARDEV_UMAD = 1,
        CRDMA_CHARDEV_ISSM = 2,
};

/* Scan <sysfs-root>/class/infiniband, infiniband_verbs, infiniband_mad and
 * misc/rdma_cm.  No RDMA on the host is an empty list, not an error. */
int crdma_devices_scan(struct crdma_context *ctx, struct crdma_device_list **out,
                       struct crdma_error **err);
struct crdma_request;
/* Scan only what `req` needs for crdma_plan_new(): the devices it names (all
 * of them for "all", as crdma_devices_scan), their char devices, rdma_cm and
 * the netlink facts.  Each listed device is exactly as a full scan finds it;
 * a named device the host lacks is absent from the list, so crdma_plan_new()
 * refuses it as after a full scan.  The cost grows with the devices named,
 * not with the devices on the host. */
int crdma_devices_scan_for(struct crdma_context *ctx, const struct crdma_request *req,
                           struct crdma_device_list **out, struct crdma_error **err);
void crdma_device_list_free(struct crdma_device_list *list);

size_t crdma_device_list_count(const struct crdma_device_list *list);
const struct crdma_device *crdma_device_list_get(const struct crdma_device_list *list,
                                                 size_t i);
const struct crdma_device *crdma_device_list_find(const struct crdma_device_list *list,
                                                  const char *name);
/* rdma_cm's major:minor; returns -ENOENT when the host has no rdma_cm
 * (rdma_ucm not loaded). */
int crdma_device_list_rdma_cm(const struct crdma_device_list *list, unsigned *major,
                              unsigned *minor);
/* The host's RDMA netns mode as RDMA netlink reported it during the scan;
 * -ENODATA when unknown (RDMA netlink turned off or not answering). */
int crdma_device_list_netns_mode(const struct crdma_device_list *list,
                                 enum crdma_netns *mode);
/* JSON text of the whole list (caller frees). */
int crdma_device_list_to_json(const struct crdma_device_list *list, bool pretty,
                              char **json, struct crdma_error **err);

const char *crdma_device_name(const struct crdma_device *dev);
/* Kernel device index (from RDMA netlink), or -1 when unknown. */
int crdma_device_index(const struct crdma_device *dev);
/* Node type: 1 CA, 2 switch, 3 router, 4 RNIC, ...; text from sysfs. */
int crdma_device_node_type(const struct crdma_device *dev);
const char *crdma_device_node_type_name(const struct crdma_device *dev);
const char *crdma_device_node_guid(const struct crdma_device *dev);
/* Kernel driver of the parent bus device (e.g. "mlx5_core"); NULL if none. */
const char *crdma_device_driver(const struct crdma_device *dev);
/* PCI address ("0000:03:00.0") or NULL for a device with no PCI parent. */
const char *crdma_device_pci_address(const struct crdma_device *dev);
bool crdma_device_is_vf(const struct crdma_device *dev);
/* The PF's PCI address of a VF, else NULL. */
const char *crdma_device_pf_pci_address(const struct crdma_device *dev);
/* Netdev a software device (rxe, siw) runs over, else NULL. */
const char *crdma_device_parent_netdev(const struct crdma_device *dev);

unsigned crdma_device_port_count(const struct crdma_device *dev);
/* Ports are numbered from 1; `i` is 0-based. */
unsigned crdma_device_port_number(const struct crdma_device *dev, unsigned i);
const char *crdma_device_port_link_layer(const struct crdma_device *dev, unsigned i);
const char *crdma_device_port_state(const struct crdma_device *dev, unsigned i);
const char *crdma_device_port_netdev(const struct crdma_device *dev, unsigned i);
unsigned crdma_device_port_gid_count(const struct crdma_device *dev, unsigned i);

size_t crdma_device_chardev_count(const struct crdma_device *dev);
/* Fills the outputs that are not NULL; port is 0 for uverbs. */
int crdma_device_chardev(const struct crdma_device *dev, size_t i,
                         enum crdma_chardev_kind *kind, const char **name,
                         unsigned *major, unsigned *minor, unsigned *port);

/* ------------------------------------------------------------------ policy */

struct crdma_policy;

/* Read the context's policy file (or the built-in defaults). */
int crdma_policy_load(struct crdma_context *ctx, struct crdma_policy **out,
                      struct crdma_error **err);
/* Parse policy JSON text; `origin` names it in messages. */
int crdma_policy_parse(const char *json, size_t len, const char *origin,
                       struct crdma_policy **out, struct crdma_error **err);
void crdma_policy_free(struct crdma_policy *policy);
int crdma_policy_to_json(const struct crdma_policy *policy, bool pretty, char **json,
                         struct crdma_error **err);

/* ----------------------------------------------------------------- request */

struct crdma_request;

/* One annotation.  Keys outside "io.crdma." are ignored. */
struct crdma_kv {
        const char *key;
        const char *value;
};

/* Parse a container's annotations strictly.  A list with no "io.crdma." key
 * succeeds with *out set to NULL: nothing is asked, nothing is done. */
int crdma_request_from_annotations(const struct crdma_kv *annotations, size_t n,
                                   struct crdma_request **out, struct crdma_error **err);
void crdma_request_free(struct crdma_request *req);
/* What was asked: "all" devices, or the names in the order given. */
bool crdma_request_all_devices(const struct crdma_request *req);
size_t crdma_request_device_count(const struct crdma_request *req);
const char *crdma_request_device_name(const struct crdma_request *req, size_t i);

/* io.crdma.netns: shared (default) or exclusive. */
enum crdma_netns crdma_request_netns(const struct crdma_request *req);

/* -------------------------------------------------------------------- plan */

struct crdma_plan;

/* Check the request against the policy and the host's devices and compute
 * exactly what to do.  A refusal is CRDMA_ERROR_REFUSED. */
int crdma_plan_new(struct crdma_context *ctx, const struct crdma_request *req,
                   const struct crdma_device_list *devices,
                   const struct crdma_policy *policy, struct crdma_plan **out,
                   struct crdma_error **err);
void crdma_plan_free(struct crdma_plan *plan);
int crdma_plan_to_json(const struct crdma_plan *plan, bool pretty, char **json,
                       struct crdma_error **err);

/* What the plan holds, for runtimes that apply it themselves. */
size_t crdma_plan_device_count(const struct crdma_plan *plan);
const char *crdma_plan_device_name(const struct crdma_plan *plan, size_t i);

size_t crdma_plan_node_count(const struct crdma_plan *plan);
/* Node `i`: absolute path inside the container, 'c', major, minor and mode
 * (permission bits). */
int crdma_plan_node(const struct crdma_plan *plan, size_t i, const char **path,
                    char *type, unsigned *major, unsigned *minor, unsigned *mode);

/* Device-cgroup rules: one per node, OCI style ("c", major, minor, "rw"). */
size_t crdma_plan_cgroup_rule_count(const struct crdma_plan *plan);
int crdma_plan_cgroup_rule(const struct crdma_plan *plan, size_t i, char *type,
                           unsigned *major, unsigned *minor, const char **access);

/* rdma.max for device `i` of crdma_plan_device_name(); values may be
 * CRDMA_UNLIMITED ("max"). */
int crdma_plan_rdma_limit(const struct crdma_plan *plan, size_t i, uint64_t *hca_handles,
                          uint64_t *hca_objects);
/* The rdma.max line for device `i` ("rxe0 hca_handle=1 hca_object=10"). */
const char *crdma_plan_rdma_max_line(const struct crdma_plan *plan, size_t i);
/* true: a kernel without the rdma controller only warns ("best-effort"). */
bool crdma_plan_rdma_best_effort(const struct crdma_plan *plan);

/* RLIMIT_MEMLOCK soft = hard, in bytes or CRDMA_UNLIMITED. */
uint64_t crdma_plan_memlock(const struct crdma_plan *plan);

/* Capabilities to grant, by name ("CAP_NET_RAW"). */
size_t crdma_plan_capability_count(const struct crdma_plan *plan);
const char *crdma_plan_capability(const struct crdma_plan *plan, size_t i);

/* Syscalls RDMA stacks need that a restrictive seccomp profile must allow.
 * `arg0` >= 0 restricts the rule to that first argument (socket's family). */
size_t crdma_plan_syscall_count(const struct crdma_plan *plan);
int crdma_plan_syscall(const struct crdma_plan *plan, size_t i, const char **name,
                       long long *arg0);

enum crdma_netns crdma_plan_netns(const struct crdma_plan *plan);
/* Exclusive mode: switch the host to exclusive netns mode if it is shared
 * (policy netnsMode "exclusive"), else only require it. */
bool crdma_plan_netns_switch_system(const struct crdma_plan *plan);

/* --------------------------------------------------------------- container */

struct crdma_container;

/* A created, not yet started container: its init process `pid` (as the
 * caller's pid namespace sees it) and its root filesystem as an absolute path
 * in the container's mount namespace before pivot_root (OCI: root.path
 * resolved against the bundle). */
int crdma_container_new(pid_t pid, const char *rootfs, struct crdma_container **out,
                        struct crdma_error **err);
void crdma_container_free(struct crdma_container *c);
/* The capabilities the container's process will have (OCI
 * process.capabilities.effective).  Unset: not checked. */
int crdma_container_set_capabilities(struct crdma_container *c, const char *const *names,
                                     size_t n, struct crdma_error **err);
/* The container's seccomp profile denies by default and allows these
 * syscalls unconditionally.  Unset: no filter. */
int crdma_container_set_seccomp_allowed(struct crdma_container *c, const char *const *names,
                                        size_t n, struct crdma_error **err);

/* The container's config sets RLIMIT_MEMLOCK (OCI process.rlimits): the
 * runtime applies it after the createRuntime hooks, so a lower one would undo
 * crdma's raise.  CRDMA_UNLIMITED for infinity. */
void crdma_container_set_memlock(struct crdma_container *c, uint64_t soft, uint64_t hard);

/* What the container's config says of its process, so that crdma_plan_apply()
 * can check the pid is the container's before acting on it (OCI state pids
 * are numbers: a reused or wrong one would make crdma act on another process).
 * A namespace of OCI `type` ("mount", "pid", "network", "ipc", "uts", "user";
 * "cgroup" and "time" are accepted and not checked): `path` NULL for a new
 * one, which the process must not share with the caller, else the namespace
 * bound at `path`, which it must be in.  Types never set are not checked. */
int crdma_container_set_namespace(struct crdma_container *c, const char *type, const char *path,
                                  struct crdma_error **err);
/* OCI linux.cgroupsPath (cgroupfs "/a/b" or systemd "slice:prefix:name"): the
 * process must be in that cgroup or below it.  NULL or unset: not checked. */
int crdma_container_set_cgroups_path(struct crdma_container *c, const char *path,
                                     struct crdma_error **err);

/* Apply a plan to a created container (the OCI createRuntime/prestart path):
 * device nodes in its mount namespace, device-cgroup access, rdma.max,
 * RLIMIT_MEMLOCK, and the netns moves of exclusive mode.  All or nothing: on
 * failure, what this call did is undone.  Applying twice is harmless. */
int crdma_plan_apply(struct crdma_context *ctx, const struct crdma_plan *plan,
                     const struct crdma_container *container, struct crdma_error **err);

/* The poststop step, after the container is gone.  For an exclusive-mode
 * request, move its devices ("all": every RDMA device found there) from the
 * network namespace bound at `netns_path` back to the host's, when no process
 * is left in it: a namespace kept alive only by a bind mount (a pod's,
 * /run/netns/...) would otherwise hold them.  A namespace that no longer
 * exists, or still has processes (the pod's other containers), is left to
 * the kernel, which returns the devices when it frees it. */
int crdma_release(struct crdma_context *ctx, const struct crdma_request *req,
                  const char *netns_path, struct crdma_error **err);

/* ------------------------------------------------------------- config edit */

/* The path before the runtime creates the container: the plan written into
 * its OCI config.json, for the runtime to apply itself (podman's precreate
 * hook, `crdma-hook edit`, a runtime holding its own config). */

/* Which runtime will read the config: where the rdma limits go.  runc reads
 * linux.resources.rdma; crun reads only linux.resources.unified["rdma.max"]
 * (cgroup v2, one device, and the container's parent cgroup must already
 * have +rdma); AUTO writes the former and a createRuntime hook entry that
 * writes rdma.max for any runtime. */
enum crdma_runtime {
        CRDMA_RUNTIME_AUTO = 0,
        CRDMA_RUNTIME_RUNC,
        CRDMA_RUNTIME_CRUN,
        /* (CRDMA_0.4) a runtime running as an unprivileged user: rootless
         * runc or crun, Slurm's `srun --container`.  It cannot mknod, write
         * cgroup files or run a hook as root: the nodes become bind mounts of
         * the host's (each must be 0666 there), RLIMIT_MEMLOCK goes to
         * process.rlimits (up to the runtime's own hard limit), and no rdma
         * limit is written, since whoever owns the cgroup enforces it
         * (spank_crdma(8)); netns=exclusive is refused. */
        CRDMA_RUNTIME_ROOTLESS,
};

/* Edit a config (`len` bytes of JSON) to carry `plan`: device nodes,
 * device-cgroup rules, rdma limits, RLIMIT_MEMLOCK, capabilities, seccomp
 * allow rules (when the profile denies by default), and a createRuntime hook
 * entry running `hook_path` for what only the inject path can do (exclusive
 * mode's moves; rdma.max for crun): NULL refuses a plan that needs it.
 * Everything else in the config is kept as it was, key order and number
 * text included.  *out is the edited config, compact when the input is on
 * one line (a final newline kept), else indented with the input's indent
 * unit; the caller frees it.  Idempotent. */
int crdma_plan_edit_config(struct crdma_context *ctx, const struct crdma_plan *plan,
                           const char *config, size_t len, enum crdma_runtime runtime,
                           const char *hook_path, char **out, struct crdma_error **err);

/* The whole config-edit path for one config: the request in its io.crdma.*
 * annotations, checked against the context's policy and the host's devices,
 * planned and applied as crdma_plan_edit_config() does.  A config with no
 * io.crdma.* annotation comes back unchanged, byte for byte. */
int crdma_config_edit(struct crdma_context *ctx, const char *config, size_t len,
                      enum crdma_runtime runtime, const char *hook_path, char **out,
                      struct crdma_error **err);

/* For a runtime that builds its seccomp filter with libseccomp: add the
 * plan's allow rules to `seccomp_filter` (a scmp_filter_ctx).  A filter whose
 * default action allows needs none; a conflicting rule already there is
 * refused (CRDMA_ERROR_REFUSED). */
int crdma_plan_apply_seccomp(const struct crdma_plan *plan, void *seccomp_filter,
                             struct crdma_error **err);

/* ------------------------------------------------- the front door (CRDMA_0.2)
 *
 * One call per path, for a consumer that holds a request and a container or
 * a config: the request is parsed strictly, then checked against the
 * context's policy and the host's devices (those it names) and planned, the
 * same way on every path.  A request with no io.crdma.* key asks nothing:
 * these calls then do nothing and succeed. */

/* The plan for a key/value request (the annotations' grammar: "io.crdma.*"
 * keys; others are ignored).  *out is NULL when nothing is asked. */
int crdma_plan_from_request(struct crdma_context *ctx, const struct crdma_kv *request, size_t n,
                            struct crdma_plan **out, struct crdma_error **err);

/* The inject path for a created container described without OCI JSON
 * (crdma_container_new() and its setters: pid, rootfs, namespaces, cgroup
 * path): crdma_plan_from_request(), then crdma_plan_apply(). */
int crdma_container_inject(struct crdma_context *ctx, const struct crdma_container *container,
                           const struct crdma_kv *request, size_t n, struct crdma_error **err);

/* The same from a runtime's OCI state JSON (`len` bytes; an OCI hook's
 * stdin at createRuntime or prestart): the state's and its bundle's
 * config.json annotations are the request, the config describes the
 * container.  Errors about the container start "container ID: ". */
int crdma_state_inject(struct crdma_context *ctx, const char *state, size_t len,
                       struct crdma_error **err);
/* The poststop step from the OCI state: crdma_release() for the request in
 * its annotations.  A container that is gone is not failed for what cannot
 * be undone: that is logged as a warning; only an invalid state or request
 * is an error. */
int crdma_state_release(struct crdma_context *ctx, const char *state, size_t len,
                        struct crdma_error **err);

/* crdma_plan_edit_config() under the name of its family: crdma_plan_apply*
 * applies a plan the caller holds (to a container, a config, a seccomp
 * filter), crdma_OBJECT_PATH runs a whole path for a config, a state or a
 * container.  The CRDMA_0.1 name stays. */
int crdma_plan_apply_config(struct crdma_context *ctx, const struct crdma_plan *plan,
                            const char *config, size_t len, enum crdma_runtime runtime,
                            const char *hook_path, char **out, struct crdma_error **err);

/* The plan a config's io.crdma.* annotations ask for (what
 * crdma_config_edit() would write); *out NULL when nothing is asked. */
int crdma_config_plan(struct crdma_context *ctx, const char *config, size_t len,
                      struct crdma_plan **out, struct crdma_error **err);
/* Write annotations into a config (a key already there gets the new value in
 * its place, a new one goes at the end), keeping the rest of the text as
 * crdma_plan_edit_config() does.  *out: the caller frees it. */
int crdma_config_set_annotations(const char *config, size_t len, const struct crdma_kv *kv,
                                 size_t n, char **out, struct crdma_error **err);

/* A CDI spec (JSON, kind "crdma.io/hca") with one device per RDMA device the
 * context's policy allows a container to ask for alone, plus "all".  No
 * device allowed: refused (ENODEV). */
int crdma_cdi_spec(struct crdma_context *ctx, char **json, struct crdma_error **err);
/* Apptainer's --apply-cgroups TOML for a request: rdma.max per device.  It
 * cannot carry memlock, umad, raw or exclusive: those are refused.  *toml is
 * NULL when nothing is asked. */
int crdma_apptainer_cgroups(struct crdma_context *ctx, const struct crdma_kv *request, size_t n,
                            char **toml, struct crdma_error **err);

/* The host's RDMA netns mode, read now over RDMA netlink (not a scan's). */
int crdma_system_netns_mode(struct crdma_context *ctx, enum crdma_netns *mode,
                            struct crdma_error **err);
/* Set it.  The kernel answers EBUSY while another network namespace exists
 * (a refusal naming the boot-time setting); CAP_NET_ADMIN is needed. */
int crdma_system_set_netns_mode(struct crdma_context *ctx, enum crdma_netns mode,
                                struct crdma_error **err);

/* ------------------------------------------------- runtime shims (CRDMA_0.3)
 *
 * For an OCI runtime shim (crdma-runtime) that edits a bundle's config at
 * create and then execs the real runtime. */

/* Where a config's request may come from. */
enum crdma_request_source {
        CRDMA_SOURCE_ANNOTATIONS = 1 << 0, /* io.crdma.* annotations (always) */
        /* CRDMA_* variables in process.env (CRDMA_DEVICES=rxe0, ...), the
         * annotations' grammar, for engines that pass no annotations (Docker
         * before 24, plain ctr).  Read only when no io.crdma.* annotation
         * asks, planned only under a policy with "allow": {"environment":
         * true}, and written into the config as the annotations they stand
         * for. */
        CRDMA_SOURCE_ENVIRONMENT = 1 << 1,
};

/* crdma_config_edit() with the request taken from `sources` (a mask of
 * enum crdma_request_source).  A Kubernetes pod's sandbox container
 * (io.kubernetes.cri.container-type or io.kubernetes.cri-o.ContainerType
 * "sandbox") is left unchanged: devices and limits go to the pod's
 * application containers, which share its network namespace. */
int crdma_config_edit_from(struct crdma_context *ctx, const char *config, size_t len,
                           unsigned sources, enum crdma_runtime runtime, const char *hook_path,
                           char **out, struct crdma_error **err);

/* For `RUNTIME exec --process FILE` into a created container (`state`: the
 * runtime's `state` JSON for it): the process JSON (`len` bytes) with the
 * RLIMIT_MEMLOCK its container's config sets, when crdma planned that
 * container (its config asks through io.crdma.*) and the process has less.
 * runc gives an exec'd process the rlimits of its file, or its own, never
 * the container's; engines (Docker) write that file from their own copy of
 * the spec.  *out is the process as it came otherwise. */
int crdma_state_exec_process(struct crdma_context *ctx, const char *state, size_t state_len,
                             const char *process, size_t len, char **out,
                             struct crdma_error **err);

/* The policy's "runtime" section: the OCI runtimes a shim may exec, in the
 * administrator's order (names to look up, or absolute paths; default
 * "runc", "crun"), and the crdma-hook a config's createRuntime entry runs
 * (NULL: the installed one). */
size_t crdma_policy_runtime_count(const struct crdma_policy *policy);
const char *crdma_policy_runtime(const struct crdma_policy *policy, size_t i);
const char *crdma_policy_runtime_hook(const struct crdma_policy *policy);

/* -------------------------------------------- job steps (CRDMA_0.4) */
/* For a consumer with no OCI JSON and no container: a Slurm job step, any
 * process tree in a cgroup (spank_crdma(8)). */

/* A request from one command-line option's value, the annotations' grammar
 * with short key names: "devices=mlx5_0,mlx5_1,hca-handles=4,memlock=64G".
 * A comma separates keys; an item without "=" continues the devices list.
 * `option` ("--rdma") names the option in every message. */
int crdma_request_from_option(const char *spec, const char *option, struct crdma_request **out,
                              struct crdma_error **err);

/* The plan for a parsed request, the front door every path plans through:
 * the context's policy, a scan of the devices asked for, crdma_plan_new().
 * A NULL request (nothing asked) is a NULL plan, with nothing read. */
int crdma_plan_for_request(struct crdma_context *ctx, const struct crdma_request *req,
                           struct crdma_plan **out, struct crdma_error **err);

/* The cgroup v2 path (from the root, "/a/b") of process `pid` (0: the
 * caller), from the context's proc root. */
int crdma_process_cgroup(struct crdma_context *ctx, pid_t pid, char **path,
                         struct crdma_error **err);

/* What crdma_plan_apply_cgroup() does to a cgroup. */
enum crdma_cgroup_apply {
        /* rdma.max of the plan's devices, "+rdma" enabled in every ancestor's
         * cgroup.subtree_control that lacks it */
        CRDMA_CGROUP_APPLY_RDMA_MAX = 1 << 0,
        /* a device program (cgroup v2, BPF_F_ALLOW_MULTI) denying every RDMA
         * char device of the host the plan does not give: the other devices'
         * uverbs, umad and issm nodes, and rdma_cm when the plan has none.
         * The kernel allows an access only when every program in effect
         * does, so this narrows what others allow (Slurm's ConstrainDevices)
         * and never widens it; it applies to every cgroup below too.  A node
         * that appears later (a device plugged in) is not in it. */
        CRDMA_CGROUP_APPLY_DEVICES = 1 << 1,
};
/* Apply part of a plan to the cgroup v2 `cgroup` (from the root), all or
 * nothing.  The rdma controller missing is refused, or a warning where the
 * policy says "best-effort".  What the cgroup's removal does not take back
 * ("+rdma" in ancestors) stays, harmless to other cgroups. */
int crdma_plan_apply_cgroup(struct crdma_context *ctx, const struct crdma_plan *plan,
                            const char *cgroup, unsigned what, struct crdma_error **err);

/* RLIMIT_MEMLOCK of process `pid` (0: the caller), soft and hard, raised to
 * the plan's (never lowered). */
int crdma_plan_apply_memlock(struct crdma_context *ctx, const struct crdma_plan *plan, pid_t pid,
                             struct crdma_error **err);

/* ------------------------------------------------------ status (CRDMA_0.4)
 *
 * Who holds which RDMA device, with what limits, and how much of it is in
 * use: the rdma controller's rdma.max and rdma.current in every cgroup v2
 * directory under the context's cgroup root, and where each device is in
 * exclusive netns mode.  For administrators and monitoring; what
 * `crdma-hook status` prints. */

struct crdma_status;

/* Walk the cgroup v2 tree at the context's cgroup root.  A row is one
 * (cgroup, device) whose rdma.max line has a limit other than "max": a
 * cgroup whose every line is "hca_handle=max hca_object=max" gives none.
 * Rows come in the tree's order (parents first, names sorted), devices in
 * rdma.max's order.  A cgroup removed while the walk reads it is skipped.
 * No cgroup v2 at the root, or no rdma controller in the kernel, is an
 * error (ENOTSUP) naming the file that says so. */
int crdma_status_scan(struct crdma_context *ctx, struct crdma_status **out,
                      struct crdma_error **err);
void crdma_status_free(struct crdma_status *status);

size_t crdma_status_count(const struct crdma_status *status);
/* Row `i`'s cgroup, relative to the cgroup root ("system.slice/docker-ID.scope"). */
const char *crdma_status_row_cgroup(const struct crdma_status *status, size_t i);
const char *crdma_status_row_device(const struct crdma_status *status, size_t i);
/* The container the cgroup's path names (a container id, or "job N step M"
 * for a Slurm step), and the engine whose layout named it: "runc", "crun",
 * "podman", "docker", "containerd", "cri-o" or "slurm".  NULL when no
 * layout of libcrdma(3)'s list matches (the id may be known without the
 * engine). */
const char *crdma_status_row_container(const struct crdma_status *status, size_t i);
const char *crdma_status_row_engine(const struct crdma_status *status, size_t i);
/* Usage (rdma.current; 0 for a device it does not list) and limit
 * (rdma.max; CRDMA_UNLIMITED for "max").  -ERANGE past the last row. */
int crdma_status_row_hca_handles(const struct crdma_status *status, size_t i, uint64_t *used,
                                 uint64_t *limit);
int crdma_status_row_hca_objects(const struct crdma_status *status, size_t i, uint64_t *used,
                                 uint64_t *limit);
/* Whether the device is in the host's network namespace: false when the
 * sysfs root's class/infiniband does not list it (exclusive mode: moved into
 * another namespace; rdma.max lists a device whatever its namespace). */
bool crdma_status_row_device_in_host_netns(const struct crdma_status *status, size_t i);
/* The network namespace of the cgroup's first process ("net:[4026532845]",
 * the link <proc-root>/PID/ns/net), or NULL when the cgroup has no process
 * or the link cannot be read (another user's process, without
 * CAP_SYS_PTRACE). */
const char *crdma_status_row_netns(const struct crdma_status *status, size_t i);
/* The host's network namespace (<proc-root>/1/ns/net), or NULL. */
const char *crdma_status_host_netns(const struct crdma_status *status);
/* The host's RDMA netns mode at the scan; -ENODATA when unknown (RDMA
 * netlink off or not answering). */
int crdma_status_netns_mode(const struct crdma_status *status, enum crdma_netns *mode);
/* JSON text of the whole status (caller frees); schema in libcrdma(3). */
int crdma_status_to_json(const struct crdma_status *status, bool pretty, char **json,
                         struct crdma_error **err);

#ifdef __cplusplus
}
#endif

#endif
