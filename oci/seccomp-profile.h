/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One reading of an OCI linux.seccomp profile, for both paths: what it does
 * to one syscall.  The config editor adds allow rules from it; the inject
 * path, which cannot change a filter, warns from it. */
#ifndef CRDMA_OCI_SECCOMP_PROFILE_H
#define CRDMA_OCI_SECCOMP_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "crdma.h"

enum oci_seccomp_verdict {
        OCI_SECCOMP_BY_DEFAULT,  /* no rule names it: the default action decides */
        OCI_SECCOMP_ALLOWED,     /* a rule lets it through (SCMP_ACT_ALLOW or LOG)
                                    unconditionally, or exactly for the arg0 asked */
        OCI_SECCOMP_CONDITIONAL, /* rules on its arguments and none allowing it outright:
                                    the profile's own case-by-case choice, left to it */
        OCI_SECCOMP_OTHER,       /* a rule gives it another action unconditionally */
};

/* A seccomp action that lets a call through: SCMP_ACT_ALLOW or SCMP_ACT_LOG. */
bool oci_seccomp_action_allows(const char *action);

/* The verdict of the profile `seccomp` (a linux.seccomp object of the
 * document named `origin`) on syscall `name`, and for a socket-like call
 * restricted to first argument `arg0` (>= 0) a rule allowing exactly that
 * counts as allowing.  For OCI_SECCOMP_OTHER, *rule (may be NULL) is the
 * index of the rule and *action its action.  A malformed rule is refused. */
int oci_seccomp_verdict(const char *origin, yajl_val seccomp, const char *name, long long arg0,
                        enum oci_seccomp_verdict *out, size_t *rule, const char **action,
                        struct crdma_error **err);

/* Whether the profile's default action denies (a profile is there and its
 * defaultAction is not an allowing one); a profile without one is refused. */
int oci_seccomp_denies_by_default(const char *origin, yajl_val seccomp, bool *denies,
                                  struct crdma_error **err);

#endif
