/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a cgroup's path says of who made it: an engine's container or a
 * Slurm job step, read from the layouts the engines document. */
#ifndef CRDMA_CGROUP_OWNER_H
#define CRDMA_CGROUP_OWNER_H

/* `path` is relative to the cgroup root ("system.slice/docker-ID.scope").
 * Returns 1 with *id (the caller frees it) and *engine (static; NULL when
 * the layout names the id but not the engine) when a rule matches, 0 with
 * both NULL when none does, -ENOMEM. */
int crdma_cgroup_owner(const char *path, const char **engine, char **id);

#endif
