// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ciphers.c - the cipher suites attls knows, keyed by IANA code.
 *
 * AT-TLS lists suites by IANA name or by 2/4-hex-digit code; OpenSSL wants
 * TLS 1.3 suites by IANA name (SSL_CTX_set_ciphersuites) and TLS 1.2 suites
 * by its own names (SSL_CTX_set_cipher_list).  Suites that a System SSL
 * policy may list but attls will not negotiate (no forward secrecy is fine,
 * broken primitives are not) carry a NULL OpenSSL name and the reason, so
 * the warning can say why they were dropped.
 */
#include <stdlib.h>
#include <strings.h>

#include "ciphers.h"
#include "policy-t.h"

#define T12	ATTLS_PROTO_TLS12
#define T13	ATTLS_PROTO_TLS13
#define WEAK(c, n, w)	{ c, n, NULL, 0, w }

/* Sorted by code: cipher_by_code() uses bsearch, a unit test checks it. */
static const struct cipher_info ciphers[] = {
	WEAK(0x0001, "TLS_RSA_WITH_NULL_MD5", "no encryption"),
	WEAK(0x0002, "TLS_RSA_WITH_NULL_SHA", "no encryption"),
	WEAK(0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "export grade"),
	WEAK(0x0004, "TLS_RSA_WITH_RC4_128_MD5", "RC4 is broken"),
	WEAK(0x0005, "TLS_RSA_WITH_RC4_128_SHA", "RC4 is broken"),
	WEAK(0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", "export grade"),
	WEAK(0x0009, "TLS_RSA_WITH_DES_CBC_SHA", "single DES is broken"),
	WEAK(0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "3DES is disabled (SWEET32)"),
	WEAK(0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "3DES is disabled (SWEET32)"),
	WEAK(0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "3DES is disabled (SWEET32)"),
	{ 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", T12, NULL },
	{ 0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", "DHE-DSS-AES128-SHA", T12, NULL },
	{ 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA", T12, NULL },
	{ 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", T12, NULL },
	{ 0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", "DHE-DSS-AES256-SHA", T12, NULL },
	{ 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA", T12, NULL },
	WEAK(0x003B, "TLS_RSA_WITH_NULL_SHA256", "no encryption"),
	{ 0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", T12, NULL },
	{ 0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256", T12, NULL },
	{ 0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", "DHE-DSS-AES128-SHA256", T12, NULL },
	{ 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE-RSA-AES128-SHA256", T12, NULL },
	{ 0x006A, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", "DHE-DSS-AES256-SHA256", T12, NULL },
	{ 0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "DHE-RSA-AES256-SHA256", T12, NULL },
	{ 0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", T12, NULL },
	{ 0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", T12, NULL },
	{ 0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256", T12, NULL },
	{ 0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384", T12, NULL },
	{ 0x00A2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", "DHE-DSS-AES128-GCM-SHA256", T12, NULL },
	{ 0x00A3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", "DHE-DSS-AES256-GCM-SHA384", T12, NULL },
	{ 0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", T13, NULL },
	{ 0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", T13, NULL },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", T13, NULL },
	{ 0x1304, "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_SHA256", T13, NULL },
	{ 0x1305, "TLS_AES_128_CCM_8_SHA256", "TLS_AES_128_CCM_8_SHA256", T13, NULL },
	WEAK(0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "RC4 is broken"),
	WEAK(0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", "3DES is disabled (SWEET32)"),
	{ 0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", T12, NULL },
	{ 0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", T12, NULL },
	WEAK(0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "RC4 is broken"),
	WEAK(0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "3DES is disabled (SWEET32)"),
	{ 0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", T12, NULL },
	{ 0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", T12, NULL },
	{ 0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256", T12, NULL },
	{ 0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "ECDHE-ECDSA-AES256-SHA384", T12, NULL },
	{ 0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", T12, NULL },
	{ 0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384", T12, NULL },
	{ 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", T12, NULL },
	{ 0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", T12, NULL },
	{ 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", T12, NULL },
	{ 0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", T12, NULL },
	{ 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", T12, NULL },
	{ 0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", T12, NULL },
	{ 0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "DHE-RSA-CHACHA20-POLY1305", T12, NULL },
};

static int cmp_code(const void *key, const void *elem)
{
	uint16_t k = *(const uint16_t *)key;
	uint16_t c = ((const struct cipher_info *)elem)->code;

	return (k > c) - (k < c);
}

const struct cipher_info *cipher_by_code(uint16_t code)
{
	return bsearch(&code, ciphers, sizeof(ciphers) / sizeof(ciphers[0]),
		       sizeof(ciphers[0]), cmp_code);
}

const struct cipher_info *cipher_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		if (!strcasecmp(ciphers[i].iana, name))
			return &ciphers[i];
	}
	return NULL;
}

const struct cipher_info *cipher_table(size_t *n)
{
	*n = sizeof(ciphers) / sizeof(ciphers[0]);
	return ciphers;
}
