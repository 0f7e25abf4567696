// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * zert_session.c - security sessions from the engine and from stream
 * observation, and their JSON (field names: ECS / OpenTelemetry tls.*
 * and x509.* where those exist, docs/zert-schema.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "aj.h"
#include "tlsinfo.h"
#include "zert_session.h"

#define COPY(dst, src)	snprintf((dst), sizeof(dst), "%s", (src) ? (src) : "")

const char *zert_code_str(int code, char *buf)
{
	if (code < 0)
		buf[0] = '\0';
	else
		snprintf(buf, 8, "0x%04X", (unsigned)code & 0xffff);
	return buf;
}

/* Cipher suite attributes from the IANA table, by code or by name. */
static void tls_cipher_attrs(struct zert_session *s, const struct obs_cipher *cs)
{
	if (!cs)
		return;
	COPY(s->enc, cs->enc);
	s->enc_bits = cs->enc_bits;
	COPY(s->mac, cs->mac);
	if (strcmp(cs->kex, "any"))
		COPY(s->kex, cs->kex);
}

/* Group attributes; for TLS 1.3 the group also says the key exchange. */
static void tls_group_attrs(struct zert_session *s, const struct obs_group *g)
{
	if (!g)
		return;
	COPY(s->group, g->name);
	s->group_code = g->code;
	s->post_quantum = g->post_quantum;
	s->hybrid = g->hybrid;
	if (!s->kex[0] || !strcmp(s->kex, "ECDHE") || !strcmp(s->kex, "DHE"))
		COPY(s->kex, g->kex);
}

/* "TLSv1.3" -> "tls" "1.3"; "SSLv3" -> "ssl" "3.0". */
static void openssl_version(struct zert_session *s, const char *v)
{
	if (!strncmp(v, "TLSv", 4)) {
		COPY(s->protocol, "tls");
		snprintf(s->version, sizeof(s->version), "%.7s", v + 4);
	} else if (!strcmp(v, "SSLv3")) {
		COPY(s->protocol, "ssl");
		COPY(s->version, "3.0");
	} else {
		COPY(s->protocol, "tls");
		snprintf(s->version, sizeof(s->version), "%.7s", v);
	}
}

static void session_init(struct zert_session *s)
{
	memset(s, 0, sizeof(*s));
	s->alert = -1;
	s->disconnect = -1;
	s->cipher_code = -1;
	s->group_code = -1;
}

void zert_session_from_engine(struct zert_session *s, const struct zert_tls *t,
			      int handshaken, int rc)
{
	int server;

	session_init(s);
	server = strcmp(t->role, "client") != 0;
	s->client = !server;
	s->has_rc = 1;
	s->rc = rc;
	if (!handshaken) {
		/* ended before the handshake finished: only the outcome */
		COPY(s->protocol, "tls");
		s->outcome = rc ? ZERT_OUT_FAILED : ZERT_OUT_INCOMPLETE;
		s->failure = rc ? "rc" : NULL;
		return;
	}
	openssl_version(s, t->protocol);
	s->outcome = ZERT_OUT_OK;
	s->resumed = t->resumed;
	COPY(s->cipher, t->cipher_iana);
	s->cipher_code = t->cipher_code;
	COPY(s->cipher_openssl, t->cipher_openssl);
	tls_cipher_attrs(s, obs_cipher_by_code(t->cipher_code));
	if (t->group[0]) {
		const struct obs_group *g = obs_group_by_name(t->group);

		if (g) {
			tls_group_attrs(s, g);
		} else {
			COPY(s->group, t->group);
			if (!s->kex[0])
				COPY(s->kex, "ECDHE");
		}
	}
	/* by what they are, whichever side we are (see zert.h) */
	s->server_cert = server ? t->local_cert : t->peer_cert;
	s->client_cert = server ? t->peer_cert : t->local_cert;
	if (server)
		COPY(s->mapped_user, t->peer_user);
}

/* A certificate seen in cleartext: decode it the way the engine's are. */
static void obs_cert(const struct obs_cert *oc, struct zert_cert *out)
{
	const unsigned char *p = oc->der;
	X509 *x;

	memset(out, 0, sizeof(*out));
	if (!oc->len || oc->truncated)
		return;
	x = d2i_X509(NULL, &p, (long)oc->len);
	if (x) {
		tlsinfo_cert(x, out);
		X509_free(x);
	}
	ERR_clear_error();
}

static void from_obs_tls(struct zert_session *s, const struct obs_result *r)
{
	const struct obs_tls *t = &r->tls;
	const char *v;
	char hex[8];

	v = t->server_hello ? obs_tls_protocol_str(t->version) : NULL;
	COPY(s->protocol, v ? v : "tls");
	v = t->server_hello ? obs_tls_version_str(t->version) : NULL;
	if (v)
		COPY(s->version, v);
	else if (t->server_hello)
		snprintf(s->version, sizeof(s->version), "%s",
			 zert_code_str(t->version, hex));
	s->resumed = t->resumed;
	s->alert = t->alert;
	s->alert_from_server = t->alert_from_server;
	if (t->server_hello) {
		const struct obs_cipher *cs = obs_cipher_by_code(t->cipher);

		s->cipher_code = t->cipher;
		if (cs)
			COPY(s->cipher, cs->name);
		else
			snprintf(s->cipher, sizeof(s->cipher), "%s",
				 zert_code_str(t->cipher, hex));
		tls_cipher_attrs(s, cs);
		if (t->group) {
			const struct obs_group *g = obs_group_by_code(t->group);

			if (g) {
				tls_group_attrs(s, g);
			} else {
				s->group_code = t->group;
				snprintf(s->group, sizeof(s->group), "%s",
					 zert_code_str(t->group, hex));
			}
		}
		if (t->dh_bits) {
			s->dh_bits = t->dh_bits;
			if (!s->group[0])
				snprintf(s->group, sizeof(s->group), "dh%u",
					 t->dh_bits);
		}
		/* TLS 1.3 finishes behind encryption: inferred */
		s->inferred = t->version == 0x0304;
	}
	if (s->outcome == ZERT_OUT_FAILED)
		s->failure = t->not_tls_reply ? "peer-not-tls" :
			     t->alert >= 0 ? "alert" : "encrypted-alert";
	COPY(s->sni, t->sni);
	COPY(s->alpn, t->alpn);
	COPY(s->alpn_offered, t->alpn_offered);
	s->cert_requested = t->cert_requested;
	obs_cert(&t->server_cert, &s->server_cert);
	obs_cert(&t->client_cert, &s->client_cert);
}

static void from_obs_ssh(struct zert_session *s, const struct obs_result *r)
{
	const struct obs_ssh *h = &r->ssh;
	const struct obs_ssh_cipher *c = obs_ssh_cipher(h->enc_c2s);
	const struct obs_ssh_kex *k = obs_ssh_kex(h->kex);

	COPY(s->protocol, "ssh");
	COPY(s->version, h->version);
	s->disconnect = h->disconnect;
	COPY(s->cipher, h->enc_c2s);
	if (c) {
		COPY(s->enc, c->enc);
		s->enc_bits = c->enc_bits;
	}
	COPY(s->mac, c && c->aead ? "AEAD" : h->mac_c2s);
	COPY(s->kex, h->kex);
	if (k) {
		COPY(s->group, k->group);
		s->post_quantum = k->post_quantum;
		s->hybrid = k->hybrid;
		if (k->group) {
			const struct obs_group *g = obs_group_by_name(k->group);

			if (g)
				s->group_code = g->code;
		}
	}
	s->dh_bits = h->dh_bits;
	COPY(s->ssh_client_banner, h->client_banner);
	COPY(s->ssh_server_banner, h->server_banner);
	COPY(s->ssh_host_key_alg, h->host_key_alg);
	COPY(s->ssh_enc_s2c, h->enc_s2c);
	COPY(s->ssh_mac_c2s, h->mac_c2s);
	COPY(s->ssh_mac_s2c, h->mac_s2c);
	COPY(s->ssh_comp_c2s, h->comp_c2s);
	COPY(s->ssh_comp_s2c, h->comp_s2c);
	COPY(s->host_key.type, h->host_key_type);
	s->host_key.bits = h->host_key_bits;
	COPY(s->host_key.sha256, h->host_key_sha256);
	/* both sides switched keys: known, not inferred */
	s->inferred = 0;
	if (s->outcome == ZERT_OUT_FAILED)
		s->failure = h->disconnect >= 0 ? "disconnect" : "no-common-algorithm";
}

void zert_session_from_obs(struct zert_session *s, const struct obs_result *r)
{
	session_init(s);
	s->observed = 1;
	s->client = r->we_are_client;
	switch (r->outcome) {
	case OBS_OUT_OK:
		s->outcome = ZERT_OUT_OK;
		break;
	case OBS_OUT_FAILED:
		s->outcome = ZERT_OUT_FAILED;
		break;
	default:
		s->outcome = ZERT_OUT_INCOMPLETE;
		break;
	}
	if (r->kind == OBS_KIND_SSH)
		from_obs_ssh(s, r);
	else
		from_obs_tls(s, r);
}

int zert_session_changed(const struct zert_session *a,
			 const struct zert_session *b)
{
	return strcmp(a->protocol, b->protocol) || strcmp(a->version, b->version) ||
	       strcmp(a->cipher, b->cipher) || strcmp(a->group, b->group) ||
	       strcmp(a->kex, b->kex) || a->resumed != b->resumed ||
	       a->outcome != b->outcome ||
	       strcmp(a->server_cert.sha256, b->server_cert.sha256) ||
	       strcmp(a->client_cert.sha256, b->client_cert.sha256) ||
	       strcmp(a->host_key.sha256, b->host_key.sha256);
}

void zert_session_key(const struct zert_session *s, const char **type,
		      unsigned *bits)
{
	if (!strcmp(s->protocol, "ssh")) {
		*type = s->host_key.type;
		*bits = s->host_key.bits;
	} else {
		*type = s->server_cert.key_type;
		*bits = s->server_cert.key_bits;
	}
}

/* ---- JSON ---------------------------------------------------------------- */

static const char *str_or_null(const char *s)
{
	return s && *s ? s : NULL;
}

/* Add `child` under `key` unless it is empty; takes `child`. */
static int add_nonempty(struct json_object *o, const char *key,
			struct json_object *child)
{
	if (!child)
		return -ENOMEM;
	if (!json_object_object_length(child)) {
		json_object_put(child);
		return 0;
	}
	return aj_add(o, key, child);
}

/* ECS x509.* of one certificate plus ECS tls.<side>.hash.sha256. */
static int add_cert_side(struct json_object *side, const struct zert_cert *c)
{
	struct json_object *x, *subj, *iss, *hash;
	int err;

	if (!c->subject[0] && !c->sha256[0])
		return 0;
	x = json_object_new_object();
	subj = json_object_new_object();
	iss = json_object_new_object();
	hash = json_object_new_object();
	if (!x || !subj || !iss || !hash) {
		json_object_put(x);
		json_object_put(subj);
		json_object_put(iss);
		json_object_put(hash);
		return -ENOMEM;
	}
	err = aj_add_str(subj, "distinguished_name", c->subject);
	err = err ?: aj_add_str(iss, "distinguished_name", c->issuer);
	if (err) {
		json_object_put(subj);
		json_object_put(iss);
		json_object_put(hash);
		json_object_put(x);
		return err;
	}
	err = aj_add(x, "subject", subj);
	if (err) {
		json_object_put(iss);
		json_object_put(hash);
		json_object_put(x);
		return err;
	}
	err = aj_add(x, "issuer", iss);
	err = err ?: aj_add_str(x, "serial_number", str_or_null(c->serial));
	err = err ?: aj_add_str(x, "not_before", str_or_null(c->not_before));
	err = err ?: aj_add_str(x, "not_after", str_or_null(c->not_after));
	err = err ?: aj_add_str(x, "public_key_algorithm", str_or_null(c->key_type));
	err = err ?: aj_add_u64(x, "public_key_size", c->key_bits);
	err = err ?: aj_add_str(x, "signature_algorithm", str_or_null(c->sig_alg));
	if (err) {
		json_object_put(hash);
		json_object_put(x);
		return err;
	}
	err = aj_add(side, "x509", x);
	if (err) {
		json_object_put(hash);
		return err;
	}
	err = aj_add_str(hash, "sha256", str_or_null(c->sha256));
	if (err) {
		json_object_put(hash);
		return err;
	}
	err = aj_add(side, "hash", hash);
	/* ECS also has the flat tls.<side>.not_after / subject / issuer */
	err = err ?: aj_add_str(side, "not_after", str_or_null(c->not_after));
	err = err ?: aj_add_str(side, "subject", c->subject);
	err = err ?: aj_add_str(side, "issuer", c->issuer);
	return err;
}

static int add_ssh(struct json_object *o, const struct zert_session *s)
{
	struct json_object *ssh = json_object_new_object();
	int err;

	if (!ssh)
		return -ENOMEM;
	err = aj_add_str(ssh, "client_banner", str_or_null(s->ssh_client_banner));
	err = err ?: aj_add_str(ssh, "server_banner", str_or_null(s->ssh_server_banner));
	err = err ?: aj_add_str(ssh, "kex", str_or_null(s->kex));
	err = err ?: aj_add_str(ssh, "host_key_algorithm", str_or_null(s->ssh_host_key_alg));
	err = err ?: aj_add_str(ssh, "cipher_c2s", str_or_null(s->cipher));
	err = err ?: aj_add_str(ssh, "cipher_s2c", str_or_null(s->ssh_enc_s2c));
	err = err ?: aj_add_str(ssh, "mac_c2s", str_or_null(s->ssh_mac_c2s));
	err = err ?: aj_add_str(ssh, "mac_s2c", str_or_null(s->ssh_mac_s2c));
	err = err ?: aj_add_str(ssh, "compression_c2s", str_or_null(s->ssh_comp_c2s));
	err = err ?: aj_add_str(ssh, "compression_s2c", str_or_null(s->ssh_comp_s2c));
	err = err ?: (s->disconnect >= 0 ? aj_add_i64(ssh, "disconnect_reason",
						      s->disconnect) : 0);
	if (err) {
		json_object_put(ssh);
		return err;
	}
	return aj_add(o, "ssh", ssh);
}

static int add_host_key(struct json_object *server, const struct zert_host_key *k)
{
	struct json_object *hk;
	int err;

	if (!k->type[0])
		return 0;
	hk = json_object_new_object();
	if (!hk)
		return -ENOMEM;
	err = aj_add_str(hk, "type", k->type);
	err = err ?: aj_add_u64(hk, "bits", k->bits);
	err = err ?: aj_add_str(hk, "sha256", str_or_null(k->sha256));
	if (err) {
		json_object_put(hk);
		return err;
	}
	return aj_add(server, "host_key", hk);
}

static const char *outcome_str(enum zert_outcome o)
{
	return o == ZERT_OUT_OK ? "ok" : o == ZERT_OUT_FAILED ? "failed" : "incomplete";
}

struct json_object *zert_session_json(const struct zert_session *s)
{
	struct json_object *o, *enc = NULL, *kex = NULL, *client = NULL,
			   *server = NULL, *alert = NULL;
	char code[8];
	int err, tls = strcmp(s->protocol, "ssh") != 0;

	o = json_object_new_object();
	if (!o)
		return NULL;
	err = aj_add_str(o, "protocol", s->protocol);
	err = err ?: aj_add_str(o, "version", str_or_null(s->version));
	err = err ?: aj_add_str(o, "source", s->observed ? "observed" : "engine");
	err = err ?: aj_add_str(o, "role", s->client ? "client" : "server");
	err = err ?: aj_add_str(o, "handshake", s->resumed ? "resumed" : "full");
	err = err ?: aj_add_bool(o, "resumed", s->resumed);
	err = err ?: aj_add_bool(o, "established", s->outcome == ZERT_OUT_OK);
	err = err ?: aj_add_str(o, "outcome", outcome_str(s->outcome));
	err = err ?: aj_add_bool(o, "inferred", s->inferred);
	err = err ?: aj_add_str(o, "failure", s->failure);
	err = err ?: (s->has_rc ? aj_add_i64(o, "rc", s->rc) : aj_add_null(o, "rc"));
	err = err ?: aj_add_str(o, "cipher", str_or_null(s->cipher));
	err = err ?: aj_add_str(o, "cipher_code", str_or_null(zert_code_str(s->cipher_code, code)));
	if (!err && s->cipher_openssl[0])
		err = aj_add_str(o, "cipher_openssl", s->cipher_openssl);
	if (err)
		goto put;

	if (s->enc[0]) {
		enc = json_object_new_object();
		err = enc ? aj_add_str(enc, "algorithm", s->enc) : -ENOMEM;
		err = err ?: aj_add_u64(enc, "key_bits", s->enc_bits);
		if (err)
			goto put;
		err = aj_add(o, "encryption", enc);
		enc = NULL;
	} else {
		err = aj_add_null(o, "encryption");
	}
	err = err ?: aj_add_str(o, "mac", str_or_null(s->mac));
	if (err)
		goto put;

	kex = json_object_new_object();
	err = kex ? aj_add_str(kex, "method", str_or_null(s->kex)) : -ENOMEM;
	err = err ?: aj_add_str(kex, "group", str_or_null(s->group));
	err = err ?: aj_add_str(kex, "group_code", str_or_null(zert_code_str(s->group_code, code)));
	err = err ?: (s->dh_bits ? aj_add_u64(kex, "dh_bits", s->dh_bits) : 0);
	err = err ?: aj_add_bool(kex, "post_quantum", s->post_quantum);
	err = err ?: aj_add_bool(kex, "hybrid", s->hybrid);
	if (err)
		goto put;
	err = aj_add(o, "key_exchange", kex);
	kex = NULL;
	/* ECS tls.curve */
	err = err ?: aj_add_str(o, "curve", str_or_null(s->group));
	if (err)
		goto put;

	if (s->alert >= 0) {
		alert = json_object_new_object();
		err = alert ? aj_add_i64(alert, "code", s->alert) : -ENOMEM;
		err = err ?: aj_add_str(alert, "name", obs_alert_str(s->alert));
		err = err ?: aj_add_str(alert, "from", s->alert_from_server ?
					"server" : "client");
		if (err)
			goto put;
		err = aj_add(o, "alert", alert);
		alert = NULL;
	} else {
		err = aj_add_null(o, "alert");
	}
	if (err)
		goto put;

	if (tls) {
		/* ECS tls.next_protocol, tls.client.*, tls.server.* */
		err = aj_add_str(o, "next_protocol", str_or_null(s->alpn));
		client = json_object_new_object();
		server = json_object_new_object();
		if (err || !client || !server) {
			err = err ?: -ENOMEM;
			goto put;
		}
		err = s->sni[0] ? aj_add_str(client, "server_name", s->sni) : 0;
		err = err ?: (s->alpn_offered[0] ?
			      aj_add_str(client, "alpn_offered", s->alpn_offered) : 0);
		err = err ?: (s->cert_requested ?
			      aj_add_bool(client, "certificate_requested", 1) : 0);
		err = err ?: add_cert_side(client, &s->client_cert);
		err = err ?: (s->mapped_user[0] ?
			      aj_add_str(client, "mapped_user", s->mapped_user) : 0);
		err = err ?: add_cert_side(server, &s->server_cert);
	} else {
		server = json_object_new_object();
		err = server ? add_host_key(server, &s->host_key) : -ENOMEM;
		err = err ?: add_ssh(o, s);
	}
	if (err)
		goto put;
	err = client ? add_nonempty(o, "client", client) : 0;
	client = NULL;
	err = err ?: add_nonempty(o, "server", server);
	server = NULL;
	if (err)
		goto put;
	return o;
put:
	json_object_put(client);
	json_object_put(server);
	json_object_put(enc);
	json_object_put(kex);
	json_object_put(alert);
	json_object_put(o);
	return NULL;
}
