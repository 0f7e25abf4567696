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
