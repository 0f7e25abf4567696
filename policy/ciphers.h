/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ciphers.h - AT-TLS cipher suite names/codes and their OpenSSL spelling.
 */
#ifndef ATTLS_CIPHERS_H
#define ATTLS_CIPHERS_H

#include <stddef.h>
#include <stdint.h>

/* Which protocol a suite is negotiated in: ATTLS_PROTO_TLS12/13, 0 = none. */
struct cipher_info {
	uint16_t code;			/* IANA code point, e.g. 0xC02F */
	const char *iana;		/* TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
	const char *ossl;		/* ECDHE-RSA-AES128-GCM-SHA256; NULL = refused */
	unsigned proto;			/* ATTLS_PROTO_*; 0 when refused */
	const char *why;		/* refused: the reason, for the warning */
};

/* Look a suite up by code / by IANA name (case-insensitive); NULL if unknown. */
const struct cipher_info *cipher_by_code(uint16_t code);
const struct cipher_info *cipher_by_name(const char *name);

/* The whole table, sorted by code (unit tests check it). */
const struct cipher_info *cipher_table(size_t *n);

#endif /* ATTLS_CIPHERS_H */
