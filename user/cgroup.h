/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup.h - where cgroup v2 is mounted and what memory this process's
 * cgroups allow it (one reader of /proc/mounts and /proc/self/cgroup).
 */
#ifndef ATTLS_CGROUP_H
#define ATTLS_CGROUP_H

#include <stddef.h>
#include <stdint.h>

/* The cgroup v2 mount point from /proc/mounts into buf: 0 or -ENOENT. */
int cgroup2_mount(char *buf, size_t len);

/* This process's cgroup v2 directory (mount point + path from
 * /proc/self/cgroup) into buf: 0 or -ENOENT. */
int cgroup2_self(char *buf, size_t len);

/* The memory this process may use by its cgroups: the smallest
 * memory.max from its cgroup v2 up to the root, or the cgroup v1 memory
 * controller's limit on hybrid systems, whichever is smaller; UINT64_MAX
 * when nothing limits it. */
uint64_t cgroup_memory_limit(void);

#endif
