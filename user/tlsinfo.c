// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tlsinfo.c - extract zERT security attributes from an OpenSSL connection.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tlsinfo.h"

void tlsinfo_name(const X509_NAME *name, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	buf[0] = '\0';
	if (!b)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_read(b, buf, (int)len - 1);
		buf[n > 0 ? n : 0] = '\0';
	}
	BIO_free(b);
}

static void serial_str(const X509 *x, char *buf, size_t len)
{
	BIGNUM *bn;
	char *hex;

	buf[0] = '\0';
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	if (!bn)
		return;
	hex = BN_bn2hex(bn);
	if (hex) {
		snprintf(buf, len, "%s", hex);
		OPENSSL_free(hex);
	}
	BN_free(bn);
}

void tlsinfo_time(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	buf[0] = '\0';
	if (t && ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *key_type(const EVP_PKEY *pk)
{
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		return "RSA";
	case EVP_PKEY_RSA_PSS:
		return "RSA-PSS";
	case EVP_PKEY_EC:
		return "EC";
	case EVP_PKEY_ED25519:
		return "ED25519";
	case EVP_PKEY_ED448:
		return "ED448";
	case EVP_PKEY_DSA:
		return "DSA";
	default:
		return "other";
	}
}

static void group_str(const SSL *ssl, char *buf, size_t len)
{
	const char *name = NULL;
	int nid;

	buf[0] = '\0';
	/* SSL_get_negotiated_group() is not const in OpenSSL 3.0. */
	nid = SSL_get_negotiated_group((SSL *)ssl);
	if (nid <= 0)
		return;
	/* The IANA TLS group name ("x25519", "secp256r1") first; OpenSSL's
	 * short name ("prime256v1") only for groups TLS does not name. */
	name = SSL_group_to_name((SSL *)ssl, nid);
	if (!name && !(nid & TLSEXT_nid_unknown))
		name = OBJ_nid2sn(nid);
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "0x%04x", nid & 0xffff);
}

void tlsinfo_sha256(X509 *x, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	hex[0] = '\0';
	if (!x || X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
		return;
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

void tlsinfo_cert(X509 *x, struct zert_cert *out)
{
	EVP_PKEY *pk;

	memset(out, 0, sizeof(*out));
	if (!x)
		return;
	tlsinfo_name(X509_get_subject_name(x), out->subject, sizeof(out->subject));
	tlsinfo_name(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
	serial_str(x, out->serial, sizeof(out->serial));
	tlsinfo_time(X509_get0_notBefore(x), out->not_before, sizeof(out->not_before));
	tlsinfo_time(X509_get0_notAfter(x), out->not_after, sizeof(out->not_after));
	pk = X509_get0_pubkey(x);
	if (pk) {
		snprintf(out->key_type, sizeof(out->key_type), "%s", key_type(pk));
		out->key_bits = (unsigned)EVP_PKEY_get_bits(pk);
	}
	tlsinfo_sha256(x, out->sha256);
	if (X509_get_signature_nid(x) != NID_undef)
		snprintf(out->sig_alg, sizeof(out->sig_alg), "%s",
			 OBJ_nid2ln(X509_get_signature_nid(x)));
}

void tlsinfo_fill(const SSL *ssl, int server, int local_sent,
		  struct zert_tls *out)
{
	const SSL_CIPHER *c;
	const char *s;

	memset(out, 0, sizeof(*out));
	snprintf(out->role, sizeof(out->role), "%s", server ? "server" : "client");
	snprintf(out->protocol, sizeof(out->protocol), "%s",
		 SSL_get_version(ssl));
	c = SSL_get_current_cipher(ssl);
	if (c) {
		s = SSL_CIPHER_standard_name(c);
		snprintf(out->cipher_iana, sizeof(out->cipher_iana), "%s",
			 s ? s : "");
		snprintf(out->cipher_openssl, sizeof(out->cipher_openssl), "%s",
			 SSL_CIPHER_get_name(c));
		out->cipher_code = SSL_CIPHER_get_protocol_id(c);
	}
	group_str(ssl, out->group, sizeof(out->group));
	out->resumed = SSL_session_reused(ssl);
	if (local_sent)
		tlsinfo_cert(SSL_get_certificate(ssl), &out->local_cert);
	tlsinfo_cert(SSL_get0_peer_certificate(ssl), &out->peer_cert);
	ERR_clear_error();
}
