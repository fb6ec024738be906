/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault injection for tests: make one step of crdma_plan_apply fail as its
 * system call would, so the real error path and rollback run.
 *
 * Only a build compiled with CRDMA_FAULT_INJECTION has it (tests/fault
 * builds the library and a crdma-hook-fault that way; neither is
 * installed).  In every other build CRDMA_FAULT() is the constant false:
 * no code, no step names, no environment variable in the binary.
 *
 * The switch: CRDMA_FAULT=STEP[:N] in the environment of the process that
 * creates the context (read by crdma_context_new), or crdma_fault_set() in
 * unit tests.  The Nth time (default 1st) STEP is reached, the checkpoint
 * sets errno to the step's errno (the table in fault.c) and returns true;
 * the caller then takes the path of a failed system call.  One step is no
 * failure: "stall" stops crdma_plan_apply after its last change until the
 * process is killed (a hook a runtime kills past its timeout). */
#ifndef CRDMA_FAULT_H
#define CRDMA_FAULT_H

#include <stdbool.h>

#include "crdma.h"

#ifdef CRDMA_FAULT_INJECTION

struct crdma_fault {
        const char *step; /* from the table in fault.c; NULL: no fault armed */
        unsigned nth;     /* fail the nth time the step is reached, from 1 */
        unsigned seen;    /* times reached so far */
        int errnum;
};

/* "STEP[:N]" -> *out (disarmed for NULL or ""); an unknown step or a bad N is
 * an error naming the known steps, so a typo never lets a test pass. */
int crdma_fault_parse(const char *spec, struct crdma_fault *out, struct crdma_error **err);
/* Arm the context's fault from the CRDMA_FAULT environment variable. */
int crdma_fault_from_env(struct crdma_context *ctx, struct crdma_error **err);
/* Arm (step NULL: disarm) the context's fault; 0 or -EINVAL for an unknown step. */
int crdma_fault_set(struct crdma_context *ctx, const char *step, unsigned nth);
/* The checkpoint: true (errno set) when this is the armed step's nth time. */
bool crdma_fault_hit(struct crdma_context *ctx, const char *step);

#define CRDMA_FAULT(ctx, step) crdma_fault_hit((ctx), (step))

#else

/* sizeof: no evaluation, no code, and the step's name never reaches the binary. */
#define CRDMA_FAULT(ctx, step) ((void) sizeof(ctx), false)

#endif

#endif
