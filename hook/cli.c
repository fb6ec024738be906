/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cli.h"

int cli_usage_error(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("crdma-hook: error: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return CLI_EXIT_USAGE;
}

/* The failure line; to the system log too when `logged`, for a hook whose
 * stderr may go nowhere (crun drops it unless the container sets
 * run.oci.hooks.stderr; podman drops a precreate hook's). */
static int fail(struct crdma_error *err, const char *container, bool logged)
{
        if (logged) {
                openlog("crdma-hook", LOG_PID, LOG_DAEMON);
                if (container)
                        syslog(LOG_ERR, "container %.64s: %s", container, crdma_error_message(err));
                else
                        syslog(LOG_ERR, "%s", crdma_error_message(err));
                closelog();
        }
        if (container)
                fprintf(stderr, "crdma-hook: error: container %.64s: %s\n", container,
                        crdma_error_message(err));
        else
                fprintf(stderr, "crdma-hook: error: %s\n", crdma_error_message(err));
        int status = crdma_error_kind(err) == CRDMA_ERROR_REFUSED ? CLI_EXIT_REFUSED
                                                                  : CLI_EXIT_SYSTEM;
        crdma_error_free(err);
        return status;
}

int cli_fail(struct crdma_error *err)
{
        return fail(err, NULL, false);
}

int cli_fail_in(struct crdma_error *err, const char *container)
{
        return fail(err, container, container != NULL);
}

int cli_fail_logged(struct crdma_error *err)
{
        return fail(err, NULL, true);
}

static void log_to_stderr(enum crdma_log_level level, const char *message, void *userdata)
{
        struct cli *cli = userdata;
        /* A hook's stderr is dropped when it succeeds (and by crun always):
         * what the admin must know also goes to the system log. */
        if (cli->hook_stage && level <= CRDMA_LOG_WARNING) {
                openlog("crdma-hook", LOG_PID, LOG_DAEMON);
                syslog(level <= CRDMA_LOG_ERROR ? LOG_ERR : LOG_WARNING, "%s", message);
                closelog();
        }
        if (level <= CRDMA_LOG_WARNING)
                cli->warnings++;
        const char *tag = level <= CRDMA_LOG_ERROR     ? "error"
                          : level <= CRDMA_LOG_WARNING ? "warning"
                          : level <= CRDMA_LOG_INFO    ? "info"
                                                       : "debug";
        fprintf(stderr, "crdma-hook: %s: %s\n", tag, message);
}

int cli_add_annotation(struct cli *cli, char *key_eq_value)
{
        char *eq = strchr(key_eq_value, '=');
        if (!eq || eq == key_eq_value)
                return -1;
        struct crdma_kv *kv = reallocarray(cli->annotations, cli->n_annotations + 1, sizeof(*kv));
        if (!kv)
                return -1;
        *eq = '\0';
        kv[cli->n_annotations++] = (struct crdma_kv){ .key = key_eq_value, .value = eq + 1 };
        cli->annotations = kv;
        return 0;
}

int cli_open(struct cli *cli)
{
        struct crdma_error *err = NULL;
        if (crdma_context_new(&cli->ctx, &err) < 0)
                return cli_fail(err);
        crdma_context_set_log(cli->ctx, log_to_stderr, cli,
                              cli->debug ? CRDMA_LOG_DEBUG : CRDMA_LOG_WARNING);
        for (int i = 0; i < 4; i++)
                if (cli->root[i] && crdma_context_set_root(cli->ctx, (enum crdma_root) i,
                                                           cli->root[i], &err) < 0)
                        return cli_fail(err);
        /* RDMA netlink answers for the running kernel: beside another sysfs tree
         * its indexes and netns mode would describe devices that tree does not
         * hold (crdma-hook(8), --sysfs-root). */
        if (cli->root[CRDMA_ROOT_SYSFS] && strcmp(cli->root[CRDMA_ROOT_SYSFS], "/sys") != 0 &&
            crdma_context_set_netlink(cli->ctx, false, &err) < 0)
                return cli_fail(err);
        if (cli->policy && crdma_context_set_policy_path(cli->ctx, cli->policy, &err) < 0)
                return cli_fail(err);
        return CLI_EXIT_OK;
}

void cli_close(struct cli *cli)
{
        crdma_context_free(cli->ctx);
        cli->ctx = NULL;
        free(cli->annotations);
        cli->annotations = NULL;
        cli->n_annotations = 0;
}

void cli_print_json(const char *json)
{
        size_t len = strlen(json);
        /* yajl's pretty printer may end with a newline of its own. */
        fputs(json, stdout);
        if (len == 0 || json[len - 1] != '\n')
                fputc('\n', stdout);
}

void cli_warn_in(struct crdma_error *err, const char *container)
{
        openlog("crdma-hook", LOG_PID, LOG_DAEMON);
        syslog(LOG_WARNING, "container %.64s: %s", container, crdma_error_message(err));
        closelog();
        fprintf(stderr, "crdma-hook: warning: container %.64s: %s\n", container,
                crdma_error_message(err));
        crdma_error_free(err);
}
