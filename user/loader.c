// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * loader.c - BPF object lifecycle: load, pin, attach, adopt, policy install.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attls.skel.h"
#include "loader.h"
#include "addr.h"
#include "log.h"
#include "../bpf/attls_match.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define DP_MAX_CGROUPS	64
/* links per cgroup: one per cgroup program (13 today), with room */
#define DP_MAX_LINKS	(DP_MAX_CGROUPS * 16 + 1)

struct dp {
	struct attls_bpf *skel;
	char pin_root[PATH_MAX];
	char netns_path[PATH_MAX];
	struct bpf_link *links[DP_MAX_LINKS];
	unsigned nlinks;
	char *cgroups[DP_MAX_CGROUPS];
	unsigned ncgroups;
	uint64_t generation;
	int had_links;		/* links were pinned before we opened */
};

int dp_ensure_bpffs(void)
{
	struct statfs st;
	int err;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir("/sys/fs/bpf", 0700) && errno != EEXIST) {
		err = -errno;
		log_warn("cannot create /sys/fs/bpf");
		return err;
	}
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		err = -errno;
		log_warn("cannot mount bpffs on /sys/fs/bpf");
		return err;
	}
	log_info("mounted bpffs on /sys/fs/bpf");
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int dp_open(const struct dp_opts *opts, struct dp **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	struct dp *dp;
	int err;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	snprintf(dp->pin_root, sizeof(dp->pin_root), "%s",
		 opts && opts->pin_root ? opts->pin_root : ATTLS_PIN_ROOT);
	snprintf(dp->netns_path, sizeof(dp->netns_path), "%s",
		 opts && opts->netns_path ? opts->netns_path : "/proc/self/ns/net");

	{
		char links[PATH_MAX + 8];

		snprintf(links, sizeof(links), "%s/links", dp->pin_root);
		dp->had_links = access(links, F_OK) == 0;
	}
	err = mkdir_p(dp->pin_root, 0700);
	if (err) {
		log_warnx("cannot create pin directory %s: %s", dp->pin_root,
			  strerror(-err));
		goto free_dp;
	}
	oopts.pin_root_path = dp->pin_root;
	dp->skel = attls_bpf__open_opts(&oopts);
	if (!dp->skel) {
		err = -errno;
		log_warnx("cannot open the BPF object: %s", strerror(-err));
		goto free_dp;
	}
	err = attls_bpf__load(dp->skel);
	if (err) {
		log_warnx("cannot load the BPF object: %s (run with -vv for the "
			  "verifier log; if maps pinned under %s come from an "
			  "older attls, remove them with 'attlsd --cleanup')",
			  strerror(-err), dp->pin_root);
		goto destroy_skel;
	}
	{
		struct attls_policy_hdr hdr;
		__u32 zero = 0;

		if (!bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.attls_policy),
					 &zero, &hdr))
			dp->generation = hdr.generation;
	}
	*out = dp;
	return 0;

destroy_skel:
	attls_bpf__destroy(dp->skel);
free_dp:
	free(dp);
	return err;
}

/*
 * Make `prog` the program of the link pinned at `path`: swap it into an
 * existing pinned link (atomic, no gap in steering) or create the link
 * with `attach` and pin it.
 */
static int dp_link_pinned(struct dp *dp, struct bpf_program *prog,
			  const char *path, int target_fd, int is_netns)
{
	struct bpf_link *link, *old;
	int err;

	if (dp->nlinks >= DP_MAX_LINKS)
		return -E2BIG;
	/* probe first: libbpf warns about opening a pin that is not there */
	old = access(path, F_OK) ? NULL : bpf_link__open(path);
	if (old) {
		err = bpf_link__update_program(old, prog);
		if (!err) {
			log_debug("adopted pinned link %s", path);
			dp->links[dp->nlinks++] = old;
			return 0;
		}
		log_info("pinned link %s cannot take the new program (%s): "
			 "replacing it", path, strerror(-err));
	}
	link = is_netns ? bpf_program__attach_netns(prog, target_fd)
			: bpf_program__attach_cgroup(prog, target_fd);
	if (!link) {
		err = -errno;
		log_warnx("cannot attach %s: %s", bpf_program__name(prog),
			  strerror(-err));
		goto destroy_old;
	}
	if (old) {
		/* the new link is live: now drop the old one */
		bpf_link__unpin(old);
		bpf_link__destroy(old);
		old = NULL;
	}
	err = bpf_link__pin(link, path);
	if (err) {
		log_warnx("cannot pin link %s: %s", path, strerror(-err));
		bpf_link__destroy(link);
		return err;
	}
	dp->links[dp->nlinks++] = link;
	return 0;

destroy_old:
	if (old)
		bpf_link__destroy(old);	/* still pinned: keeps steering */
	return err;
}

int dp_attach_cgroup(struct dp *dp, const char *cgroup_path)
{
	char dir[PATH_MAX + 64], path[PATH_MAX + 128];
	struct bpf_program *prog;
	struct stat st;
	int cg_fd, err = 0;

	if (dp->ncgroups >= DP_MAX_CGROUPS)
		return -E2BIG;
	cg_fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		err = -errno;
		log_warnx("cgroup %s: %s (give a cgroup v2 directory, e.g. "
			  "/sys/fs/cgroup/unified/myservice)", cgroup_path,
			  strerror(-err));
		return err;
	}
	if (fstat(cg_fd, &st)) {
		err = -errno;
		goto close_cg;
	}
	/* On cgroup v2 the directory's inode number is the cgroup id. */
	snprintf(dir, sizeof(dir), "%s/links/cg%llu", dp->pin_root,
		 (unsigned long long)st.st_ino);
	err = mkdir_p(dir, 0700);
	if (err)
		goto close_cg;

	bpf_object__for_each_program(prog, dp->skel->obj) {
		if (bpf_program__type(prog) == BPF_PROG_TYPE_SK_LOOKUP)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir,
			 bpf_program__name(prog));
		err = dp_link_pinned(dp, prog, path, cg_fd, 0);
		if (err) {
			log_warnx("cgroup %s: attaching %s failed (is it a "
				  "cgroup v2 directory?)", cgroup_path,
				  bpf_program__name(prog));
			goto close_cg;
		}
	}
	dp->cgroups[dp->ncgroups] = strdup(cgroup_path);
	if (!dp->cgroups[dp->ncgroups]) {
		err = -ENOMEM;
		goto close_cg;
	}
	dp->ncgroups++;
	log_info("attached to cgroup %s (links pinned in %s)", cgroup_path, dir);
close_cg:
	close(cg_fd);
	return err;
}

int dp_attach_netns(struct dp *dp)
{
	char dir[PATH_MAX + 64], path[PATH_MAX + 128];
	struct stat st;
	int ns_fd, err;

	ns_fd = open(dp->netns_path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0) {
		err = -errno;
		log_warnx("network namespace %s: %s", dp->netns_path,
			  strerror(-err));
		return err;
	}
	if (fstat(ns_fd, &st)) {
		err = -errno;
		goto close_ns;
	}
	snprintf(dir, sizeof(dir), "%s/links/netns%llu", dp->pin_root,
		 (unsigned long long)st.st_ino);
	err = mkdir_p(dir, 0700);
	if (err)
		goto close_ns;
	snprintf(path, sizeof(path), "%s/%s", dir,
		 bpf_program__name(dp->skel->progs.attls_lookup));
	err = dp_link_pinned(dp, dp->skel->progs.attls_lookup, path, ns_fd, 1);
	if (!err)
		log_info("sk_lookup attached to network namespace %s", dir);
close_ns:
	close(ns_fd);
	return err;
}

int dp_set_engine_listener(struct dp *dp, unsigned slot, int fd)
{
	struct attls_engine_addr ea = {};
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	__u64 val = (__u64)fd;
	__u32 idx = slot;
	int err;

	if (slot >= ATTLS_ENGINE_LSN_MAX)
		return -EINVAL;
	if (slot == ATTLS_ENGINE_OUT_V4 || slot == ATTLS_ENGINE_OUT_V6) {
		if (getsockname(fd, (struct sockaddr *)&ss, &len) ||
		    attls_addr_from_sockaddr((struct sockaddr *)&ss, ea.addr, &ea.port)) {
			err = -errno ?: -EINVAL;
			log_warn("engine outbound listener address");
			return err;
		}
		if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.attls_engine_addr),
					&idx, &ea, BPF_ANY)) {
			err = -errno;
			log_warn("cannot write attls_engine_addr");
			return err;
		}
	}
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.attls_engine),
				&idx, &val, BPF_ANY)) {
		err = -errno;
		log_warn("cannot register engine listener slot %u in attls_engine",
			 slot);
		return err;
	}
	return 0;
}

int dp_out_map_fd(const struct dp *dp)
{
	return bpf_map__fd(dp->skel->maps.attls_out);
}

/* Delete every key of a hash map. */
static void dp_map_clear(int fd, size_t key_size)
{
	char key[256], next[256];
	void *prev = NULL;

	if (key_size > sizeof(key))
		return;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		bpf_map_delete_elem(fd, key);
		prev = NULL;	/* restart: the key we held is gone */
	}
}

void dp_clear_engine_state(struct dp *dp)
{
	dp_map_clear(bpf_map__fd(dp->skel->maps.attls_steer),
		     sizeof(struct attls_flow));
	dp_map_clear(bpf_map__fd(dp->skel->maps.attls_hop),
		     sizeof(struct attls_endpoint));
	dp_map_clear(bpf_map__fd(dp->skel->maps.attls_out),
		     sizeof(struct attls_endpoint));
	dp_map_clear(bpf_map__fd(dp->skel->maps.attls_secmap),
		     sizeof(struct attls_secmap_key));
}

static void portmap_set_range(struct attls_portmap *pm, __u16 lo, __u16 hi)
{
	unsigned p;

	for (p = lo; p <= hi; p++)
		pm->bits[p >> 3] |= (__u8)(1u << (p & 7));
}

/*
 * attls_portmap for rule set `set`: a port's bit is set when some clause
 * could match it (inbound: its local port range; outbound: its remote port
 * range), so classification of any other port stops at one lookup.
 */
static int dp_write_portmaps(struct dp *dp, const struct attls_map_image *img,
			     __u32 set)
{
	int fd = bpf_map__fd(dp->skel->maps.attls_portmap);
	struct attls_portmap *pm;
	__u32 idx;
	size_t i;
	int err = 0;

	pm = calloc(2, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	for (i = 0; i < img->nrules; i++) {
		const struct attls_rule *r = &img->rules[i];

		if (r->flags & ATTLS_RF_INBOUND)
			portmap_set_range(&pm[ATTLS_PORTMAP_IN], r->lport_lo, r->lport_hi);
		if (r->flags & ATTLS_RF_OUTBOUND)
			portmap_set_range(&pm[ATTLS_PORTMAP_OUT], r->rport_lo, r->rport_hi);
	}
	for (idx = 0; idx < 2 && !err; idx++) {
		__u32 key = set * 2 + idx;

		if (bpf_map_update_elem(fd, &key, &pm[idx], BPF_ANY)) {
			err = -errno;
			log_warn("cannot write attls_portmap");
		}
	}
	free(pm);
	return err;
}

int dp_install_policy(struct dp *dp, const struct attls_map_image *img,
		      uint64_t *generation)
{
	int pol_fd = bpf_map__fd(dp->skel->maps.attls_policy);
	int rules_fd = bpf_map__fd(dp->skel->maps.attls_rules);
	struct attls_policy_hdr hdr = {};
	__u32 zero = 0, set, slot;
	size_t i;
	int err;

	if (img->nrules > ATTLS_MAX_RULES)
		return -E2BIG;
	if (bpf_map_lookup_elem(pol_fd, &zero, &hdr)) {
		err = -errno;
		log_warn("cannot read attls_policy");
		return err;
	}
	/* Never write the live set.  Before the first install both are empty
	 * and nrules is 0, so set 1 is as good as any. */
	set = (hdr.active & 1) ^ 1;
	for (i = 0; i < img->nrules; i++) {
		slot = set * ATTLS_MAX_RULES + (__u32)i;
		if (bpf_map_update_elem(rules_fd, &slot, &img->rules[i], BPF_ANY)) {
			err = -errno;
			log_warn("cannot write rule clause %zu", i);
			return err;
		}
	}
	err = dp_write_portmaps(dp, img, set);
	if (err)
		return err;
	hdr.nrules[set] = (__u32)img->nrules;
	hdr.active = set;
	hdr.state = ATTLS_STATE_ACTIVE;
	hdr.generation++;
	if (bpf_map_update_elem(pol_fd, &zero, &hdr, BPF_ANY)) {
		err = -errno;
		log_warn("cannot switch attls_policy to the new rule set");
		return err;
	}
	dp->generation = hdr.generation;
	*generation = hdr.generation;
	return 0;
}

uint64_t dp_generation(const struct dp *dp)
{
	return dp->generation;
}

int dp_steer_map_fd(const struct dp *dp)
{
	return bpf_map__fd(dp->skel->maps.attls_steer);
}

int dp_hop_map_fd(const struct dp *dp)
{
	return bpf_map__fd(dp->skel->maps.attls_hop);
}

int dp_secmap_map_fd(const struct dp *dp)
{
	return bpf_map__fd(dp->skel->maps.attls_secmap);
}

int dp_appsk_map_fd(const struct dp *dp)
{
	return bpf_map__fd(dp->skel->maps.attls_appsk);
}

int dp_owner_map_fd(const struct dp *dp)
{
	return bpf_map__fd(dp->skel->maps.attls_owner);
}

int dp_bindkey_map_fd(const struct dp *dp)
{
	return bpf_map__fd(dp->skel->maps.attls_bindkey);
}

int dp_orig_map_fd(const struct dp *dp)
{
	return bpf_map__fd(dp->skel->maps.attls_orig);
}

int dp_ringbuf_fd(const struct dp *dp)
{
	return bpf_map__fd(dp->skel->maps.attls_events);
}

int dp_stats_map_fd(const struct dp *dp)
{
	return bpf_map__fd(dp->skel->maps.attls_stats);
}

unsigned dp_ncgroups(const struct dp *dp)
{
	return dp->ncgroups;
}

const char *dp_cgroup_path(const struct dp *dp, unsigned i)
{
	return i < dp->ncgroups ? dp->cgroups[i] : NULL;
}

/* ---- adoption of sockets bound before attlsd started ---- */

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_getfd_(int pidfd, int fd)
{
	return (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
}

static int read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

static int proc_owner(pid_t pid, __u64 cgroup_id, struct attls_owner *o)
{
	char path[64], buf[4096], *p;
	unsigned uid, gid;

	memset(o, 0, sizeof(*o));
	o->pid = (__u32)pid;
	o->cgroup_id = cgroup_id;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -ESRCH;
	p = strstr(buf, "\nUid:");
	if (!p || sscanf(p + 5, "%u", &uid) != 1)
		return -EINVAL;
	p = strstr(buf, "\nGid:");
	if (!p || sscanf(p + 5, "%u", &gid) != 1)
		return -EINVAL;
	o->uid = uid;
	o->gid = gid;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -ESRCH;
	buf[strcspn(buf, "\n")] = '\0';
	memcpy(o->comm, buf, strnlen(buf, ATTLS_COMM_LEN - 1));
	return 0;
}

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP	262
#endif

/* Adopt one socket fd (ours, duplicated from the owner) if it is a TCP
 * listener, MPTCP included: an MPTCP listener's subflows are TCP, so its
 * SYNs reach sk_lookup like any other (docs/design-notes.md).  Returns 1
 * if adopted, 0 if not a candidate, -errno. */
static int dp_adopt_sock(struct dp *dp, int fd, const struct attls_owner *o)
{
	struct attls_endpoint key = {};
	struct attls_bound_val val = {};
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int), slen = sizeof(ss);
	int proto = 0, listening = 0;
	__u64 cookie = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) ||
	    (proto != IPPROTO_TCP && proto != IPPROTO_MPTCP))
		return 0;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) ||
	    !listening)
		return 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &slen))
		return -errno;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		if (sin->sin_addr.s_addr)
			attls_addr_from_v4(key.addr, sin->sin_addr.s_addr);
		key.port = ntohs(sin->sin_port);
		key.family = ATTLS_AF_INET;
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		memcpy(key.addr, &sin6->sin6_addr, sizeof(key.addr));
		key.port = ntohs(sin6->sin6_port);
		key.family = ATTLS_AF_INET6;
	} else {
		return 0;
	}
	len = sizeof(cookie);
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len))
		return -errno;
	/* Give the listener owner storage so that sockets accepted from now
	 * on inherit it (BPF_F_CLONE), as if sock_create had seen it. */
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.attls_owner), &fd,
				o, BPF_ANY))
		log_warn("cannot set owner storage on an adopted listener");
	val.owner = *o;
	val.cookie = cookie;
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.attls_bound), &key,
				&val, BPF_ANY))
		return -errno;
	log_info("adopted listener port %u of pid %u (%.16s, uid %u)",
		 key.port, o->pid, (const char *)o->comm, o->uid);
	return 1;
}

static int dp_adopt_pid(struct dp *dp, pid_t pid, __u64 cgroup_id)
{
	char path[64], link[64];
	struct attls_owner owner;
	struct dirent *de;
	int pidfd, n = 0, err;
	DIR *d;

	if (proc_owner(pid, cgroup_id, &owner))
		return 0;	/* exited meanwhile */
	pidfd = pidfd_open_(pid);
	if (pidfd < 0) {
		if (errno != ESRCH)
			log_warn("cgroup process %d (%.16s): cannot inspect its "
				 "sockets; a TCP listener it opened before attlsd "
				 "started is NOT protected until it binds again",
				 pid, (const char *)owner.comm);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		goto close_pidfd;
	while ((de = readdir(d))) {
		char fdpath[PATH_MAX];
		ssize_t l;
		int fd, tfd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
		l = readlink(fdpath, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = '\0';
		if (strncmp(link, "socket:", 7))
			continue;
		tfd = atoi(de->d_name);
		fd = pidfd_getfd_(pidfd, tfd);
		if (fd < 0) {
			/* never silently: this may be a protected listener
			 * that now stays unclassified */
			if (errno != ESRCH && errno != EBADF)
				log_warn("cgroup process %d (%.16s): cannot inspect "
					 "socket fd %d (%s); if it is a TCP listener "
					 "opened before attlsd started, it is NOT "
					 "protected until it binds again", pid,
					 (const char *)owner.comm, tfd, link);
			continue;
		}
		err = dp_adopt_sock(dp, fd, &owner);
		close(fd);
		if (err > 0)
			n++;
		else if (err < 0)
			log_warnx("cgroup process %d (%.16s): socket fd %d: %s; if "
				  "it is a TCP listener it is NOT protected until it "
				  "binds again", pid, (const char *)owner.comm, tfd,
				  strerror(-err));
	}
	closedir(d);
close_pidfd:
	close(pidfd);
	return n;
}

static int dp_adopt_dir(struct dp *dp, const char *dir, int depth)
{
	char path[PATH_MAX], buf[65536], *line, *save;
	struct dirent *de;
	struct stat st;
	int n = 0, r;
	DIR *d;

	if (depth > 32 || stat(dir, &st))
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (read_small(path, buf, sizeof(buf)) > 0) {
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			r = dp_adopt_pid(dp, (pid_t)atoi(line), st.st_ino);
			if (r > 0)
				n += r;
		}
	}
	d = opendir(dir);
	if (!d)
		return n;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n += dp_adopt_dir(dp, path, depth + 1);
	}
	closedir(d);
	return n;
}

int dp_adopt_bound(struct dp *dp, const char *cgroup_path)
{
	return dp_adopt_dir(dp, cgroup_path, 0);
}

int dp_had_links(const struct dp *dp)
{
	return dp->had_links;
}

int dp_set_state(struct dp *dp, __u32 state)
{
	int fd = bpf_map__fd(dp->skel->maps.attls_policy);
	struct attls_policy_hdr hdr;
	__u32 zero = 0;
	int err;

	if (bpf_map_lookup_elem(fd, &zero, &hdr) ||
	    (hdr.state = state, bpf_map_update_elem(fd, &zero, &hdr, BPF_ANY))) {
		err = -errno;
		log_warn("cannot set the policy state");
		return err;
	}
	return 0;
}

int dp_permit(struct dp *dp, const char *comm)
{
	char key[ATTLS_COMM_LEN] = {};
	__u8 one = 1;
	int err;

	if (strlen(comm) >= ATTLS_COMM_LEN) {
		log_warnx("--permit %s: a job name (process comm) has at most %d "
			  "characters", comm, ATTLS_COMM_LEN - 1);
		return -EINVAL;
	}
	memcpy(key, comm, strlen(comm));
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.attls_permit), key,
				&one, BPF_ANY)) {
		err = -errno;
		log_warn("cannot write attls_permit");
		return err;
	}
	return 0;
}

void dp_release(struct dp *dp)
{
	unsigned i;

	if (!dp)
		return;
	/* Closing a pinned link's fd leaves it attached: the pin holds it. */
	for (i = 0; i < dp->nlinks; i++)
		bpf_link__destroy(dp->links[i]);
	attls_bpf__destroy(dp->skel);
	for (i = 0; i < dp->ncgroups; i++)
		free(dp->cgroups[i]);
	free(dp);
}

/* ---- teardown ---- */

static int rm_tree(const char *path)
{
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) ? -errno : 0;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char sub[PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		rm_tree(sub);
	}
	closedir(d);
	return rmdir(path) ? -errno : 0;
}

void dp_detach_and_free(struct dp *dp)
{
	char links[PATH_MAX + 8];
	unsigned i;

	if (!dp)
		return;
	for (i = 0; i < dp->nlinks; i++) {
		bpf_link__unpin(dp->links[i]);
		bpf_link__destroy(dp->links[i]);
	}
	if (dp->skel) {
		bpf_object__unpin_maps(dp->skel->obj, NULL);
		attls_bpf__destroy(dp->skel);
	}
	snprintf(links, sizeof(links), "%s/links", dp->pin_root);
	rm_tree(links);
	if (rmdir(dp->pin_root) && errno != ENOENT)
		log_warn("%s not removed", dp->pin_root);
	for (i = 0; i < dp->ncgroups; i++)
		free(dp->cgroups[i]);
	free(dp);
}

int dp_cleanup_pins(const char *pin_root)
{
	/* Unlinking a pin drops its reference: a link nobody else holds
	 * detaches, a map nobody else holds is freed. */
	return rm_tree(pin_root ? pin_root : ATTLS_PIN_ROOT);
}
