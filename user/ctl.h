/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ctl.h - attlsd's control socket: how attlsctl asks the daemon for what
 * only the daemon knows (the installed policy with its names, reload).
 *
 * A unix stream socket, mode 0600 in /run/attls, one per pin root.  The
 * protocol is one JSON object per connection each way:
 *   request   {"cmd": "policy", ...arguments}\n
 *   reply     {"ok": true, ...} or {"ok": false, "error": "...", "errno": N, ...}\n
 * except for streaming commands (ctl_stream_handler), which answer
 * {"ok": true} and then keep sending lines until the client goes away.
 * Only root (SO_PEERCRED uid 0), or with ctl_set_group() that group's
 * members, may use it at all (the file mode says so, and every request
 * is checked); only root may send commands that change state.
 */
#ifndef ATTLS_CTL_H
#define ATTLS_CTL_H

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <json-c/json.h>

struct ctl;

/*
 * A command handler: reads arguments from `req`, adds its results to
 * `reply` (which already has "ok": true).  Returns 0, or a negative errno
 * with *errmsg set to a static message; what the handler added to `reply`
 * is sent with the error too.
 */
typedef int (*ctl_handler)(void *arg, struct json_object *req,
			   struct json_object *reply, const char **errmsg);

/*
 * A streaming command (e.g. "zert-watch"): instead of one reply, the
 * handler takes the client's socket (non-blocking) and keeps writing to it
 * -- its first line must be {"ok": true}.  Returns 0 when it took `fd`, or
 * a negative errno with *errmsg set: then the error reply is sent and the
 * socket closed here as for any command.
 */
typedef int (*ctl_stream_handler)(void *arg, struct json_object *req, int fd,
				  const char **errmsg);

struct ctl_cmd {
	const char *name;
	ctl_handler fn;
	int privileged;		/* changes state: root only */
};

/* Streaming commands have a table of their own (ctl_set_streams()). */
struct ctl_stream_cmd {
	const char *name;
	ctl_stream_handler fn;
	int privileged;		/* root only */
};

/* Socket path for a pin root: /run/attls/<basename>.sock.  Inline: the
 * path is part of the protocol, shared by attlsd and attlsctl. */
static inline void ctl_socket_path(const char *pin_root, char *buf, size_t len)
{
	const char *base = strrchr(pin_root, '/') ? strrchr(pin_root, '/') + 1
						  : pin_root;

	snprintf(buf, len, "/run/attls/%s.sock", *base ? base : "attls");
}

/* Listen on `path` (replacing a stale socket).  0 or -errno. */
int ctl_open(const char *path, const struct ctl_cmd *cmds, void *arg,
	     struct ctl **out);

/*
 * Let group `gid` use the socket too (attlsd --ctl-group): the socket
 * becomes root:gid 0660, and peers whose group or supplementary groups
 * (SO_PEERGROUPS) include gid may send the commands that change nothing;
 * privileged ones stay root's.  0 or -errno (the socket then stays
 * root-only).
 */
int ctl_set_group(struct ctl *c, gid_t gid);

/* Also serve these streaming commands (NULL-terminated table, kept). */
void ctl_set_streams(struct ctl *c, const struct ctl_stream_cmd *streams);

/* The listening fd, for the daemon's epoll. */
int ctl_fd(const struct ctl *c);

/* Serve one pending client (call when ctl_fd() is readable). */
void ctl_serve(struct ctl *c);

/* Close and unlink.  NULL-safe. */
void ctl_close(struct ctl *c);

#endif /* ATTLS_CTL_H */
