// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup.c - cgroup v2 facts about this process: the mount point (users
 * may have /sys/fs/cgroup or, on hybrid systems, /sys/fs/cgroup/unified),
 * the process's own cgroup, and the memory limit that applies to it.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"

int cgroup2_mount(char *buf, size_t len)
{
	char dev[256], dir[PATH_MAX], type[64];
	FILE *f = fopen("/proc/mounts", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			snprintf(buf, len, "%s", dir);
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

int cgroup2_self(char *buf, size_t len)
{
	char line[PATH_MAX], mnt[PATH_MAX];
	int err = -ENOENT;
	FILE *f;

	if (cgroup2_mount(mnt, sizeof(mnt)))
		return -ENOENT;
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		if ((size_t)snprintf(buf, len, "%s%s", mnt,
				     strcmp(line + 3, "/") ? line + 3 : "") < len)
			err = 0;
		break;
	}
	fclose(f);
	return err;
}

/* memory.max of directory dir: bytes, or UINT64_MAX ("max", absent). */
static uint64_t memory_max_of(const char *dir)
{
	char path[2 * PATH_MAX + 16], val[32];
	uint64_t v = UINT64_MAX;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.max", dir);
	f = fopen(path, "re");
	if (!f)
		return UINT64_MAX;
	if (fgets(val, sizeof(val), f) && val[0] >= '0' && val[0] <= '9')
		v = strtoull(val, NULL, 10);
	fclose(f);
	return v;
}

/* The smallest memory.max from this process's cgroup v2 up to the root. */
static uint64_t memory_v2_max(void)
{
	char mnt[PATH_MAX], dir[2 * PATH_MAX];
	size_t root;
	uint64_t min = UINT64_MAX, v;
	char *slash;

	if (cgroup2_mount(mnt, sizeof(mnt)) || cgroup2_self(dir, sizeof(dir)))
		return UINT64_MAX;
	root = strlen(mnt);
	/* The root cgroup has no memory.max; stop below it. */
	while (strlen(dir) > root) {
		v = memory_max_of(dir);
		if (v < min)
			min = v;
		slash = strrchr(dir, '/');
		if (!slash || (size_t)(slash - dir) < root)
			break;
		*slash = '\0';
	}
	return min;
}

/*
 * Hybrid systems keep the memory controller on cgroup v1: its limit for
 * this process is hierarchical_memory_limit in memory.stat of the v1
 * memory cgroup (already the smallest on the way up).  UINT64_MAX when
 * there is no v1 memory hierarchy.
 */
static uint64_t memory_v1_limit(void)
{
	char dev[256], dir[PATH_MAX], type[64], opts[1024];
	char line[PATH_MAX + 64], path[2 * PATH_MAX + 16], *ctrl, *cg, *tok, *save;
	uint64_t v = UINT64_MAX;
	int found = 0;
	FILE *f = fopen("/proc/mounts", "re");

	if (!f)
		return UINT64_MAX;
	while (!found && fscanf(f, "%255s %4095s %63s %1023s %*[^\n]", dev, dir,
				type, opts) == 4) {
		if (strcmp(type, "cgroup"))
			continue;
		for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (!strcmp(tok, "memory"))
				found = 1;
	}
	fclose(f);
	if (!found)
		return UINT64_MAX;
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return UINT64_MAX;
	path[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		/* "ID:CONTROLLERS:PATH" */
		ctrl = strchr(line, ':');
		cg = ctrl ? strchr(ctrl + 1, ':') : NULL;
		if (!cg)
			continue;
		*cg++ = '\0';
		cg[strcspn(cg, "\n")] = '\0';
		for (tok = strtok_r(ctrl + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (!strcmp(tok, "memory"))
				snprintf(path, sizeof(path), "%s%s/memory.stat", dir, cg);
	}
	fclose(f);
	if (!path[0] || !(f = fopen(path, "re")))
		return UINT64_MAX;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "hierarchical_memory_limit ", 26))
			v = strtoull(line + 26, NULL, 10);
	fclose(f);
	return v;
}

uint64_t cgroup_memory_limit(void)
{
	uint64_t v2 = memory_v2_max(), v1 = memory_v1_limit();

	return v1 < v2 ? v1 : v2;
}
