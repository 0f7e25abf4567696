/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * zert.h - the zERT-style collector: connection detail records as NDJSON.
 *
 * Two producers feed it: the engine (full TLS attributes of the
 * connections it protects, the "cryptographic protocol provider" path) and
 * the sockops ringbuf consumer (every TCP connection of the attached
 * cgroups).  Thread-safe: the engine threads and the main loop call it.
 */
#ifndef ATTLS_ZERT_H
#define ATTLS_ZERT_H

#include <stdint.h>

#include "../bpf/attls_abi.h"

struct zert;

/* Attributes of one TLS security session, filled by the engine. */
struct zert_tls {
	char protocol[16];		/* "TLSv1.3" */
	char cipher_iana[64];		/* "TLS_AES_128_GCM_SHA256" */
	uint16_t cipher_code;		/* IANA code, 0x1301 */
	char cipher_openssl[64];	/* OpenSSL's name */
	char group[32];			/* key exchange group, "X25519" */
	char role[8];			/* "server" / "client" */
	int resumed;			/* abbreviated handshake */
	/* server certificate (ours in the server role) */
	char cert_subject[256];
	char cert_issuer[256];
	char cert_serial[80];		/* hex */
	char cert_not_after[32];	/* ISO 8601 UTC */
	char cert_key_type[16];		/* "RSA", "EC", "ED25519" */
	unsigned cert_key_bits;
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
};

/*
 * Open the collector writing NDJSON to DIR/zert-YYYYMMDD.ndjson (created
 * 0750/0640).  Returns 0 or a negative errno.
 */
int zert_open(const char *dir, struct zert **out);
void zert_close(struct zert *z);

/* Engine path: the handshake finished (init) / the connection ended (term).
 * A connection that ends before init is written as "short-term". */
void zert_engine_init(struct zert *z, const struct zert_conn *c);
void zert_engine_term(struct zert *z, const struct zert_conn *c);

/* sockops path: one ringbuf event. */
void zert_sock_event(struct zert *z, const struct attls_event *ev);

/* Path of the file records currently go to (for messages). */
const char *zert_path(const struct zert *z);

#endif /* ATTLS_ZERT_H */
