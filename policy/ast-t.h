/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ast-t.h - the parsed AT-TLS policy (pass 1 output, pass 2 annotates it).
 *
 * Types only (docs/style.md #17).  Every statement is a struct ast_stmt
 * whose union member is chosen by `kind`; keyword handlers write fields at
 * offsets named in the keyword tables (keywords.c), so adding a parameter
 * is a field here plus one table line there.  Values are validated and
 * converted at parse time (addresses to ranges, ports to bounds, cipher
 * names to codes); names are resolved to pointers in pass 2.
 */
#ifndef ATTLS_AST_T_H
#define ATTLS_AST_T_H

#include <stddef.h>
#include <stdint.h>

#include "policy-t.h"

#define AST_NAME_MAX	(ATTLS_NAME_LEN - 1)	/* AT-TLS names: 1-32 chars */
#define AST_USER_MAX	32			/* useradd's limit on Linux */
#define AST_MAX_SLOTS	24			/* parameter slots per statement */

struct kw;
struct ast_stmt;

/* A position in a policy file; `file` is owned by struct policy. */
struct ast_loc {
	const char *file;
	unsigned line;			/* 1-based; 0 = unknown */
	unsigned col;			/* 1-based, in bytes */
};

enum stmt_kind {
	STMT_NONE = 0,
	STMT_RULE,			/* TTLSRule */
	STMT_GROUP,			/* TTLSGroupAction */
	STMT_ENV,			/* TTLSEnvironmentAction */
	STMT_CONN,			/* TTLSConnectionAction */
	STMT_KEYRING,			/* TTLSKeyringParms */
	STMT_ENV_ADV,			/* TTLSEnvironmentAdvancedParms */
	STMT_CONN_ADV,			/* TTLSConnectionAdvancedParms */
	STMT_CIPHER,			/* TTLSCipherParms */
	STMT_PORTRANGE,			/* PortRange */
	STMT_IPADDR,			/* IpAddr */
	STMT_KIND_MAX,
};

/* A scalar parameter: a number, On/Off as 1/0, or an enumerated value. */
struct ast_val {
	int set;
	uint32_t v;
	struct ast_loc loc;		/* of the value */
};

/* A string parameter; s == NULL when not given. */
struct ast_str {
	char *s;
	struct ast_loc loc;
};

/*
 * A reference to another statement, by name (`...Ref name`) or inline
 * (`TTLSKeyringParms { ... }`, then `to` is set by the parser and `name`
 * is the inline statement's optional name).
 */
struct ast_ref {
	int set;
	int is_inline;
	char name[ATTLS_NAME_LEN];
	struct ast_loc loc;		/* of the name, or of the inline keyword */
	const struct kw *kw;		/* the keyword that set it */
	struct ast_stmt *to;		/* NULL until resolved */
};

/* LocalAddr / RemoteAddr / Addr: an inclusive range of 16-byte addresses. */
struct ast_addr {
	int set;
	int all;			/* "All": no condition */
	uint8_t lo[ATTLS_ADDR_LEN];	/* network order, IPv4 as ::ffff:a.b.c.d */
	uint8_t hi[ATTLS_ADDR_LEN];
	struct ast_loc loc;
};

/* LocalPortRange / RemotePortRange / Port: host order, inclusive. */
struct ast_ports {
	int set;
	uint16_t lo;			/* "0" (any) is stored as 0..65535 */
	uint16_t hi;
	struct ast_loc loc;
};

/* Jobname, already in the form of struct attls_rule's job[]/job_len. */
struct ast_job {
	int set;
	int any;			/* "*" alone */
	int prefix;			/* "PFX*" */
	char pat[ATTLS_COMM_LEN];	/* NUL-padded name or prefix */
	uint8_t len;			/* attls_rule.job_len */
	struct ast_loc loc;
};

enum ast_user_how {
	AST_USER_ANY = 1,		/* "*" */
	AST_USER_UID,			/* numeric */
	AST_USER_NAME,			/* resolved at compile time */
	AST_USER_PREFIX,		/* "app*": every matching user */
};

struct ast_user {
	int set;
	enum ast_user_how how;
	uint32_t uid;			/* AST_USER_UID */
	char name[AST_USER_MAX + 1];	/* name, or prefix without the '*' */
	struct ast_loc loc;
};

struct ast_rule {
	struct ast_addr laddr, raddr;
	struct ast_ref laddr_ref, raddr_ref;	/* -> IpAddr */
	struct ast_ports lport, rport;
	struct ast_ref lport_ref, rport_ref;	/* -> PortRange */
	struct ast_job job;
	struct ast_user user;
	struct ast_val direction;	/* ATTLS_RF_INBOUND | ATTLS_RF_OUTBOUND */
	struct ast_val priority;
	struct ast_ref group, env, conn;
};

struct ast_group {
	struct ast_val enabled;		/* TTLSEnabled: 1 On, 0 Off */
	struct ast_val trace;
	struct ast_val user_instance;	/* GroupUserInstance */
};

struct ast_env {
	struct ast_val role;		/* enum attls_role */
	struct ast_val trace;
	struct ast_val user_instance;	/* EnvironmentUserInstance */
	struct ast_ref keyring;		/* -> TTLSKeyringParms */
	struct ast_ref adv;		/* -> TTLSEnvironmentAdvancedParms */
	struct ast_ref cipher;		/* -> TTLSCipherParms */
};

struct ast_conn {
	struct ast_val role;
	struct ast_val trace;
	struct ast_val user_instance;	/* ConnectionUserInstance */
	struct ast_ref adv;		/* -> TTLSConnectionAdvancedParms */
	struct ast_ref cipher;
};

struct ast_keyring {
	struct ast_str keyring;		/* OWNER/RING, RING or /path */
	struct ast_str pw;
	struct ast_str stash;
};

/* TTLSEnvironmentAdvancedParms and TTLSConnectionAdvancedParms. */
struct ast_adv {
	struct ast_val tls12;		/* On/Off; unset = see compile.c */
	struct ast_val tls13;
	struct ast_val timeout;		/* HandshakeTimeout */
	struct ast_str label;		/* CertificateLabel */
};

/* TTLSCipherParms: IANA codes in preference order, duplicates removed. */
struct ast_cipher {
	int given;			/* a V3CipherSuites* line was seen */
	struct ast_loc loc;		/* of the first such line */
	uint16_t *suites;
	size_t n;
	size_t cap;
};

struct ast_portrange {
	struct ast_ports port;
};

struct ast_ipaddr {
	struct ast_addr addr;
};

struct ast_stmt {
	enum stmt_kind kind;
	char name[ATTLS_NAME_LEN];	/* "" for an unnamed inline statement */
	struct ast_loc loc;		/* of the statement keyword */
	struct ast_stmt *parent;	/* inline: the statement holding it */
	unsigned index;			/* definition order */
	unsigned nrefs;			/* how many references reach it */
	/* first occurrence of each parameter slot (line 0 = not given) */
	struct ast_loc seen[AST_MAX_SLOTS];
	const char *seen_kw[AST_MAX_SLOTS];
	union {
		struct ast_rule rule;
		struct ast_group group;
		struct ast_env env;
		struct ast_conn conn;
		struct ast_keyring keyring;
		struct ast_adv adv;
		struct ast_cipher cipher;
		struct ast_portrange portrange;
		struct ast_ipaddr ipaddr;
	} u;
};

/* The policy: every statement (inline ones too) in definition order. */
struct policy {
	char **files;			/* names the ast_loc.file pointers use */
	size_t nfiles;
	struct ast_stmt **stmts;
	size_t nstmts;
	size_t cap;
};

#endif /* ATTLS_AST_T_H */
