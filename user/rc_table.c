// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rc_table.c - every attls return code with its meaning, cause and fix.
 * Never renumber; only add (rc.h says why).  docs/return-codes.md is
 * checked against this table by tests/unit/test_rc.c.
 */
#include <stddef.h>

#include "rc.h"
#include "rc_table.h"

/* Ascending code order: attls_rc_info() and the docs check rely on it. */
static const struct attls_rc_info rc_table[] = {
	{ ATTLS_RC_OK, "OK",
	  "ok",
	  "The connection or operation succeeded.",
	  "Nothing to do." },
	{ ATTLS_RC_INTERNAL, "INTERNAL",
	  "internal error",
	  "An internal error in attlsd (an unexpected OpenSSL or system state).",
	  "Look at the messages just before it in the daemon log; report it with them." },
	{ ATTLS_RC_NOMEM, "NOMEM",
	  "insufficient storage",
	  "attlsd could not allocate memory for the connection or environment.",
	  "Check the daemon's memory limits (cgroup memory.max, ulimit -v) and the number of open connections." },
	{ ATTLS_RC_LABEL_NOT_FOUND, "LABEL_NOT_FOUND",
	  "key label not found",
	  "CertificateLabel or ServerCertificateLabel names a label that is not in the key ring.",
	  "Add LABEL.pem (+ LABEL.key or LABEL.p12) to the ring directory, or correct the label in the policy; then attlsctl reload with a bumped EnvironmentUserInstance." },
	{ ATTLS_RC_NO_CERTIFICATE, "NO_CERTIFICATE",
	  "no certificate available",
	  "The key ring has no usable PERSONAL certificate for this role (no default, no label).",
	  "Add a certificate with its private key to the ring and mark it default in ring.conf, or name it with CertificateLabel." },
	{ ATTLS_RC_CERT_VALIDATION, "CERT_VALIDATION",
	  "certificate validation error",
	  "The partner's certificate failed validation for a reason other than expiry or an unknown CA (bad signature, wrong usage, path too long).",
	  "Check the partner's certificate chain and key usage with openssl verify -CAfile against the ring's CA certificates." },
	{ ATTLS_RC_KEYRING_READ, "KEYRING_READ",
	  "error reading the key ring",
	  "A file of the key ring could not be read or parsed (PEM/PKCS#12 damaged, wrong password).",
	  "Check the files with openssl x509/pkey/pkcs12; for PKCS#12 check KeyringPw, KeyringStashFile or ring.sth." },
	{ ATTLS_RC_NO_CA_CERTS, "NO_CA_CERTS",
	  "no certificate authority certificates",
	  "The key ring holds no CERTAUTH certificate, so partners cannot be verified (client role, client authentication).",
	  "Add the issuing CA certificate to the ring (usage certauth in ring.conf, or a CA certificate without a key)." },
	{ ATTLS_RC_KEYRING_OPEN, "KEYRING_OPEN",
	  "key ring cannot be opened",
	  "The key ring cannot be opened: the directory OWNER/RING does not exist under --keyring-root, or the connection's user is neither its owner nor in its ACCESS file.",
	  "Correct Keyring OWNER/RING in TTLSKeyringParms (check the owner's spelling), create the ring, or grant the user in the ring's ACCESS file; then attlsctl reload with a bumped EnvironmentUserInstance." },
	{ ATTLS_RC_CERT_EXPIRED, "CERT_EXPIRED",
	  "certificate expired or not yet valid",
	  "A certificate in the handshake is expired or not yet valid.",
	  "Renew the certificate (ours: replace the ring entry and reload with a bumped EnvironmentUserInstance; the partner's: on the partner); check both systems' clocks." },
	{ ATTLS_RC_NO_CIPHER, "NO_CIPHER",
	  "no cipher suite or protocol in common",
	  "The partner and attls have no cipher suite, protocol version or group in common.",
	  "Compare V3CipherSuites, the TLSv1.2/TLSv1.3 switches and TTLSSignatureParms with what the partner offers (openssl s_client -trace shows its ClientHello)." },
	{ ATTLS_RC_NO_PEER_CERT, "NO_PEER_CERT",
	  "no certificate received from partner",
	  "Client authentication is required (ClientAuthType Required/SAFCheck) but the partner sent no certificate.",
	  "Configure the client with a certificate issued by a CA in the ring, or relax ClientAuthType to Full or PassThru." },
	{ ATTLS_RC_CERT_FORMAT, "CERT_FORMAT",
	  "certificate or key format not supported",
	  "A certificate or key is in a format or algorithm attls cannot use.",
	  "Convert it to PEM or PKCS#12 with RSA, EC or Ed25519 keys." },
	{ ATTLS_RC_IO, "IO",
	  "I/O error",
	  "A socket error during the handshake or transfer.",
	  "Look at the partner and the network path; the message gives the system error." },
	{ ATTLS_RC_BAD_MESSAGE, "BAD_MESSAGE",
	  "incorrectly formatted TLS message from partner",
	  "The partner sent an incorrectly formatted TLS message.",
	  "The partner is not speaking TLS correctly: check its software and any middlebox in between." },
	{ ATTLS_RC_BAD_MAC, "BAD_MAC",
	  "bad record MAC",
	  "A TLS record failed its integrity check: corrupted or tampered with in transit.",
	  "Investigate the network path; repeated occurrences can be an attack." },
	{ ATTLS_RC_PEER_VIOLATION, "PEER_VIOLATION",
	  "TLS protocol violation by partner",
	  "The partner violated the TLS protocol.",
	  "Check the partner's TLS implementation and version; the drained OpenSSL errors in the log name the violation." },
	{ ATTLS_RC_PEER_CLOSED, "PEER_CLOSED",
	  "connection closed by partner during handshake",
	  "The partner closed the connection during the handshake (often because it rejected our certificate or parameters).",
	  "Look at the partner's log: a client that does not trust our certificate usually closes here." },
	{ ATTLS_RC_NO_PRIVATE_KEY, "NO_PRIVATE_KEY",
	  "key entry does not contain a private key",
	  "The key ring entry has a certificate but no matching private key.",
	  "Add LABEL.key (mode 0600) or use a PKCS#12 file that contains the key." },
	{ ATTLS_RC_CERT_REVOKED, "CERT_REVOKED",
	  "certificate revoked",
	  "A certificate in the handshake is revoked.",
	  "Replace the revoked certificate." },
	{ ATTLS_RC_CA_UNKNOWN, "CA_UNKNOWN",
	  "certificate authority unknown",
	  "The partner's certificate was not issued by a CA in the key ring.",
	  "Add the partner's issuing CA certificate to the ring as CERTAUTH and reload with a bumped EnvironmentUserInstance, or fix the partner's chain." },
	{ ATTLS_RC_NOT_TLS, "NOT_TLS",
	  "data received on a TLS server rule is not TLS",
	  "Data that is not TLS arrived on a connection a server rule protects: a cleartext client on a TLS port.",
	  "Make the client use TLS (or point it at a cleartext port), or change the rule if the port should not be protected." },
	{ ATTLS_RC_ENV_INIT, "ENV_INIT",
	  "environment init failed",
	  "The TLS environment of a TTLSEnvironmentAction could not be built; the message names the cause (key ring, certificate, cipher settings).",
	  "Fix the cause named in the message, then attlsctl reload with a bumped EnvironmentUserInstance; the next connection uses the new environment." },
	{ ATTLS_RC_HANDSHAKE_TIMEOUT, "HANDSHAKE_TIMEOUT",
	  "handshake timeout",
	  "The handshake did not finish within HandshakeTimeout seconds.",
	  "Check that the partner speaks TLS and is reachable; raise HandshakeTimeout for slow partners." },
	{ ATTLS_RC_APPL_CONNECT, "APPL_CONNECT",
	  "connection to the application failed",
	  "The engine could not connect to the protected application's listener.",
	  "Check that the application still listens on the address and port (ss -ltnp)." },
	{ ATTLS_RC_NO_STEER, "NO_STEER",
	  "no steering entry: direct connection to the engine",
	  "A connection reached the engine's listener without a steering decision: something connected to the engine directly.",
	  "Nothing to fix in the policy; a local process is probing the engine's loopback port." },
	{ ATTLS_RC_POLICY_GONE, "POLICY_GONE",
	  "policy generation no longer known",
	  "The connection was steered with a policy generation the engine no longer holds.",
	  "Transient after many reloads in a short time; retry. Persistent: report it." },
	{ ATTLS_RC_NO_ENVIRONMENT, "NO_ENVIRONMENT",
	  "rule has no usable environment",
	  "The matching rule's group is enabled but has no usable environment.",
	  "Give the rule a TTLSEnvironmentActionRef (required when TTLSEnabled On)." },
	{ ATTLS_RC_TRUNCATED, "TRUNCATED",
	  "partner closed without close_notify (truncation)",
	  "The partner ended the TCP stream without a TLS close_notify: the data may have been truncated, so the application was reset instead of given a clean end.",
	  "Make the partner close TLS properly (SSL_shutdown); an attacker cutting the connection also shows this." },
	{ ATTLS_RC_PEER_RESET, "PEER_RESET",
	  "connection reset by partner",
	  "The partner reset the connection.",
	  "Look at the partner's side." },
	{ ATTLS_RC_APPL_RESET, "APPL_RESET",
	  "connection reset by application",
	  "The protected application reset its connection; the reset was forwarded.",
	  "Look at the application." },
	{ ATTLS_RC_KEY_UNPROTECTED, "KEY_UNPROTECTED",
	  "private key file not protected",
	  "A private key or password file is readable by group or others, or owned by someone other than root or the ring owner.",
	  "chmod 600 the file and chown it to root or the ring owner." },
	{ ATTLS_RC_KEY_MISMATCH, "KEY_MISMATCH",
	  "private key does not match certificate",
	  "The private key does not belong to the certificate with the same label.",
	  "Put the matching key next to the certificate (openssl x509 -pubkey vs openssl pkey -pubout must agree)." },
	{ ATTLS_RC_ROLE_UNSUPPORTED, "ROLE_UNSUPPORTED",
	  "handshake role not supported",
	  "The HandshakeRole is not supported for this direction.",
	  "Use HandshakeRole Server (or ServerWithClientAuth) for Inbound rules and Client for Outbound rules." },
	{ ATTLS_RC_BAD_CIPHER_SPEC, "BAD_CIPHER_SPEC",
	  "cipher or protocol settings not valid",
	  "The cipher suites, groups or signature algorithms of the environment are not accepted by OpenSSL.",
	  "Correct V3CipherSuites or TTLSSignatureParms; attlsd -n -f shows what the policy compiles to." },
	{ ATTLS_RC_ENGINE_STOP, "ENGINE_STOP",
	  "engine stopped",
	  "The connection was reset because attlsd stopped.",
	  "Expected during an orderly stop; the application may reconnect once attlsd runs." },
	{ ATTLS_RC_USER_UNKNOWN, "USER_UNKNOWN",
	  "owner user ID has no user name",
	  "The socket owner's uid has no user name, so a key ring named RING (owner = the user) cannot be found.",
	  "Give the uid a user name, or use Keyring OWNER/RING." },
	{ ATTLS_RC_PEER_ALERT, "PEER_ALERT",
	  "partner ended the handshake with an alert",
	  "The partner ended the handshake with a fatal TLS alert (the alert is in the message).",
	  "The alert names the reason, e.g. unknown_ca: the partner does not trust our certificate's issuer." },
	{ ATTLS_RC_RESOURCE, "RESOURCE",
	  "socket resource failure",
	  "A socket, port or map resource was exhausted (descriptors, hop ports, map entries).",
	  "Raise RLIMIT_NOFILE or the map sizes, or lower the connection rate; attlsctl status shows the counters." },
	{ ATTLS_RC_PROTOCOL, "PROTOCOL",
	  "TLS protocol error",
	  "Another TLS protocol error (see the drained OpenSSL errors).",
	  "Read the OpenSSL error lines logged with it." },
	{ ATTLS_RC_PARTNER_CONNECT, "PARTNER_CONNECT",
	  "connection to the partner failed",
	  "Client role: the engine could not connect to the original destination (refused, unreachable, or no answer within HandshakeTimeout); the application was reset.",
	  "Check that the destination is up and reachable from the host." },
	{ ATTLS_RC_HOST_MISMATCH, "HOST_MISMATCH",
	  "partner certificate does not match the host reference",
	  "Client role: the server's certificate does not match HostReferenceIdDNS.",
	  "Correct HostReferenceIdDNS, or give the server a certificate for that name (subjectAltName)." },
	{ ATTLS_RC_CERT_UNMAPPED, "CERT_UNMAPPED",
	  "client certificate is not mapped to a user",
	  "ClientAuthType SAFCheck: the client certificate maps to no existing local user in KEYRING_ROOT/certmap.",
	  "Add a 'subject DN user' or 'sha256 FINGERPRINT user' line to certmap for this certificate." },
	{ ATTLS_RC_SNI, "SNI",
	  "server name indication not acceptable",
	  "Server name indication: a required name was missing, not in ServerHandshakeSNIList, or not acknowledged by the server.",
	  "Send the expected name from the client, add it to ServerHandshakeSNIList, or make the SNI setting Optional." },
};

_Static_assert(sizeof(rc_table) / sizeof(rc_table[0]) <= ATTLS_RC_MAX_CODES,
	       "raise ATTLS_RC_MAX_CODES: the engine counts failures per code");

int attls_rc_index(int rc)
{
	size_t lo = 0, hi = sizeof(rc_table) / sizeof(rc_table[0]), mid;

	while (lo < hi) {	/* ascending order: test_rc.c checks it */
		mid = (lo + hi) / 2;
		if (rc_table[mid].rc == rc)
			return (int)mid;
		if (rc_table[mid].rc < rc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

const struct attls_rc_info *attls_rc_info(int rc)
{
	int i = attls_rc_index(rc);

	return i < 0 ? NULL : &rc_table[i];
}

const struct attls_rc_info *attls_rc_table(size_t *n)
{
	*n = sizeof(rc_table) / sizeof(rc_table[0]);
	return rc_table;
}
