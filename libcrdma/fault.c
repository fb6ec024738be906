/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault injection (fault.h): compiled into the test-only fault build alone. */
#ifndef CRDMA_FAULT_INJECTION
#error "fault.c belongs to the fault-injection build only (tests/fault)"
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "context.h"
#include "error.h"
#include "fault.h"
#include "util.h"

/* Each step of crdma_plan_apply (and of release), in the order they run, and
 * the errno the kernel gives in a realistic failure of it. */
static const struct {
        const char *name;
        int errnum;
} steps[] = {
        { "mknod", EPERM },           /* no CAP_MKNOD, a nodev rootfs */
        { "chown", EPERM },           /* /dev/infiniband and each node made */
        { "devices.allow", EPERM },   /* v1: the parent cgroup denies the device */
        { "bpf-load", EPERM },        /* v2: no CAP_SYS_ADMIN, an LSM */
        { "bpf-replace", EPERM },     /* v2: BPF_PROG_ATTACH with BPF_F_REPLACE */
        { "subtree_control", EBUSY }, /* v2 +rdma: the cgroup has processes of its own */
        { "rdma.max", EINVAL },       /* the kernel no longer knows the device */
        { "prlimit", EPERM },         /* no CAP_SYS_RESOURCE */
        { "netns-move", EPERM },      /* no CAP_NET_ADMIN over the namespace */
        { "netns-return", ENODEV },   /* release: moving a device back */
        /* Not a failure: the apply stops after its last change and waits to be
         * killed, as a hook that a runtime kills past its timeout. */
        { "stall", 0 },
};

static const char *known_steps(char *buf, size_t len)
{
        size_t o = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(steps) && o < len; i++)
                o += (size_t) snprintf(buf + o, len - o, "%s%s", i ? ", " : "", steps[i].name);
        return buf;
}

static int lookup(const char *name, size_t len)
{
        for (size_t i = 0; i < ELEMENTSOF(steps); i++)
                if (strlen(steps[i].name) == len && strncmp(steps[i].name, name, len) == 0)
                        return (int) i;
        return -1;
}

int crdma_fault_parse(const char *spec, struct crdma_fault *out, struct crdma_error **err)
{
        *out = (struct crdma_fault){ 0 };
        if (!spec || !spec[0])
                return 0;
        const char *colon = strchr(spec, ':');
        size_t len = colon ? (size_t) (colon - spec) : strlen(spec);
        int i = lookup(spec, len);
        if (i < 0) {
                char buf[256];
                return crdma_fail(err, EINVAL, "CRDMA_FAULT=%s: unknown step; the steps are %s",
                                  spec, known_steps(buf, sizeof(buf)));
        }
        uint64_t nth = 1;
        if (colon && crdma_parse_decimal(colon + 1, 1000, &nth) < 0)
                return crdma_fail(err, EINVAL, "CRDMA_FAULT=%s: expected STEP[:N] with N from 1 "
                                  "to 1000", spec);
        if (nth == 0)
                return crdma_fail(err, EINVAL, "CRDMA_FAULT=%s: N counts from 1", spec);
        *out = (struct crdma_fault){ .step = steps[i].name, .nth = (unsigned) nth,
                                     .errnum = steps[i].errnum };
        return 0;
}

int crdma_fault_from_env(struct crdma_context *ctx, struct crdma_error **err)
{
        return crdma_fault_parse(secure_getenv("CRDMA_FAULT"), &ctx->fault, err);
}

int crdma_fault_set(struct crdma_context *ctx, const char *step, unsigned nth)
{
        if (!step) {
                ctx->fault = (struct crdma_fault){ 0 };
                return 0;
        }
        int i = lookup(step, strlen(step));
        if (i < 0 || nth == 0)
                return -EINVAL;
        ctx->fault = (struct crdma_fault){ .step = steps[i].name, .nth = nth,
                                           .errnum = steps[i].errnum };
        return 0;
}

bool crdma_fault_hit(struct crdma_context *ctx, const char *step)
{
        /* A checkpoint must name a step of the table: a misspelt one could
         * never fire, and its test would pass without testing anything. */
        if (lookup(step, strlen(step)) < 0)
                abort();
        struct crdma_fault *f = &ctx->fault;
        if (!f->step || strcmp(f->step, step) != 0 || ++f->seen != f->nth)
                return false;
        if (f->errnum)
                crdma_log(ctx, CRDMA_LOG_DEBUG, "fault injection: %s #%u fails with %s", step,
                          f->nth, strerrorname_np(f->errnum));
        else
                crdma_log(ctx, CRDMA_LOG_DEBUG, "fault injection: %s #%u", step, f->nth);
        errno = f->errnum;
        return true;
}
