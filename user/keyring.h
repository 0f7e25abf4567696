/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * keyring.h - AT-TLS key rings on a Linux file system (docs/keyrings.md).
 *
 * `Keyring OWNER/RING` is the directory KEYRING_ROOT/OWNER/RING/.  Its
 * entries (RACF: certificates connected to the ring) are named by label:
 *   LABEL.pem   certificate, its chain may follow; LABEL.key beside it
 *               holds the private key (PEM, encrypted or not)
 *   LABEL.p12   PKCS#12: certificate, private key and chain in one file
 * An entry with a private key is PERSONAL (ours), one without is CERTAUTH
 * (a CA certificate that verifies partners); `ring.conf` may say so
 * explicitly and mark the DEFAULT:
 *   label NAME [usage personal|certauth] [default]
 * The default PERSONAL entry is the one marked default, else the label
 * `default`, else the only PERSONAL entry.  Passwords of .p12 files and
 * encrypted .key files: the environment's KeyringPw/KeyringStashFile,
 * else the first line of the ring's `ring.sth`.
 *
 * Access like RACF's RDATALIB profiles: a connection may use the ring only
 * if its user is the ring's OWNER, is listed in the ring's `ACCESS` file
 * (user names; `*` = every user) or is root.  Private key files, .p12
 * files with a key, stash files: owned by root or the owner, no
 * group/other access; the ring directory, ring.conf and ACCESS: not
 * writable by group or others.
 *
 * `Keyring RING` (no owner) is the ring RING of the connection's user:
 * KEYRING_ROOT/USER/RING/.  `Keyring /abs/path.pem` (or .p12) is one file
 * with the certificate, its chain and the private key, usable by every
 * rule that names it; it has no CA certificates.
 *
 * NAME.crl files hold certificate revocation lists (PEM or DER) of the
 * ring's CAs; with one, partners' chains are checked against them.
 *
 * KEYRING_ROOT/certmap maps client certificates to users for
 * ClientAuthType SAFCheck (keyring_certmap_*).
 */
#ifndef ATTLS_KEYRING_H
#define ATTLS_KEYRING_H

#include <limits.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct json_object;

#define KEYRING_ROOT	"/etc/attls/keyrings"

enum keyring_kind {
	KEYRING_OWNED = 1,	/* OWNER/RING */
	KEYRING_USER,		/* RING: owner = the connection's user */
	KEYRING_FILE,		/* /absolute/path: one PEM or PKCS#12 file */
};

/* RACF usage of a key ring entry. */
enum keyring_usage {
	KEYRING_PERSONAL = 1,	/* our certificate, with its private key */
	KEYRING_CERTAUTH,	/* a CA certificate: verifies partners */
};

/* What a key ring call used and, on failure, why it failed. */
struct keyring_res {
	char path[PATH_MAX];	/* ring directory or file */
	char label[264];	/* label used or wanted; "" = none */
	int rc;			/* ATTLS_RC_* (rc.h) of the failure, 0 = ok */
	char cause[1024];	/* detail after attls_rc_text(rc) */
	char fix[256];		/* what to change, without the action name */
	int warn_rc;		/* non-fatal finding, e.g. expired certificate */
	char warn[512];
};

struct keyring;
struct keyring_acl;
struct keyring_certmap;

/* KEYRING_* for a Keyring value, or -EINVAL when it is none of them. */
int keyring_kind(const char *keyring);

/*
 * Open and read the key ring `keyring` (a Keyring value) under `root`
 * (KEYRING_ROOT when NULL or ""): every entry is loaded, an entry that
 * cannot be (bad file, unprotected key) is kept with its error, which is
 * reported only when the entry is used.  `user` is the owner of a ring
 * written without owner (KEYRING_USER; ignored otherwise), `pw` the
 * password of encrypted keys and PKCS#12 files (NULL or "" = the ring's
 * ring.sth, else none).  Returns 0 with *out set, or a negative errno with
 * res describing the failure (ring missing, ring.conf wrong).
 */
int keyring_open(const char *root, const char *keyring, const char *user,
		 const char *pw, struct keyring **out, struct keyring_res *res);

/* NULL-safe. */
void keyring_free(struct keyring *kr);

/*
 * Put the PERSONAL entry `label` ("" or NULL = the ring's default) into
 * ctx: certificate, chain and key, in the slot of its key type, so several
 * calls with keys of different types (RSA, EC, ...) let OpenSSL choose per
 * client (ServerCertificateLabel).  With `optional`, a ring without a
 * default PERSONAL entry is not an error (returns -ENOENT with res->rc 0).
 * Returns 0 (res->label = the label used; res->warn_rc set for an expired
 * certificate), or a negative errno with res describing the failure.
 */
int keyring_use_cert(const struct keyring *kr, SSL_CTX *ctx, const char *label,
		     int optional, struct keyring_res *res);

/*
 * The certificate, private key and chain of PERSONAL entry `label` (""/NULL
 * = default), borrowed: valid while kr lives (take references to keep
 * them).  0 or a negative errno with res set.
 */
int keyring_get_cert(const struct keyring *kr, const char *label, X509 **cert,
		     EVP_PKEY **key, STACK_OF(X509) **chain,
		     struct keyring_res *res);

/*
 * Make the ring's CERTAUTH certificates the trust store of ctx; with
 * `client_ca_list` also the CA names a server sends in its certificate
 * request.  0, or a negative errno (res->rc 109 when there are none).
 */
int keyring_use_cas(const struct keyring *kr, SSL_CTX *ctx, int client_ca_list,
		    struct keyring_res *res);

/*
 * Put the CRLs of the ring's NAME.crl files (PEM or DER, one or more per
 * file, each signed by a CERTAUTH certificate of the ring) into ctx's
 * trust store, and turn on revocation checking of the whole chain
 * (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL) when there is one.
 * Returns the number of CRLs (0: no checking, as before CRL files), or a
 * negative errno with res->rc 5161 naming the file that cannot be used.
 */
int keyring_use_crls(const struct keyring *kr, SSL_CTX *ctx,
		     struct keyring_res *res);

/*
 * GSK_CRL_SECURITY_LEVEL `level` (enum attls_crl_level) on a finding of
 * revocation checking: may verify_err (X509_V_ERR_*) at a certificate be
 * let pass?  UNABLE_TO_GET_CRL (no CRL from its issuer) passes below
 * High, CRL_HAS_EXPIRED / CRL_NOT_YET_VALID only at Low; both always for
 * the trust anchor (`anchor`: the top of the chain, a CA of the ring).
 * Every other error (a revoked certificate first of all): 0.
 */
int keyring_crl_tolerates(unsigned level, int verify_err, int anchor);

/*
 * SHA-256 over the names and contents of the NAME.crl files of the ring
 * `keyring` (user as for keyring_open()) into sha[32]: a reload compares
 * it to decide whether an environment's SSL_CTX can be kept.  All zero
 * for a file ring and a ring without CRL files.  0, or a negative errno
 * (ring missing or unreadable; sha zeroed).  Read it before the ring is
 * loaded: a file replaced in between then shows as a change next time.
 */
int keyring_crl_digest(const char *root, const char *keyring, const char *user,
		       unsigned char sha[32]);

/*
 * Who may use the ring `keyring`: its owner and its ACCESS list, read now.
 * A ring without owner (KEYRING_USER) and a file (KEYRING_FILE) give an
 * ACL that admits everybody (the former is always the user's own).
 * 0 with *out set, or a negative errno with res set (unreadable ACCESS).
 */
int keyring_acl_load(const char *root, const char *keyring,
		     struct keyring_acl **out, struct keyring_res *res);

/*
 * May the connection's user (uid, and its name `user`, NULL for a uid
 * without one) use the ring?  The owner and the users listed in ACCESS
 * may; so may uid 0, which can read every key file anyway (on Linux the
 * list protects keys from unprivileged users, not from root).  0, or
 * -EACCES with res->rc 202 and the reason (res may be NULL: no
 * description).
 */
int keyring_acl_check(const struct keyring_acl *acl, uint32_t uid,
		      const char *user, struct keyring_res *res);

/* NULL-safe. */
void keyring_acl_free(struct keyring_acl *acl);

/*
 * KEYRING_ROOT/certmap (root/certmap), for ClientAuthType SAFCheck:
 *   subject <RFC 2253 subject DN> <user>
 *   sha256 <hex SHA-256 fingerprint, colons optional> <user>
 * '#' starts a comment.  The file must be owned by root and writable by
 * nobody else.  0 with *out set (a missing file gives an empty map), or a
 * negative errno with res set.
 */
int keyring_certmap_load(const char *root, struct keyring_certmap **out,
			 struct keyring_res *res);

/*
 * The user certificate x maps to (fingerprint lines first, then subject
 * lines), into user[len].  0, or -ENOENT when unmapped.
 */
int keyring_certmap_find(const struct keyring_certmap *m, X509 *x, char *user,
			 size_t len);

/* NULL-safe. */
void keyring_certmap_free(struct keyring_certmap *m);

/*
 * `attlsctl keyring list` (RACDCERT LISTRING): describe the ring
 * `owner_ring` (a Keyring value, OWNER/RING or /path) under `root` into
 * the JSON object `out`:
 *   "keyring", "path", "owner", "access": [user...],
 *   "certificates": [{"label", "owner", "usage": "personal"|"certauth",
 *     "default", "subject", "issuer", "serial", "not_before", "not_after",
 *     "expired", "key_type", "key_bits", "sha256", "file", "error"}],
 *   "crls": [{"file", "issuer", "last_update", "next_update", "expired",
 *     "revoked" (number of entries), "rc", "error"}]
 * Never prints a secret.  0, or a negative errno with "error" (and
 * "rc") added to `out`.
 */
int keyring_list_json(const char *root, const char *owner_ring,
		      struct json_object *out);

/*
 * The password of a KeyringStashFile: its first line, into pw[len].  The
 * file must be protected like a private key.  0, or a negative errno with
 * res describing the failure.
 */
int keyring_read_stash(const char *path, char *pw, size_t len,
		       struct keyring_res *res);

#endif /* ATTLS_KEYRING_H */
