// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * dump.c - print a compiled policy the way z/OS "pasearch -t" shows AT-TLS
 * policy: rules in evaluation order with their conditions and actions,
 * then the environments.  Works from the image alone, so attlsctl can show
 * what is installed as well as what a file would install.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "timecond.h"

static int is_v4_mapped(const __u8 *a)
{
	static const __u8 pfx[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, pfx, sizeof(pfx));
}

/* The prefix length whose network is [lo, hi], or -1. */
static int range_prefix(const __u8 *lo, const __u8 *hi)
{
	int bits;

	for (bits = 0; bits <= 128; bits++) {
		int i, ok = 1;

		for (i = 0; i < ATTLS_ADDR_LEN && ok; i++) {
			int keep = bits >= 8 * (i + 1) ? 8 :
				   bits > 8 * i ? bits - 8 * i : 0;
			__u8 m = keep ? (__u8)(0xff << (8 - keep)) : 0;

			ok = (lo[i] & m) == lo[i] && (__u8)(lo[i] | (__u8)~m) == hi[i];
		}
		if (ok)
			return bits;
	}
	return -1;
}

static const char *addr_str(const __u8 *a, char *buf, size_t len)
{
	if (is_v4_mapped(a))
		inet_ntop(AF_INET, a + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
	return buf;
}

static void fmt_addr(char *out, size_t len, int set, const __u8 *lo,
		     const __u8 *hi)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int v4 = is_v4_mapped(lo) && is_v4_mapped(hi);
	int bits;

	if (!set) {
		snprintf(out, len, "All");
		return;
	}
	addr_str(lo, a, sizeof(a));
	if (!memcmp(lo, hi, ATTLS_ADDR_LEN)) {
		snprintf(out, len, "%s", a);
		return;
	}
	bits = range_prefix(lo, hi);
	if (bits >= (v4 ? 96 : 0))
		snprintf(out, len, "%s/%d", a, v4 ? bits - 96 : bits);
	else
		snprintf(out, len, "%s-%s", a, addr_str(hi, b, sizeof(b)));
}

static void fmt_ports(char *out, size_t len, __u16 lo, __u16 hi)
{
	if (lo == 0 && hi == 65535)
		snprintf(out, len, "0 (any)");
	else if (lo == hi)
		snprintf(out, len, "%u", lo);
	else
		snprintf(out, len, "%u-%u", lo, hi);
}

const char *attls_direction_name(__u32 flags)
{
	switch (flags & (ATTLS_RF_INBOUND | ATTLS_RF_OUTBOUND)) {
	case ATTLS_RF_INBOUND:
		return "Inbound";
	case ATTLS_RF_OUTBOUND:
		return "Outbound";
	case ATTLS_RF_INBOUND | ATTLS_RF_OUTBOUND:
		return "Both";
	}
	return "(none)";
}

const char *attls_role_name(enum attls_role role)
{
	switch (role) {
	case ATTLS_ROLE_SERVER:
		return "Server";
	case ATTLS_ROLE_CLIENT:
		return "Client";
	case ATTLS_ROLE_SERVER_CLIENTAUTH:
		return "ServerWithClientAuth";
	}
	return "(unset)";
}

void attls_clause_format(const struct attls_rule *cl, struct attls_clause_text *t)
{
	fmt_addr(t->local_addr, sizeof(t->local_addr), cl->flags & ATTLS_RF_LADDR,
		 cl->laddr_lo, cl->laddr_hi);
	fmt_addr(t->remote_addr, sizeof(t->remote_addr), cl->flags & ATTLS_RF_RADDR,
		 cl->raddr_lo, cl->raddr_hi);
	fmt_ports(t->local_port, sizeof(t->local_port), cl->lport_lo, cl->lport_hi);
	fmt_ports(t->remote_port, sizeof(t->remote_port), cl->rport_lo, cl->rport_hi);
	if (!(cl->flags & ATTLS_RF_JOB))
		snprintf(t->jobname, sizeof(t->jobname), "* (any)");
	else if (cl->job_len && cl->job_len <= ATTLS_COMM_LEN &&
		 !cl->job[cl->job_len - 1])
		snprintf(t->jobname, sizeof(t->jobname), "%.*s", ATTLS_COMM_LEN,
			 (const char *)cl->job);
	else
		snprintf(t->jobname, sizeof(t->jobname), "%.*s*",
			 (int)(cl->job_len <= ATTLS_COMM_LEN ? cl->job_len : ATTLS_COMM_LEN),
			 (const char *)cl->job);
	if (cl->flags & ATTLS_RF_UID)
		snprintf(t->userid, sizeof(t->userid), "uid %u", cl->uid);
	else
		snprintf(t->userid, sizeof(t->userid), "* (any)");
}

static void print_clause(FILE *f, const struct attls_rule *cl)
{
	struct attls_clause_text t;

	attls_clause_format(cl, &t);
	fprintf(f, "    %-24s %s\n", "LocalAddr:", t.local_addr);
	fprintf(f, "    %-24s %s\n", "RemoteAddr:", t.remote_addr);
	fprintf(f, "    %-24s %s\n", "LocalPortRange:", t.local_port);
	fprintf(f, "    %-24s %s\n", "RemotePortRange:", t.remote_port);
	fprintf(f, "    %-24s %s\n", "Jobname:", t.jobname);
	fprintf(f, "    %-24s %s\n", "Userid:", t.userid);
}

static void print_rule(FILE *f, const struct attls_map_image *img,
		       size_t id, size_t first, size_t n)
{
	const struct attls_action *a = &img->actions[id];
	size_t i;

	fprintf(f, "TTLSRule %s\n", a->rule_name);
	fprintf(f, "  %-26s %s:%u\n", "Source:", a->where.file, a->where.line);
	if (a->priority)
		fprintf(f, "  %-26s %u\n", "Priority:", a->priority);
	else
		fprintf(f, "  %-26s 0 (none given: lowest)\n", "Priority:");
	fprintf(f, "  %-26s %s\n", "Direction:",
		n ? attls_direction_name(img->rules[first].flags) : "(no clause)");
	fprintf(f, "  %-26s %s (TTLSEnabled %s)\n", "TTLSGroupAction:",
		a->group_name, a->enabled ? "On" : "Off");
	fprintf(f, "  %-26s %s\n", "TTLSEnvironmentAction:",
		a->env_name[0] ? a->env_name : "-");
	fprintf(f, "  %-26s %s\n", "TTLSConnectionAction:",
		a->conn_name[0] ? a->conn_name : "-");
	if (a->env_index >= 0 && (size_t)a->env_index < img->nenvs)
		fprintf(f, "  %-26s %s\n", "Environment:",
			img->envs[a->env_index].name);
	fprintf(f, "  %-26s %u\n", "Trace:", a->trace);
	if (a->syslog_facility == ATTLS_FACILITY_AUTH)
		fprintf(f, "  %-26s Auth\n", "SyslogFacility:");
	if (a->max_conns)
		fprintf(f, "  %-26s %u\n", "MaxConnections:", a->max_conns);
	if (a->idle_timeout)
		fprintf(f, "  %-26s %u\n", "IdleTimeout:", a->idle_timeout);
	if (a->time.set) {
		char when[160];

		time_window_format(&a->time, when, sizeof(when));
		fprintf(f, "  %-26s %s%s\n", "IpTimeCondition:", when,
			a->time_inactive ? " (closed when compiled)" : "");
	}
	if (!n && a->time_inactive)
		fprintf(f, "  Conditions: none now (outside its IpTimeCondition window)\n");
	else if (!n)
		fprintf(f, "  Conditions: none compiled (the rule matches nothing)\n");
	for (i = 0; i < n; i++) {
		if (n == 1)
			fprintf(f, "  Conditions:\n");
		else
			fprintf(f, "  Conditions (clause %zu of %zu):\n", i + 1, n);
		print_clause(f, &img->rules[first + i]);
	}
	fputc('\n', f);
}

static const char *fn_name(unsigned v)
{
	return v == ATTLS_FN_REQUIRED ? "Required" :
	       v == ATTLS_FN_OPTIONAL ? "Optional" : "Off";
}

const char *attls_client_auth_name(unsigned v)
{
	switch (v) {
	case ATTLS_CLIENT_AUTH_PASSTHRU:
		return "PassThru";
	case ATTLS_CLIENT_AUTH_FULL:
		return "Full";
	case ATTLS_CLIENT_AUTH_SAFCHECK:
		return "SAFCheck";
	}
	return "Required";
}

const char *attls_crl_level_name(unsigned v)
{
	switch (v) {
	case ATTLS_CRL_LOW:
		return "Low";
	case ATTLS_CRL_HIGH:
		return "High";
	}
	return "Medium";
}

/* The fields added with the complete language; defaults stay quiet. */
static void print_env_more(FILE *f, const struct attls_env_cfg *e)
{
	unsigned i;

	if (e->group_user_instance || e->conn_user_instance)
		fprintf(f, "  %-26s %u / %u\n", "Group/ConnUserInstance:",
			e->group_user_instance, e->conn_user_instance);
	if (e->keyring_pw[0])
		fprintf(f, "  %-26s (set)\n", "KeyringPw:");
	else if (e->keyring_stash[0])
		fprintf(f, "  %-26s %s\n", "KeyringStashFile:", e->keyring_stash);
	if (e->role == ATTLS_ROLE_SERVER_CLIENTAUTH)
		fprintf(f, "  %-26s %s\n", "ClientAuthType:",
			attls_client_auth_name(e->client_auth));
	for (i = 0; i < e->nserver_cert_labels && i < ATTLS_MAX_SERVER_LABELS; i++)
		fprintf(f, "  %-26s %.*s\n", i ? "" : "ServerCertificateLabel:",
			ATTLS_LABEL_LEN, e->server_cert_labels[i]);
	fprintf(f, "  %-26s %s\n", "Groups:",
		e->groups[0] ? e->groups : "(OpenSSL default)");
	fprintf(f, "  %-26s %s\n", "SignaturePairs:",
		e->sigalgs[0] ? e->sigalgs : "(OpenSSL default)");
	if (e->client_sni)
		fprintf(f, "  %-26s %s %s (match %s)\n", "ClientHandshakeSNI:",
			fn_name(e->client_sni), e->client_sni_name,
			fn_name(e->client_sni_match));
	if (e->server_sni)
		fprintf(f, "  %-26s %s (match %s)\n", "ServerHandshakeSNI:",
			fn_name(e->server_sni), fn_name(e->server_sni_match));
	for (i = 0; i < e->nsni && i < ATTLS_MAX_SNI; i++)
		fprintf(f, "  %-26s %.*s -> %.*s\n", i ? "" : "ServerHandshakeSNIList:",
			ATTLS_HOST_LEN, e->sni[i].host, ATTLS_LABEL_LEN,
			e->sni[i].label);
	if (e->host_ref_dns[0])
		fprintf(f, "  %-26s %s\n", "HostReferenceIdDNS:", e->host_ref_dns);
	if (e->application_controlled)
		fprintf(f, "  %-26s On\n", "ApplicationControlled:");
	if (e->secondary_map)
		fprintf(f, "  %-26s On\n", "SecondaryMap:");
	if (e->app_protocol == ATTLS_APP_FTP)
		fprintf(f, "  %-26s FTP\n", "ApplicationProtocol:");
	if (e->middlebox_compat)
		fprintf(f, "  %-26s On\n", "MiddleBoxCompatMode:");
	fprintf(f, "  %-26s timeout %u s, cache %u, tickets client %s server %s (%u)\n",
		"Sessions:", e->session_timeout, e->session_cache_size,
		e->ticket_client ? "On" : "Off", e->ticket_server ? "On" : "Off",
		e->ticket_count);
	if (e->crl_level != ATTLS_CRL_MEDIUM)
		fprintf(f, "  %-26s %s\n", "GSK_CRL_SECURITY_LEVEL:",
			attls_crl_level_name(e->crl_level));
	if (e->peer_min_rsa || e->peer_min_dsa || e->peer_min_ecc || e->peer_min_dh)
		fprintf(f, "  %-26s RSA %u DSA %u ECC %u DH %u bits (0: security "
			"level)\n", "PeerMinKeySize:", e->peer_min_rsa,
			e->peer_min_dsa, e->peer_min_ecc, e->peer_min_dh);
	if (e->peer_cert_v3)
		fprintf(f, "  %-26s 3\n", "PeerMinCertVersion:");
	if (e->reset_cipher_min)
		fprintf(f, "  %-26s %u min\n", "ResetCipherTimer:", e->reset_cipher_min);
}

static void print_env(FILE *f, const struct attls_env_cfg *e)
{
	fprintf(f, "TTLSEnvironmentAction %s\n", e->name);
	fprintf(f, "  %-26s %s:%u\n", "Source:", e->where.file, e->where.line);
	fprintf(f, "  %-26s %s\n", "HandshakeRole:", attls_role_name(e->role));
	fprintf(f, "  %-26s %s\n", "Keyring:", e->keyring);
	fprintf(f, "  %-26s %s\n", "CertificateLabel:",
		e->cert_label[0] ? e->cert_label : "(key ring default)");
	fprintf(f, "  %-26s%s%s\n", "Protocols:",
		e->protocols & ATTLS_PROTO_TLS12 ? " TLSv1.2" : "",
		e->protocols & ATTLS_PROTO_TLS13 ? " TLSv1.3" : "");
	fprintf(f, "  %-26s %s\n", "TLSv1.3 cipher suites:",
		e->tls13_suites[0] ? e->tls13_suites : "(OpenSSL default)");
	fprintf(f, "  %-26s %s\n", "TLSv1.2 cipher list:",
		e->tls12_ciphers[0] ? e->tls12_ciphers : "(OpenSSL default)");
	fprintf(f, "  %-26s %u\n", "HandshakeTimeout:", e->handshake_timeout);
	fprintf(f, "  %-26s %u\n", "Trace:", e->trace);
	fprintf(f, "  %-26s %u\n", "EnvironmentUserInstance:", e->user_instance);
	print_env_more(f, e);
	fputc('\n', f);
}

void attls_map_image_dump(const struct attls_map_image *img, FILE *f)
{
	size_t id, i, first;

	fprintf(f, "# AT-TLS policy: %zu rule%s (%zu clause%s), %zu environment%s, in evaluation order\n\n",
		img->nactions, img->nactions == 1 ? "" : "s",
		img->nrules, img->nrules == 1 ? "" : "s",
		img->nenvs, img->nenvs == 1 ? "" : "s");
	for (id = 0, first = 0; id < img->nactions; id++) {
		/* clauses are adjacent and in rule_id order */
		for (i = first; i < img->nrules && img->rules[i].rule_id == id; i++)
			;
		print_rule(f, img, id, first, i - first);
		first = i;
	}
	for (i = 0; i < img->nenvs; i++)
		print_env(f, &img->envs[i]);
	fprintf(f, "# attls never enables SSLv2, SSLv3, TLSv1 or TLSv1.1. An environment that\n"
		   "# sets neither TLSv1.2 nor TLSv1.3 On gets both (z/OS would default to\n"
		   "# TLSv1/TLSv1.1), minus any set Off or without a suite in its cipher list.\n");
}
