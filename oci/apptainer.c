/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The TOML for Apptainer's --apply-cgroups.  Apptainer reads it with go-toml
 * into its cgroups.Config, whose `rdma` field is map[string]LinuxRdma with
 * `hcaHandles`/`hcaObjects` *uint32 (toml tags), converts that to the OCI
 * LinuxResources and hands it to opencontainers/cgroups, which writes
 * rdma.max.  go-toml ignores unknown keys: a misspelt key would be no limit
 * at all, so the key names here are the ones in Apptainer's struct tags.
 *
 * No [[devices]] rules: with none, Apptainer leaves device access alone
 * (cgroups.Manager.UpdateFromSpec sets SkipDevices); with any, the cgroup
 * library starts from deny-all and the container would lose /dev/null and
 * every other device it binds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apptainer.h"
#include "cleanup.h"
#include "error.h"
#include "plan.h"
#include "request.h"

static int refuse_unsupported(const struct crdma_request *req, struct crdma_error **err)
{
        if (req->has_memlock)
                return crdma_refuse(err, EOPNOTSUPP,
                                    "annotation io.crdma.memlock: Apptainer's cgroups file "
                                    "cannot set RLIMIT_MEMLOCK (the container keeps the "
                                    "caller's); raise it with `ulimit -l` or limits.conf "
                                    "before apptainer runs, and drop the annotation");
        if (req->umad)
                return crdma_refuse(err, EOPNOTSUPP,
                                    "annotation io.crdma.umad=\"true\": the crdma.io/hca CDI "
                                    "devices Apptainer gets carry no umad node; drop the "
                                    "annotation");
        if (req->raw)
                return crdma_refuse(err, EOPNOTSUPP,
                                    "annotation io.crdma.raw=\"true\": Apptainer's cgroups file "
                                    "cannot grant CAP_NET_RAW; use apptainer --add-caps "
                                    "CAP_NET_RAW and drop the annotation");
        if (req->netns == CRDMA_NETNS_EXCLUSIVE)
                return crdma_refuse(err, EOPNOTSUPP,
                                    "annotation io.crdma.netns=\"exclusive\": Apptainer's "
                                    "cgroups file cannot move RDMA devices into a network "
                                    "namespace; drop the annotation (shared mode)");
        return 0;
}

/* TOML bare keys are [A-Za-z0-9_-]; a device name may also hold '.', which
 * would split the key: quote it then (the name has no '"' or '\'). */
static void put_key(FILE *f, const char *name)
{
        if (name[strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                              "0123456789_-")] == '\0')
                fputs(name, f);
        else
                fprintf(f, "\"%s\"", name);
}

static int toml_limit(uint64_t v, const char *dev, const char *key, unsigned long long *out,
                      struct crdma_error **err)
{
        if (v == CRDMA_UNLIMITED)
                v = OCI_APPTAINER_RDMA_MAX;
        /* The policy parser already bounds limits by the kernel's INT_MAX. */
        if (v > OCI_APPTAINER_RDMA_MAX)
                return crdma_fail(err, ERANGE, "device %s: %s %llu: above the kernel's rdma.max "
                                  "range (at most %llu)", dev, key, (unsigned long long) v,
                                  OCI_APPTAINER_RDMA_MAX);
        *out = v;
        return 0;
}

int oci_apptainer_cgroups(const struct crdma_request *req, const struct crdma_plan *plan,
                          char **toml, struct crdma_error **err)
{
        int r = refuse_unsupported(req, err);
        if (r < 0)
                return r;

        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return crdma_fail_oom(err);
        fputs("# Apptainer --apply-cgroups file written by crdma-hook apptainer-cgroups.\n"
              "# RDMA device access comes from CDI: apptainer run --device crdma.io/hca=NAME.\n"
              "# 2147483647 is the kernel's \"max\" (no limit) for rdma.max.\n",
              f);
        for (size_t i = 0; i < crdma_plan_device_count(plan) && r >= 0; i++) {
                const char *name = crdma_plan_device_name(plan, i);
                uint64_t handles, objects;
                unsigned long long h = 0, o = 0;
                crdma_plan_rdma_limit(plan, i, &handles, &objects);
                r = toml_limit(handles, name, "hcaHandles", &h, err);
                if (r >= 0)
                        r = toml_limit(objects, name, "hcaObjects", &o, err);
                if (r < 0)
                        break;
                fputs("\n[rdma.", f);
                put_key(f, name);
                fprintf(f, "]\nhcaHandles = %llu\nhcaObjects = %llu\n", h, o);
        }
        if (fclose(f) != 0 && r >= 0)
                return crdma_fail_oom(err);
        if (r < 0)
                return r;
        *toml = TAKE_PTR(buf);
        return 0;
}

int crdma_apptainer_cgroups(struct crdma_context *ctx, const struct crdma_kv *request, size_t n,
                            char **toml, struct crdma_error **err)
{
        if (!ctx || (!request && n) || !toml)
                return crdma_fail(err, EINVAL, "crdma_apptainer_cgroups: NULL argument");
        _cleanup_(crdma_request_freep) struct crdma_request *req = NULL;
        _cleanup_(crdma_plan_freep) struct crdma_plan *plan = NULL;
        int r = crdma_request_from_annotations(request, n, &req, err);
        if (r < 0)
                return r;
        if (!req) {
                *toml = NULL;
                return 0;
        }
        r = crdma_plan_make(ctx, req, &plan, err);
        if (r >= 0)
                r = oci_apptainer_cgroups(req, plan, toml, err);
        return r;
}
