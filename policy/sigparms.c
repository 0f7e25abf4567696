// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sigparms.c - the TLS groups and signature schemes attls knows.
 *
 * z/OS lists groups with 4-digit codes that are the IANA number written in
 * decimal (System SSL: "secp256r1 (0023)", "x25519 (0029)") and signature
 * pairs with 4-hex-digit codes that are the IANA SignatureScheme value
 * ("0401" = rsa_pkcs1_sha256).  Both tables are keyed by the IANA value;
 * keywords.c decodes the spellings.  Entries attls refuses carry a NULL
 * OpenSSL name and the reason.
 */
#include <stdlib.h>
#include <strings.h>

#include "sigparms.h"

#define REFUSED(c, n, w)	{ c, n, NULL, w }
#define NEEDS_32		"not supported by OpenSSL 3.0"

/* Sorted by code. */
static const struct tls_code_info groups[] = {
	REFUSED(19, "secp192r1", "less than 112-bit security"),
	{ 21, "secp224r1", "P-224", NULL },
	{ 22, "secp256k1", "secp256k1", NULL },
	{ 23, "secp256r1", "P-256", NULL },
	{ 24, "secp384r1", "P-384", NULL },
	{ 25, "secp521r1", "P-521", NULL },
	{ 26, "brainpoolP256r1", "brainpoolP256r1", NULL },
	{ 27, "brainpoolP384r1", "brainpoolP384r1", NULL },
	{ 28, "brainpoolP512r1", "brainpoolP512r1", NULL },
	{ 29, "x25519", "X25519", NULL },
	{ 30, "x448", "X448", NULL },
	REFUSED(31, "brainpoolP256r1tls13", NEEDS_32),
	REFUSED(32, "brainpoolP384r1tls13", NEEDS_32),
	REFUSED(33, "brainpoolP512r1tls13", NEEDS_32),
	{ 256, "ffdhe2048", "ffdhe2048", NULL },
	{ 257, "ffdhe3072", "ffdhe3072", NULL },
	{ 258, "ffdhe4096", "ffdhe4096", NULL },
	{ 259, "ffdhe6144", "ffdhe6144", NULL },
	{ 260, "ffdhe8192", "ffdhe8192", NULL },
};

#define MD5	"MD5 is broken"
#define SHA1	"SHA-1 signatures are refused at OpenSSL security level 1 and above"

/* Sorted by code.  TLS 1.2 pairs use OpenSSL's "ALG+HASH" names. */
static const struct tls_code_info sigalgs[] = {
	REFUSED(0x0101, "rsa_md5", MD5),
	REFUSED(0x0102, "dsa_md5", MD5),
	REFUSED(0x0103, "ecdsa_md5", MD5),
	REFUSED(0x0201, "rsa_pkcs1_sha1", SHA1),
	REFUSED(0x0202, "dsa_sha1", SHA1),
	REFUSED(0x0203, "ecdsa_sha1", SHA1),
	{ 0x0301, "rsa_sha224", "RSA+SHA224", NULL },
	{ 0x0302, "dsa_sha224", "DSA+SHA224", NULL },
	{ 0x0303, "ecdsa_sha224", "ECDSA+SHA224", NULL },
	{ 0x0401, "rsa_pkcs1_sha256", "RSA+SHA256", NULL },
	{ 0x0402, "dsa_sha256", "DSA+SHA256", NULL },
	{ 0x0403, "ecdsa_secp256r1_sha256", "ECDSA+SHA256", NULL },
	{ 0x0501, "rsa_pkcs1_sha384", "RSA+SHA384", NULL },
	{ 0x0502, "dsa_sha384", "DSA+SHA384", NULL },
	{ 0x0503, "ecdsa_secp384r1_sha384", "ECDSA+SHA384", NULL },
	{ 0x0601, "rsa_pkcs1_sha512", "RSA+SHA512", NULL },
	{ 0x0602, "dsa_sha512", "DSA+SHA512", NULL },
	{ 0x0603, "ecdsa_secp521r1_sha512", "ECDSA+SHA512", NULL },
	{ 0x0804, "rsa_pss_rsae_sha256", "rsa_pss_rsae_sha256", NULL },
	{ 0x0805, "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha384", NULL },
	{ 0x0806, "rsa_pss_rsae_sha512", "rsa_pss_rsae_sha512", NULL },
	{ 0x0807, "ed25519", "ed25519", NULL },
	{ 0x0808, "ed448", "ed448", NULL },
	{ 0x0809, "rsa_pss_pss_sha256", "rsa_pss_pss_sha256", NULL },
	{ 0x080A, "rsa_pss_pss_sha384", "rsa_pss_pss_sha384", NULL },
	{ 0x080B, "rsa_pss_pss_sha512", "rsa_pss_pss_sha512", NULL },
	REFUSED(0x081A, "ecdsa_brainpoolP256r1tls13_sha256", NEEDS_32),
	REFUSED(0x081B, "ecdsa_brainpoolP384r1tls13_sha384", NEEDS_32),
	REFUSED(0x081C, "ecdsa_brainpoolP512r1tls13_sha512", NEEDS_32),
};

#define N(a)	(sizeof(a) / sizeof((a)[0]))

static int cmp_code(const void *key, const void *elem)
{
	uint16_t k = *(const uint16_t *)key;
	uint16_t c = ((const struct tls_code_info *)elem)->code;

	return (k > c) - (k < c);
}

static const struct tls_code_info *by_name(const struct tls_code_info *t,
					   size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcasecmp(t[i].iana, name) ||
		    (t[i].ossl && !strcasecmp(t[i].ossl, name)))
			return &t[i];
	}
	return NULL;
}

const struct tls_code_info *group_by_code(uint16_t code)
{
	return bsearch(&code, groups, N(groups), sizeof(groups[0]), cmp_code);
}

const struct tls_code_info *group_by_name(const char *name)
{
	return by_name(groups, N(groups), name);
}

const struct tls_code_info *sigalg_by_code(uint16_t code)
{
	return bsearch(&code, sigalgs, N(sigalgs), sizeof(sigalgs[0]), cmp_code);
}

const struct tls_code_info *sigalg_by_name(const char *name)
{
	return by_name(sigalgs, N(sigalgs), name);
}

const struct tls_code_info *group_table(size_t *n)
{
	*n = N(groups);
	return groups;
}

const struct tls_code_info *sigalg_table(size_t *n)
{
	*n = N(sigalgs);
	return sigalgs;
}
