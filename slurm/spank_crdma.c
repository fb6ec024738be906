/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spank_crdma: `--rdma=devices=…,hca-handles=…` for Slurm job steps
 * (spank_crdma(8)).  libcrdma plans the request against the node's policy;
 * this file only maps SPANK's callbacks onto it:
 *
 *   srun/sbatch/salloc   the option's grammar, checked before submission;
 *   init_post_opt        (slurmstepd, root, once a step) the plan, and
 *                        rdma.max on the step's cgroup, which exists by now;
 *                        where Slurm gates devices (ConstrainDevices), a
 *                        device program there denying the RDMA nodes not
 *                        asked for, next to Slurm's own;
 *   task_init_privileged (each task, root, before exec) a refusal raised, so
 *                        it fails the step and reaches srun's stderr, which
 *                        init_post_opt's errors do not (they come before the
 *                        step's I/O and only fail with a generic message);
 *                        RLIMIT_MEMLOCK raised, and SLURM_RLIMIT_MEMLOCK
 *                        dropped so Slurm's limit propagation keeps it;
 *                        for `srun --container`, the config.json slurmstepd
 *                        wrote for the rootless runtime (the task's working
 *                        directory is that bundle) edited to bind the nodes.
 *
 * A step that asks for nothing is not touched.  Slurm removes the step's
 * cgroup, and its rdma.max with it; the rlimit dies with the tasks.
 *
 * The state below is per slurmstepd process (one step), which is what a SPANK
 * plugin has; libcrdma itself keeps none.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <slurm/spank.h>

#include <crdma.h>

SPANK_PLUGIN(crdma, 1);

#define OPTION "--rdma"

static struct {
        char *spec;     /* the --rdma value, NULL: not asked */
        char *policy;   /* plugstack.conf's policy=FILE */
        int constrain;  /* constrain_devices=: 1 yes, 0 no, -1 auto (cgroup.conf) */
        char *cgroup_conf;
        char *refusal;  /* why the step is refused, raised in each task */
        struct crdma_context *ctx;
        struct crdma_plan *plan;
} step;

static void on_log(enum crdma_log_level level, const char *message, void *data)
{
        (void) data;
        if (level == CRDMA_LOG_ERROR)
                slurm_error("crdma: %s", message);
        else if (level == CRDMA_LOG_WARNING)
                slurm_info("crdma: warning: %s", message);
        else
                slurm_debug("crdma: %s", message);
}

/* Keep the first reason the step is refused; the tasks raise it. */
static void refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void refuse(const char *fmt, ...)
{
        if (step.refusal)
                return;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&step.refusal, fmt, ap) < 0)
                step.refusal = NULL;
        va_end(ap);
        if (!step.refusal)
                step.refusal = strdup("out of memory");
        slurm_verbose("crdma: refusing the step: %s", step.refusal ? step.refusal : "");
}

static void refuse_error(struct crdma_error *err)
{
        refuse("%s", err ? crdma_error_message(err) : "failed");
        crdma_error_free(err);
}

static int check_spec(const char *spec)
{
        struct crdma_request *req = NULL;
        struct crdma_error *err = NULL;
        if (crdma_request_from_option(spec, OPTION, &req, &err) < 0) {
                slurm_error("crdma: %s", crdma_error_message(err));
                crdma_error_free(err);
                return -1;
        }
        crdma_request_free(req);
        return 0;
}

static int on_option(int val, const char *optarg, int remote)
{
        (void) val;
        if (!optarg)
                return -1;
        /* Before submission the grammar only: the policy is the node's. */
        if (!remote && check_spec(optarg) < 0)
                return -1;
        free(step.spec);
        step.spec = strdup(optarg);
        return step.spec ? 0 : -1;
}

static struct spank_option rdma_option = {
        .name = "rdma",
        .arginfo = "SPEC",
        .usage = "RDMA devices and limits for the job step: devices=NAME[,NAME...]"
                 "[,hca-handles=N][,hca-objects=N][,memlock=BYTES] (spank_crdma(8))",
        .has_arg = 1,
        .val = 0,
        .cb = on_option,
};

static int set_path(char **to, const char *arg, size_t key_len)
{
        if (arg[key_len] != '/')
                return 1;
        free(*to);
        *to = strdup(arg + key_len);
        return *to ? 0 : -1;
}

/* constrain_devices=VALUE: 0 set, 1 not a value it takes. */
static int set_constrain(const char *value)
{
        if (strcmp(value, "yes") == 0)
                step.constrain = 1;
        else if (strcmp(value, "no") == 0)
                step.constrain = 0;
        else if (strcmp(value, "auto") == 0)
                step.constrain = -1;
        else
                return 1;
        return 0;
}

static int parse_plugstack_args(int ac, char **av)
{
        step.constrain = -1;
        for (int i = 0; i < ac; i++) {
                int r = 1;
                if (strncmp(av[i], "policy=", 7) == 0)
                        r = set_path(&step.policy, av[i], 7);
                else if (strncmp(av[i], "cgroup_conf=", 12) == 0)
                        r = set_path(&step.cgroup_conf, av[i], 12);
                else if (strncmp(av[i], "constrain_devices=", 18) == 0)
                        r = set_constrain(av[i] + 18);
                if (r < 0)
                        return -1;
                if (r == 0)
                        continue;
                slurm_error("crdma: plugstack.conf: unknown argument \"%s\"; spank_crdma takes "
                            "policy=/ABSOLUTE/PATH, constrain_devices=auto|yes|no and "
                            "cgroup_conf=/ABSOLUTE/PATH (spank_crdma(8))", av[i]);
                return -1;
        }
        return 0;
}

/* cgroup.conf: the plugstack's cgroup_conf=, else next to the slurm.conf
 * slurmd was started with (SLURM_CONF, which slurmstepd inherits), else
 * Debian's /etc/slurm. */
static char *cgroup_conf_path(void)
{
        if (step.cgroup_conf)
                return strdup(step.cgroup_conf);
        const char *conf = getenv("SLURM_CONF");
        const char *slash = conf && conf[0] == '/' ? strrchr(conf, '/') : NULL;
        char *path = NULL;
        if (slash && asprintf(&path, "%.*s/cgroup.conf", (int) (slash - conf), conf) >= 0)
                return path;
        return strdup("/etc/slurm/cgroup.conf");
}

/* Does Slurm gate devices on this node?  ConstrainDevices in cgroup.conf
 * (Slurm's syntax: KEY=VALUE words, keys in any case, "#" to the end of a
 * line; the last one wins; no file: Slurm's default, no). */
static bool slurm_constrains_devices(void)
{
        if (step.constrain >= 0)
                return step.constrain;
        char *path = cgroup_conf_path();
        if (!path)
                return false;
        FILE *f = fopen(path, "re");
        if (!f) {
                if (errno != ENOENT)
                        slurm_info("crdma: warning: %s: %s; taking ConstrainDevices=no", path,
                                   strerror(errno));
                else
                        slurm_verbose("crdma: no %s: ConstrainDevices=no", path);
                free(path);
                return false;
        }
        bool on = false;
        char line[4096];
        while (fgets(line, sizeof(line), f)) {
                char *hash = strchr(line, '#');
                if (hash)
                        *hash = '\0';
                for (char *save = NULL, *w = strtok_r(line, " \t\r\n", &save); w;
                     w = strtok_r(NULL, " \t\r\n", &save)) {
                        if (strncasecmp(w, "ConstrainDevices=", 17) != 0)
                                continue;
                        const char *v = w + 17;
                        on = strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
                             strcmp(v, "1") == 0;
                }
        }
        fclose(f);
        slurm_verbose("crdma: %s: ConstrainDevices=%s", path, on ? "yes" : "no");
        free(path);
        return on;
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
        spank_context_t c = spank_context();
        if (c != S_CTX_LOCAL && c != S_CTX_REMOTE && c != S_CTX_ALLOCATOR)
                return 0;
        if (parse_plugstack_args(ac, av) < 0)
                return -1;
        if (spank_option_register(sp, &rdma_option) != ESPANK_SUCCESS) {
                slurm_error("crdma: cannot register the %s option", OPTION);
                return -1;
        }
        return 0;
}

/* The step's cgroup: slurmstepd lives in its "slurm" child (cgroup/v2). */
static char *step_cgroup(struct crdma_context *ctx)
{
        char *own = NULL;
        struct crdma_error *err = NULL;
        if (crdma_process_cgroup(ctx, 0, &own, &err) < 0) {
                refuse_error(err);
                return NULL;
        }
        char *slash = strrchr(own, '/');
        if (!slash || slash == own || strcmp(slash, "/slurm") != 0) {
                refuse("slurmstepd is in cgroup %s, not in a job step's (.../step_N/slurm): "
                       "%s limits need CgroupPlugin=cgroup/v2 in cgroup.conf and "
                       "ProctrackType=proctrack/cgroup in slurm.conf", own, OPTION);
                free(own);
                return NULL;
        }
        *slash = '\0';
        return own;
}

static int plan_step(void)
{
        struct crdma_error *err = NULL;
        struct crdma_request *req = NULL;
        if (crdma_context_new(&step.ctx, &err) < 0) {
                refuse_error(err);
                return -1;
        }
        crdma_context_set_log(step.ctx, on_log, NULL, CRDMA_LOG_DEBUG);
        if (step.policy && crdma_context_set_policy_path(step.ctx, step.policy, &err) < 0) {
                refuse_error(err);
                return -1;
        }
        if (crdma_request_from_option(step.spec, OPTION, &req, &err) < 0) {
                refuse_error(err);
                return -1;
        }
        if (crdma_request_netns(req) == CRDMA_NETNS_EXCLUSIVE) {
                crdma_request_free(req);
                refuse("%s netns=exclusive: a job step has no network namespace of its own to "
                       "move a device into", OPTION);
                return -1;
        }
        int r = crdma_plan_for_request(step.ctx, req, &step.plan, &err);
        crdma_request_free(req);
        if (r < 0) {
                refuse_error(err);
                return -1;
        }
        for (size_t i = 0; i < crdma_plan_capability_count(step.plan); i++)
                if (strcmp(crdma_plan_capability(step.plan, i), "CAP_NET_RAW") == 0) {
                        refuse("%s raw=true: raw packet QPs need CAP_NET_RAW, and a job "
                               "step's tasks run without capabilities", OPTION);
                        return -1;
                }
        return 0;
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
        (void) ac;
        (void) av;
        if (!spank_remote(sp) || !step.spec)
                return 0;
        if (plan_step() < 0)
                return 0; /* raised by each task, where it reaches srun */
        char *cgroup = step_cgroup(step.ctx);
        if (!cgroup)
                return 0;
        struct crdma_error *err = NULL;
        unsigned what = CRDMA_CGROUP_APPLY_RDMA_MAX;
        if (slurm_constrains_devices())
                what |= CRDMA_CGROUP_APPLY_DEVICES; /* exactly the devices asked for */
        if (crdma_plan_apply_cgroup(step.ctx, step.plan, cgroup, what, &err) < 0)
                refuse_error(err);
        else
                slurm_verbose("crdma: %s: %s applied%s", cgroup, step.spec,
                              (what & CRDMA_CGROUP_APPLY_DEVICES) ? ", other RDMA devices denied"
                                                                  : "");
        free(cgroup);
        return 0;
}

#define CONFIG_MAX (4u << 20)

static int read_all(int fd, char **out, size_t *len)
{
        size_t cap = 65536, n = 0;
        char *buf = malloc(cap + 1);
        for (;;) {
                if (!buf)
                        return -ENOMEM;
                ssize_t r = read(fd, buf + n, cap - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        int e = errno;
                        free(buf);
                        return -e;
                }
                if (r == 0)
                        break;
                n += (size_t) r;
                if (n == cap) {
                        if (cap >= CONFIG_MAX) {
                                free(buf);
                                return -EFBIG;
                        }
                        char *bigger = realloc(buf, 2 * cap + 1);
                        if (!bigger)
                                free(buf);
                        buf = bigger;
                        cap *= 2;
                }
        }
        buf[n] = '\0';
        *out = buf;
        *len = n;
        return 0;
}

static int write_all(int fd, const char *text)
{
        size_t len = strlen(text), done = 0;
        if (lseek(fd, 0, SEEK_SET) < 0 || ftruncate(fd, 0) < 0)
                return -errno;
        while (done < len) {
                ssize_t w = write(fd, text + done, len - done);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                done += (size_t) w;
        }
        return fsync(fd) < 0 ? -errno : 0;
}

/* `srun --container`: slurmstepd wrote the bundle's config.json into the
 * task's working directory, a directory the job's user owns, for a runtime
 * that runs as that user.  Opened without following links, a regular file
 * with one link owned by root or the user: never another file of root's. */
static int edit_container_config(spank_t sp)
{
        char bundle[4096];
        if (spank_getenv(sp, "SLURM_CONTAINER", bundle, sizeof(bundle)) != ESPANK_SUCCESS)
                return 0; /* not a container step */
        uid_t uid = (uid_t) -1;
        if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS) {
                slurm_error("crdma: the job's uid: unknown to SPANK");
                return -1;
        }
        int fd = open("config.json", O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                slurm_error("crdma: container %s: the step's config.json in its bundle "
                            "directory: %s", bundle, strerror(errno));
                return -1;
        }
        struct stat st;
        char *text = NULL, *out = NULL;
        size_t len = 0;
        int r = fstat(fd, &st) < 0 ? -errno : 0;
        if (r == 0 && (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
                       (st.st_uid != 0 && st.st_uid != uid))) {
                slurm_error("crdma: container %s: the step's config.json is not a regular file "
                            "with one link owned by root or the job's user: not edited", bundle);
                close(fd);
                return -1;
        }
        if (r == 0)
                r = read_all(fd, &text, &len);
        if (r < 0) {
                slurm_error("crdma: container %s: reading the step's config.json: %s", bundle,
                            strerror(-r));
                close(fd);
                return -1;
        }
        struct crdma_error *err = NULL;
        r = crdma_plan_apply_config(step.ctx, step.plan, text, len, CRDMA_RUNTIME_ROOTLESS, NULL,
                                    &out, &err);
        free(text);
        if (r < 0) {
                slurm_error("crdma: container %s: %s", bundle, crdma_error_message(err));
                crdma_error_free(err);
                close(fd);
                return -1;
        }
        r = write_all(fd, out);
        free(out);
        close(fd);
        if (r < 0) {
                slurm_error("crdma: container %s: writing the step's config.json: %s", bundle,
                            strerror(-r));
                return -1;
        }
        slurm_verbose("crdma: container %s: config.json edited for the rootless runtime", bundle);
        return 0;
}

int slurm_spank_task_init_privileged(spank_t sp, int ac, char **av)
{
        (void) ac;
        (void) av;
        if (!spank_remote(sp) || !step.spec)
                return 0;
        if (step.refusal) {
                slurm_error("crdma: %s", step.refusal);
                return -1;
        }
        struct crdma_error *err = NULL;
        if (crdma_plan_apply_memlock(step.ctx, step.plan, 0, &err) < 0) {
                slurm_error("crdma: %s", crdma_error_message(err));
                crdma_error_free(err);
                return -1;
        }
        /* Slurm sets each task's soft limits from the submit host's after
         * this callback (PropagateResourceLimits); without the variable it
         * leaves RLIMIT_MEMLOCK as set here. */
        spank_err_t e = spank_unsetenv(sp, "SLURM_RLIMIT_MEMLOCK");
        if (e != ESPANK_SUCCESS && e != ESPANK_ENV_NOEXIST) {
                slurm_error("crdma: cannot keep RLIMIT_MEMLOCK from Slurm's limit propagation: "
                            "%s; set PropagateResourceLimitsExcept=MEMLOCK in slurm.conf",
                            spank_strerror(e));
                return -1;
        }
        return edit_container_config(sp);
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
        (void) sp;
        (void) ac;
        (void) av;
        crdma_plan_free(step.plan);
        crdma_context_free(step.ctx);
        free(step.refusal);
        free(step.policy);
        free(step.cgroup_conf);
        free(step.spec);
        step.plan = NULL;
        step.ctx = NULL;
        step.refusal = step.policy = step.cgroup_conf = step.spec = NULL;
        return 0;
}
