// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * trace.c - the messages of one connection under its AT-TLS Trace bits
 * (trace.h), with stable ids: ATTLS1281I map, ATTLS1282I start, ATTLS1283I
 * event, ATTLS1284I flow, ATTLS1285I data, ATTLS1286E error, ATTLS1287I
 * trace level changed.  docs/diagnostics.md documents them; keep both in
 * step.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <openssl/ssl.h>

#include "../policy/policy.h"
#include "log.h"
#include "rc.h"
#include "trace.h"

/* Hex bytes per ATTLS1285I line: 128 characters stay readable in syslog. */
#define TRACE_HEX_LINE	64

static int copy_stderr;

void trace_set_copy_stderr(int on)
{
	copy_stderr = on;
}

unsigned trace_dest(unsigned level, unsigned bit, int copy)
{
	unsigned dest;

	if (bit & (ATTLS_TRACE_ERR_LOG | ATTLS_TRACE_ERR_SYSLOG))
		dest = (level & ATTLS_TRACE_ERR_LOG ? LOG_DEST_STDERR : 0) |
		       (level & ATTLS_TRACE_ERR_SYSLOG ? LOG_DEST_SYSLOG : 0);
	else
		dest = level & bit ? LOG_DEST_SYSLOG : 0;
	if (dest && copy)
		dest |= LOG_DEST_STDERR;
	return dest;
}

static int trace_prio(const struct trace_ctx *t, int prio)
{
	return prio | (t->facility == ATTLS_FACILITY_AUTH ? LOG_AUTH : LOG_DAEMON);
}

/*
 * Format one message body of class `bit` for t into buf; the log
 * destinations, or 0 (nothing formatted) when the Trace does not want it.
 */
static unsigned trace_vfmt(const struct trace_ctx *t, unsigned bit, char *buf,
			   size_t len, const char *fmt, va_list ap)
{
	unsigned dest = trace_dest(t->level, bit, copy_stderr);

	if (dest)
		vsnprintf(buf, len, fmt, ap);
	return dest;
}

#define TRACE_FMT(t, bit, buf, fmt, dest)				\
	do {								\
		va_list ap_;						\
		va_start(ap_, fmt);					\
		dest = trace_vfmt(t, bit, buf, sizeof(buf), fmt, ap_);	\
		va_end(ap_);						\
	} while (0)

void trace_err(const struct trace_ctx *t, int rc, const char *event,
	       const char *fmt, ...)
{
	char cause[1024];
	unsigned dest;

	TRACE_FMT(t, ATTLS_TRACE_ERR_SYSLOG, cause, fmt, dest);
	log_to(dest, trace_prio(t, LOG_ERR), "ATTLS1286E TTLS Error RC: %d %s %s: "
	       "%s: %s", rc, event, t->desc, attls_rc_text(rc), cause);
}

void trace_event(const struct trace_ctx *t, int rc, const char *event,
		 const char *fmt, ...)
{
	char detail[1024];
	unsigned dest;

	TRACE_FMT(t, ATTLS_TRACE_EVENT, detail, fmt, dest);
	log_to(dest, trace_prio(t, LOG_DEBUG), "ATTLS1283I TTLS Event RC: %d %s "
	       "%s: %s%s%s", rc, event, t->desc, attls_rc_text(rc),
	       dest && *detail ? ": " : "", dest ? detail : "");
}

void trace_start(const struct trace_ctx *t, const char *event,
		 const char *fmt, ...)
{
	char detail[512];
	unsigned dest;

	TRACE_FMT(t, ATTLS_TRACE_EVENT | ATTLS_TRACE_FLOW, detail, fmt, dest);
	log_to(dest, trace_prio(t, LOG_DEBUG), "ATTLS1282I TTLS Start %s %s%s%s",
	       event, t->desc, dest && *detail ? ": " : "", dest ? detail : "");
}

void trace_info(const struct trace_ctx *t, const char *fmt, ...)
{
	char msg[2048];
	unsigned dest;

	TRACE_FMT(t, ATTLS_TRACE_INFO, msg, fmt, dest);
	log_to(dest, trace_prio(t, LOG_INFO), "%s", dest ? msg : "");
}

void trace_flow(const struct trace_ctx *t, long rc, const char *action,
		const char *what, const char *fmt, ...)
{
	char detail[1024];
	unsigned dest;

	TRACE_FMT(t, ATTLS_TRACE_FLOW, detail, fmt, dest);
	log_to(dest, trace_prio(t, LOG_DEBUG), "ATTLS1284I TTLS Flow %s RC: %ld "
	       "%s %s - %s", t->desc, rc, action, what, dest ? detail : "");
}

void trace_changed(const struct trace_ctx *t, unsigned old_level)
{
	/* Always shown: an operator action, written where errors of
	 * either level go (at least the daemon log). */
	unsigned dest = trace_dest(t->level | old_level | ATTLS_TRACE_ERR_LOG,
				   ATTLS_TRACE_ERR_SYSLOG, copy_stderr);

	log_to(dest, trace_prio(t, LOG_NOTICE), "ATTLS1287I TTLS Trace %s: "
	       "Trace %u -> %u (attlsctl trace), from the next event on",
	       t->desc, old_level, t->level);
}

static const char *proto_names(unsigned p)
{
	if ((p & ATTLS_PROTO_TLS12) && (p & ATTLS_PROTO_TLS13))
		return "TLSv1.2 TLSv1.3";
	return p & ATTLS_PROTO_TLS13 ? "TLSv1.3" : "TLSv1.2";
}

void trace_env_settings(const struct trace_ctx *t,
			const struct attls_env_cfg *env)
{
	if (!trace_on(t, ATTLS_TRACE_FLOW))
		return;
	trace_flow(t, 0, "Set", "HANDSHAKE ROLE", "%s", attls_role_name(env->role));
	trace_flow(t, 0, "Set", "KEYRING", "%s", env->keyring);
	trace_flow(t, 0, "Set", "CERTIFICATE LABEL", "%s",
		   env->cert_label[0] ? env->cert_label : "(default)");
	trace_flow(t, 0, "Set", "PROTOCOLS", "%s", proto_names(env->protocols));
	trace_flow(t, 0, "Set", "TLSV1.3 CIPHERSUITES", "%s",
		   env->tls13_suites[0] ? env->tls13_suites : "(OpenSSL default)");
	trace_flow(t, 0, "Set", "TLSV1.2 CIPHERS", "%s",
		   env->tls12_ciphers[0] ? env->tls12_ciphers : "(OpenSSL default)");
	trace_flow(t, 0, "Set", "GROUPS", "%s",
		   env->groups[0] ? env->groups : "(OpenSSL default)");
	trace_flow(t, 0, "Set", "SIGNATURE ALGORITHMS", "%s",
		   env->sigalgs[0] ? env->sigalgs : "(OpenSSL default)");
	trace_flow(t, 0, "Set", "HANDSHAKE TIMEOUT", "%u s", env->handshake_timeout);
	if (env->role == ATTLS_ROLE_SERVER_CLIENTAUTH)
		trace_flow(t, 0, "Set", "CLIENT AUTH TYPE", "%s",
			   attls_client_auth_name(env->client_auth));
	if (env->host_ref_dns[0])
		trace_flow(t, 0, "Set", "HOST REFERENCE ID DNS", "%s",
			   env->host_ref_dns);
	trace_flow(t, 0, "Set", "SESSION TIMEOUT", "%u s", env->session_timeout);
	if (env->role == ATTLS_ROLE_CLIENT ||
	    (env->role == ATTLS_ROLE_SERVER_CLIENTAUTH &&
	     env->client_auth != ATTLS_CLIENT_AUTH_PASSTHRU))
		trace_flow(t, 0, "Set", "CRL SECURITY LEVEL", "%s",
			   attls_crl_level_name(env->crl_level));
}

static const char *content_name(int ct)
{
	switch (ct) {
	case SSL3_RT_HEADER:
		return "RECORD";
	case SSL3_RT_INNER_CONTENT_TYPE:
		return "INNER CONTENT TYPE";
	case SSL3_RT_CHANGE_CIPHER_SPEC:
		return "CHANGE CIPHER SPEC";
	case SSL3_RT_ALERT:
		return "ALERT";
	case SSL3_RT_HANDSHAKE:
		return "HANDSHAKE";
	}
	return NULL;
}

static const char *handshake_name(unsigned type)
{
	static const char *const names[] = {
		[SSL3_MT_HELLO_REQUEST] = "HelloRequest",
		[SSL3_MT_CLIENT_HELLO] = "ClientHello",
		[SSL3_MT_SERVER_HELLO] = "ServerHello",
		[SSL3_MT_NEWSESSION_TICKET] = "NewSessionTicket",
		[SSL3_MT_END_OF_EARLY_DATA] = "EndOfEarlyData",
		[SSL3_MT_ENCRYPTED_EXTENSIONS] = "EncryptedExtensions",
		[SSL3_MT_CERTIFICATE] = "Certificate",
		[SSL3_MT_SERVER_KEY_EXCHANGE] = "ServerKeyExchange",
		[SSL3_MT_CERTIFICATE_REQUEST] = "CertificateRequest",
		[SSL3_MT_SERVER_DONE] = "ServerHelloDone",
		[SSL3_MT_CERTIFICATE_VERIFY] = "CertificateVerify",
		[SSL3_MT_CLIENT_KEY_EXCHANGE] = "ClientKeyExchange",
		[SSL3_MT_FINISHED] = "Finished",
		[SSL3_MT_KEY_UPDATE] = "KeyUpdate",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "?";
}

void trace_msg_cb(int write_p, int version, int content_type, const void *buf,
		  size_t len, SSL *ssl, void *arg)
{
	const struct trace_ctx *t = arg;
	const unsigned char *p = buf;
	unsigned dest = t ? trace_dest(t->level, ATTLS_TRACE_DATA, copy_stderr) : 0;
	const char *what = content_name(content_type);
	char hex[2 * TRACE_HEX_LINE + 1], kind[64];
	size_t off, n, i, shown;

	(void)version;
	(void)ssl;
	/* Only protocol messages reach this callback; application data
	 * never does, and is never logged. */
	if (!dest || !what)
		return;
	if (content_type == SSL3_RT_HANDSHAKE && len)
		snprintf(kind, sizeof(kind), "%s %s", what, handshake_name(p[0]));
	else if (content_type == SSL3_RT_ALERT && len == 2)
		snprintf(kind, sizeof(kind), "%s %s %s", what,
			 SSL_alert_type_string_long(p[0] << 8 | p[1]),
			 SSL_alert_desc_string_long(p[0] << 8 | p[1]));
	else
		snprintf(kind, sizeof(kind), "%s", what);
	shown = len < TRACE_DATA_MAX ? len : TRACE_DATA_MAX;
	for (off = 0; off < shown || off == 0; off += n) {
		n = shown - off < TRACE_HEX_LINE ? shown - off : TRACE_HEX_LINE;
		for (i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02X", p[off + i]);
		hex[2 * n] = '\0';
		log_to(dest, trace_prio(t, LOG_DEBUG), "ATTLS1285I TTLS Data %s "
		       "%s %s len %zu+%zu: %s%s", t->desc, write_p ? "SEND" : "RECV",
		       kind, len, off, hex,
		       off + n == shown && shown < len ? " (truncated)" : "");
		if (!n)
			break;
	}
}
