/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * appctl.h - attlsd's application control socket (libattls, docs/appctl.md).
 *
 * A unix SOCK_SEQPACKET socket, mode 0666, one per pin root: the
 * application's own TCP socket, passed with SCM_RIGHTS, is the only
 * credential.  A thread of its own receives the requests, identifies the
 * socket and hands the request to the engine (engine_appctl_submit()),
 * which answers from the connection's thread: nothing here ever waits for
 * a handshake.
 */
#ifndef ATTLS_APPCTL_H
#define ATTLS_APPCTL_H

#include <stdio.h>
#include <string.h>

struct appctl;
struct attls_map_image;
struct engine;

/* The BPF maps it reads, by the application's socket (SK_STORAGE). */
struct appctl_maps {
	int appsk;	/* attls_appsk: inbound engine connection id */
	int orig;	/* attls_orig: steered at connect() (outbound) */
	int owner;	/* attls_owner: owner and direction */
	int bindkey;	/* attls_bindkey: bound before connect() */
};

/* /run/attls/<basename of pin_root>.appctl.sock (libattls's default is
 * that of /sys/fs/bpf/attls). */
static inline void appctl_socket_path(const char *pin_root, char *buf,
				      size_t len)
{
	const char *base = strrchr(pin_root, '/') ? strrchr(pin_root, '/') + 1
						  : pin_root;

	snprintf(buf, len, "/run/attls/%s.appctl.sock", *base ? base : "attls");
}

/*
 * Listen on path (a stale socket is replaced) and start serving requests
 * for engine e, identifying sockets with `maps`.  0 or -errno.
 */
int appctl_open(const char *path, struct engine *e,
		const struct appctl_maps *maps, struct appctl **out);

/*
 * The installed policy `img` (copied): sockets never steered to the engine
 * are classified against its rules (policy status 2 or 3).  Call after
 * each install.  0 or -ENOMEM (the previous copy stays).
 */
int appctl_set_policy(struct appctl *a, const struct attls_map_image *img);

/* Stop the thread, close and unlink.  NULL-safe. */
void appctl_close(struct appctl *a);

#endif /* ATTLS_APPCTL_H */
