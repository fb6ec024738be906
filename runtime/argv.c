/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* runc (urfave/cli) takes -name and --name, "=value" or the next argument,
 * and reorders a subcommand's options found after its positional arguments;
 * crun (argp) takes the same long options.  An option that takes a value must
 * be known here, or its value would be read as the subcommand or as the
 * container: the tables hold both runtimes' options. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "cleanup.h"


enum opt_kind { OPT_FLAG, OPT_VALUE };

struct opt {
        const char *name;
        char short_name;
        enum opt_kind kind;
};

static const struct opt global_opts[] = {
        { "debug", 0, OPT_FLAG },         { "log", 0, OPT_VALUE },
        { "log-format", 0, OPT_VALUE },   { "log-level", 0, OPT_VALUE },
        { "root", 0, OPT_VALUE },         { "criu", 0, OPT_VALUE },
        { "systemd-cgroup", 0, OPT_FLAG }, { "rootless", 0, OPT_VALUE },
        { "cgroup-manager", 0, OPT_VALUE }, { "help", 'h', OPT_FLAG },
        { "version", 'v', OPT_FLAG },
};

/* create, run and restore, both runtimes; restore's checkpoint options too. */
static const struct opt create_opts[] = {
        { "bundle", 'b', OPT_VALUE },        { "config", 'f', OPT_VALUE },
        { "console-socket", 0, OPT_VALUE },  { "pid-file", 0, OPT_VALUE },
        { "preserve-fds", 0, OPT_VALUE },    { "no-pivot", 0, OPT_FLAG },
        { "no-new-keyring", 0, OPT_FLAG },   { "no-subreaper", 0, OPT_FLAG },
        { "detach", 'd', OPT_FLAG },         { "keep", 0, OPT_FLAG },
        { "image-path", 0, OPT_VALUE },      { "work-path", 0, OPT_VALUE },
        { "parent-path", 0, OPT_VALUE },     { "manage-cgroups-mode", 0, OPT_VALUE },
        { "empty-ns", 0, OPT_VALUE },        { "lsm-profile", 0, OPT_VALUE },
        { "lsm-mount-context", 0, OPT_VALUE }, { "auto-dedup", 0, OPT_FLAG },
};

/* exec (both runtimes); it takes its options up to the container id only:
 * what follows is the command (runc does not reorder exec's arguments). */
static const struct opt exec_opts[] = {
        { "console-socket", 0, OPT_VALUE }, { "cwd", 0, OPT_VALUE },
        { "env", 'e', OPT_VALUE },          { "user", 'u', OPT_VALUE },
        { "additional-gids", 'g', OPT_VALUE }, { "process", 'p', OPT_VALUE },
        { "pid-file", 0, OPT_VALUE },       { "process-label", 0, OPT_VALUE },
        { "apparmor", 0, OPT_VALUE },       { "cap", 'c', OPT_VALUE },
        { "preserve-fds", 0, OPT_VALUE },   { "cgroup", 0, OPT_VALUE },
        { "tty", 't', OPT_FLAG },           { "detach", 'd', OPT_FLAG },
        { "no-new-privs", 0, OPT_FLAG },    { "ignore-paused", 0, OPT_FLAG },
};

static const char *const shim_root_opts[SHIM_ROOT_COUNT] = {
        [SHIM_ROOT_SYSFS] = "crdma-sysfs-root",
        [SHIM_ROOT_CGROUP] = "crdma-cgroup-root",
};

static const char *const commands[] = {
        "checkpoint", "create", "delete", "events", "exec",  "features", "help",  "init",
        "kill",       "list",   "pause",  "ps",     "restore", "resume", "run",   "spec",
        "start",      "state",  "update", "mounts",
};

static bool is_command(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(s, commands[i]) == 0)
                        return true;
        return false;
}

/* An option token split: its name (without dashes, up to '=') and inline
 * value.  `name` is a copy in `buf`. */
struct token {
        char buf[64];
        const char *name;
        const char *value; /* after '=', or NULL */
};

static bool split(const char *arg, struct token *t)
{
        if (arg[0] != '-' || arg[1] == '\0' || strcmp(arg, "--") == 0)
                return false;
        const char *p = arg + (arg[1] == '-' ? 2 : 1);
        const char *eq = strchr(p, '=');
        size_t len = eq ? (size_t) (eq - p) : strlen(p);
        if (len >= sizeof(t->buf))
                len = sizeof(t->buf) - 1;
        memcpy(t->buf, p, len);
        t->buf[len] = '\0';
        t->name = t->buf;
        t->value = eq ? eq + 1 : NULL;
        return true;
}

static const struct opt *find(const struct opt *tab, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(name, tab[i].name) == 0 ||
                    (tab[i].short_name && name[0] == tab[i].short_name && name[1] == '\0'))
                        return &tab[i];
        return NULL;
}

void shim_args_clear(struct shim_args *a)
{
        free(a->argv);
        *a = (struct shim_args){ 0 };
}

/* The global options, up to the subcommand. */
static int parse_globals(int argc, char **argv, int *i, struct shim_args *a, char *why,
                         size_t why_len)
{
        for (; *i < argc; (*i)++) {
                const char *arg = argv[*i];
                struct token t;
                if (!split(arg, &t))
                        return 0; /* the subcommand (or "--") */
                bool shim = strncmp(t.name, "crdma-", 6) == 0;
                const struct opt *o = shim ? NULL : find(global_opts, ELEMENTSOF(global_opts), t.name);
                const char *value = t.value;
                bool takes_value = shim || (o && o->kind == OPT_VALUE);
                if (!o && !shim && !value && *i + 1 < argc && !is_command(argv[*i + 1]) &&
                    argv[*i + 1][0] != '-') {
                        snprintf(why, why_len, "unknown global option %.64s before \"%.64s\": "
                                 "crdma-runtime cannot tell whether it takes a value; write "
                                 "it as %.64s=VALUE", arg, argv[*i + 1], arg);
                        return -EINVAL;
                }
                if (takes_value && !value) {
                        if (*i + 1 >= argc) {
                                snprintf(why, why_len, "option %.64s needs a value", arg);
                                return -EINVAL;
                        }
                        if (!shim)
                                a->argv[a->argc++] = argv[*i];
                        value = argv[++(*i)];
                        if (!shim)
                                a->argv[a->argc++] = argv[*i];
                } else if (!shim) {
                        a->argv[a->argc++] = argv[*i];
                }
                if (!shim) {
                        if (o && strcmp(o->name, "log") == 0)
                                a->log = value;
                        else if (o && strcmp(o->name, "log-format") == 0)
                                a->log_format = value;
                        continue;
                }
                if (strcmp(t.name, "crdma-policy") == 0) {
                        a->policy = value;
                        continue;
                }
                int r = 0;
                for (; r < SHIM_ROOT_COUNT && strcmp(t.name, shim_root_opts[r]) != 0; r++)
                        ;
                if (r == SHIM_ROOT_COUNT) {
                        snprintf(why, why_len, "unknown option --%.64s; crdma-runtime's own "
                                 "are --crdma-policy, --crdma-sysfs-root and --crdma-cgroup-root", t.name);
                        return -EINVAL;
                }
                a->roots[r] = value;
        }
        return 0;
}

/* create/run/restore: every option, before and after the container id. */
static int parse_create(int argc, char **argv, int i, struct shim_args *a, char *why,
                        size_t why_len)
{
        for (; i < argc; i++) {
                struct token t;
                if (strcmp(argv[i], "--") == 0)
                        return 0; /* the rest is positional */
                if (!split(argv[i], &t))
                        continue; /* the container id */
                const struct opt *o = find(create_opts, ELEMENTSOF(create_opts), t.name);
                if (!o || o->kind != OPT_VALUE)
                        continue;
                const char *value = t.value;
                if (!value) {
                        if (i + 1 >= argc) {
                                snprintf(why, why_len, "option %.64s needs a value", argv[i]);
                                return -EINVAL;
                        }
                        value = argv[++i];
                }
                if (strcmp(o->name, "bundle") == 0)
                        a->bundle = value;
                else if (strcmp(o->name, "config") == 0)
                        a->config = value;
        }
        return 0;
}

static int parse_exec(int argc, char **argv, int i, struct shim_args *a, char *why,
                      size_t why_len)
{
        for (; i < argc; i++) {
                struct token t;
                if (strcmp(argv[i], "--") == 0) {
                        a->id = i + 1 < argc ? argv[i + 1] : NULL;
                        return 0;
                }
                if (!split(argv[i], &t)) {
                        a->id = argv[i];
                        return 0;
                }
                const struct opt *o = find(exec_opts, ELEMENTSOF(exec_opts), t.name);
                if (!o || o->kind != OPT_VALUE)
                        continue;
                const char *value = t.value;
                if (!value) {
                        if (i + 1 >= argc) {
                                snprintf(why, why_len, "option %.64s needs a value", argv[i]);
                                return -EINVAL;
                        }
                        value = argv[++i];
                }
                if (strcmp(o->name, "process") == 0)
                        a->process = value;
        }
        return 0;
}

int shim_args_parse(int argc, char **argv, struct shim_args *out, char *why, size_t why_len)
{
        struct shim_args a = { .command = -1 };
        a.argv = calloc((size_t) argc + 1, sizeof(*a.argv));
        if (!a.argv)
                return -ENOMEM;
        if (argc > 0)
                a.argv[a.argc++] = argv[0];
        int i = 1;
        int r = parse_globals(argc, argv, &i, &a, why, why_len);
        if (r < 0) {
                shim_args_clear(&a);
                return r;
        }
        if (i < argc && strcmp(argv[i], "--") == 0)
                a.argv[a.argc++] = argv[i++];
        if (i < argc) {
                a.command = a.argc;
                const char *cmd = argv[i];
                a.edits = strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0 ||
                          strcmp(cmd, "restore") == 0;
                a.execs = strcmp(cmd, "exec") == 0;
                if (a.edits)
                        r = parse_create(argc, argv, i + 1, &a, why, why_len);
                else if (a.execs)
                        r = parse_exec(argc, argv, i + 1, &a, why, why_len);
                for (; i < argc; i++)
                        a.argv[a.argc++] = argv[i];
        }
        if (r < 0) {
                shim_args_clear(&a);
                return r;
        }
        *out = a;
        return 0;
}
