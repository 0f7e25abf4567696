/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * observe.h - zERT stream observation: recognise TLS and SSH from the first
 * bytes of each direction of a TCP connection, and read the security
 * attributes they show in cleartext.
 *
 * Pure functions over byte buffers: no I/O, no allocation, no global state.
 * Every byte is untrusted (it comes off the wire of some other program's
 * connection), so every length is checked against what is really there;
 * a truncated or malformed input yields a partial result, never an
 * out-of-bounds access.  Fuzzed by tests/fuzz/fuzz_observe.c.
 *
 * The tables (cipher suites, groups, SSH algorithms) are shared with the
 * engine path, which knows IANA codes but not, e.g., key lengths.
 */
#ifndef ATTLS_OBSERVE_H
#define ATTLS_OBSERVE_H

#include <stddef.h>
#include <stdint.h>

#define OBS_NAME_LEN	64
#define OBS_SNI_LEN	256
#define OBS_BANNER_LEN	256
#define OBS_CERT_MAX	8192	/* largest leaf certificate kept (DER) */
#define OBS_MAX_SSH_PKT	35000	/* RFC 4253 6.1: packets all must take */

enum obs_kind {
	OBS_KIND_UNKNOWN = 0,	/* not enough bytes to tell */
	OBS_KIND_NONE,		/* cleartext: neither TLS nor SSH */
	OBS_KIND_TLS,
	OBS_KIND_SSH,
};

enum obs_outcome {
	OBS_OUT_PENDING = 0,	/* handshake not (yet) seen to finish */
	OBS_OUT_OK,		/* both sides switched to the negotiated keys */
	OBS_OUT_FAILED,		/* alert / disconnect / non-TLS answer */
};

/* One certificate as sent in cleartext (TLS 1.2 and older). */
struct obs_cert {
	uint8_t der[OBS_CERT_MAX];
	size_t len;		/* 0: none seen */
	int truncated;		/* the capture ended inside it: der unusable */
};

struct obs_tls {
	/* ClientHello (the last one, after a HelloRetryRequest) */
	int client_hello;		/* parsed */
	uint16_t client_version;	/* legacy_version */
	uint16_t client_max_version;	/* highest supported_versions entry */
	unsigned n_ciphers;		/* suites offered (GREASE excluded) */
	uint16_t key_shares[4];		/* groups with a key share offered */
	unsigned n_key_shares;
	char sni[OBS_SNI_LEN];		/* server_name (host_name), "" if none */
	char alpn_offered[OBS_NAME_LEN]; /* comma-separated, truncated */
	uint8_t session_id_len;
	uint8_t session_id[32];
	int psk_offered;		/* pre_shared_key extension */
	int ticket_offered;		/* non-empty SessionTicket extension */

	/* ServerHello */
	int server_hello;		/* parsed (not counting an HRR) */
	int hrr;			/* a HelloRetryRequest came first */
	uint16_t version;		/* negotiated: supported_versions or legacy */
	uint16_t cipher;		/* negotiated suite */
	uint16_t group;			/* key_share (1.3) / ServerKeyExchange (1.2) */
	unsigned dh_bits;		/* TLS 1.2 DHE: size of p */
	char alpn[OBS_NAME_LEN];	/* selected ALPN protocol */
	int resumed;			/* PSK accepted (1.3) / abbreviated (1.2) */
	int ems;			/* extended_master_secret */
	int etm;			/* encrypt_then_mac */
	int cert_requested;		/* CertificateRequest (1.2) */

	/* the flights after the hellos */
	int client_ccs, server_ccs;	/* ChangeCipherSpec seen */
	int client_encrypted;		/* client sent records after the
					 * ServerHello: 1.3 handshake went on */
	int server_encrypted;
	int alert;			/* cleartext alert description, -1 none */
	int alert_level;
	int alert_from_server;
	int not_tls_reply;		/* the server answered with something
					 * that is not TLS */
	struct obs_cert server_cert;	/* leaf, TLS 1.2 and older */
	struct obs_cert client_cert;
};

struct obs_ssh {
	char client_banner[OBS_BANNER_LEN];	/* "SSH-2.0-OpenSSH_9.2p1 ..." */
	char server_banner[OBS_BANNER_LEN];
	char version[8];			/* "2.0", "1.99", "1.5" */
	int client_kexinit, server_kexinit;
	char kex[OBS_NAME_LEN];			/* negotiated (RFC 4253 7.1) */
	char host_key_alg[OBS_NAME_LEN];
	char enc_c2s[OBS_NAME_LEN], enc_s2c[OBS_NAME_LEN];
	char mac_c2s[OBS_NAME_LEN], mac_s2c[OBS_NAME_LEN];
	char comp_c2s[OBS_NAME_LEN], comp_s2c[OBS_NAME_LEN];
	/* the server's host key, from its cleartext key exchange reply */
	char host_key_type[OBS_NAME_LEN];	/* "ssh-ed25519", "ssh-rsa" */
	unsigned host_key_bits;
	char host_key_sha256[64];		/* "SHA256:<base64>" as ssh-keygen */
	unsigned dh_bits;			/* group exchange: size of p */
	int client_newkeys, server_newkeys;
	int disconnect;				/* reason code, -1 none */
};

/*
 * What stream observation learnt about one connection.  `sent` / `rcvd`
 * below are from the observed socket's point of view.
 */
struct obs_result {
	enum obs_kind kind;
	enum obs_outcome outcome;
	int complete;		/* nothing more to learn: stop feeding.
				 * Cleartext is complete once both sides
				 * have spoken (or `final`). */
	int we_are_client;	/* the observed socket is the TLS/SSH client */
	int truncated;		/* a stream ended (capture limit) mid-message */
	int malformed;		/* a stream broke the protocol's framing */
	struct obs_tls tls;
	struct obs_ssh ssh;
};

/*
 * Analyse the captured prefixes of a connection: `sent` what the observed
 * socket sent, `rcvd` what it received (each from the stream's first byte,
 * contiguous).  `active` says whether the socket connect()ed (the role when
 * the bytes do not tell, e.g. for SSH).  `final` says no more bytes will
 * come for either stream (capture limit reached or connection closed).
 * Fills `res` (zeroed first); never fails.
 */
void obs_analyze(const uint8_t *sent, size_t sent_len,
		 const uint8_t *rcvd, size_t rcvd_len,
		 int active, int final, struct obs_result *res);

/* The first bytes of one direction: TLS, SSH, cleartext, or unknown when
 * fewer than 4 bytes are there.  The same test the kernel side makes. */
enum obs_kind obs_sniff(const uint8_t *p, size_t len);

/* ---- tables ---------------------------------------------------------- */

/* A TLS cipher suite by IANA code. */
struct obs_cipher {
	uint16_t code;
	const char *name;	/* IANA "TLS_AES_128_GCM_SHA256" */
	const char *kex;	/* "ECDHE", "DHE", "RSA", "PSK", "any" (1.3) */
	const char *auth;	/* "RSA", "ECDSA", "PSK", "any" (1.3) */
	const char *enc;	/* "AES-128-GCM", "CHACHA20-POLY1305" */
	unsigned enc_bits;
	const char *mac;	/* "AEAD", "HMAC-SHA256", "HMAC-SHA1" */
};

/* NULL for a suite not in the table (then name it "0xXXXX"). */
const struct obs_cipher *obs_cipher_by_code(uint16_t code);
const struct obs_cipher *obs_cipher_by_name(const char *iana);

/* A TLS named group (supported_groups / key_share). */
struct obs_group {
	uint16_t code;
	const char *name;	/* IANA "x25519", "X25519MLKEM768" */
	const char *kex;	/* "ECDHE", "DHE", "KEM", "ECDHE+KEM" */
	int post_quantum;	/* resists a quantum adversary (ML-KEM...) */
	int hybrid;		/* classical + post-quantum combined */
};

const struct obs_group *obs_group_by_code(uint16_t code);
/* Case-insensitive, also OpenSSL's aliases ("prime256v1" = secp256r1). */
const struct obs_group *obs_group_by_name(const char *name);

/* "1.3" and "tls" for 0x0304, "3.0" and "ssl" for 0x0300; NULL unknown. */
const char *obs_tls_version_str(uint16_t v);
const char *obs_tls_protocol_str(uint16_t v);

/* Is this a GREASE value (RFC 8701: 0x?A?A)? */
int obs_is_grease(uint16_t v);

/* An SSH cipher: encryption algorithm, key bits, AEAD (MAC implied). */
struct obs_ssh_cipher {
	const char *name;
	const char *enc;
	unsigned enc_bits;
	int aead;
};

const struct obs_ssh_cipher *obs_ssh_cipher(const char *name);

/* An SSH key exchange method: the group it uses and whether it is
 * post-quantum (sntrup761x25519, mlkem768x25519). */
struct obs_ssh_kex {
	const char *name;
	const char *group;
	int post_quantum;
	int hybrid;
};

const struct obs_ssh_kex *obs_ssh_kex(const char *name);

/* The TLS alert description's name ("handshake_failure"), NULL unknown. */
const char *obs_alert_str(int desc);

#endif /* ATTLS_OBSERVE_H */
