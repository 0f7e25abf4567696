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
 * Fill `out` from the established connection `ssl`.  `local_cert` selects
 * the certificate described: ours (SSL_get_certificate(), the server
 * role) or the partner's (SSL_get0_peer_certificate(), the client role);
 * `role` is copied into out->role.  Fields that do not apply stay "" / 0.
 * Never fails; clears what it leaves on the OpenSSL error queue.
 */
void tlsinfo_fill(const SSL *ssl, int local_cert, const char *role,
		  struct zert_tls *out);

#endif /* ATTLS_TLSINFO_H */
