/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * loader.h - the datapath: the BPF object's lifecycle in attlsd.
 *
 * Opens the skeleton with every state map pinned under ATTLS_PIN_ROOT
 * (reusing pins a previous attlsd left), attaches the cgroup programs to
 * each --cgroup and sk_lookup to the network namespace, and pins every
 * link: a link held only by attlsd's fds would detach when attlsd dies and
 * protected traffic would then flow in cleartext.  A restarted attlsd
 * swaps its programs into the pinned links atomically
 * (bpf_link__update_program), so steering never stops.
 */
#ifndef ATTLS_LOADER_H
#define ATTLS_LOADER_H

#include <stdint.h>

#include "../policy/policy-t.h"

struct dp;

struct dp_opts {
	const char *pin_root;		/* default ATTLS_PIN_ROOT */
	const char *netns_path;		/* default /proc/self/ns/net */
};

/* Mount bpffs at /sys/fs/bpf when it is not mounted.  0 or -errno. */
int dp_ensure_bpffs(void);

/* Open, load and pin the BPF object.  0 or -errno (logged). */
int dp_open(const struct dp_opts *opts, struct dp **out);

/*
 * Attach (or adopt the pinned links of) every cgroup program to the
 * cgroup v2 directory `cgroup_path`, and pin the links.  0 or -errno.
 */
int dp_attach_cgroup(struct dp *dp, const char *cgroup_path);

/* Attach (or adopt) sk_lookup on the network namespace.  0 or -errno. */
int dp_attach_netns(struct dp *dp);

/*
 * Record sockets already bound by processes in `cgroup_path` (started
 * before attlsd) as post_bind would have: their owner and endpoint.
 * Returns the number adopted or -errno.
 */
int dp_adopt_bound(struct dp *dp, const char *cgroup_path);

/*
 * Put an engine listening socket into attls_engine slot `slot`
 * (ATTLS_ENGINE_LSN_V4/_V6: inbound, ATTLS_ENGINE_OUT_V4/_V6: outbound;
 * for outbound slots its address goes into attls_engine_addr, where
 * connect4/6 send steered connections).  0 or -errno.
 */
int dp_set_engine_listener(struct dp *dp, unsigned slot, int fd);

int dp_out_map_fd(const struct dp *dp);

/* Forget steering and hop state of a previous engine (after a restart). */
void dp_clear_engine_state(struct dp *dp);

/*
 * Write the image's clauses into the idle rule set and make it live with
 * one update; *generation receives the new generation.  0 or -errno.
 */
int dp_install_policy(struct dp *dp, const struct attls_map_image *img,
		      uint64_t *generation);

/* Current generation of the live policy (0 if none). */
uint64_t dp_generation(const struct dp *dp);

int dp_steer_map_fd(const struct dp *dp);
int dp_hop_map_fd(const struct dp *dp);
int dp_secmap_map_fd(const struct dp *dp);	/* attls_secmap (SecondaryMap) */
int dp_appsk_map_fd(const struct dp *dp);	/* attls_appsk (SK_STORAGE) */
int dp_owner_map_fd(const struct dp *dp);	/* attls_owner (SK_STORAGE) */
int dp_bindkey_map_fd(const struct dp *dp);	/* attls_bindkey (SK_STORAGE) */
int dp_orig_map_fd(const struct dp *dp);	/* attls_orig (SK_STORAGE) */
int dp_ringbuf_fd(const struct dp *dp);
int dp_stats_map_fd(const struct dp *dp);	/* attls_stats (per CPU) */

/* Number of cgroups attached. */
unsigned dp_ncgroups(const struct dp *dp);
const char *dp_cgroup_path(const struct dp *dp, unsigned i);

/*
 * Set attls_policy's state: ATTLS_STATE_NONE guards the attached cgroups
 * (no TCP for them until a policy is installed, see attls_abi.h);
 * dp_install_policy() makes it ATTLS_STATE_ACTIVE.  0 or -errno.
 */
int dp_set_state(struct dp *dp, __u32 state);

/* Let job `comm` use TCP while guarded (attls_permit).  0 or -errno. */
int dp_permit(struct dp *dp, const char *comm);

/* Were links pinned under the pin root before dp_open() (a previous
 * attlsd's, still steering)? */
int dp_had_links(const struct dp *dp);

/* Free our handles but leave everything pinned and attached (guard mode,
 * stop-mode block, failed restart).  NULL-safe. */
void dp_release(struct dp *dp);

/*
 * Detach every program, unpin links and maps and remove the pin
 * directories (clean SIGTERM), then free.  NULL-safe.
 */
void dp_detach_and_free(struct dp *dp);

/*
 * Detach and remove everything pinned under `pin_root` by any attlsd, for
 * `attlsd --cleanup` after a crash.  0 or -errno.
 */
int dp_cleanup_pins(const char *pin_root);

#endif /* ATTLS_LOADER_H */
