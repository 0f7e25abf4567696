// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * privdrop.c - drop capabilities (see privdrop.h).  capset(2) and
 * prctl(2) directly: two system calls do not justify libcap.
 *
 * What attlsd needs after startup was measured (docs/security.md G15):
 * map updates, link detach at SIGTERM, unpinning (bpffs files it owns as
 * uid 0), engine sockets (hop ports come from ip_local_port_range) and
 * the control socket need no capability; only reading other users' key
 * ring files at reload does (CAP_DAC_READ_SEARCH).  Loading programs,
 * attaching, pidfd_getfd() adoption (CAP_SYS_PTRACE), bpffs mount and
 * pinning happen before the drop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "privdrop.h"

/* The highest capability number this kernel knows; CAP_LAST_CAP of our
 * headers when /proc does not say (an older kernel knows fewer). */
static int cap_last(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

/* Keep exactly `keep` (a mask of capability bits) in the calling thread. */
static int keep_only(unsigned long long keep)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2];
	int c, last = cap_last();

	/* The bounding set first: dropping from it needs CAP_SETPCAP,
	 * which the capset() below takes away.  EINVAL: not a capability
	 * of this kernel. */
	for (c = 0; c <= last; c++)
		if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) &&
		    errno != EINVAL)
			return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL)
		return -errno;
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (__u32)keep;
	data[1].effective = data[1].permitted = (__u32)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

int privdrop_daemon(void)
{
	return keep_only(1ULL << CAP_DAC_READ_SEARCH);
}

int privdrop_worker(void)
{
	return keep_only(0);
}

unsigned long long privdrop_effective(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return ~0ULL;
	return (unsigned long long)data[1].effective << 32 | data[0].effective;
}
