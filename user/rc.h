/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * rc.h - AT-TLS style numbered return codes of the engine.
 *
 * Numbering follows AT-TLS where a meaning exists: below 5000 the System
 * SSL codes (202 key ring cannot be opened, 402 no cipher in common, ...),
 * 5003 and 5006 as AT-TLS uses them.  Codes of our own start at 5101, above
 * the part of 5001-5999 AT-TLS uses for meanings we do not know, so a code
 * never means two things.  The numbers are an interface: messages, zERT
 * records and tests carry them; never renumber, only add.
 */
#ifndef ATTLS_RC_H
#define ATTLS_RC_H

#include <openssl/ssl.h>

enum attls_rc {
	ATTLS_RC_OK			= 0,
	ATTLS_RC_INTERNAL		= 3,	/* internal error */
	ATTLS_RC_NOMEM			= 4,	/* insufficient storage */
	ATTLS_RC_LABEL_NOT_FOUND	= 6,	/* key label not found */
	ATTLS_RC_NO_CERTIFICATE		= 7,	/* no certificate available */
	ATTLS_RC_CERT_VALIDATION	= 8,	/* partner certificate not valid */
	ATTLS_RC_KEYRING_READ		= 102,	/* error reading the key ring */
	ATTLS_RC_NO_CA_CERTS		= 109,	/* no CA certificates */
	ATTLS_RC_KEYRING_OPEN		= 202,	/* key ring cannot be opened */
	ATTLS_RC_CERT_EXPIRED		= 401,	/* expired or not yet valid */
	ATTLS_RC_NO_CIPHER		= 402,	/* no cipher/protocol in common */
	ATTLS_RC_NO_PEER_CERT		= 403,	/* no certificate from partner */
	ATTLS_RC_CERT_FORMAT		= 405,	/* certificate format not supported */
	ATTLS_RC_IO			= 406,	/* I/O error */
	ATTLS_RC_BAD_MESSAGE		= 410,	/* malformed TLS message */
	ATTLS_RC_BAD_MAC		= 411,	/* bad record MAC */
	ATTLS_RC_PEER_VIOLATION		= 415,	/* TLS protocol violation by peer */
	ATTLS_RC_PEER_CLOSED		= 420,	/* partner closed during handshake */
	ATTLS_RC_NO_PRIVATE_KEY		= 428,	/* certificate without private key */
	ATTLS_RC_CERT_REVOKED		= 431,	/* certificate revoked */
	ATTLS_RC_CA_UNKNOWN		= 435,	/* certificate authority unknown */
	ATTLS_RC_NOT_TLS		= 5003,	/* data on a server rule is not TLS */
	ATTLS_RC_ENV_INIT		= 5006,	/* environment init failed */
	ATTLS_RC_HANDSHAKE_TIMEOUT	= 5101,	/* HandshakeTimeout expired */
	ATTLS_RC_APPL_CONNECT		= 5102,	/* connection to the application failed */
	ATTLS_RC_NO_STEER		= 5103,	/* no steering entry for a connection */
	ATTLS_RC_POLICY_GONE		= 5104,	/* policy generation no longer known */
	ATTLS_RC_NO_ENVIRONMENT		= 5105,	/* rule has no usable environment */
	ATTLS_RC_TRUNCATED		= 5106,	/* peer EOF without close_notify */
	ATTLS_RC_PEER_RESET		= 5107,	/* connection reset by the partner */
	ATTLS_RC_APPL_RESET		= 5108,	/* connection reset by the application */
	ATTLS_RC_KEY_UNPROTECTED	= 5109,	/* private key file readable by others */
	ATTLS_RC_KEY_MISMATCH		= 5110,	/* private key does not match cert */
	ATTLS_RC_ROLE_UNSUPPORTED	= 5111,	/* HandshakeRole not supported yet */
	ATTLS_RC_BAD_CIPHER_SPEC	= 5112,	/* cipher/protocol settings invalid */
	ATTLS_RC_ENGINE_STOP		= 5113,	/* reset because the engine stopped */
	ATTLS_RC_USER_UNKNOWN		= 5114,	/* owner uid has no user name */
	ATTLS_RC_PEER_ALERT		= 5115,	/* partner sent a fatal alert */
	ATTLS_RC_RESOURCE		= 5116,	/* socket/bind/map resource failure */
	ATTLS_RC_PROTOCOL		= 5117,	/* other TLS protocol error */
	ATTLS_RC_PARTNER_CONNECT	= 5118,	/* outbound: connect to the partner failed */
	ATTLS_RC_HOST_MISMATCH		= 5119,	/* partner certificate does not match
						 * HostReferenceIdDNS */
	ATTLS_RC_CERT_UNMAPPED		= 5120,	/* SAFCheck: client certificate maps to
						 * no local user */
	ATTLS_RC_SNI			= 5121,	/* SNI name missing, unknown or not
						 * acknowledged (ServerHandshakeSNI /
						 * ClientHandshakeSNIMatch Required) */
	/* Bounded resources (docs/security.md "Limits"); 5131 up, clear
	 * of codes other work adds after 5121. */
	ATTLS_RC_CONN_LIMIT		= 5131,	/* global connection limit reached */
	ATTLS_RC_RULE_CONN_LIMIT	= 5132,	/* MaxConnections of the rule reached */
	ATTLS_RC_IDLE_TIMEOUT		= 5133,	/* IdleTimeout expired */
	/* Application control (ApplicationControlled On, libattls): 5141-5149. */
	ATTLS_RC_APPCTL_HELD		= 5141,	/* partner sent TLS, application never
						 * started TLS */
	ATTLS_RC_APPCTL_STOP		= 5142,	/* partner did not answer the stop's
						 * close_notify */
	/* SecondaryMap and the FTP helper: 5151-5159 */
	ATTLS_RC_SECMAP			= 5151,	/* SecondaryMap entry cannot be made */
	ATTLS_RC_FTP_CLEARTEXT		= 5152,	/* FTP command before AUTH TLS refused */
	ATTLS_RC_FTP_PROTOCOL		= 5153,	/* FTP control stream not acceptable */
	/* Certificate revocation lists of the key ring: 5161-5169 */
	ATTLS_RC_CRL_BAD		= 5161,	/* a CRL file of the key ring cannot be
						 * read or is not signed by a CA of it */
	ATTLS_RC_CRL_MISSING		= 5162,	/* GSK_CRL_SECURITY_LEVEL High: no CRL
						 * from a certificate's issuer */
	ATTLS_RC_CRL_EXPIRED		= 5163,	/* the issuer's CRL is past its
						 * nextUpdate (or not yet valid) */
	/* The partner's keys and certificates (PeerMin*): 5171-5179 */
	ATTLS_RC_PEER_KEY_SMALL		= 5171,	/* a partner key below PeerMin*KeySize
						 * or the security level */
	ATTLS_RC_PEER_CERT_VERSION	= 5172,	/* PeerMinCertVersion 3: not X.509 v3 */
};

/* Short English meaning of `rc` ("key ring cannot be opened"); never NULL. */
const char *attls_rc_text(int rc);

/*
 * Map the failure of an SSL call on `ssl` to a return code.  `ssl_err` is
 * SSL_get_error() of that call, `sys_errno` the errno right after it and
 * `handshake_done` whether the handshake had completed.  The OpenSSL error
 * queue is only peeked (the caller drains it with attls_ssl_drain()).
 * Returns ATTLS_RC_OK for SSL_ERROR_ZERO_RETURN (a clean close_notify).
 */
int attls_rc_from_ssl(const SSL *ssl, int ssl_err, int sys_errno,
		      int handshake_done);

/* Return code of an X509_V_ERR_* certificate verification result. */
int attls_rc_from_verify(long verify_result);

/*
 * A one-line human cause for the same failure ("no shared cipher",
 * "certificate verify failed: unable to get local issuer certificate",
 * "Connection reset by peer") into buf; returns buf.  Peeks only.
 */
const char *attls_ssl_cause(const SSL *ssl, int ssl_err, int sys_errno,
			    char *buf, size_t len);

/*
 * Drain the thread's OpenSSL error queue (docs/style.md #11): log every
 * entry with its function, file:line and data as
 * "<prefix>: OpenSSL <what>: ...", then clear.  prefix may be "".
 */
void attls_ssl_drain(const char *prefix, const char *what);

#endif /* ATTLS_RC_H */
