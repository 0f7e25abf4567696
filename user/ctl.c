// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ctl.c - the control socket server (see ctl.h).
 *
 * Requests are served one at a time on the main loop: they are small, and
 * a client that does not send its request within CTL_TIMEOUT_MS is dropped,
 * so a stuck client cannot wedge the daemon.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "aj.h"
#include "ctl.h"
#include "ctl_proto.h"
#include "log.h"

#define CTL_TIMEOUT_MS	2000

struct ctl {
	int fd;
	gid_t group;		/* ctl_set_group(): may use the socket too */
	int has_group;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct ctl_cmd *cmds;
	const struct ctl_stream_cmd *streams;
	void *arg;
};

int ctl_open(const char *path, const struct ctl_cmd *cmds, void *arg,
	     struct ctl **out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl *c;
	int err;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	c->cmds = cmds;
	c->arg = arg;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		err = -errno;
		goto free_c;
	}
	/* the pid-file lock is held: a socket left here is stale */
	unlink(path);
	if (bind(c->fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = -errno;
		log_warn("control socket %s", path);
		goto close_fd;
	}
	if (chmod(path, 0600) || listen(c->fd, 16)) {
		err = -errno;
		log_warn("control socket %s", path);
		goto unlink_path;
	}
	*out = c;
	return 0;

unlink_path:
	unlink(path);
close_fd:
	close(c->fd);
free_c:
	free(c);
	return err;
}

int ctl_fd(const struct ctl *c)
{
	return c->fd;
}

int ctl_set_group(struct ctl *c, gid_t gid)
{
	if (chown(c->path, 0, gid) || chmod(c->path, 0660)) {
		int err = -errno;

		log_warn("control socket %s: group %u", c->path, (unsigned)gid);
		return err;
	}
	c->group = gid;
	c->has_group = 1;
	return 0;
}

/* Is `gid` the peer's group or one of its supplementary groups? */
static int peer_in_group(int fd, const struct ucred *cred, gid_t gid)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	size_t i, n;
	int found = 0;

	if (cred->gid == gid)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
		if (errno != ERANGE)
			return 0;
		groups = malloc(len);
		if (!groups || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
			free(groups);
			return 0;
		}
	}
	n = len / sizeof(gid_t);
	for (i = 0; i < n && !found; i++)
		found = groups[i] == gid;
	if (groups != small)
		free(groups);
	return found;
}

/*
 * May this peer use the control socket at all?  Root, and with
 * --ctl-group the group's members; the file mode already says so, this
 * holds even if someone loosens it.
 */
static int peer_allowed(const struct ctl *c, int fd, const struct ucred *cred)
{
	return cred->uid == 0 || (c->has_group && peer_in_group(fd, cred, c->group));
}

/*
 * Read one request line (up to and including the first '\n', or to EOF)
 * with a deadline, into `buf` of `len` bytes.  Returns its length (at
 * most `len`: a longer line is cut there and then refused as too long),
 * or -ETIMEDOUT, -ENODATA, -errno.
 */
static ssize_t read_request(int fd, char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	char *nl;
	ssize_t n;

	while (got < len) {
		if (poll(&p, 1, CTL_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		nl = memchr(buf + got, '\n', (size_t)n);
		got += (size_t)n;
		if (nl)
			return nl + 1 - buf;
	}
	return got ? (ssize_t)got : -ENODATA;
}

static void write_all(int fd, const char *s, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	ssize_t n;

	while (len) {
		n = write(fd, s, len);
		if (n < 0 && errno == EAGAIN) {
			if (poll(&p, 1, CTL_TIMEOUT_MS) <= 0)
				return;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static void reply_error(int fd, int err, const char *msg)
{
	struct json_object *r = json_object_new_object();
	const char *s;

	if (!r)
		return;
	if (aj_add_bool(r, "ok", 0) || aj_add_str(r, "error", msg) ||
	    aj_add_i64(r, "errno", -err)) {
		json_object_put(r);
		return;
	}
	s = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s) {
		write_all(fd, s, strlen(s));
		write_all(fd, "\n", 1);
	}
	json_object_put(r);
}

void ctl_set_streams(struct ctl *c, const struct ctl_stream_cmd *streams)
{
	c->streams = streams;
}

/*
 * A streaming command: the handler takes the connection.  Returns 1 if
 * `name` is one (the connection is then dealt with), else 0.
 */
static int serve_stream(struct ctl *c, const char *name, struct json_object *req,
			int fd, const struct ucred *cred)
{
	const struct ctl_stream_cmd *sc;
	const char *errmsg = NULL;
	int err;

	for (sc = c->streams; sc && sc->name; sc++)
		if (!strcmp(sc->name, name))
			break;
	if (!sc || !sc->name)
		return 0;
	if (sc->privileged && cred->uid != 0) {
		reply_error(fd, -EPERM, "permission denied: only root may do this");
		log_warnx("control: '%s' refused to uid %u (pid %d)", name,
			  cred->uid, cred->pid);
		close(fd);
		return 1;
	}
	err = sc->fn(c->arg, req, fd, &errmsg);
	if (err) {
		reply_error(fd, err, errmsg ? errmsg : strerror(-err));
		close(fd);
	}
	return 1;
}

void ctl_serve(struct ctl *c)
{
	struct json_object *req = NULL, *reply = NULL;
	const struct ctl_cmd *cmd;
	const char *name, *errmsg = NULL, *s;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	ssize_t len;
	char *buf;
	int fd, err;

	fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	/* one byte more than a request may have: a longer one is refused */
	buf = malloc(CTL_MAX_REQ + 1);
	if (!buf)
		goto close_fd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen)) {
		reply_error(fd, -errno, "cannot identify the caller");
		goto free_buf;
	}
	if (!peer_allowed(c, fd, &cred)) {
		reply_error(fd, -EACCES, "permission denied: only root or the "
			    "--ctl-group group may use attlsd's control socket");
		log_warnx("control: refused uid %u gid %u (pid %d): not root nor "
			  "in the control group", cred.uid, cred.gid, cred.pid);
		goto free_buf;
	}
	len = read_request(fd, buf, CTL_MAX_REQ + 1);
	if (len < 0) {
		reply_error(fd, (int)len, "no request received");
		goto free_buf;
	}
	err = ctl_request_parse(buf, (size_t)len, &req, &name, &errmsg);
	if (err) {
		reply_error(fd, err, errmsg);
		goto put_req;
	}
	if (serve_stream(c, name, req, fd, &cred)) {
		fd = -1;	/* taken by the handler, or closed */
		goto put_req;
	}
	for (cmd = c->cmds; cmd->name; cmd++)
		if (!strcmp(cmd->name, name))
			break;
	if (!cmd->name) {
		reply_error(fd, -EOPNOTSUPP, "unknown command");
		goto put_req;
	}
	if (cmd->privileged && cred.uid != 0) {
		reply_error(fd, -EPERM, "permission denied: only root may do this");
		log_warnx("control: '%s' refused to uid %u (pid %d)", name,
			  cred.uid, cred.pid);
		goto put_req;
	}
	reply = json_object_new_object();
	if (!reply || aj_add_bool(reply, "ok", 1)) {
		reply_error(fd, -ENOMEM, "out of memory");
		goto put_req;
	}
	err = cmd->fn(c->arg, req, reply, &errmsg);
	if (err) {
		/* keep what the handler added (e.g. diagnostics) beside the
		 * error; "ok" exists, so replace it without the is-new flag */
		if (json_object_object_add(reply, "ok", json_object_new_boolean(0)) ||
		    aj_add_str(reply, "error", errmsg ? errmsg : strerror(-err)) ||
		    aj_add_i64(reply, "errno", -err)) {
			reply_error(fd, err, errmsg ? errmsg : strerror(-err));
			goto put_req;
		}
	}
	s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s) {
		write_all(fd, s, strlen(s));
		write_all(fd, "\n", 1);
	}
put_req:
	json_object_put(reply);
	json_object_put(req);
free_buf:
	free(buf);
close_fd:
	if (fd >= 0)
		close(fd);
}

void ctl_close(struct ctl *c)
{
	if (!c)
		return;
	close(c->fd);
	unlink(c->path);
	free(c);
}
