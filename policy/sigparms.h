/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sigparms.h - TLS groups and signature schemes of TTLSSignatureParms,
 * by IANA code point, with their OpenSSL spelling.
 */
#ifndef ATTLS_SIGPARMS_H
#define ATTLS_SIGPARMS_H

#include <stddef.h>
#include <stdint.h>

/* One named group or signature scheme. */
struct tls_code_info {
	uint16_t code;			/* IANA code point: 23 = secp256r1, 0x0804 */
	const char *iana;		/* IANA name: "secp256r1", "rsa_pss_rsae_sha256" */
	const char *ossl;		/* OpenSSL list name; NULL = refused */
	const char *why;		/* refused: the reason, for the warning */
};

/* Look a TLS group up by code / by IANA or OpenSSL name (case-insensitive). */
const struct tls_code_info *group_by_code(uint16_t code);
const struct tls_code_info *group_by_name(const char *name);

/* Same for signature schemes (SignaturePairs). */
const struct tls_code_info *sigalg_by_code(uint16_t code);
const struct tls_code_info *sigalg_by_name(const char *name);

/* The tables, sorted by code (unit tests check them against OpenSSL). */
const struct tls_code_info *group_table(size_t *n);
const struct tls_code_info *sigalg_table(size_t *n);

#endif /* ATTLS_SIGPARMS_H */
