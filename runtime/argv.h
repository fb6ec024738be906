/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A runc-compatible command line, read as runc and crun read it: the global
 * options (values skipped), the subcommand, and for create/run the bundle,
 * the config file and where the runtime logs.  Nothing is interpreted that
 * the real runtime will not see the same way. */
#ifndef CRDMA_RUNTIME_ARGV_H
#define CRDMA_RUNTIME_ARGV_H

#include <stdbool.h>
#include <stddef.h>

enum shim_root { SHIM_ROOT_SYSFS, SHIM_ROOT_CGROUP, SHIM_ROOT_COUNT };

struct shim_args {
        /* The real runtime's argv: the shim's own --crdma-* options taken
         * out, everything else as given (argv[0] is replaced at exec). */
        char **argv;
        int argc;
        /* Index in argv of the subcommand, -1 for none (--version, --help). */
        int command;
        bool edits;                 /* create or run: the config is edited */
        const char *bundle;         /* --bundle / -b, NULL: the working directory */
        const char *config;         /* crun's --config / -f, NULL: BUNDLE/config.json */
        bool execs;                 /* exec: the process file may need the memlock */
        const char *process;        /* exec --process / -p FILE */
        const char *id;             /* exec's container id */
        const char *log;            /* --log FILE */
        const char *log_format;     /* --log-format text|json */
        /* crdma-runtime's own global options, for daemon.json runtimeArgs
         * and tests: never passed on. */
        const char *policy;
        const char *roots[SHIM_ROOT_COUNT];
};

/* Parse argv (argc entries) into *out; out->argv is a new array of borrowed
 * strings (free it).  Returns 0, or -EINVAL with a one-line reason in `why`
 * (a usage error), or -ENOMEM. */
int shim_args_parse(int argc, char **argv, struct shim_args *out, char *why, size_t why_len);
void shim_args_clear(struct shim_args *a);

#endif
