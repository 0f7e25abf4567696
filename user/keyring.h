/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * keyring.h - AT-TLS key rings on a Linux file system.
 *
 * `Keyring OWNER/RING` is the directory KEYRING_ROOT/OWNER/RING/, holding
 * one certificate per label: LABEL.pem (the certificate, optionally
 * followed by its chain) and LABEL.key (its private key).  A LABEL.pem
 * without a LABEL.key is a certificate-authority certificate of the ring
 * (RACF: a CERTAUTH certificate connected to the ring); the ring's CA
 * certificates verify partners' certificates (ServerWithClientAuth).
 *
 * `Keyring RING` (no owner) is the ring RING of the connection's user:
 * KEYRING_ROOT/USER/RING/.  `Keyring /abs/path.pem` is one PEM file with
 * the certificate, its chain and the private key.
 *
 * CertificateLabel picks the label; without it the default is `default`
 * if it has a key, else the only label that has one.  A private key file
 * must be owned by root or the ring's owner and not be accessible by group
 * or others.
 */
#ifndef ATTLS_KEYRING_H
#define ATTLS_KEYRING_H

#include <limits.h>

#include <openssl/ssl.h>

#define KEYRING_ROOT	"/etc/attls/keyrings"

enum keyring_kind {
	KEYRING_OWNED = 1,	/* OWNER/RING */
	KEYRING_USER,		/* RING: owner = the connection's user */
	KEYRING_FILE,		/* /absolute/path: one PEM file */
};

/* What keyring_load() used and, on failure, why it failed. */
struct keyring_res {
	char path[PATH_MAX];	/* ring directory or PEM file */
	char label[264];	/* label used or wanted; "" = none */
	int rc;			/* ATTLS_RC_* (rc.h) of the failure, 0 = ok */
	char cause[1024];	/* detail after attls_rc_text(rc) */
	char fix[256];		/* what to change, without the action name */
	int warn_rc;		/* non-fatal finding, e.g. expired certificate */
	char warn[512];
};

/* KEYRING_* for a Keyring value, or -EINVAL when it is none of them. */
int keyring_kind(const char *keyring);

/*
 * Load the certificate (with chain) and private key of `label` ("" or NULL
 * = the ring's default) from `keyring` into `ctx`; with `want_ca` also make
 * the ring's CA certificates the trust store and client-CA list of `ctx`.
 * `root` is the key ring root (KEYRING_ROOT unless configured), `user` the
 * owner name of a ring written without owner (KEYRING_USER; may be NULL
 * otherwise), `pw` the password of an encrypted key in a KEYRING_FILE
 * (KeyringPw; NULL or "" = none; ignored for rings, whose keys are
 * protected by file permissions).  Returns 0, or a negative errno with
 * res->rc, res->cause and res->fix describing the failure; res->path and
 * res->label are filled in either case.  On failure the OpenSSL error
 * queue is drained into the log (rc.h attls_ssl_drain()); on success it
 * is left empty.
 */
int keyring_load(SSL_CTX *ctx, const char *root, const char *keyring,
		 const char *label, const char *user, int want_ca,
		 const char *pw, struct keyring_res *res);

/*
 * The password of a KeyringStashFile: its first line, into pw[len].  The
 * file must be protected like a private key.  0, or a negative errno with
 * res describing the failure.
 */
int keyring_read_stash(const char *path, char *pw, size_t len,
		       struct keyring_res *res);

#endif /* ATTLS_KEYRING_H */
