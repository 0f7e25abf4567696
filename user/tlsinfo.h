/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tlsinfo.h - the security attributes of one TLS connection, as zERT
 * records them (protocol, cipher suite, key exchange group, certificate).
 */
#ifndef ATTLS_TLSINFO_H
#define ATTLS_TLSINFO_H

#include <openssl/ssl.h>

#include "zert.h"

/*
 * Fill `out` from the established connection `ssl`: protocol, cipher,
 * group, and both certificates (zert.h struct zert_tls).  `server` is our
 * role; `local_sent` whether our certificate went to the partner (always
 * for a server, for a client only when the server asked for one).
 * Fields that do not apply stay "" / 0.  Never fails; clears what it
 * leaves on the OpenSSL error queue.
 */
void tlsinfo_fill(const SSL *ssl, int server, int local_sent,
		  struct zert_tls *out);

/* Describe certificate x (NULL: all empty) into out. */
void tlsinfo_cert(X509 *x, struct zert_cert *out);

/* SHA-256 fingerprint of x's DER as 64 lower-case hex digits + NUL into
 * hex[65]; "" when it cannot be computed. */
void tlsinfo_sha256(X509 *x, char hex[65]);

/* One-line RFC 2253 form of a name ("CN=localhost,O=Example") into
 * buf[len]; "" when it cannot be printed. */
void tlsinfo_name(const X509_NAME *name, char *buf, size_t len);

/* t as "YYYY-MM-DDThh:mm:ssZ" into buf[len]; "" for NULL or a bad time. */
void tlsinfo_time(const ASN1_TIME *t, char *buf, size_t len);

#endif /* ATTLS_TLSINFO_H */
