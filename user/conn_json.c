// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policy/policy.h"
#include "addr.h"
#include "aj.h"
#include "conn_json.h"
#include "rc_table.h"

static int add_cert(struct json_object *o, const char *key,
		    const struct zert_cert *z)
{
	struct json_object *c;
	int err;

	if (!z->subject[0])
		return aj_add_null(o, key);
	c = json_object_new_object();
	if (!c)
		return -ENOMEM;
	err = aj_add_str(c, "subject", z->subject);
	err = err ?: aj_add_str(c, "issuer", z->issuer);
	err = err ?: aj_add_str(c, "serial", z->serial);
	err = err ?: aj_add_str(c, "not_before", z->not_before);
	err = err ?: aj_add_str(c, "not_after", z->not_after);
	err = err ?: aj_add_str(c, "key_type", z->key_type);
	err = err ?: aj_add_u64(c, "key_bits", z->key_bits);
	err = err ?: aj_add_str(c, "sha256", z->sha256);
	if (err) {
		json_object_put(c);
		return err;
	}
	return aj_add(o, key, c);
}

static int add_str_array(struct json_object *o, const char *key,
			 const char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	if (!a)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (json_object_array_add(a, json_object_new_string(v[i]))) {
			json_object_put(a);
			return -ENOMEM;
		}
	}
	return aj_add(o, key, a);
}

static const char *or_default(const char *s)
{
	return s[0] ? s : "(OpenSSL default)";
}

/* The effective parameters of a connection's environment (netstat TTLS
 * CONN DETAIL), resolved: connection-level values already override. */
static int add_detail(struct json_object *o, const struct attls_env_cfg *e,
		      unsigned trace)
{
	struct json_object *d = json_object_new_object();
	const char *protos[2];
	char where[300];
	size_t np = 0;
	int err;

	if (!d)
		return -ENOMEM;
	if (e->protocols & ATTLS_PROTO_TLS12)
		protos[np++] = "TLSv1.2";
	if (e->protocols & ATTLS_PROTO_TLS13)
		protos[np++] = "TLSv1.3";
	snprintf(where, sizeof(where), "%s:%u", e->where.file, e->where.line);
	err = aj_add_str(d, "environment", e->name);
	err = err ?: aj_add_str(d, "source", where);
	err = err ?: aj_add_str(d, "handshake_role", attls_role_name(e->role));
	err = err ?: add_str_array(d, "protocols", protos, np);
	err = err ?: aj_add_str(d, "tls13_ciphersuites", or_default(e->tls13_suites));
	err = err ?: aj_add_str(d, "tls12_ciphers", or_default(e->tls12_ciphers));
	err = err ?: aj_add_str(d, "groups", or_default(e->groups));
	err = err ?: aj_add_str(d, "signature_algorithms", or_default(e->sigalgs));
	err = err ?: aj_add_u64(d, "handshake_timeout", e->handshake_timeout);
	err = err ?: aj_add_str(d, "client_auth_type",
				e->role == ATTLS_ROLE_SERVER_CLIENTAUTH ?
				attls_client_auth_name(e->client_auth) : NULL);
	err = err ?: aj_add_str(d, "crl_security_level",
				attls_crl_level_name(e->crl_level));
	err = err ?: aj_add_u64(d, "peer_min_rsa_key_size", e->peer_min_rsa);
	err = err ?: aj_add_u64(d, "peer_min_dsa_key_size", e->peer_min_dsa);
	err = err ?: aj_add_u64(d, "peer_min_ecc_key_size", e->peer_min_ecc);
	err = err ?: aj_add_u64(d, "peer_min_dh_key_size", e->peer_min_dh);
	err = err ?: aj_add_str(d, "peer_min_cert_version", e->peer_cert_v3 ? "3" : "Any");
	err = err ?: aj_add_u64(d, "reset_cipher_timer_min", e->reset_cipher_min);
	err = err ?: aj_add_str(d, "keyring", e->keyring);
	err = err ?: aj_add_str(d, "certificate_label",
				e->cert_label[0] ? e->cert_label : NULL);
	err = err ?: aj_add_str(d, "host_reference_id_dns",
				e->host_ref_dns[0] ? e->host_ref_dns : NULL);
	err = err ?: aj_add_str(d, "client_sni_name",
				e->client_sni_name[0] ? e->client_sni_name : NULL);
	err = err ?: aj_add_u64(d, "session_timeout", e->session_timeout);
	err = err ?: aj_add_u64(d, "environment_user_instance", e->user_instance);
	err = err ?: aj_add_bool(d, "middlebox_compat", e->middlebox_compat);
	err = err ?: aj_add_u64(d, "trace", trace);
	err = err ?: aj_add_u64(d, "environment_trace", e->trace);
	if (err) {
		json_object_put(d);
		return err;
	}
	return aj_add(o, "detail", d);
}

int conn_json_add(const struct engine_conn_info *ci,
		  const struct attls_env_cfg *env, struct json_object *arr)
{
	const struct zert_conn *c = &ci->z;
	struct json_object *o = json_object_new_object();
	char l[ATTLS_ADDRSTRLEN], r[ATTLS_ADDRSTRLEN], id[20];
	char comm[ATTLS_COMM_LEN + 1], pwbuf[1024];
	struct passwd pw, *res = NULL;
	int secure = ci->state == ENGINE_CONN_SECURE, err;

	if (!o)
		return -ENOMEM;
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)c->conn_id);
	memcpy(comm, c->owner.comm, ATTLS_COMM_LEN);
	comm[ATTLS_COMM_LEN] = '\0';
	getpwuid_r(c->owner.uid, &pw, pwbuf, sizeof(pwbuf), &res);
	err = aj_add_str(o, "conn_id", id);
	/* ApplicationControlled On: "Appl Control" (as z/OS shows it) while
	 * cleartext, before the application starts TLS and after a stop. */
	err = err ?: aj_add_str(o, "state", engine_conn_state_name(ci->state));
	err = err ?: aj_add_bool(o, "application_controlled", c->appl_ctl);
	err = err ?: aj_add_str(o, "direction", c->direction == ATTLS_RF_OUTBOUND ?
				"outbound" : "inbound");
	err = err ?: aj_add_str(o, "local_addr", attls_addr_str(c->wire.laddr, l, sizeof(l)));
	err = err ?: aj_add_u64(o, "local_port", c->wire.lport);
	err = err ?: aj_add_str(o, "remote_addr", attls_addr_str(c->wire.raddr, r, sizeof(r)));
	err = err ?: aj_add_u64(o, "remote_port", c->wire.rport);
	err = err ?: aj_add_str(o, "job", comm);
	err = err ?: aj_add_u64(o, "pid", c->owner.pid);
	err = err ?: aj_add_u64(o, "uid", c->owner.uid);
	err = err ?: aj_add_str(o, "user", res ? res->pw_name : NULL);
	err = err ?: aj_add_str(o, "rule", c->rule);
	err = err ?: aj_add_str(o, "group", c->group);
	err = err ?: aj_add_str(o, "environment", c->env[0] ? c->env : NULL);
	err = err ?: aj_add_str(o, "connection", c->conn[0] ? c->conn : NULL);
	err = err ?: aj_add_str(o, "protocol", secure ? c->tls.protocol : NULL);
	err = err ?: aj_add_str(o, "cipher", secure ? c->tls.cipher_iana : NULL);
	err = err ?: aj_add_str(o, "key_exchange", secure && c->tls.group[0] ?
				c->tls.group : NULL);
	err = err ?: aj_add_str(o, "role", secure ? c->tls.role : NULL);
	err = err ?: aj_add_bool(o, "resumed", c->tls.resumed);
	err = err ?: add_cert(o, "peer_cert", &c->tls.peer_cert);
	err = err ?: aj_add_str(o, "peer_user", c->tls.peer_user[0] ?
				c->tls.peer_user : NULL);
	err = err ?: aj_add_u64(o, "bytes_in", c->bytes_in);
	err = err ?: aj_add_u64(o, "bytes_out", c->bytes_out);
	err = err ?: aj_add_u64(o, "trace", ci->trace);
	err = err ?: aj_add_u64(o, "grp_id", ci->grp_id);
	err = err ?: aj_add_i64(o, "env_id", ci->env_index + 1);
	err = err ?: aj_add_u64(o, "policy_generation", ci->generation);
	if (!err && env)
		err = add_detail(o, env, ci->trace);
	if (err || json_object_array_add(arr, o)) {
		json_object_put(o);
		return err ?: -ENOMEM;
	}
	return 0;
}

/* One group of the summary: its name, environments and state counts. */
static struct json_object *group_find(struct json_object *groups,
				      const char *name)
{
	size_t i, n = json_object_array_length(groups);
	struct json_object *g, *j;

	for (i = 0; i < n; i++) {
		g = json_object_array_get_idx(groups, i);
		if (json_object_object_get_ex(g, "group", &j) &&
		    !strcmp(json_object_get_string(j), name))
			return g;
	}
	g = json_object_new_object();
	if (!g)
		return NULL;
	if (aj_add_str(g, "group", name) ||
	    aj_add(g, "environments", json_object_new_array()) ||
	    aj_add_u64(g, "connections", 0) || aj_add_u64(g, "not_secure", 0) ||
	    aj_add_u64(g, "handshake_in_progress", 0) || aj_add_u64(g, "secure", 0) ||
	    json_object_array_add(groups, g)) {
		json_object_put(g);
		return NULL;
	}
	return g;
}

static int group_add_env(struct json_object *g, const char *env)
{
	struct json_object *envs;
	size_t i, n;

	if (!env[0] || !json_object_object_get_ex(g, "environments", &envs))
		return 0;
	n = json_object_array_length(envs);
	for (i = 0; i < n; i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(envs, i)),
			    env))
			return 0;
	return json_object_array_add(envs, json_object_new_string(env)) ? -ENOMEM : 0;
}

static void group_count(struct json_object *g, const char *key)
{
	struct json_object *j;

	if (json_object_object_get_ex(g, key, &j))
		json_object_set_int64(j, json_object_get_int64(j) + 1);
}

int conn_groups_json(const struct attls_map_image *img,
		     const struct engine_conn_info *ci, size_t n,
		     struct json_object *out)
{
	static const char *const state_keys[] = {
		[ENGINE_CONN_NOT_SECURE] = "not_secure",
		[ENGINE_CONN_HANDSHAKE] = "handshake_in_progress",
		[ENGINE_CONN_SECURE] = "secure",
	};
	struct json_object *groups = json_object_new_array(), *g;
	size_t i;
	int err = groups ? 0 : -ENOMEM;

	for (i = 0; i < img->nactions && !err; i++) {
		g = group_find(groups, img->actions[i].group_name);
		err = g ? group_add_env(g, img->actions[i].env_name) : -ENOMEM;
	}
	for (i = 0; i < n && !err; i++) {
		g = group_find(groups, ci[i].z.group);
		err = g ? group_add_env(g, ci[i].z.env) : -ENOMEM;
		if (err)
			break;
		group_count(g, "connections");
		if (ci[i].state >= ENGINE_CONN_NOT_SECURE &&
		    ci[i].state <= ENGINE_CONN_SECURE)
			group_count(g, state_keys[ci[i].state]);
	}
	if (err) {
		json_object_put(groups);
		return err;
	}
	return aj_add(out, "groups", groups);
}

/* {"RC": count, ...} of the codes with a non-zero count. */
static int add_rc_counts(struct json_object *o, const char *key,
			 const uint64_t *counts)
{
	struct json_object *m = json_object_new_object();
	const struct attls_rc_info *tab;
	char rc[16];
	size_t n, i;
	int err = m ? 0 : -ENOMEM;

	tab = attls_rc_table(&n);
	for (i = 0; i < n && i < ATTLS_RC_MAX_CODES && !err; i++) {
		if (!counts[i])
			continue;
		snprintf(rc, sizeof(rc), "%d", tab[i].rc);
		/* not aj_add_u64(): its keys must be literals (not copied) */
		if (json_object_object_add(m, rc, json_object_new_int64(
					   (int64_t)counts[i])))
			err = -ENOMEM;
	}
	if (err) {
		json_object_put(m);
		return err;
	}
	return aj_add(o, key, m);
}

int engine_stats_json(struct engine *e, struct json_object *out)
{
	struct engine_stats *st = malloc(sizeof(*st));
	struct json_object *o = json_object_new_object();
	int err = st && o ? 0 : -ENOMEM;

	if (!err) {
		engine_stats(e, st);
		err = aj_add_u64(o, "connections", st->live_conns);
		err = err ?: aj_add_u64(o, "max_connections", st->max_conns);
		err = err ?: aj_add_u64(o, "buffer_bytes", st->bufsize);
		err = err ?: aj_add_u64(o, "connections_accepted", st->accepted);
		err = err ?: aj_add_u64(o, "connections_mapped", st->mapped);
		err = err ?: aj_add_u64(o, "connections_refused", st->refused);
		err = err ?: aj_add_u64(o, "refused_no_steer", st->no_steer);
		err = err ?: aj_add_u64(o, "refused_conn_limit", st->refused_global);
		err = err ?: aj_add_u64(o, "refused_rule_limit", st->refused_rule);
		err = err ?: aj_add_u64(o, "handshake_timeouts", st->handshake_timeouts);
		err = err ?: aj_add_u64(o, "idle_timeouts", st->idle_timeouts);
		err = err ?: aj_add_u64(o, "failed", st->failed);
		err = err ?: aj_add_u64(o, "handshakes_ok", st->hs_ok);
		err = err ?: aj_add_u64(o, "handshakes_failed", st->hs_failed);
		err = err ?: add_rc_counts(o, "handshakes_failed_by_rc",
					   st->hs_failed_rc);
		err = err ?: aj_add_u64(o, "secure_failed", st->failed_secure);
		err = err ?: add_rc_counts(o, "secure_failed_by_rc",
					   st->failed_secure_rc);
		err = err ?: aj_add_u64(o, "ftp_sessions", st->ftp_sessions);
		err = err ?: aj_add_u64(o, "ftp_auth_tls", st->ftp_auth_tls);
		err = err ?: aj_add_u64(o, "ftp_refused_before_auth",
					st->ftp_refused);
		err = err ?: aj_add_u64(o, "ftp_protocol_closed", st->ftp_closed);
	}
	free(st);
	if (err) {
		json_object_put(o);
		return err;
	}
	return aj_add(out, "engine", o);
}
