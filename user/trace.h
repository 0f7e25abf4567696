/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * trace.h - the AT-TLS Trace of one connection: which messages it writes
 * and where they go (docs/diagnostics.md has the message table).
 *
 *   bit  1  errors (ATTLS1286E) to the daemon log (stderr)
 *   bit  2  errors (ATTLS1286E) to syslog (the default Trace 2)
 *   bit  4  info: ATTLS1281I TTLS Map, the rule a connection mapped to
 *   bit  8  events: ATTLS1282I Start / ATTLS1283I Event of connection
 *           init, handshake and close
 *   bit 16  flow: ATTLS1284I, every OpenSSL call and setting with its result
 *   bit 32  data: ATTLS1285I, TLS record headers and the hex of handshake,
 *           alert and change-cipher-spec messages (never application data)
 *
 * Bits 4-32 go to syslog (facility daemon, or auth with SyslogFacility
 * Auth), as on z/OS.  attlsd -d (trace_set_copy_stderr()) copies every
 * message of a connection to the daemon log as well: foreground debugging
 * and the tests, which read the daemon log.
 */
#ifndef ATTLS_TRACE_H
#define ATTLS_TRACE_H

#include <openssl/ssl.h>

#include "../policy/policy-t.h"

#define ATTLS_TRACE_ERR_LOG	1u
#define ATTLS_TRACE_ERR_SYSLOG	2u
#define ATTLS_TRACE_INFO	4u
#define ATTLS_TRACE_EVENT	8u
#define ATTLS_TRACE_FLOW	16u
#define ATTLS_TRACE_DATA	32u
#define ATTLS_TRACE_MAX		255u	/* the policy's Trace range */

/* What a connection's messages need: its level and its identification. */
struct trace_ctx {
	unsigned level;		/* effective Trace bits; attlsctl trace changes it */
	unsigned facility;	/* enum attls_facility of the rule's group */
	const char *desc;	/* "CONNID: ... RULE: r GRPID: g ENVID: e" */
};

/* attlsd -d: every connection message also to the daemon log. */
void trace_set_copy_stderr(int on);

/*
 * Where a message of class `bit` (ATTLS_TRACE_*, errors as
 * ATTLS_TRACE_ERR_SYSLOG) goes for Trace `level`: LOG_DEST_* bits, 0 for
 * nowhere.  Pure; `copy_stderr` as set by trace_set_copy_stderr().
 */
unsigned trace_dest(unsigned level, unsigned bit, int copy_stderr);

static inline int trace_on(const struct trace_ctx *t, unsigned bit)
{
	return (t->level & bit) != 0;
}

/* ATTLS1286E TTLS Error RC: rc event desc: meaning: cause (bits 1, 2). */
void trace_err(const struct trace_ctx *t, int rc, const char *event,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* ATTLS1283I TTLS Event RC: rc event desc: meaning[: detail] (bit 8). */
void trace_event(const struct trace_ctx *t, int rc, const char *event,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* ATTLS1282I TTLS Start event desc[: detail] (bit 8 or 16). */
void trace_start(const struct trace_ctx *t, const char *event,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A message of class bit 4 (ATTLS1281I and friends); `fmt` has the id. */
void trace_info(const struct trace_ctx *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * ATTLS1284I TTLS Flow desc RC: rc action what - detail (bit 16);
 * action is "Call" (an OpenSSL function, rc its return value), "Set" or
 * "Get" (a parameter).
 */
void trace_flow(const struct trace_ctx *t, long rc, const char *action,
		const char *what, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* ATTLS1287I TTLS Trace: the level of a connection changed (any level). */
void trace_changed(const struct trace_ctx *t, unsigned old_level);

/* Flow "Set" lines for every effective parameter of environment env. */
void trace_env_settings(const struct trace_ctx *t,
			const struct attls_env_cfg *env);

/*
 * SSL_set_msg_callback() callback for bit 32: ATTLS1285I TTLS Data lines
 * (SEND/RECV, record header, message hex, at most TRACE_DATA_MAX bytes
 * each).  arg (SSL_set_msg_callback_arg) is the connection's trace_ctx.
 */
#define TRACE_DATA_MAX	4096
void trace_msg_cb(int write_p, int version, int content_type, const void *buf,
		  size_t len, SSL *ssl, void *arg);

#endif /* ATTLS_TRACE_H */
