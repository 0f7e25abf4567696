/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * policy-t.h - types of the compiled AT-TLS policy (the "map image").
 *
 * Types only: this header never includes a function header, OpenSSL or
 * libbpf, so the daemon, the CLI and the tests share it freely
 * (docs/style.md #17).  The front end's own AST types live in
 * policy/ast-t.h.
 */
#ifndef ATTLS_POLICY_T_H
#define ATTLS_POLICY_T_H

#include <stddef.h>
#include <stdint.h>

#include "../bpf/attls_abi.h"

/* TTLSEnvironmentAction HandshakeRole */
enum attls_role {
	ATTLS_ROLE_SERVER = 1,
	ATTLS_ROLE_CLIENT,
	ATTLS_ROLE_SERVER_CLIENTAUTH,
};

/* Protocol switches (TTLSEnvironmentAdvancedParms TLSv1.2 / TLSv1.3). */
#define ATTLS_PROTO_TLS12	(1u << 0)
#define ATTLS_PROTO_TLS13	(1u << 1)

/* TTLSEnvironmentAdvancedParms ClientAuthType (attls_env_cfg.client_auth). */
enum attls_client_auth {
	ATTLS_CLIENT_AUTH_REQUIRED = 1,	/* a valid client certificate is mandatory */
	ATTLS_CLIENT_AUTH_PASSTHRU,	/* ask for one, do not validate, accept none */
	ATTLS_CLIENT_AUTH_FULL,		/* validate one if sent, accept none */
	ATTLS_CLIENT_AUTH_SAFCHECK,	/* REQUIRED, and it must map to a local user */
};

/*
 * Required/Optional/Off parameters (ClientHandshakeSNI, ...).  AT-TLS
 * "TLS function negotiation": Optional functions are dropped when the
 * peer does not support them, Required ones fail the handshake.
 */
enum attls_tls_fn {
	ATTLS_FN_OFF = 0,
	ATTLS_FN_OPTIONAL,
	ATTLS_FN_REQUIRED,
};

/*
 * ApplicationProtocol (attls extension in TTLSEnvironmentAdvancedParms /
 * TTLSConnectionAdvancedParms): the engine speaks the application's
 * protocol where TLS needs it (docs/ftp.md).
 */
enum attls_app_protocol {
	ATTLS_APP_NONE = 0,
	ATTLS_APP_FTP,		/* AUTH TLS, PBSZ, PROT, FEAT for a server
				 * that knows no TLS; data via SecondaryMap */
};

/*
 * TTLSGskLdapParms GSK_CRL_SECURITY_LEVEL (attls_env_cfg.crl_level): how
 * the key ring's CRL files are applied (docs/keyrings.md "Revocation").
 * A ring without CRL files checks no revocation at any level.
 */
enum attls_crl_level {
	ATTLS_CRL_LOW = 1,	/* no CRL for an issuer passes; expired CRL used */
	ATTLS_CRL_MEDIUM,	/* no CRL for an issuer passes; expired CRL fails
				 * (the z/OS default) */
	ATTLS_CRL_HIGH,		/* every certificate below the trust anchor
				 * needs a current CRL from its issuer */
};

/* TTLSGroupAdvancedParms SyslogFacility (attls_action.syslog_facility). */
enum attls_facility {
	ATTLS_FACILITY_DAEMON = 0,	/* default */
	ATTLS_FACILITY_AUTH,
};

#define ATTLS_LABEL_LEN		(ATTLS_NAME_LEN * 8)	/* certificate labels + NUL */
#define ATTLS_HOST_LEN		256	/* DNS names: 253 chars + NUL */
#define ATTLS_MAX_SERVER_LABELS	8	/* ServerCertificateLabel values */
#define ATTLS_MAX_SNI		16	/* ServerHandshakeSNIList pairs */

/* One ServerHandshakeSNIList pair: SNI host name -> certificate label. */
struct attls_sni_entry {
	char host[ATTLS_HOST_LEN];	/* lower case; "*.example.com" allowed */
	char label[ATTLS_LABEL_LEN];
};

/*
 * A compiled IpTimeCondition: when a rule is in effect.  All present
 * conditions must hold (AND), each evaluated on the current time in the
 * condition's time zone; see attls_time_window_active().
 */
struct attls_time_window {
	uint32_t set;			/* 0: no IpTimeCondition, always active */
	uint32_t utc;			/* TimeZone UTC (1) or Local (0) */
	uint64_t start;			/* ConditionTimeRange as YYYYMMDDhhmmss, */
	uint64_t end;			/* inclusive; 0 = unbounded */
	uint32_t tod_from;		/* time of day [from, to) in seconds after */
	uint32_t tod_to;		/* midnight; from > to wraps midnight; */
					/* 0..86400 = all day */
	uint32_t dow_mask;		/* bit 0 Sunday .. bit 6 Saturday */
	uint32_t month_mask;		/* bit 0 January .. bit 11 December */
	uint32_t dom_mask;		/* bit d-1: day d of the month (1-31) */
	uint32_t dom_last_mask;		/* bit k: the k-th day from the end of the
					 * month (0 = last day) */
};

/* Where a compiled item came from, for messages: file:line. */
struct attls_srcloc {
	char file[256];
	unsigned line;
};

/*
 * One TTLSEnvironmentAction, resolved: the engine builds one SSL_CTX from
 * each.  Strings are NUL-terminated and owned by the image.
 */
struct attls_env_cfg {
	char name[ATTLS_NAME_LEN];
	struct attls_srcloc where;
	enum attls_role role;
	char keyring[1024];		/* as written: OWNER/RING, RING or /path */
	char cert_label[ATTLS_NAME_LEN * 8];	/* CertificateLabel; "" = default */
	unsigned protocols;		/* ATTLS_PROTO_* (non-zero) */
	char tls13_suites[512];		/* OpenSSL SSL_CTX_set_ciphersuites form; "" = default */
	char tls12_ciphers[1024];	/* OpenSSL cipher list form; "" = default */
	unsigned handshake_timeout;	/* seconds; 0 = none */
	unsigned trace;			/* AT-TLS Trace bits */
	unsigned user_instance;		/* EnvironmentUserInstance */

	/*
	 * Added with the complete policy language (fields are only ever
	 * appended).  Everything below is resolved: connection-level values
	 * already override environment-level ones, defaults are filled in.
	 */
	char groups[256];		/* SSL_CTX_set1_groups_list() form ("P-256:X25519");
					 * "" = OpenSSL default.  Client: ClientKeyShareGroups
					 * then ClientECurves; server: ServerKeyShareGroups
					 * then ServerKexECurves (TTLSSignatureParms) */
	char sigalgs[512];		/* SSL_CTX_set1_sigalgs_list() form
					 * ("RSA+SHA256:rsa_pss_rsae_sha256"); "" = default.
					 * SignaturePairs */
	unsigned client_auth;		/* enum attls_client_auth; used only with
					 * ATTLS_ROLE_SERVER_CLIENTAUTH (default REQUIRED) */
	char server_cert_labels[ATTLS_MAX_SERVER_LABELS][ATTLS_LABEL_LEN];
	unsigned nserver_cert_labels;	/* ServerCertificateLabel: a server picks the
					 * one whose key fits the client (key type,
					 * SNI); cert_label, if set, stays the default */
	unsigned application_controlled;/* ApplicationControlled On: no handshake
					 * until the application asks (SIOCTTLSCTL) */
	unsigned secondary_map;		/* SecondaryMap On: later connections of the
					 * same process between the same two addresses
					 * inherit this policy */
	unsigned client_sni;		/* enum attls_tls_fn ClientHandshakeSNI */
	unsigned client_sni_match;	/* ClientHandshakeSNIMatch: OPTIONAL/REQUIRED
					 * (the server must acknowledge the name) */
	char client_sni_name[ATTLS_HOST_LEN];	/* ClientHandshakeSNIList: name sent */
	unsigned server_sni;		/* enum attls_tls_fn ServerHandshakeSNI */
	unsigned server_sni_match;	/* ServerHandshakeSNIMatch: REQUIRED = refuse
					 * names not in sni[] */
	struct attls_sni_entry sni[ATTLS_MAX_SNI];	/* ServerHandshakeSNIList */
	unsigned nsni;
	char host_ref_dns[ATTLS_HOST_LEN];	/* HostReferenceIdDNS: the peer
					 * certificate must match this name
					 * (SSL_set1_host); "" = no check */
	unsigned middlebox_compat;	/* MiddleBoxCompatMode On (default Off) */
	char keyring_pw[129];		/* KeyringPw of a key file: a secret, never
					 * display it; "" = none */
	char keyring_stash[1024];	/* KeyringStashFile (absolute path; first
					 * line = password); used only when
					 * keyring_pw is "" */
	unsigned group_user_instance;	/* GroupUserInstance of the rule's group */
	unsigned conn_user_instance;	/* ConnectionUserInstance; 0 without one */
	unsigned session_timeout;	/* GSK_V3_SESSION_TIMEOUT seconds (default
					 * 86400; 0 = no session reuse) */
	unsigned session_cache_size;	/* GSK_V3_SIDCACHE_SIZE (default 512) */
	unsigned ticket_client;		/* GSK_SESSION_TICKET_CLIENT_ENABLE (default 1) */
	unsigned ticket_server;		/* GSK_SESSION_TICKET_SERVER_ENABLE (default 0) */
	unsigned ticket_count;		/* GSK_SESSION_TICKET_SERVER_COUNT: TLS 1.3
					 * tickets sent per handshake (default 2) */
	unsigned app_protocol;		/* enum attls_app_protocol: ApplicationProtocol
					 * (attls extension, docs/ftp.md) */
	unsigned crl_level;		/* enum attls_crl_level: GSK_CRL_SECURITY_LEVEL
					 * (default MEDIUM); matters only when the
					 * key ring holds CRL files */
	/* TTLSEnvironmentAdvancedParms PeerMin*: the partner's certificates
	 * (below the trust anchor) and ephemeral DH key must be at least
	 * this large, in bits; 0 = OpenSSL's security level alone decides. */
	unsigned peer_min_rsa;		/* PeerMinRsaKeySize (RSA, RSA-PSS) */
	unsigned peer_min_dsa;		/* PeerMinDsaKeySize */
	unsigned peer_min_ecc;		/* PeerMinECCKeySize (EC, Ed25519, Ed448) */
	unsigned peer_min_dh;		/* PeerMinDHKeySize (finite-field DHE) */
	unsigned peer_cert_v3;		/* PeerMinCertVersion 3: X.509 v3 only */
	unsigned reset_cipher_min;	/* ResetCipherTimer: a TLS 1.3 KeyUpdate
					 * every so many minutes; 0 = never */
};

/* One TTLSRule with its actions: rule_id in struct attls_rule indexes this. */
struct attls_action {
	char rule_name[ATTLS_NAME_LEN];
	char group_name[ATTLS_NAME_LEN];
	char env_name[ATTLS_NAME_LEN];	/* "" when the group is not enabled */
	char conn_name[ATTLS_NAME_LEN];	/* "" when none */
	struct attls_srcloc where;
	uint32_t priority;
	int enabled;			/* TTLSGroupAction TTLSEnabled */
	int env_index;			/* into image->envs, -1 if none */
	unsigned trace;			/* effective Trace (conn > env > group) */

	/* Added with the complete policy language (appended only). */
	struct attls_time_window time;	/* IpTimeCondition; time.set == 0: none */
	uint32_t time_inactive;		/* 1: the window was closed at compile time,
					 * so the rule has no clause in this image */
	uint32_t syslog_facility;	/* enum attls_facility of the group */
	uint32_t nclauses;		/* clauses of this rule in image->rules */

	/* attls extensions (connection advanced parms over environment's). */
	uint32_t max_conns;		/* MaxConnections: concurrent connections of
					 * this rule; 0 = no per-rule limit */
	uint32_t idle_timeout;		/* IdleTimeout seconds without a byte in
					 * either direction; 0 = none */
};

/*
 * The output of policy_compile(): kernel clauses (already in AT-TLS order)
 * plus the user-space action and environment tables they index.
 */
struct attls_map_image {
	struct attls_rule *rules;	/* nrules <= ATTLS_MAX_RULES */
	size_t nrules;
	struct attls_action *actions;	/* indexed by attls_rule.rule_id */
	size_t nactions;
	struct attls_env_cfg *envs;
	size_t nenvs;
};

#endif /* ATTLS_POLICY_T_H */
