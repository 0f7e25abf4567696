/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * attlsctl.h - what attlsctl's object files (cli/attlsctl.c, cli/zert.c)
 * share: the command context, command table entries, errors in the -j
 * discipline (p_err), and requests to attlsd's control socket.
 */
#ifndef ATTLS_ATTLSCTL_H
#define ATTLS_ATTLSCTL_H

#include <json-c/json.h>

struct ctl {
	int json;
	int pretty;
	const char *pin_root;
	int quiet;		/* p_err() prints nothing (optional requests) */
};

struct cmd {
	const char *name;
	int (*fn)(struct ctl *c, int argc, char **argv);
	const char *help;
};

/* An error: a JSON {"error": ...} on stdout with -j, else "Error: ..." on
 * stderr. */
void p_err(const struct ctl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A connection to attlsd's control socket: the fd, or -errno (printed). */
int ctl_connect(const struct ctl *c);

/*
 * One request to attlsd's control socket.  Returns 0 with *reply (the
 * caller puts it), or -errno with the reason printed.  A reply with
 * "ok": false is returned as -errno too, its message printed.
 */
int ctl_request(const struct ctl *c, struct json_object *req,
		struct json_object **reply);

/* {"cmd": cmd}, or NULL when out of memory. */
struct json_object *request_new(const char *cmd);

/*
 * A request that takes no arguments (`usage` is printed when argc != 0).
 * With -j the reply is printed as it is and *reply stays NULL; otherwise
 * the caller gets *reply to render and put.  0 or -errno (printed).
 */
int ctl_call_noargs(const struct ctl *c, const char *cmd, const char *usage,
		    int argc, struct json_object **reply);

/* cli/zert.c: attlsctl zert watch|export|report|stats */
extern const struct cmd zert_cmds[];

#endif /* ATTLS_ATTLSCTL_H */
