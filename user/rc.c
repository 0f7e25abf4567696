// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rc.c - return-code texts and the OpenSSL error -> return code mapping.
 *
 * Codes of our own (rc.h), where AT-TLS has no number for the meaning:
 *   5118  outbound: the engine's connection to the original destination
 *         failed (refused, unreachable, or not connected within
 *         HandshakeTimeout); the application is reset.
 *   5119  the partner's certificate chain is valid but names neither the
 *         HostReferenceIdDNS name (X509_V_ERR_HOSTNAME_MISMATCH) nor the
 *         address; AT-TLS reports this as 8 (validation error), which
 *         would not tell it from a broken chain.
 *   5120  ClientAuthType SAFCheck: the client certificate is valid but
 *         KEYRING_ROOT/certmap maps it to no existing user.
 *   5121  SNI: a server with ServerHandshakeSNI Required got no name, or
 *         with ServerHandshakeSNIMatch Required a name not in
 *         ServerHandshakeSNIList; a client with ClientHandshakeSNIMatch
 *         Required whose name the server did not acknowledge.
 *   5161  a CRL file of the key ring is unreadable or not signed by a CA
 *         of the ring (the environment fails, as with a damaged ring).
 *   5162  GSK_CRL_SECURITY_LEVEL High and no CRL from a certificate's
 *         issuer (X509_V_ERR_UNABLE_TO_GET_CRL).
 *   5163  the issuer's CRL is expired or not yet valid (Medium and High).
 * Expired or not yet valid partner certificates are 401, an unknown
 * certificate authority 435, as in AT-TLS.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "log.h"
#include "rc.h"
#include "rc_table.h"

const char *attls_rc_text(int rc)
{
	const struct attls_rc_info *i = attls_rc_info(rc);

	return i ? i->text : "unknown return code";
}

int attls_rc_from_verify(long v)
{
	switch (v) {
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
	case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
		return ATTLS_RC_CERT_EXPIRED;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return ATTLS_RC_CA_UNKNOWN;
	case X509_V_ERR_CERT_REVOKED:
		return ATTLS_RC_CERT_REVOKED;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		return ATTLS_RC_CRL_MISSING;
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
		return ATTLS_RC_CRL_EXPIRED;
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
		return ATTLS_RC_PEER_KEY_SMALL;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return ATTLS_RC_HOST_MISMATCH;
	default:
		return ATTLS_RC_CERT_VALIDATION;
	}
}

static int rc_from_reason(const SSL *ssl, int reason, int handshake_done)
{
	if (reason >= SSL_AD_REASON_OFFSET &&
	    reason < SSL_AD_REASON_OFFSET + 256)
		return ATTLS_RC_PEER_ALERT;
	switch (reason) {
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_VERSION_TOO_LOW:
	case SSL_R_VERSION_TOO_HIGH:
	case SSL_R_NO_PROTOCOLS_AVAILABLE:
	case SSL_R_NO_SHARED_GROUPS:
	case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
	case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
	case SSL_R_NO_CIPHERS_AVAILABLE:
	case SSL_R_INAPPROPRIATE_FALLBACK:
		return ATTLS_RC_NO_CIPHER;
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		return ATTLS_RC_NO_PEER_CERT;
	case SSL_R_CERTIFICATE_VERIFY_FAILED:
		return attls_rc_from_verify(SSL_get_verify_result(ssl));
	case SSL_R_UNEXPECTED_EOF_WHILE_READING:
		return handshake_done ? ATTLS_RC_TRUNCATED : ATTLS_RC_PEER_CLOSED;
	case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
		return ATTLS_RC_BAD_MAC;
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
		return ATTLS_RC_NOT_TLS;
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_UNKNOWN_PROTOCOL:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_UNSUPPORTED_SSL_VERSION:
		/* Before the handshake these mean "the first bytes were not
		 * a TLS record": cleartext sent to a TLS port. */
		return handshake_done ? ATTLS_RC_BAD_MESSAGE : ATTLS_RC_NOT_TLS;
	case SSL_R_RECORD_LENGTH_MISMATCH:
	case SSL_R_LENGTH_MISMATCH:
	case SSL_R_BAD_PACKET:
	case SSL_R_BAD_PACKET_LENGTH:
	case SSL_R_BAD_LENGTH:
		return ATTLS_RC_BAD_MESSAGE;
	case SSL_R_UNEXPECTED_MESSAGE:
	case SSL_R_UNEXPECTED_RECORD:
	case SSL_R_NO_RENEGOTIATION:
	case SSL_R_RENEGOTIATION_MISMATCH:
	case SSL_R_UNSAFE_LEGACY_RENEGOTIATION_DISABLED:
		return ATTLS_RC_PEER_VIOLATION;
	default:
		return ATTLS_RC_PROTOCOL;
	}
}

static int rc_from_errno(int sys_errno, int handshake_done)
{
	switch (sys_errno) {
	case 0:
		/* SSL_ERROR_SYSCALL with errno 0 is EOF from the socket. */
		return handshake_done ? ATTLS_RC_TRUNCATED : ATTLS_RC_PEER_CLOSED;
	case ECONNRESET:
	case EPIPE:
		return ATTLS_RC_PEER_RESET;
	case ENOMEM:
	case ENOBUFS:
		return ATTLS_RC_NOMEM;
	default:
		return ATTLS_RC_IO;
	}
}

int attls_rc_from_ssl(const SSL *ssl, int ssl_err, int sys_errno,
		      int handshake_done)
{
	unsigned long e;

	switch (ssl_err) {
	case SSL_ERROR_NONE:
	case SSL_ERROR_ZERO_RETURN:
		return ATTLS_RC_OK;
	case SSL_ERROR_SYSCALL:
		e = ERR_peek_error();
		if (!e)
			return rc_from_errno(sys_errno, handshake_done);
		break;
	case SSL_ERROR_SSL:
		e = ERR_peek_error();
		if (!e)
			return ATTLS_RC_PROTOCOL;
		break;
	default:
		return ATTLS_RC_INTERNAL;
	}
	if (ERR_GET_LIB(e) == ERR_LIB_SSL)
		return rc_from_reason(ssl, ERR_GET_REASON(e), handshake_done);
	if (ERR_GET_LIB(e) == ERR_LIB_SYS)
		return rc_from_errno(ERR_GET_REASON(e), handshake_done);
	if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
		return ATTLS_RC_NOMEM;
	return ATTLS_RC_INTERNAL;
}

const char *attls_ssl_cause(const SSL *ssl, int ssl_err, int sys_errno,
			    char *buf, size_t len)
{
	unsigned long e = ERR_peek_error();
	const char *r;
	long v;

	if (!e) {
		if (ssl_err == SSL_ERROR_SYSCALL)
			snprintf(buf, len, "%s", sys_errno ? strerror(sys_errno) :
				 "end of file from partner");
		else
			snprintf(buf, len, "SSL error %d", ssl_err);
		return buf;
	}
	r = ERR_reason_error_string(e);
	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
		v = SSL_get_verify_result(ssl);
		snprintf(buf, len, "%s: %s", r ? r : "certificate verify failed",
			 X509_verify_cert_error_string(v));
		return buf;
	}
	if (r)
		snprintf(buf, len, "%s", r);
	else
		ERR_error_string_n(e, buf, len);
	return buf;
}

void attls_ssl_drain(const char *prefix, const char *what)
{
	const char *file, *func, *data;
	char text[256];
	unsigned long e;
	int line, flags;

	while ((e = ERR_get_error_all(&file, &line, &func, &data, &flags))) {
		ERR_error_string_n(e, text, sizeof(text));
		log_warnx("%s%sOpenSSL %s: %s in %s (%s:%d)%s%s", prefix,
			  *prefix ? ": " : "", what, text,
			  func && *func ? func : "?", file ? file : "?", line,
			  (flags & ERR_TXT_STRING) && data && *data ? ": " : "",
			  (flags & ERR_TXT_STRING) && data ? data : "");
	}
	ERR_clear_error();
}
