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
#define AST_MAX_SLOTS	48			/* parameter slots per statement */

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
	STMT_IPADDRSET,			/* IpAddrSet */
	STMT_IPADDRGROUP,		/* IpAddrGroup */
	STMT_PORTGROUP,			/* PortGroup */
	STMT_TIME,			/* IpTimeCondition */
	STMT_SIG,			/* TTLSSignatureParms */
	STMT_GROUP_ADV,			/* TTLSGroupAdvancedParms */
	STMT_GSK_ADV,			/* TTLSGskAdvancedParms */
	STMT_GSK_LDAP,			/* TTLSGskLdapParms (GSK_CRL_SECURITY_LEVEL) */
	STMT_GSK_OCSP,			/* TTLSGskOcspParms (ignored on Linux) */
	STMT_GSK_CDP,			/* TTLSGskHttpCdpParms (ignored on Linux) */
	/* PAGENT configuration files (one line each, no block) */
	STMT_TCPIMAGE,			/* TcpImage / PEPInstance (main file) */
	STMT_COMMON_TTLS,		/* CommonTTLSConfig (main file) */
	STMT_TTLSCONFIG,		/* TTLSConfig (image file) */
	STMT_PAGENT,			/* other disciplines (IPSecConfig ...): ignored */
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

/*
 * A repeatable reference or inline statement (IpAddrGroup members,
 * PortGroup members, IpAddrSet's IpAddr): every item keeps the keyword
 * that made it, so one list can mix kinds.
 */
struct ast_reflist {
	struct ast_ref *v;
	size_t n;
	size_t cap;
};

/* LocalAddr / RemoteAddr / Addr: an inclusive range of 16-byte addresses. */
struct ast_addr {
	int set;
	int all;			/* "All": no condition */
	uint8_t lo[ATTLS_ADDR_LEN];	/* network order, IPv4 as ::ffff:a.b.c.d */
	uint8_t hi[ATTLS_ADDR_LEN];
	struct ast_loc loc;
};

/* IpAddrSet Addr / Prefix / Range lines. */
struct ast_addrlist {
	struct ast_addr *v;
	size_t n;
	size_t cap;
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

/* Repeatable string values (ServerCertificateLabel, SNI lists). */
struct ast_strlist {
	struct ast_str *v;
	size_t n;
	size_t cap;
};

/*
 * Ordered, duplicate-free 16-bit IANA code points: TLS groups or
 * signature schemes (TTLSSignatureParms).  `any` is "Any"/"Default":
 * the library's default list.
 */
struct ast_codes {
	int given;
	int any;
	struct ast_loc loc;		/* of the first line */
	uint16_t *v;
	size_t n;
	size_t cap;
};

/*
 * Rule conditions.  X, XRef, XSetRef and XGroupRef exclude each other (one
 * slot), so one ast_ref per condition holds whichever reference was given;
 * its keyword says what it refers to.
 */
struct ast_rule {
	struct ast_addr laddr, raddr;
	struct ast_ref laddr_ref, raddr_ref;	/* -> IpAddr, IpAddrSet, IpAddrGroup */
	struct ast_ports lport, rport;
	struct ast_ref lport_ref, rport_ref;	/* -> PortRange, PortGroup */
	struct ast_job job;
	struct ast_user user;
	struct ast_val direction;	/* ATTLS_RF_INBOUND | ATTLS_RF_OUTBOUND */
	struct ast_val priority;
	struct ast_ref group, env, conn;
	struct ast_ref time;		/* -> IpTimeCondition */
};

struct ast_group {
	struct ast_val enabled;		/* TTLSEnabled: 1 On, 0 Off */
	struct ast_val trace;
	struct ast_val user_instance;	/* GroupUserInstance */
	struct ast_ref adv;		/* -> TTLSGroupAdvancedParms */
};

struct ast_env {
	struct ast_val role;		/* enum attls_role */
	struct ast_val trace;
	struct ast_val user_instance;	/* EnvironmentUserInstance */
	struct ast_ref keyring;		/* -> TTLSKeyringParms */
	struct ast_ref adv;		/* -> TTLSEnvironmentAdvancedParms */
	struct ast_ref cipher;		/* -> TTLSCipherParms */
	struct ast_ref sig;		/* -> TTLSSignatureParms */
	struct ast_ref gsk;		/* -> TTLSGskAdvancedParms */
};

struct ast_conn {
	struct ast_val role;
	struct ast_val trace;
	struct ast_val user_instance;	/* ConnectionUserInstance */
	struct ast_ref adv;		/* -> TTLSConnectionAdvancedParms */
	struct ast_ref cipher;
	struct ast_ref sig;		/* -> TTLSSignatureParms */
};

struct ast_keyring {
	struct ast_str keyring;		/* OWNER/RING, RING or /path */
	struct ast_str pw;
	struct ast_str stash;
};

/*
 * TTLSEnvironmentAdvancedParms and TTLSConnectionAdvancedParms (the
 * connection form has no defaults: unset inherits the environment's).
 */
struct ast_adv {
	struct ast_val tls12;		/* On/Off; unset = see compile.c */
	struct ast_val tls13;
	struct ast_val timeout;		/* HandshakeTimeout */
	struct ast_str label;		/* CertificateLabel */
	struct ast_val client_auth;	/* enum attls_client_auth */
	struct ast_val app_ctl;		/* ApplicationControlled */
	struct ast_val secondary_map;	/* SecondaryMap */
	struct ast_val app_proto;	/* ApplicationProtocol (attls extension) */
	struct ast_val middlebox;	/* MiddleBoxCompatMode */
	struct ast_val client_sni;	/* enum attls_tls_fn */
	struct ast_val client_sni_match;
	struct ast_val server_sni;
	struct ast_val server_sni_match;
	struct ast_strlist server_labels;	/* ServerCertificateLabel */
	struct ast_strlist client_sni_list;	/* host names */
	struct ast_strlist server_sni_list;	/* "label:host" as written */
	struct ast_str host_ref_dns;	/* HostReferenceIdDNS */
	struct ast_val idle_timeout;	/* IdleTimeout (attls extension) */
	struct ast_val max_conns;	/* MaxConnections (attls extension) */
	struct ast_val peer_min_rsa;	/* PeerMinRsaKeySize (bits) */
	struct ast_val peer_min_dsa;	/* PeerMinDsaKeySize */
	struct ast_val peer_min_ecc;	/* PeerMinECCKeySize */
	struct ast_val peer_min_dh;	/* PeerMinDHKeySize */
	struct ast_val peer_min_certver;	/* PeerMinCertVersion Any (0) | 3 (1) */
	struct ast_val reset_cipher;	/* ResetCipherTimer (minutes) */
};

/* TTLSSignatureParms (z/OS 2.5 form). */
struct ast_sig {
	struct ast_codes client_curves;	/* ClientECurves */
	struct ast_codes client_shares;	/* ClientKeyShareGroups */
	struct ast_codes server_curves;	/* ServerKexECurves */
	struct ast_codes server_shares;	/* ServerKeyShareGroups */
	struct ast_codes pairs;		/* SignaturePairs */
	struct ast_codes pairs_cert;	/* SignaturePairsCert (ignored) */
};

/* TTLSGroupAdvancedParms. */
struct ast_group_adv {
	struct ast_val syslog;		/* enum attls_facility */
};

/* TTLSGskAdvancedParms: the session-cache parameters OpenSSL has too. */
struct ast_gsk {
	struct ast_val v3_timeout;	/* GSK_V3_SESSION_TIMEOUT */
	struct ast_val v3_cache;	/* GSK_V3_SIDCACHE_SIZE */
	struct ast_val ticket_client;	/* GSK_SESSION_TICKET_CLIENT_ENABLE */
	struct ast_val ticket_server;	/* GSK_SESSION_TICKET_SERVER_ENABLE */
	struct ast_val ticket_count;	/* GSK_SESSION_TICKET_SERVER_COUNT */
	struct ast_ref ldap;		/* -> TTLSGskLdapParms */
	struct ast_ref ocsp, cdp;	/* accepted, ignored with a warning */
};

/*
 * TTLSGskLdapParms: of the LDAP CRL settings only the security level
 * applies on Linux, to the CRL files of the key ring; the LDAP server
 * parameters are ignored with a warning (nothing is fetched).
 */
struct ast_gsk_ldap {
	struct ast_val crl_level;	/* GSK_CRL_SECURITY_LEVEL: enum attls_crl_level */
};

/*
 * IpTimeCondition, already in the shape of struct attls_time_window.
 * Both IBM's mask form (DayOfWeekMask ...) and the From/To form
 * (FromDayOfWeek ...) fill the same fields; `*_from`/`*_to` hold the
 * From/To values until pass 2 turns them into masks.
 */
struct ast_time {
	struct ast_val tz;		/* TimeZone: 1 UTC, 0 Local */
	struct ast_val range;		/* ConditionTimeRange given */
	uint64_t start, end;		/* YYYYMMDDhhmmss, inclusive */
	struct ast_val tod;		/* TimeOfDayRange given */
	struct ast_val tod_from, tod_to;	/* seconds after midnight */
	struct ast_val dow, dom, month;	/* masks, from the Mask form */
	uint32_t dom_last;		/* DayOfMonthMask positions 32-62 */
	struct ast_val dow_from, dow_to;	/* From/To form */
	struct ast_val dom_from, dom_to;
	struct ast_val month_from, month_to;
};

/* TcpImage / PEPInstance, CommonTTLSConfig, TTLSConfig. */
struct ast_cfg {
	const char *what;		/* the statement as written (static) */
	char stack[ATTLS_NAME_LEN];	/* TcpImage: the TCP/IP stack name */
	struct ast_str path;		/* file named; s == NULL: none */
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

/* IpAddrSet: Addr/Prefix/Range lines and IpAddr members, one OR-list. */
struct ast_ipaddrset {
	struct ast_addrlist addrs;
	struct ast_reflist items;	/* -> IpAddr */
};

/* IpAddrGroup and PortGroup: OR-lists of members. */
struct ast_members {
	struct ast_reflist items;	/* -> IpAddrSet/IpAddr, PortRange */
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
		struct ast_ipaddrset addrset;
		struct ast_members members;	/* IpAddrGroup, PortGroup */
		struct ast_time time;
		struct ast_sig sig;
		struct ast_group_adv group_adv;
		struct ast_gsk gsk;
		struct ast_gsk_ldap gsk_ldap;
		struct ast_cfg cfg;
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
