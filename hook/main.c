/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-hook: argv dispatch over libcrdma (crdma-hook(8)). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
        fputs("Usage: crdma-hook [OPTIONS] COMMAND [ARGS]\n"
              "\n"
              "Commands:\n"
              "  devices [--json]          the host's RDMA devices, ports, netdevs, char devices\n"
              "  plan [-a|--annotation K=V]... [--config FILE|-]\n"
              "                            what a container with these annotations would get\n"
              "  policy                    check and print the effective policy\n"
              "  createRuntime, prestart   OCI hook: give a created container its RDMA devices\n"
              "                            (OCI state on stdin)\n"
              "  poststop                  OCI hook: return devices a pod's netns still holds\n"
              "  precreate [--runtime R]   podman hook: config.json on stdin, edited on stdout\n"
              "  edit [--runtime R] [--dry-run] [-a K=V]... BUNDLE|CONFIG\n"
              "                            write the request into config.json, atomically\n"
              "                            (R: runc, crun or auto, where rdma limits go)\n"
              "  status [--json]           which cgroups (containers, Slurm steps) hold which\n"
              "                            RDMA devices: rdma.max against rdma.current, netns\n"
              "  system [netns-mode [shared|exclusive]]\n"
              "                            show or set the host's RDMA netns mode\n"
              "  cdi [--output FILE]       CDI spec (kind crdma.io/hca) of the devices the\n"
              "                            policy allows, for --device crdma.io/hca=NAME\n"
              "  apptainer-cgroups -a io.crdma.devices=NAME... [--output FILE]\n"
              "                            rdma.max as a TOML for apptainer --apply-cgroups\n"
              "\n"
              "Options:\n"
              "  --policy FILE             policy file (default /etc/crdma/policy.json)\n"
              "  --sysfs-root DIR          sysfs to read (default /sys)\n"
              "  --dev-root DIR            the host's /dev, whose RDMA nodes must match sysfs (default /dev)\n"
              "  --cgroup-root DIR         cgroup mount (default /sys/fs/cgroup)\n"
              "  --proc-root DIR           /proc to use (default /proc)\n"
              "  --debug                   log library decisions to stderr\n"
              "  -h, --help                this help\n"
              "  --version                 print the version\n"
              "\n"
              "Exit status: 0 done, 1 refused, 2 usage error, 3 system error.\n"
              "See crdma-hook(8).\n",
              f);
}

enum {
        OPT_POLICY = 256,
        OPT_SYSFS,
        OPT_DEV,
        OPT_CGROUP,
        OPT_PROC,
        OPT_DEBUG,
        OPT_VERSION,
        OPT_JSON,
        OPT_CONFIG,
        OPT_RUNTIME,
        OPT_DRY_RUN,
        OPT_OUTPUT,
};

static const struct option options[] = {
        { "policy", required_argument, NULL, OPT_POLICY },
        { "sysfs-root", required_argument, NULL, OPT_SYSFS },
        { "dev-root", required_argument, NULL, OPT_DEV },
        { "cgroup-root", required_argument, NULL, OPT_CGROUP },
        { "proc-root", required_argument, NULL, OPT_PROC },
        { "debug", no_argument, NULL, OPT_DEBUG },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, OPT_VERSION },
        { "json", no_argument, NULL, OPT_JSON },
        { "annotation", required_argument, NULL, 'a' },
        { "config", required_argument, NULL, OPT_CONFIG },
        { "runtime", required_argument, NULL, OPT_RUNTIME },
        { "dry-run", no_argument, NULL, OPT_DRY_RUN },
        { "output", required_argument, NULL, OPT_OUTPUT },
        {},
};

static const struct command {
        const char *name;
        int (*run)(struct cli *cli);
        unsigned options; /* command-specific options it takes */
} commands[] = {
        { "devices", cli_devices, CLI_OPT_JSON },
        { "plan", cli_plan, CLI_OPT_ANNOTATION | CLI_OPT_CONFIG },
        { "policy", cli_policy, 0 },
        { "system", cli_system, 0 },
        { "status", cli_status, CLI_OPT_JSON },
        /* OCI hook stages: the state on stdin. prestart is createRuntime's
         * deprecated twin: same point in the lifecycle for runc and crun. */
        { "prestart", cli_inject, 0 },
        { "createRuntime", cli_inject, 0 },
        { "poststop", cli_poststop, 0 },
        /* The config-edit path: before the runtime creates the container. */
        { "precreate", cli_precreate, CLI_OPT_RUNTIME },
        { "edit", cli_edit, CLI_OPT_RUNTIME | CLI_OPT_DRY_RUN | CLI_OPT_ANNOTATION },
        /* Files for other runtimes: a CDI spec, Apptainer's cgroups TOML. */
        { "cdi", cli_cdi, CLI_OPT_OUTPUT },
        { "apptainer-cgroups", cli_apptainer_cgroups, CLI_OPT_ANNOTATION | CLI_OPT_OUTPUT },
};

static int run(int argc, char **argv, struct cli *cli)
{
        unsigned given = 0;
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "ha:", options, NULL)) >= 0) {
                switch (c) {
                case OPT_POLICY:
                        if (!optarg[0])
                                return cli_usage_error("--policy: empty file name");
                        cli->policy = optarg;
                        break;
                case OPT_SYSFS: cli->root[CRDMA_ROOT_SYSFS] = optarg; break;
                case OPT_DEV: cli->root[CRDMA_ROOT_DEV] = optarg; break;
                case OPT_CGROUP: cli->root[CRDMA_ROOT_CGROUP] = optarg; break;
                case OPT_PROC: cli->root[CRDMA_ROOT_PROC] = optarg; break;
                case OPT_DEBUG: cli->debug = true; break;
                case 'h': usage(stdout); return CLI_EXIT_OK;
                case OPT_VERSION: printf("crdma-hook %s\n", crdma_version()); return CLI_EXIT_OK;
                case OPT_JSON: cli->json = true; given |= CLI_OPT_JSON; break;
                case 'a':
                        given |= CLI_OPT_ANNOTATION;
                        if (cli_add_annotation(cli, optarg) < 0)
                                return cli_usage_error("--annotation %s: expected KEY=VALUE", optarg);
                        break;
                case OPT_CONFIG: cli->config = optarg; given |= CLI_OPT_CONFIG; break;
                case OPT_RUNTIME:
                        if (strcmp(optarg, "runc") != 0 && strcmp(optarg, "crun") != 0 &&
                            strcmp(optarg, "rootless") != 0 && strcmp(optarg, "auto") != 0)
                                return cli_usage_error("--runtime %s: expected runc, crun, "
                                                       "rootless or auto", optarg);
                        cli->runtime = optarg;
                        given |= CLI_OPT_RUNTIME;
                        break;
                case OPT_DRY_RUN: cli->dry_run = true; given |= CLI_OPT_DRY_RUN; break;
                case OPT_OUTPUT:
                        if (!optarg[0])
                                return cli_usage_error("--output: empty file name");
                        cli->output = optarg;
                        given |= CLI_OPT_OUTPUT;
                        break;
                default:
                        return cli_usage_error("%s: unknown option or missing argument; "
                                               "see crdma-hook --help", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error("no command given; see crdma-hook --help");

        const char *name = argv[optind];
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
                if (strcmp(name, commands[i].name) != 0)
                        continue;
                if (given & ~commands[i].options)
                        return cli_usage_error("%s: an option given does not apply to this "
                                               "command; see crdma-hook --help", name);
                cli->hook_stage = commands[i].run == cli_inject || commands[i].run == cli_poststop ||
                                  commands[i].run == cli_precreate;
                cli->args = argv + optind + 1;
                cli->n_args = (size_t) (argc - optind - 1);
                int r = cli_drop_privileges(cli, commands[i].run);
                if (r == CLI_EXIT_OK)
                        r = cli_open(cli);
                if (r == CLI_EXIT_OK)
                        r = commands[i].run(cli);
                return r;
        }
        return cli_usage_error("%s: unknown command; see crdma-hook --help", name);
}

int main(int argc, char **argv)
{
        struct cli cli = { 0 };
        int status = run(argc, argv, &cli);
        cli_close(&cli);
        return status;
}
