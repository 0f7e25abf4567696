/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * zert.h - the zERT-style collector: connection detail records (SMF 119
 * subtype 11 analog) and interval summaries (subtype 12) as NDJSON, live
 * watchers, and the counters that say nothing was dropped silently.
 *
 * Two producers feed it: the engine (full TLS attributes of the
 * connections it protects, the "cryptographic protocol provider" path) and
 * the ringbuf consumer (sockops events for every TCP connection of the
 * attached cgroups, and the first bytes of each for stream observation,
 * user/observe.c).  Thread-safe: the engine threads, the main loop and the
 * collector's own thread call it.  docs/zert.md, docs/zert-schema.md.
 */
#ifndef ATTLS_ZERT_H
#define ATTLS_ZERT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "../bpf/attls_abi.h"

struct zert;

/* One certificate as zERT records it; all "" / 0 when there is none. */
struct zert_cert {
	char subject[256];		/* RFC 2253: "CN=host,O=Example" */
	char issuer[256];
	char serial[80];		/* hex */
	char not_before[32];		/* ISO 8601 UTC */
	char not_after[32];
	char key_type[16];		/* "RSA", "EC", "ED25519" */
	unsigned key_bits;
	char sha256[65];		/* fingerprint of the DER, lower-case hex */
	char sig_alg[48];		/* "ecdsa-with-SHA256" (OpenSSL long name) */
};

/* Attributes of one TLS security session, filled by the engine. */
struct zert_tls {
	char protocol[16];		/* "TLSv1.3" */
	char cipher_iana[64];		/* "TLS_AES_128_GCM_SHA256" */
	uint16_t cipher_code;		/* IANA code, 0x1301 */
	char cipher_openssl[64];	/* OpenSSL's name */
	char group[32];			/* key exchange group, "X25519" */
	char role[8];			/* "server" / "client": ours */
	int resumed;			/* abbreviated handshake */
	/*
	 * Our certificate (the server's in the server role; in the client
	 * role the one we sent when the server asked, else empty) and the
	 * partner's (the client's in the server role, if it sent one; the
	 * server's in the client role).  Records name them by what they are:
	 * "server_cert" and "client_cert".
	 */
	struct zert_cert local_cert;
	struct zert_cert peer_cert;
	char peer_user[33];		/* ClientAuthType SAFCheck: the local user
					 * the client certificate maps to */
};

/* One connection protected by the engine. */
struct zert_conn {
	uint64_t conn_id;		/* engine CONNID */
	uint64_t start_ns;		/* CLOCK_REALTIME */
	uint64_t end_ns;		/* 0 while open */
	struct attls_flow wire;		/* real local/remote */
	uint32_t direction;		/* ATTLS_RF_INBOUND / _OUTBOUND */
	struct attls_owner owner;
	char rule[ATTLS_NAME_LEN];
	char group[ATTLS_NAME_LEN];
	char env[ATTLS_NAME_LEN];
	char conn[ATTLS_NAME_LEN];
	struct zert_tls tls;
	uint64_t bytes_in;		/* cleartext bytes from the peer */
	uint64_t bytes_out;		/* cleartext bytes to the peer */
	int rc;				/* AT-TLS return code, 0 = ok */
	unsigned tls_sessions;		/* TLS sessions so far: handshakes that
					 * completed (application control: a
					 * stop and a new init start another) */
	int tls_active;			/* tls is the session in effect now
					 * (0: none yet, or stopped: cleartext) */
	int appl_ctl;			/* ApplicationControlled On */
	int ctl_state;			/* with appl_ctl: 1 cleartext ("Appl
					 * Control"), 2 handshake or stop in
					 * progress, 3 secure */
};

/* Collector options (attlsd --zert-*); all-zero means the defaults. */
struct zert_opts {
	unsigned interval;		/* summary interval, s (default 900) */
	unsigned init_delay_ms;		/* observed connections: the init
					 * record waits this long at most for
					 * the handshake (default 2000) */
	uint64_t max_bytes;		/* rotate zert.ndjson at this size
					 * (default 64 MiB) */
	unsigned max_age;		/* ... or after this many s (86400) */
	unsigned keep;			/* rotated files kept (default 0: any) */
	unsigned retention_days;	/* delete rotated files older (30) */
};

#define ZERT_DEFAULT_INTERVAL	900
#define ZERT_DEFAULT_INIT_MS	2000
#define ZERT_DEFAULT_MAX_BYTES	(64ull << 20)
#define ZERT_DEFAULT_MAX_AGE	86400
#define ZERT_DEFAULT_RETENTION	30

/*
 * attlsd's --zert-* options: ZERT_LONG_OPTIONS goes into its getopt_long
 * table, ZERT_USAGE into its usage text, and every value from
 * ZERT_OPT_FIRST to ZERT_OPT_LAST to zert_parse_opt().
 */
enum {
	ZERT_OPT_FIRST = 0x5a00,
	ZERT_OPT_INTERVAL = ZERT_OPT_FIRST,
	ZERT_OPT_MAX_SIZE,
	ZERT_OPT_MAX_AGE,
	ZERT_OPT_KEEP,
	ZERT_OPT_RETENTION,
	ZERT_OPT_INIT_DELAY,
	ZERT_OPT_LAST = ZERT_OPT_INIT_DELAY,
};

#define ZERT_LONG_OPTIONS \
	{ "zert-interval",   required_argument, NULL, ZERT_OPT_INTERVAL }, \
	{ "zert-max-size",   required_argument, NULL, ZERT_OPT_MAX_SIZE }, \
	{ "zert-max-age",    required_argument, NULL, ZERT_OPT_MAX_AGE }, \
	{ "zert-keep",       required_argument, NULL, ZERT_OPT_KEEP }, \
	{ "zert-retention",  required_argument, NULL, ZERT_OPT_RETENTION }, \
	{ "zert-init-delay", required_argument, NULL, ZERT_OPT_INIT_DELAY }

#define ZERT_USAGE \
"      --zert-interval S  summary records every S seconds (default 900)\n" \
"      --zert-max-size N  rotate zert.ndjson at N bytes (K/M/G; default 64M)\n" \
"      --zert-max-age S   ... or after S seconds (default 86400; 0: never)\n" \
"      --zert-keep N      keep at most N rotated files (default: no limit)\n" \
"      --zert-retention D delete rotated files older than D days (default 30;\n" \
"                         0: never)\n" \
"      --zert-init-delay MS  wait up to MS for an observed handshake before\n" \
"                         the init record (default 2000)\n"

/* One --zert-* option into `o`.  0, or -EINVAL with the reason printed
 * to stderr. */
int zert_parse_opt(struct zert_opts *o, int opt, const char *arg);

/*
 * Open the collector: records go to DIR/zert.ndjson (created 0750/0640,
 * rotated and pruned as `opts` says; NULL for the defaults), summaries
 * every opts->interval seconds.  Starts the collector's thread (timers
 * and live watchers).  Returns 0 or a negative errno.
 */
int zert_open(const char *dir, const struct zert_opts *opts, struct zert **out);

/* Write the last (partial) interval's summaries, stop the thread, close.
 * NULL-safe. */
void zert_close(struct zert *z);

/*
 * Engine path: a handshake finished (the connection's first: "init"; a
 * later one, application control: "change"), a stop returned the
 * connection to cleartext ("change", c->tls the session that ended), the
 * connection ended ("term").  A connection that ends before its first
 * handshake is written as "short-term".  Each TLS session is counted in
 * the summary from its handshake to its stop or the connection's end.
 */
void zert_engine_init(struct zert *z, const struct zert_conn *c);
void zert_engine_stop(struct zert *z, const struct zert_conn *c);
void zert_engine_term(struct zert *z, const struct zert_conn *c);

/* The BPF side does not notify for each zERT event (bpf/observe.bpf.h,
 * attls_rb_flags()): the ringbuf consumer drains it at least this often. */
#define ZERT_RINGBUF_POLL_MS	100

/* One ringbuf record of the BPF object: struct attls_event (sockops) or
 * struct attls_obs_event (stream observation).  Short or unknown records
 * are counted and ignored. */
void zert_ringbuf_event(struct zert *z, const void *data, size_t len);

/* Write the records queued since the last flush (the file and the live
 * watchers).  Call after each drain of the ring buffer: records of
 * zert_ringbuf_event() are batched until then (docs/zert.md
 * "Durability"); the engine calls and the collector's timer flush on
 * their own. */
void zert_flush(struct zert *z);

/* Publish the collector's counters (ATTLS_STAT_ZERT_*) into the pinned
 * per-CPU attls_stats map `fd`, so `attlsctl status` shows them. */
void zert_set_stats_map(struct zert *z, int fd);

/*
 * Hand a control-socket client to the collector as a live watcher: it gets
 * {"ok": true} and then every record as it is written, one per line.  A
 * watcher that falls 1 MiB behind is cut off (and counted).  Takes `fd`
 * on success; 0 or -errno with *errmsg set.
 */
int zert_watch(struct zert *z, int fd, const char **errmsg);

/* The collector's counters and settings into a control-socket reply. */
int zert_stats_json(struct zert *z, struct json_object *reply);

/* Path of the file records currently go to, and its directory. */
const char *zert_path(const struct zert *z);
const char *zert_dir(const struct zert *z);

#endif /* ATTLS_ZERT_H */
