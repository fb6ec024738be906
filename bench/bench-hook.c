/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Wall time and peak RSS of one crdma-hook process, as a runtime runs it.
 *
 *   bench-hook --hook PATH --sysfs TREE --devices LIST --stage STAGE [--runs N]
 *              [--control PATH]
 *
 * STAGE createRuntime: each run gets a fresh "created container": a process in
 * a mount namespace of its own, in a devices cgroup (v1) of its own, with a
 * bundle whose rootfs has an empty /dev; the hook makes the nodes there and
 * allows them in the cgroup, as under runc.  Only the hook process is timed
 * (spawn to exit), the container's set-up and removal are not.
 * STAGE precreate: config.json on stdin, the edited config on stdout.
 * STAGE none: createRuntime for a container without io.crdma.* annotations
 * (the floor: exec, read the state, exit).
 *
 * --control "PATH [ARG...]" (e.g. /bin/true): each run also spawns it the same way,
 * with the same stdin, alternating which goes first, and the output adds its
 * median and the ratios hook/control (of the medians, and the median of the
 * per-run ratios): the hook's cost against an exec, in one run, whatever
 * the machine's load.
 *
 * The hook is started with posix_spawn (CLONE_VM|CLONE_VFORK in glibc): a
 * fork() child's pre-exec pages would count in its peak RSS.  Every run must
 * exit 0 and leave the nodes asked for, or the benchmark stops. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define CGROUP_DEVICES "/sys/fs/cgroup/devices"

struct opts {
        const char *hook, *sysfs, *devices, *stage, *work, *control;
        int runs;
};

/* The container of the current run, stopped on the way out of a failure. */
static pid_t current_pid;
static const char *current_cg;
/* What a failure removes too: the parent cgroup and the work directory. */
static char cgparent[256], work[256];

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
        if (current_pid > 0) {
                kill(current_pid, SIGKILL);
                waitpid(current_pid, NULL, 0);
                rmdir(current_cg);
        }
        if (cgparent[0])
                rmdir(cgparent);
        char rm[300];
        snprintf(rm, sizeof(rm), "rm -rf %s", work);
        if (work[0] && system(rm) != 0)
                fprintf(stderr, "bench-hook: cannot remove %s\n", work);
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "bench-hook: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
        exit(3);
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                die("cannot write %s", path);
}

static double now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

static size_t count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        size_t n = 0;
        for (struct dirent *e; (e = readdir(d));)
                n += e->d_name[0] != '.';
        closedir(d);
        return n;
}

/* How many times `needle` is in the file (the devices of an edited config). */
static size_t count_paths(const char *path, const char *needle)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return 0;
        size_t n = 0, len = strlen(needle), at = 0;
        for (int c; (c = getc(f)) != EOF;) {
                at = c == needle[at] ? at + 1 : (c == needle[0] ? 1 : 0);
                if (at == len) {
                        n++;
                        at = 0;
                }
        }
        fclose(f);
        return n;
}

/* A created container: a child in a mount namespace of its own (the hook
 * enters it to make the nodes) with a tmpfs on the rootfs's /dev, as runc and
 * crun mount one, moved into cgroup `cg` of the devices hierarchy, waiting to
 * be killed. */
static pid_t container_start(const char *cg, const char *rootfs, const char *rootdev)
{
        int ready[2];
        if (pipe2(ready, O_CLOEXEC) < 0)
                die("%s", "pipe failed");
        pid_t pid = fork();
        if (pid < 0)
                die("%s", "fork failed");
        if (pid == 0) {
                /* No hold on the caller's output pipes while it waits. */
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
                        _exit(1);
                /* The rootfs a mount of its own, as runtimes make it. */
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0 ||
                    mount("tmpfs", rootdev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k") < 0)
                        _exit(1);
                char c = 'r';
                if (write(ready[1], &c, 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        close(ready[1]);
        char c;
        if (read(ready[0], &c, 1) != 1)
                die("%s", "the container process failed to make its mount namespace and /dev");
        close(ready[0]);
        current_pid = pid;
        current_cg = cg;
        if (mkdir(cg, 0755) < 0 && errno != EEXIST)
                die("cannot make cgroup %s", cg);
        char procs[512], text[32];
        snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
        snprintf(text, sizeof(text), "%d", (int) pid);
        write_file(procs, text);
        return pid;
}

static void container_stop(pid_t pid, const char *cg)
{
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        current_pid = 0;
        if (rmdir(cg) < 0)
                die("cannot remove cgroup %s", cg);
}

/* Run the hook once: stdin from `in`, stdout to `out`; wall ms, peak RSS. */
static int spawn_hook(const char *path, char *const argv[], const char *in, const char *out,
                      const char *errfile, double *ms, double *cpu_ms, long *rss_kib)
{
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
        double a = now_ms();
        pid_t pid;
        int r = posix_spawn(&pid, path, &fa, NULL, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                die("cannot run %s", path);
        int status;
        struct rusage ru;
        if (wait4(pid, &status, 0, &ru) < 0)
                die("%s", "wait4 failed");
        *ms = now_ms() - a;
        *rss_kib = ru.ru_maxrss;
        *cpu_ms = (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                  (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void usage(void)
{
        fprintf(stderr, "usage: bench-hook --hook PATH --sysfs TREE --devices LIST "
                        "--stage createRuntime|precreate|none [--runs N] [--work DIR] "
                        "[--control PATH]\n");
        exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
        static const struct option longopts[] = {
                { "hook", required_argument, NULL, 'h' },  { "sysfs", required_argument, NULL, 's' },
                { "devices", required_argument, NULL, 'd' }, { "stage", required_argument, NULL, 't' },
                { "runs", required_argument, NULL, 'n' },  { "work", required_argument, NULL, 'w' },
                { "control", required_argument, NULL, 'c' }, { 0 },
        };
        *o = (struct opts){ .runs = 200, .work = "/tmp" };
        for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
                switch (c) {
                case 'h': o->hook = optarg; break;
                case 's': o->sysfs = optarg; break;
                case 'd': o->devices = optarg; break;
                case 't': o->stage = optarg; break;
                case 'n': o->runs = atoi(optarg); break;
                case 'w': o->work = optarg; break;
                case 'c': o->control = optarg; break;
                default: usage();
                }
        }
        if (!o->hook || !o->sysfs || !o->devices || !o->stage || o->runs < 1 ||
            (strcmp(o->stage, "createRuntime") && strcmp(o->stage, "precreate") &&
             strcmp(o->stage, "none")))
                usage();
}

/* The container's memlock needs no raise: the policy asks for what the
 * process has (raising a hard limit needs CAP_SYS_RESOURCE, which this
 * sandbox's root lacks; the raise is one prlimit call either way). */
static void write_policy(const char *path)
{
        struct rlimit rl;
        getrlimit(RLIMIT_MEMLOCK, &rl);
        char memlock[32], text[256];
        if (rl.rlim_max == RLIM_INFINITY)
                snprintf(memlock, sizeof(memlock), "\"unlimited\"");
        else
                snprintf(memlock, sizeof(memlock), "%llu", (unsigned long long) rl.rlim_max);
        snprintf(text, sizeof(text),
                 "{\"version\": 1, \"devices\": [\"*\"], \"defaults\": {\"memlock\": %s}, "
                 "\"limits\": {\"enforce\": \"best-effort\", \"memlock\": %s}}\n",
                 memlock, memlock);
        write_file(path, text);
}

int main(int argc, char **argv)
{
        struct opts o;
        parse(argc, argv, &o);
        bool inject = strcmp(o.stage, "precreate") != 0;
        bool annotated = strcmp(o.stage, "none") != 0;

        char path[512], policy[512], state[512], config[512], out[512], errf[512];
        char cg[320], rootfs[512], rootdev[512];
        char mine[256];
        snprintf(mine, sizeof(mine), "%s/crdma-bench-hook-%d", o.work, (int) getpid());
        if (mkdir(mine, 0755) < 0)
                die("cannot make %s", mine);
        memcpy(work, mine, sizeof(work)); /* ours now: a failure removes it */
        snprintf(policy, sizeof(policy), "%s/policy.json", work);
        snprintf(state, sizeof(state), "%s/state.json", work);
        snprintf(config, sizeof(config), "%s/config.json", work);
        snprintf(out, sizeof(out), "%s/stdout", work);
        snprintf(errf, sizeof(errf), "%s/stderr", work);
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", work);
        snprintf(rootdev, sizeof(rootdev), "%s/rootfs/dev", work);
        if (mkdir(rootfs, 0755) < 0 || mkdir(rootdev, 0755) < 0)
                die("cannot make %s", rootdev);
        if (inject)
                snprintf(cgparent, sizeof(cgparent), CGROUP_DEVICES "/crdma-bench-%d", (int) getpid());
        if (inject && mkdir(cgparent, 0755) < 0)
                die("cannot make cgroup %s (root and a v1 devices hierarchy needed)", cgparent);
        write_policy(policy);

        char annotations[4096];
        snprintf(annotations, sizeof(annotations), annotated ? "{\"io.crdma.devices\": \"%s\"}"
                                                             : "{\"org.example\": \"%s\"}",
                 o.devices);
        char text[8192];
        snprintf(text, sizeof(text),
                 "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}, \"process\": "
                 "{\"args\": [\"/bin/true\"], \"cwd\": \"/\"}, \"linux\": {\"namespaces\": "
                 "[{\"type\": \"mount\"}]}, \"annotations\": %s}\n",
                 annotations);
        write_file(config, text);

        char *argv_inject[] = { "crdma-hook", "--sysfs-root", (char *) o.sysfs, "--policy", policy,
                                "createRuntime", NULL };
        char *argv_precreate[] = { "crdma-hook", "--sysfs-root", (char *) o.sysfs, "--policy",
                                   policy, "precreate", NULL };
        double *ms = calloc((size_t) o.runs, sizeof(*ms));
        double *cpu = calloc((size_t) o.runs, sizeof(*cpu));
        double *ctl = calloc((size_t) o.runs, sizeof(*ctl));
        double *ratio = calloc((size_t) o.runs, sizeof(*ratio));
        /* "PATH [ARG...]", split on spaces */
        char *argv_control[16] = { NULL }, control_words[512];
        snprintf(control_words, sizeof(control_words), "%s", o.control ? o.control : "");
        for (size_t k = 0; k + 1 < 16; k++)
                if (!(argv_control[k] = strtok(k ? NULL : control_words, " ")))
                        break;
        char ctl_out[560], ctl_err[560]; /* the control's own: the hook's output is checked */
        snprintf(ctl_out, sizeof(ctl_out), "%s.control", out);
        snprintf(ctl_err, sizeof(ctl_err), "%s.control", errf);
        long rss_max = 0;
        size_t nodes = 0;
        char infiniband[640];
        for (int i = 0; i < o.runs; i++) {
                pid_t pid = 0;
                if (inject) {
                        snprintf(cg, sizeof(cg), "%s/r%d", cgparent, i);
                        pid = container_start(cg, rootfs, rootdev);
                        snprintf(text, sizeof(text),
                                 "{\"ociVersion\": \"1.0.2\", \"id\": \"bench-%d\", \"status\": "
                                 "\"created\", \"pid\": %d, \"bundle\": \"%s\", \"annotations\": %s}\n",
                                 i, (int) pid, work, annotations);
                        write_file(state, text);
                }
                long rss, ctl_rss;
                double ctl_cpu;
                const char *in = inject ? state : config;
                /* The control first on odd runs: a drift in load hits both. */
                if (o.control && i % 2 &&
                    spawn_hook(argv_control[0], argv_control, in, ctl_out, ctl_err, &ctl[i], &ctl_cpu, &ctl_rss))
                        die("the control %s failed", o.control);
                int status = spawn_hook(o.hook, inject ? argv_inject : argv_precreate, in, out,
                                        errf, &ms[i], &cpu[i], &rss);
                if (o.control && !(i % 2) && status == 0 &&
                    spawn_hook(argv_control[0], argv_control, in, ctl_out, ctl_err, &ctl[i], &ctl_cpu, &ctl_rss))
                        die("the control %s failed", o.control);
                if (o.control)
                        ratio[i] = ms[i] / ctl[i];
                if (status != 0) {
                        snprintf(text, sizeof(text), "cat %s >&2", errf);
                        if (system(text) != 0)
                                fprintf(stderr, "(no stderr)\n");
                        die("the hook failed (exit status above, run %s)", o.stage);
                }
                if (rss > rss_max)
                        rss_max = rss;
                if (inject) {
                        /* The nodes are in the container's mount namespace. */
                        snprintf(infiniband, sizeof(infiniband), "/proc/%d/root%s/infiniband",
                                 (int) pid, rootdev);
                        size_t n = count_entries(infiniband);
                        if (annotated && n == 0)
                                die("%s: the hook exited 0 but made no node", infiniband);
                        if (!annotated && n != 0)
                                die("%s: the hook made nodes for an unannotated container", infiniband);
                        nodes = n;
                        container_stop(pid, cg);
                } else {
                        size_t n = count_paths(out, "\"/dev/infiniband/");
                        if (n == 0)
                                die("%s: precreate wrote no /dev/infiniband device", out);
                        nodes = n;
                }
        }
        if (inject)
                rmdir(cgparent);
        snprintf(text, sizeof(text), "rm -rf %s", work);
        if (system(text) != 0)
                fprintf(stderr, "bench-hook: cannot remove %s\n", work);

        snprintf(path, sizeof(path), "%s/class/infiniband", o.sysfs);
        size_t tree = count_entries(path);
        qsort(ms, (size_t) o.runs, sizeof(*ms), cmp);
        qsort(cpu, (size_t) o.runs, sizeof(*cpu), cmp);
        int p99i = (o.runs * 99) / 100 < o.runs ? (o.runs * 99) / 100 : o.runs - 1;
        double median = ms[o.runs / 2], p99 = ms[p99i];
        /* CPU time (user + system of the hook process, its children
         * included once reaped) moves less with the machine's load. */
        double cpu_median = cpu[o.runs / 2];
        printf("%-14s %-8s %-12s %-6s %-6s %-10s %-10s %-10s %-8s %-8s\n", "STAGE", "HOST_DEV",
               "REQUEST", "NODES", "RUNS", "MEDIAN_MS", "P99_MS", "MIN_MS", "CPU_MS", "RSS_KIB");
        printf("%-14s %-8zu %-12.12s %-6zu %-6d %-10.3f %-10.3f %-10.3f %-8.3f %-8ld\n", o.stage,
               tree, o.devices, nodes, o.runs, median, p99, ms[0], cpu_median, rss_max);
        char control[256] = "";
        if (o.control) {
                qsort(ctl, (size_t) o.runs, sizeof(*ctl), cmp);
                qsort(ratio, (size_t) o.runs, sizeof(*ratio), cmp);
                double ctl_median = ctl[o.runs / 2];
                printf("# control %s: median %.3f ms; hook/control: %.3f (medians), %.3f "
                       "(median of the per-run ratios)\n", o.control, ctl_median,
                       median / ctl_median, ratio[o.runs / 2]);
                snprintf(control, sizeof(control), ",\"control\":\"%s\",\"control_median_ms\":%.3f,"
                         "\"ratio_of_medians\":%.3f,\"median_ratio\":%.3f", o.control, ctl_median,
                         median / ctl_median, ratio[o.runs / 2]);
        }
        printf("{\"bench\":\"hook\",\"stage\":\"%s\",\"host_devices\":%zu,\"request\":\"%s\","
               "\"nodes\":%zu,\"runs\":%d,\"median_ms\":%.3f,\"p99_ms\":%.3f,\"min_ms\":%.3f,"
               "\"cpu_median_ms\":%.3f,\"max_rss_kib\":%ld%s}\n",
               o.stage, tree, o.devices, nodes, o.runs, median, p99, ms[0], cpu_median, rss_max,
               control);
        free(ratio);
        free(ctl);
        free(cpu);
        free(ms);
        return 0;
}
