/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_HOOK_CLI_H
#define CRDMA_HOOK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "crdma.h"

enum {
        CLI_EXIT_OK = 0,
        CLI_EXIT_REFUSED = 1,
        CLI_EXIT_USAGE = 2,
        CLI_EXIT_SYSTEM = 3,
};

enum {
        CLI_OPT_JSON = 1 << 0,
        CLI_OPT_ANNOTATION = 1 << 1,
        CLI_OPT_CONFIG = 1 << 2,
        CLI_OPT_RUNTIME = 1 << 3,
        CLI_OPT_DRY_RUN = 1 << 4,
        CLI_OPT_OUTPUT = 1 << 5,
};

struct cli {
        const char *policy;
        const char *root[4];
        bool debug;
        bool json;
        bool hook_stage; /* run by a runtime: warnings go to syslog too */
        unsigned warnings; /* logged so far: poststop's exit status */
        const char *config;
        const char *runtime; /* --runtime: runc, crun or auto (NULL: auto) */
        bool dry_run;
        const char *output; /* --output FILE */
        struct crdma_kv *annotations; /* from --annotation, pointing into argv */
        size_t n_annotations;
        char **args;
        size_t n_args;
        struct crdma_context *ctx;
};

/* --annotation KEY=VALUE: split in place (the strings stay argv's). */
int cli_add_annotation(struct cli *cli, char *key_eq_value);
int cli_open(struct cli *cli);
void cli_close(struct cli *cli);

/* Print "crdma-hook: error: <message>" and return the exit status of the
 * error's kind. */
int cli_fail(struct crdma_error *err);
/* The same, naming the container the hook was run for. */
int cli_fail_in(struct crdma_error *err, const char *container);
/* The same, to the system log too (a hook stage with no container id). */
int cli_fail_logged(struct crdma_error *err);
/* A warning about a container, to stderr and the system log. */
void cli_warn_in(struct crdma_error *err, const char *container);
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a JSON document on stdout with exactly one final newline. */
void cli_print_json(const char *json);
/* A generated document (with one final newline) to --output FILE, written
 * atomically with mode 0644, or else to stdout.  Returns an exit status. */
int cli_emit(struct cli *cli, const char *text);

/* Refuse LD_PRELOAD, set no_new_privs and keep only the capabilities the
 * command `run` needs. */
int cli_drop_privileges(struct cli *cli, int (*run)(struct cli *));

int cli_devices(struct cli *cli);
int cli_plan(struct cli *cli);
int cli_policy(struct cli *cli);
int cli_system(struct cli *cli);
int cli_status(struct cli *cli);
int cli_inject(struct cli *cli);
int cli_poststop(struct cli *cli);
int cli_precreate(struct cli *cli);
int cli_edit(struct cli *cli);
int cli_cdi(struct cli *cli);
int cli_apptainer_cgroups(struct cli *cli);

#endif
