// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_observe.c - the stream observation parsers (user/observe.c) against
 * real transcripts: TLS handshakes run here between two OpenSSL endpoints
 * over memory BIOs (1.3, 1.2, resumed, HelloRetryRequest, client
 * certificates, alerts), an OpenSSH 9.2 exchange captured on loopback
 * (tests/unit/data/ssh-openssh92-*.bin), hand-built hybrid post-quantum
 * hellos, and broken inputs: every prefix of every transcript and mutated
 * copies must parse without a fault and never claim more than is there.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "../../user/observe.h"
#include "unit.h"

#define XMAX	(64 * 1024)

/* Both directions of one connection, from its first byte. */
struct xcript {
	uint8_t c2s[XMAX];
	size_t c2s_len;
	uint8_t s2c[XMAX];
	size_t s2c_len;
};

struct pki {
	EVP_PKEY *key;
	X509 *cert;
};

static struct pki srv_pki, cli_pki;
static struct obs_result res;		/* large: not on the stack */

static int make_pki(struct pki *p, const char *cn)
{
	X509_NAME *name;

	p->key = EVP_EC_gen("P-256");
	p->cert = X509_new();
	if (!p->key || !p->cert)
		return 0;
	ASN1_INTEGER_set(X509_get_serialNumber(p->cert), 0x1234);
	X509_gmtime_adj(X509_getm_notBefore(p->cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(p->cert), 86400L * 30);
	X509_set_pubkey(p->cert, p->key);
	name = X509_get_subject_name(p->cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(p->cert, name);
	return X509_sign(p->cert, p->key, EVP_sha256()) > 0;
}

static int accept_any(int ok, X509_STORE_CTX *ctx)
{
	(void)ok;
	(void)ctx;
	return 1;	/* accept: the test checks what was sent, not trust */
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char h2[] = "\x02h2";

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto((unsigned char **)out, outlen, h2, 3, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	return SSL_TLSEXT_ERR_OK;
}

struct hs_opts {
	int version;		/* TLS1_3_VERSION / TLS1_2_VERSION, 0 any */
	int server_version;	/* server max, 0 = version */
	const char *cipher12;	/* TLS 1.2 cipher list */
	const char *server_groups;
	const char *client_groups;
	const char *sni;
	int alpn;
	int client_cert;
	SSL_SESSION *resume;	/* client session to resume */
	SSL_SESSION **save;	/* the client's session afterwards */
	SSL_CTX *sctx;		/* shared server context (resumption) */
};

static void pump(BIO *from, uint8_t *log, size_t *loglen, BIO *to)
{
	char buf[16384];
	int n;

	while ((n = BIO_read(from, buf, sizeof(buf))) > 0) {
		if (*loglen + (size_t)n <= XMAX) {
			memcpy(log + *loglen, buf, (size_t)n);
			*loglen += (size_t)n;
		}
		BIO_write(to, buf, n);
	}
}

static SSL_CTX *server_ctx(const struct hs_opts *o)
{
	SSL_CTX *s = SSL_CTX_new(TLS_server_method());
	int sv = o->server_version ? o->server_version : o->version;

	if (!s)
		return NULL;
	SSL_CTX_use_certificate(s, srv_pki.cert);
	SSL_CTX_use_PrivateKey(s, srv_pki.key);
	if (sv)
		SSL_CTX_set_max_proto_version(s, sv);
	if (o->server_groups)
		SSL_CTX_set1_groups_list(s, o->server_groups);
	if (o->alpn)
		SSL_CTX_set_alpn_select_cb(s, alpn_select, NULL);
	if (o->client_cert)
		SSL_CTX_set_verify(s, SSL_VERIFY_PEER, accept_any);
	SSL_CTX_set_session_id_context(s, (const unsigned char *)"t", 1);
	return s;
}

/* Run a handshake plus one round of application data.  Returns 1 if both
 * ends finished the handshake. */
static int handshake(const struct hs_opts *o, struct xcript *x)
{
	SSL_CTX *sctx = o->sctx ? o->sctx : server_ctx(o), *cctx;
	BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
	BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
	SSL *c, *s;
	char buf[64];
	int i, cdone = 0, sdone = 0, ok;

	memset(x, 0, sizeof(*x));
	cctx = SSL_CTX_new(TLS_client_method());
	if (o->version) {
		SSL_CTX_set_min_proto_version(cctx, o->version);
		SSL_CTX_set_max_proto_version(cctx, o->version);
	}
	if (o->cipher12)
		SSL_CTX_set_cipher_list(cctx, o->cipher12);
	if (o->client_groups)
		SSL_CTX_set1_groups_list(cctx, o->client_groups);
	if (o->alpn)
		SSL_CTX_set_alpn_protos(cctx, (const unsigned char *)"\x08http/1.1\x02h2", 12);
	if (o->client_cert) {
		SSL_CTX_use_certificate(cctx, cli_pki.cert);
		SSL_CTX_use_PrivateKey(cctx, cli_pki.key);
	}
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	SSL_set_bio(c, c_in, c_out);
	SSL_set_bio(s, s_in, s_out);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	if (o->sni)
		SSL_set_tlsext_host_name(c, o->sni);
	if (o->resume)
		SSL_set_session(c, o->resume);
	for (i = 0; i < 20 && !(cdone && sdone); i++) {
		if (!cdone)
			cdone = SSL_do_handshake(c) == 1;
		pump(c_out, x->c2s, &x->c2s_len, s_in);
		if (!sdone)
			sdone = SSL_do_handshake(s) == 1;
		pump(s_out, x->s2c, &x->s2c_len, c_in);
	}
	ok = cdone && sdone;
	if (ok) {
		/* application data both ways; the client reads the server's
		 * session tickets (TLS 1.3) on the way */
		SSL_write(c, "ping", 4);
		pump(c_out, x->c2s, &x->c2s_len, s_in);
		SSL_read(s, buf, sizeof(buf));
		SSL_write(s, "pong", 4);
		pump(s_out, x->s2c, &x->s2c_len, c_in);
		SSL_read(c, buf, sizeof(buf));
		if (o->save)
			*o->save = SSL_get1_session(c);
		/* an orderly close: a session freed without one is not
		 * resumable */
		SSL_shutdown(c);
		pump(c_out, x->c2s, &x->c2s_len, s_in);
		SSL_shutdown(s);
		pump(s_out, x->s2c, &x->s2c_len, c_in);
	}
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	if (!o->sctx)
		SSL_CTX_free(sctx);
	ERR_clear_error();
	return ok;
}

/* Analyse as the server (sent = s2c) and as the client (sent = c2s). */
static void as_server(const struct xcript *x)
{
	obs_analyze(x->s2c, x->s2c_len, x->c2s, x->c2s_len, 0, 0, &res);
}

static void as_client(const struct xcript *x)
{
	obs_analyze(x->c2s, x->c2s_len, x->s2c, x->s2c_len, 1, 0, &res);
}

static int cert_is(const struct obs_cert *oc, X509 *want)
{
	unsigned char *der = NULL;
	int n = i2d_X509(want, &der), same;

	same = n > 0 && (size_t)n == oc->len && !memcmp(der, oc->der, oc->len);
	OPENSSL_free(der);
	return same;
}

static struct xcript xa, xb;

static void test_tls13_full(void)
{
	struct hs_opts o = { .version = TLS1_3_VERSION, .sni = "svc.example.test",
			     .alpn = 1 };

	if (!ASSERT_TRUE(handshake(&o, &xa), "TLS 1.3 handshake"))
		return;
	as_server(&xa);
	ASSERT_EQ(res.kind, OBS_KIND_TLS, "kind");
	ASSERT_FALSE(res.we_are_client, "the server's view");
	ASSERT_TRUE(res.tls.client_hello && res.tls.server_hello, "both hellos");
	ASSERT_EQ(res.tls.version, 0x0304, "supported_versions says 1.3");
	ASSERT_EQ(res.tls.client_max_version, 0x0304, "offered 1.3");
	ASSERT_EQ(res.tls.cipher, 0x1302, "OpenSSL 3.0 prefers AES-256-GCM");
	ASSERT_EQ(res.tls.group, 0x001D, "x25519 key share");
	ASSERT_STREQ(res.tls.sni, "svc.example.test", "SNI");
	ASSERT_STREQ(res.tls.alpn, "", "1.3: the choice is encrypted");
	ASSERT_STREQ(res.tls.alpn_offered, "http/1.1,h2", "ALPN offered");
	ASSERT_FALSE(res.tls.resumed, "full handshake");
	ASSERT_EQ(res.outcome, OBS_OUT_OK, "inferred finished");
	ASSERT_TRUE(res.complete, "complete");
	ASSERT_EQ(res.tls.server_cert.len, 0, "1.3 certificates are encrypted");
	ASSERT_FALSE(res.truncated || res.malformed, "clean");
	as_client(&xa);
	ASSERT_TRUE(res.we_are_client, "the client's view");
	ASSERT_EQ(res.tls.cipher, 0x1302, "same suite from the other side");
}

static void test_tls12_full_cert(void)
{
	struct hs_opts o = { .version = TLS1_2_VERSION, .alpn = 1,
			     .cipher12 = "ECDHE-ECDSA-AES128-GCM-SHA256" };

	if (!ASSERT_TRUE(handshake(&o, &xa), "TLS 1.2 handshake"))
		return;
	as_client(&xa);
	ASSERT_EQ(res.kind, OBS_KIND_TLS, "kind");
	ASSERT_EQ(res.tls.version, 0x0303, "1.2");
	ASSERT_EQ(res.tls.cipher, 0xC02B, "ECDHE-ECDSA-AES128-GCM-SHA256");
	ASSERT_EQ(res.tls.group, 0x001D, "group from ServerKeyExchange");
	ASSERT_TRUE(cert_is(&res.tls.server_cert, srv_pki.cert),
		    "the leaf certificate, byte for byte");
	ASSERT_TRUE(res.tls.client_ccs && res.tls.server_ccs, "both CCS");
	ASSERT_EQ(res.outcome, OBS_OUT_OK, "finished");
	ASSERT_TRUE(res.complete, "complete");
	ASSERT_FALSE(res.tls.resumed, "full");
	ASSERT_TRUE(res.tls.ems, "extended master secret");
	ASSERT_STREQ(res.tls.alpn, "h2", "1.2: ALPN in the ServerHello");
}

static void test_tls12_resumed(void)
{
	struct hs_opts o = { .version = TLS1_2_VERSION };
	SSL_SESSION *sess = NULL;

	o.sctx = server_ctx(&o);
	o.save = &sess;
	if (!ASSERT_TRUE(handshake(&o, &xa) && sess, "first connection"))
		goto out;
	o.save = NULL;
	o.resume = sess;
	if (!ASSERT_TRUE(handshake(&o, &xb), "second connection"))
		goto out;
	as_server(&xb);
	ASSERT_TRUE(res.tls.resumed, "abbreviated handshake");
	ASSERT_EQ(res.tls.server_cert.len, 0, "no certificate on resumption");
	ASSERT_EQ(res.outcome, OBS_OUT_OK, "finished");
out:
	SSL_SESSION_free(sess);
	SSL_CTX_free(o.sctx);
}

static void test_tls13_resumed(void)
{
	struct hs_opts o = { .version = TLS1_3_VERSION };
	SSL_SESSION *sess = NULL;

	o.sctx = server_ctx(&o);
	o.save = &sess;
	if (!ASSERT_TRUE(handshake(&o, &xa) && sess, "first connection"))
		goto out;
	as_server(&xa);
	ASSERT_FALSE(res.tls.resumed, "the first is full (its compat session "
		     "id echo must not count)");
	o.save = NULL;
	o.resume = sess;
	if (!ASSERT_TRUE(handshake(&o, &xb), "second connection"))
		goto out;
	as_server(&xb);
	ASSERT_TRUE(res.tls.psk_offered, "client offered the ticket");
	ASSERT_TRUE(res.tls.resumed, "server accepted the PSK");
out:
	SSL_SESSION_free(sess);
	SSL_CTX_free(o.sctx);
}

static void test_tls13_hrr(void)
{
	struct hs_opts o = { .version = TLS1_3_VERSION, .server_groups = "P-256",
			     .client_groups = "X25519:P-256" };

	if (!ASSERT_TRUE(handshake(&o, &xa), "handshake with HRR"))
		return;
	as_server(&xa);
	ASSERT_TRUE(res.tls.hrr, "HelloRetryRequest seen");
	ASSERT_TRUE(res.tls.server_hello, "then the ServerHello");
	ASSERT_EQ(res.tls.group, 0x0017, "secp256r1 after the retry");
	ASSERT_EQ(res.tls.n_key_shares, 1, "second ClientHello: one share");
	ASSERT_EQ(res.tls.key_shares[0], 0x0017, "for P-256");
	ASSERT_EQ(res.outcome, OBS_OUT_OK, "finished");
}

static void test_tls12_client_cert(void)
{
	struct hs_opts o = { .version = TLS1_2_VERSION, .client_cert = 1 };

	if (!ASSERT_TRUE(handshake(&o, &xa), "mutual TLS 1.2"))
		return;
	as_server(&xa);
	ASSERT_TRUE(res.tls.cert_requested, "CertificateRequest");
	ASSERT_TRUE(cert_is(&res.tls.client_cert, cli_pki.cert), "client leaf");
	ASSERT_TRUE(cert_is(&res.tls.server_cert, srv_pki.cert), "server leaf");
}

static void test_tls_version_alert(void)
{
	struct hs_opts o = { .version = TLS1_3_VERSION,
			     .server_version = TLS1_2_VERSION };

	ASSERT_FALSE(handshake(&o, &xa), "no common version");
	as_server(&xa);
	ASSERT_EQ(res.kind, OBS_KIND_TLS, "kind");
	ASSERT_EQ(res.outcome, OBS_OUT_FAILED, "failed");
	ASSERT_EQ(res.tls.alert, 70, "protocol_version");
	ASSERT_TRUE(res.tls.alert_from_server, "from the server");
	ASSERT_STREQ(obs_alert_str(res.tls.alert), "protocol_version", "name");
	ASSERT_TRUE(res.complete, "nothing more to learn");
}

static void test_not_tls_reply(void)
{
	struct hs_opts o = { .version = TLS1_3_VERSION };
	static const char http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";

	if (!ASSERT_TRUE(handshake(&o, &xa), "handshake"))
		return;
	/* the ClientHello, answered by a plain HTTP server */
	obs_analyze(xa.c2s, xa.c2s_len, (const uint8_t *)http, sizeof(http) - 1,
		    1, 0, &res);
	ASSERT_EQ(res.kind, OBS_KIND_TLS, "a TLS attempt");
	ASSERT_TRUE(res.tls.not_tls_reply, "answered in cleartext");
	ASSERT_EQ(res.outcome, OBS_OUT_FAILED, "failed");
}

/* ---- hand-built hellos: hybrid post-quantum key exchange --------------- */

static size_t put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

static size_t put24(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
	return 3;
}

/* Wrap a handshake body in a handshake header and a record. */
static size_t record(uint8_t *out, uint8_t hs_type, const uint8_t *body,
		     size_t len)
{
	size_t n = 0;

	out[n++] = 0x16;
	n += put16(out + n, 0x0301);
	n += put16(out + n, len + 4);
	out[n++] = hs_type;
	n += put24(out + n, len);
	memcpy(out + n, body, len);
	return n + len;
}

static void test_x25519mlkem768(void)
{
	static uint8_t ch[4096], sh[2048], b[4096];
	size_t n = 0, ext, chl, shl;

	/* ClientHello: 1.3 only, one key share X25519MLKEM768 (1216 bytes) */
	n += put16(b + n, 0x0303);
	memset(b + n, 0x11, 32);
	n += 32;
	b[n++] = 0;			/* session id */
	n += put16(b + n, 4);
	n += put16(b + n, 0x1301);
	n += put16(b + n, 0x2A2A);	/* GREASE */
	b[n++] = 1;
	b[n++] = 0;
	ext = n;
	n += 2;
	n += put16(b + n, 43);		/* supported_versions */
	n += put16(b + n, 3);
	b[n++] = 2;
	n += put16(b + n, 0x0304);
	n += put16(b + n, 51);		/* key_share */
	n += put16(b + n, 2 + 4 + 1216);
	n += put16(b + n, 4 + 1216);
	n += put16(b + n, 0x11EC);
	n += put16(b + n, 1216);
	memset(b + n, 0x42, 1216);
	n += 1216;
	put16(b + ext, n - ext - 2);
	chl = record(ch, 1, b, n);

	/* ServerHello selecting it (1120-byte share) */
	n = 0;
	n += put16(b + n, 0x0303);
	memset(b + n, 0x22, 32);
	n += 32;
	b[n++] = 0;
	n += put16(b + n, 0x1301);
	b[n++] = 0;
	ext = n;
	n += 2;
	n += put16(b + n, 43);
	n += put16(b + n, 2);
	n += put16(b + n, 0x0304);
	n += put16(b + n, 51);
	n += put16(b + n, 4 + 1120);
	n += put16(b + n, 0x11EC);
	n += put16(b + n, 1120);
	memset(b + n, 0x43, 1120);
	n += 1120;
	put16(b + ext, n - ext - 2);
	shl = record(sh, 2, b, n);

	obs_analyze(ch, chl, sh, shl, 1, 0, &res);
	ASSERT_EQ(res.kind, OBS_KIND_TLS, "kind");
	ASSERT_EQ(res.tls.group, 0x11EC, "X25519MLKEM768 selected");
	ASSERT_EQ(res.tls.key_shares[0], 0x11EC, "offered");
	ASSERT_EQ(res.tls.n_ciphers, 1, "GREASE suite not counted");
	ASSERT_STREQ(obs_group_by_code(res.tls.group)->name, "X25519MLKEM768", "name");
	ASSERT_TRUE(obs_group_by_code(0x11EC)->post_quantum, "post-quantum");
	ASSERT_TRUE(obs_group_by_code(0x11EC)->hybrid, "hybrid");
	ASSERT_FALSE(obs_group_by_code(0x001D)->post_quantum, "x25519 is classical");
	ASSERT_EQ(res.outcome, OBS_OUT_PENDING, "no client flight yet");
	ASSERT_FALSE(res.complete, "wait for more");
	obs_analyze(ch, chl, sh, shl, 1, 1, &res);
	ASSERT_TRUE(res.complete, "final");
}

/* ---- SSH --------------------------------------------------------------- */

static size_t load(const char *rel, uint8_t *buf, size_t len)
{
	FILE *f = fopen(unit_src_path(rel), "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, len, f);
	fclose(f);
	return n;
}

static void test_ssh_openssh92(void)
{
	size_t cl = load("tests/unit/data/ssh-openssh92-c2s.bin", xa.c2s, XMAX);
	size_t sl = load("tests/unit/data/ssh-openssh92-s2c.bin", xa.s2c, XMAX);

	if (!ASSERT_TRUE(cl > 1000 && sl > 1000, "fixtures"))
		return;
	obs_analyze(xa.s2c, sl, xa.c2s, cl, 0, 0, &res);
	ASSERT_EQ(res.kind, OBS_KIND_SSH, "kind");
	ASSERT_FALSE(res.we_are_client, "accepted: the server");
	ASSERT_STREQ(res.ssh.version, "2.0", "version");
	ASSERT_STREQ(res.ssh.client_banner, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10",
		     "client banner");
	ASSERT_STREQ(res.ssh.kex, "sntrup761x25519-sha512", "negotiated kex");
	ASSERT_TRUE(obs_ssh_kex(res.ssh.kex)->post_quantum, "post-quantum hybrid");
	ASSERT_STREQ(res.ssh.host_key_alg, "ssh-ed25519", "host key algorithm");
	ASSERT_STREQ(res.ssh.enc_c2s, "chacha20-poly1305@openssh.com", "cipher c2s");
	ASSERT_STREQ(res.ssh.enc_s2c, "chacha20-poly1305@openssh.com", "cipher s2c");
	ASSERT_TRUE(obs_ssh_cipher(res.ssh.enc_c2s)->aead, "AEAD");
	ASSERT_STREQ(res.ssh.mac_c2s, "umac-64-etm@openssh.com", "mac (unused: AEAD)");
	ASSERT_STREQ(res.ssh.comp_c2s, "none", "compression");
	ASSERT_STREQ(res.ssh.host_key_type, "ssh-ed25519", "host key");
	ASSERT_EQ(res.ssh.host_key_bits, 256, "bits");
	ASSERT_STREQ(res.ssh.host_key_sha256,
		     "SHA256:v6nRSoV67JJFPxbWeKVS/DqCzYwcAwRcjcpKNVEOVu0",
		     "the fingerprint ssh-keygen -l shows");
	ASSERT_EQ(res.outcome, OBS_OUT_OK, "both NEWKEYS");
	ASSERT_TRUE(res.complete, "complete");
	ASSERT_FALSE(res.malformed, "clean");
}

static void test_ssh_disconnect(void)
{
	static const uint8_t srv[] =
		"SSH-2.0-test\r\n"
		/* length 12, padding 4: DISCONNECT reason 2 ("", ""), padding */
		"\x00\x00\x00\x0c\x04\x01\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00";

	obs_analyze(NULL, 0, srv, sizeof(srv) - 1, 1, 0, &res);
	ASSERT_EQ(res.kind, OBS_KIND_SSH, "kind");
	ASSERT_EQ(res.ssh.disconnect, 2, "reason code");
	ASSERT_EQ(res.outcome, OBS_OUT_FAILED, "failed");
}

static void test_ssh_pre_banner_and_long_line(void)
{
	static const uint8_t srv[] = "hello there\r\nSSH-1.99-old\r\n";
	static uint8_t longl[600];

	obs_analyze(NULL, 0, srv, sizeof(srv) - 1, 1, 0, &res);
	ASSERT_EQ(res.kind, OBS_KIND_NONE, "first bytes decide: not SSH-");
	/* as the server's second line it would be found */
	memcpy(longl, "SSH-2.0-", 8);
	memset(longl + 8, 'x', sizeof(longl) - 8);
	obs_analyze(longl, sizeof(longl), NULL, 0, 0, 0, &res);
	ASSERT_TRUE(res.malformed, "a banner line over 255 bytes");
	ASSERT_TRUE(res.complete, "given up");
}

/* ---- cleartext, sniffing, tables ---------------------------------------- */

static void test_cleartext(void)
{
	static const uint8_t get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

	static const uint8_t ok[] = "HTTP/1.1 200 OK\r\n\r\n";

	obs_analyze(get, sizeof(get) - 1, NULL, 0, 1, 0, &res);
	ASSERT_EQ(res.kind, OBS_KIND_NONE, "HTTP is cleartext");
	ASSERT_FALSE(res.complete, "provisional: the server has not spoken");
	obs_analyze(get, sizeof(get) - 1, ok, sizeof(ok) - 1, 1, 0, &res);
	ASSERT_TRUE(res.complete, "both sides cleartext: decided");
	obs_analyze(get, 2, NULL, 0, 1, 0, &res);
	ASSERT_EQ(res.kind, OBS_KIND_UNKNOWN, "two bytes: wait");
	ASSERT_FALSE(res.complete, "not yet");
	obs_analyze(get, 2, NULL, 0, 1, 1, &res);
	ASSERT_EQ(res.kind, OBS_KIND_NONE, "two bytes and closed");
	obs_analyze(NULL, 0, NULL, 0, 1, 1, &res);
	ASSERT_EQ(res.kind, OBS_KIND_UNKNOWN, "no payload at all");
	ASSERT_EQ(obs_sniff((const uint8_t *)"\x16\x03\x01\x02", 4), OBS_KIND_TLS, "TLS");
	ASSERT_EQ(obs_sniff((const uint8_t *)"\x16\x03\x05\x02", 4), OBS_KIND_NONE,
		  "record version 3.5 is not TLS");
	ASSERT_EQ(obs_sniff((const uint8_t *)"SSH-", 4), OBS_KIND_SSH, "SSH");
}

static void test_tables(void)
{
	ASSERT_STREQ(obs_cipher_by_code(0x1301)->name, "TLS_AES_128_GCM_SHA256", "1301");
	ASSERT_EQ(obs_cipher_by_code(0xC030)->enc_bits, 256, "C030 key bits");
	ASSERT_STREQ(obs_cipher_by_code(0xC013)->mac, "HMAC-SHA1", "CBC suites: HMAC");
	ASSERT_EQ(obs_cipher_by_name("TLS_CHACHA20_POLY1305_SHA256")->code, 0x1303, "by name");
	ASSERT_TRUE(obs_cipher_by_code(0xFFFF) == NULL, "unknown suite");
	ASSERT_EQ(obs_group_by_name("prime256v1")->code, 0x0017, "OpenSSL alias");
	ASSERT_EQ(obs_group_by_name("X25519")->code, 0x001D, "case");
	ASSERT_TRUE(obs_is_grease(0x3A3A) && !obs_is_grease(0x3A3B), "GREASE");
	ASSERT_STREQ(obs_tls_version_str(0x0303), "1.2", "version");
	ASSERT_STREQ(obs_tls_protocol_str(0x0300), "ssl", "SSLv3 is ssl");
	ASSERT_EQ(obs_ssh_cipher("aes256-ctr")->enc_bits, 256, "ssh cipher");
	ASSERT_FALSE(obs_ssh_kex("curve25519-sha256")->post_quantum, "classical");
}

static void test_sni_sanitised(void)
{
	static uint8_t ch[512], b[512];
	size_t n = 0, ext, chl, i;

	n += put16(b + n, 0x0303);
	memset(b + n, 0, 32);
	n += 32;
	b[n++] = 0;
	n += put16(b + n, 2);
	n += put16(b + n, 0x1301);
	b[n++] = 1;
	b[n++] = 0;
	ext = n;
	n += 2;
	n += put16(b + n, 0);		/* server_name */
	n += put16(b + n, 2 + 3 + 6);
	n += put16(b + n, 3 + 6);
	b[n++] = 0;
	n += put16(b + n, 6);
	memcpy(b + n, "a\n\"b\x01z", 6);
	n += 6;
	put16(b + ext, n - ext - 2);
	chl = record(ch, 1, b, n);
	obs_analyze(ch, chl, NULL, 0, 1, 0, &res);
	ASSERT_STREQ(res.tls.sni, "a?\"b?z", "control bytes replaced");
	for (i = 0; res.tls.sni[i]; i++)
		ASSERT_TRUE(res.tls.sni[i] >= 0x20 && res.tls.sni[i] < 0x7f, "printable");
}

/* ---- robustness ---------------------------------------------------------- */

/* Every prefix of both streams: no fault (ASan builds check), and nothing
 * claimed that the bytes do not hold. */
static void prefixes(const struct xcript *x, enum obs_kind kind)
{
	size_t i, step = 7;

	for (i = 0; i <= x->c2s_len; i += step)
		obs_analyze(x->c2s, i, x->s2c, x->s2c_len, 1, 0, &res);
	for (i = 0; i <= x->s2c_len; i += step) {
		obs_analyze(x->c2s, x->c2s_len, x->s2c, i, 1, 0, &res);
		if (i >= 4 && res.kind != kind) {
			ASSERT_EQ(res.kind, kind, "kind stable over prefixes");
			return;
		}
		if (res.tls.server_cert.len && res.tls.server_cert.len > i) {
			ASSERT_TRUE(0, "a certificate longer than the bytes seen");
			return;
		}
	}
}

static void test_prefixes(void)
{
	struct hs_opts o = { .version = TLS1_2_VERSION, .client_cert = 1 };

	if (handshake(&o, &xa))
		prefixes(&xa, OBS_KIND_TLS);
	xa.c2s_len = load("tests/unit/data/ssh-openssh92-c2s.bin", xa.c2s, XMAX);
	xa.s2c_len = load("tests/unit/data/ssh-openssh92-s2c.bin", xa.s2c, XMAX);
	prefixes(&xa, OBS_KIND_SSH);
}

/* Deterministic mutations of real transcripts (the fuzzer does more). */
static void test_mutations(void)
{
	struct hs_opts o = { .version = TLS1_2_VERSION };
	uint32_t seed = 12345;
	int round, k;

	if (!handshake(&o, &xa))
		return;
	memcpy(&xb, &xa, sizeof(xb));
	for (round = 0; round < 3000; round++) {
		memcpy(xb.c2s, xa.c2s, xa.c2s_len);
		memcpy(xb.s2c, xa.s2c, xa.s2c_len);
		for (k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			xb.s2c[(seed >> 8) % xa.s2c_len] = (uint8_t)(seed >> 24);
			seed = seed * 1103515245u + 12345u;
			xb.c2s[(seed >> 8) % xa.c2s_len] = (uint8_t)(seed >> 24);
		}
		obs_analyze(xb.c2s, xa.c2s_len, xb.s2c, xa.s2c_len, round & 1,
			    round & 2, &res);
	}
	ASSERT_TRUE(1, "survived");
}

static void test_huge_lengths(void)
{
	/* a record and a handshake message claiming far more than sent */
	static const uint8_t rec[] = "\x16\x03\x01\x48\x00\x01\xff\xff\xff\x03\x03";
	static const uint8_t ssh[] = "SSH-2.0-x\r\n\xff\xff\xff\xff\x04\x14";

	obs_analyze(rec, sizeof(rec) - 1, NULL, 0, 1, 1, &res);
	ASSERT_EQ(res.kind, OBS_KIND_TLS, "kind");
	ASSERT_FALSE(res.tls.client_hello, "cut ClientHello not parsed");
	obs_analyze(ssh, sizeof(ssh) - 1, NULL, 0, 1, 0, &res);
	ASSERT_TRUE(res.malformed, "packet length beyond 35000");
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_tls13_full),
		UNIT_TEST(test_tls12_full_cert),
		UNIT_TEST(test_tls12_resumed),
		UNIT_TEST(test_tls13_resumed),
		UNIT_TEST(test_tls13_hrr),
		UNIT_TEST(test_tls12_client_cert),
		UNIT_TEST(test_tls_version_alert),
		UNIT_TEST(test_not_tls_reply),
		UNIT_TEST(test_x25519mlkem768),
		UNIT_TEST(test_ssh_openssh92),
		UNIT_TEST(test_ssh_disconnect),
		UNIT_TEST(test_ssh_pre_banner_and_long_line),
		UNIT_TEST(test_cleartext),
		UNIT_TEST(test_tables),
		UNIT_TEST(test_sni_sanitised),
		UNIT_TEST(test_prefixes),
		UNIT_TEST(test_mutations),
		UNIT_TEST(test_huge_lengths),
	};
	int rc;

	if (!make_pki(&srv_pki, "obs-server") || !make_pki(&cli_pki, "obs-client")) {
		printf("cannot make test certificates\n0 passed, 1 failed\n");
		return EXIT_FAILURE;
	}
	rc = unit_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
	EVP_PKEY_free(srv_pki.key);
	X509_free(srv_pki.cert);
	EVP_PKEY_free(cli_pki.key);
	X509_free(cli_pki.cert);
	return rc;
}
