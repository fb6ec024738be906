/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OCI state a hook reads on stdin, and the bundle's config.json, as
 * plain C for the library. */
#ifndef CRDMA_OCI_STATE_H
#define CRDMA_OCI_STATE_H

#include <stdbool.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

#include "annotations.h"
#include "crdma.h"
#include "json-read.h"

struct oci_container {
        yajl_val state;  /* owned trees; the strings below point into them */
        yajl_val config; /* NULL when the bundle has no readable config.json */
        const char *id;
        const char *status;
        pid_t pid;       /* 0 when the state has none (poststop) */
        char *bundle;
        char *config_path; /* <bundle>/config.json, for messages */
        char *rootfs;    /* absolute: config root.path resolved against the bundle */
        const char *netns_path; /* config linux.namespaces network path, if any */
        bool has_netns;         /* config asks for a network namespace */
        /* linux.namespaces, each type and path (NULL: a new namespace) */
        struct oci_namespace {
                const char *type;
                const char *path;
        } *namespaces;
        size_t n_namespaces;
        const char *cgroups_path; /* linux.cgroupsPath, if any */
        struct oci_annotations annotations; /* io.crdma.* only: state's, then config's */
        /* What the reader let through, judged once the annotations are
         * known: a "\u0000", a key given twice. */
        struct crdma_json_facts state_facts, config_facts;
        /* process.capabilities.effective; caps_known false when config has none */
        bool caps_known;
        const char **caps;
        size_t n_caps;
        /* process.rlimits RLIMIT_MEMLOCK (UINT64_MAX: unlimited) */
        bool memlock_set;
        uint64_t memlock_soft, memlock_hard;
        /* linux.seccomp (NULL: none) and whether its default denies */
        yajl_val seccomp;
        bool seccomp_denies_by_default;
};

/* Parse the state from `state_text`, read <bundle>/config.json and merge the
 * annotations: enough to tell whether the container asks crdma anything.
 * With `need_pid` a state without a positive pid is an error.  A container
 * that asks is refused when either document has a "\u0000" or a key given
 * twice; one that asks nothing is not crdma's to judge. */
int oci_container_load(const char *state_text, size_t len, bool need_pid,
                       struct oci_container *out, struct crdma_error **err);
/* The rest, read only for a container that asks: rootfs, namespaces,
 * capabilities, seccomp, rlimits.  A config an unannotated container's
 * runtime accepts must never fail it here. */
int oci_container_details(struct oci_container *c, struct crdma_error **err);
void oci_container_clear(struct oci_container *c);


#endif
