/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * zert_session.h - one security session (SMF 119: TLS or SSH applied to a
 * connection) as zERT records it, whoever reported it: the engine (the
 * cryptographic protocol provider path) or stream observation.  One model,
 * one JSON form (docs/zert-schema.md), so detail records, summary shapes
 * and `attlsctl zert report` read the same fields for both sources.
 */
#ifndef ATTLS_ZERT_SESSION_H
#define ATTLS_ZERT_SESSION_H

#include <stdint.h>

#include <json-c/json.h>

#include "observe.h"
#include "zert.h"

enum zert_outcome {
	ZERT_OUT_INCOMPLETE = 0,	/* not seen to finish (yet) */
	ZERT_OUT_OK,
	ZERT_OUT_FAILED,
};

/* An SSH server host key (SMF 119 S4 SKey type, length, fingerprint). */
struct zert_host_key {
	char type[OBS_NAME_LEN];	/* "ssh-ed25519" */
	unsigned bits;
	char sha256[64];		/* "SHA256:<base64>" */
};

struct zert_session {
	char protocol[8];		/* "tls", "ssl", "ssh" */
	char version[8];		/* "1.3", "3.0", "2.0" */
	int observed;			/* source: 1 stream observation, 0 engine */
	int client;			/* our handshake role is client */
	int resumed;			/* abbreviated handshake */
	enum zert_outcome outcome;
	int inferred;			/* outcome inferred from encrypted records */
	int has_rc;
	int rc;				/* AT-TLS return code (engine) */
	int alert;			/* TLS alert description, -1 none */
	int alert_from_server;
	int disconnect;			/* SSH disconnect reason, -1 none */
	const char *failure;		/* why the outcome is failed, static:
					 * "alert", "encrypted-alert",
					 * "peer-not-tls", "disconnect",
					 * "no-common-algorithm", "rc" */
	char cipher[OBS_NAME_LEN];	/* IANA TLS name / SSH c2s cipher */
	int cipher_code;		/* IANA code, -1 none (SSH, unknown) */
	char cipher_openssl[OBS_NAME_LEN];
	char enc[32];			/* "AES-128-GCM" */
	unsigned enc_bits;
	char mac[OBS_NAME_LEN];		/* "AEAD", "HMAC-SHA256" */
	char kex[OBS_NAME_LEN];		/* "ECDHE", "DHE", "RSA"; SSH: method */
	char group[OBS_NAME_LEN];	/* "x25519", "X25519MLKEM768" */
	int group_code;			/* IANA named group, -1 none */
	unsigned dh_bits;		/* finite-field DH: size of p */
	int post_quantum;
	int hybrid;
	char sni[OBS_SNI_LEN];
	char alpn[OBS_NAME_LEN];	/* selected */
	char alpn_offered[OBS_NAME_LEN];
	int cert_requested;		/* the server asked for a client cert */
	struct zert_cert server_cert;	/* "" / 0 when not seen */
	struct zert_cert client_cert;
	char mapped_user[33];		/* client certificate -> local user */
	/* SSH only */
	char ssh_client_banner[OBS_BANNER_LEN];
	char ssh_server_banner[OBS_BANNER_LEN];
	char ssh_host_key_alg[OBS_NAME_LEN];
	char ssh_enc_s2c[OBS_NAME_LEN];
	char ssh_mac_c2s[OBS_NAME_LEN], ssh_mac_s2c[OBS_NAME_LEN];
	char ssh_comp_c2s[OBS_NAME_LEN], ssh_comp_s2c[OBS_NAME_LEN];
	struct zert_host_key host_key;
};

/*
 * From the engine's report of a connection: `handshaken` says the
 * handshake finished (`t` filled); `rc` the AT-TLS return code, which
 * makes the outcome failed when non-zero before the handshake finished.
 */
void zert_session_from_engine(struct zert_session *s, const struct zert_tls *t,
			      int handshaken, int rc);

/*
 * From stream observation (res->kind must be OBS_KIND_TLS or _SSH).
 * Certificates seen in cleartext are decoded here (OpenSSL d2i_X509).
 */
void zert_session_from_obs(struct zert_session *s, const struct obs_result *res);

/* Do two sessions differ in what a "change" record is for: protocol,
 * version, cipher, key exchange, certificates, outcome? */
int zert_session_changed(const struct zert_session *a,
			 const struct zert_session *b);

/* The JSON object of one session (docs/zert-schema.md), or NULL when out
 * of memory. */
struct json_object *zert_session_json(const struct zert_session *s);

/* "0x1302" into buf (8 bytes); "" for a negative code. */
const char *zert_code_str(int code, char *buf);

/* The server certificate's (TLS) or host key's (SSH) key type and bits,
 * as the summary shape uses them. */
void zert_session_key(const struct zert_session *s, const char **type,
		      unsigned *bits);

#endif /* ATTLS_ZERT_SESSION_H */
