// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * keyring.c - load certificates and keys of AT-TLS key rings (keyring.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "keyring.h"
#include "rc.h"

/* Labels of one ring directory: LABEL.pem files, with or without .key. */
struct ring_label {
	char *name;
	int has_key;
};

struct ring {
	int dfd;
	struct ring_label *labels;
	size_t nlabels;
};

static int res_fail(struct keyring_res *res, int err, int rc, const char *fix,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int res_fail(struct keyring_res *res, int err, int rc, const char *fix,
		    const char *fmt, ...)
{
	va_list ap;

	res->rc = rc;
	va_start(ap, fmt);
	vsnprintf(res->cause, sizeof(res->cause), fmt, ap);
	va_end(ap);
	snprintf(res->fix, sizeof(res->fix), "%s", fix);
	return err;
}

/*
 * The PEM readers must never prompt on a terminal for a pass phrase: a
 * key is decrypted with the configured password (u, may be NULL) or not
 * at all.
 */
static int pem_password(char *buf, int size, int rwflag, void *u)
{
	const char *pw = u;
	size_t n;

	(void)rwflag;
	if (!pw || !*pw || size <= 0)
		return -1;
	n = strlen(pw);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pw, n);
	return (int)n;
}

/* A ring owner or name: one path component of safe characters. */
static int ring_name_ok(const char *s, size_t len)
{
	size_t i;

	if (!len || (len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-' || c == '@' || c == '$' || c == '#'))
			return 0;
	}
	return 1;
}

/* A label becomes a file name: no '/', no leading '.', no control bytes. */
static int label_ok(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > 255)
		return 0;
	for (; *s; s++) {
		if (*s == '/' || (unsigned char)*s < 0x20)
			return 0;
	}
	return 1;
}

int keyring_kind(const char *keyring)
{
	const char *slash;

	if (!keyring || !*keyring)
		return -EINVAL;
	if (keyring[0] == '/')
		return KEYRING_FILE;
	slash = strchr(keyring, '/');
	if (!slash)
		return ring_name_ok(keyring, strlen(keyring)) ?
		       KEYRING_USER : -EINVAL;
	if (strchr(slash + 1, '/') ||
	    !ring_name_ok(keyring, (size_t)(slash - keyring)) ||
	    !ring_name_ok(slash + 1, strlen(slash + 1)))
		return -EINVAL;
	return KEYRING_OWNED;
}

/* uid of user `name`, or -1 when there is no such user. */
static long owner_uid(const char *name)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];

	if (!name || getpwnam_r(name, &pw, buf, sizeof(buf), &pwp) || !pwp)
		return -1;
	return (long)pwp->pw_uid;
}

static void ring_free(struct ring *r)
{
	size_t i;

	for (i = 0; i < r->nlabels; i++)
		free(r->labels[i].name);
	free(r->labels);
	if (r->dfd >= 0)
		close(r->dfd);
}

static int label_cmp(const void *a, const void *b)
{
	const struct ring_label *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* List LABEL.pem files of the open ring directory r->dfd, sorted. */
static int ring_scan(struct ring *r)
{
	struct ring_label *l;
	struct dirent *de;
	struct stat st;
	char key[300];
	size_t n, cap = 0;
	DIR *d;
	int fd, err = 0;

	fd = dup(r->dfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	while ((de = readdir(d))) {
		n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n <= 4 || n > 255 ||
		    strcmp(de->d_name + n - 4, ".pem"))
			continue;
		if (r->nlabels == cap) {
			cap = cap ? 2 * cap : 8;
			l = realloc(r->labels, cap * sizeof(*l));
			if (!l) {
				err = -ENOMEM;
				break;
			}
			r->labels = l;
		}
		l = &r->labels[r->nlabels];
		l->name = strndup(de->d_name, n - 4);
		if (!l->name) {
			err = -ENOMEM;
			break;
		}
		snprintf(key, sizeof(key), "%s.key", l->name);
		l->has_key = !fstatat(r->dfd, key, &st, 0);
		r->nlabels++;
	}
	closedir(d);
	if (!err && r->nlabels)
		qsort(r->labels, r->nlabels, sizeof(*r->labels), label_cmp);
	return err;
}

static const struct ring_label *ring_find(const struct ring *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nlabels; i++) {
		if (!strcmp(r->labels[i].name, name))
			return &r->labels[i];
	}
	return NULL;
}

/* "a, b, c" of the labels (with a key when keyed) for messages. */
static void ring_list(const struct ring *r, int keyed, char *buf, size_t len)
{
	size_t i, off = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < r->nlabels && off < len; i++) {
		if (keyed && !r->labels[i].has_key)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
			     r->labels[i].name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* Choose the label to use; fills res->label or fails. */
static int ring_pick(const struct ring *r, const char *want,
		     struct keyring_res *res)
{
	const struct ring_label *l = NULL;
	char list[512];
	size_t i, nkeyed = 0;

	if (want && *want) {
		l = ring_find(r, want);
		if (!l) {
			ring_list(r, 0, list, sizeof(list));
			return res_fail(res, -ENOENT, ATTLS_RC_LABEL_NOT_FOUND,
					"add the certificate or change CertificateLabel",
					"label '%s' not found in %s (labels: %s)",
					want, res->path, list);
		}
		if (!l->has_key)
			return res_fail(res, -ENOENT, ATTLS_RC_NO_PRIVATE_KEY,
					"add LABEL.key beside LABEL.pem",
					"label '%s' in %s has no %s.key", want,
					res->path, want);
		return 0;
	}
	l = ring_find(r, "default");
	if (!l || !l->has_key) {
		l = NULL;
		for (i = 0; i < r->nlabels; i++) {
			if (r->labels[i].has_key) {
				l = &r->labels[i];
				nkeyed++;
			}
		}
	}
	if (!l)
		return res_fail(res, -ENOENT, r->nlabels ?
				ATTLS_RC_NO_PRIVATE_KEY : ATTLS_RC_NO_CERTIFICATE,
				"add LABEL.pem and LABEL.key to the key ring",
				"no certificate with a private key in %s",
				res->path);
	if (nkeyed > 1) {
		ring_list(r, 1, list, sizeof(list));
		return res_fail(res, -EINVAL, ATTLS_RC_NO_CERTIFICATE,
				"name one of them 'default' or set CertificateLabel",
				"no default certificate in %s: %zu labels have keys (%s)",
				res->path, nkeyed, list);
	}
	snprintf(res->label, sizeof(res->label), "%s", l->name);
	return 0;
}

/*
 * Private key files: owned by root or the ring's owner, and not readable
 * or writable by group or others (as ssh insists for its keys).
 */
static int key_file_check(int fd, const char *what, const char *path,
			  long owner, const char *owner_name,
			  struct keyring_res *res)
{
	struct stat st;

	if (fstat(fd, &st))
		return res_fail(res, -errno, ATTLS_RC_KEYRING_READ,
				"check the file", "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return res_fail(res, -EINVAL, ATTLS_RC_KEYRING_READ,
				"make it a regular file", "%s is not a regular file",
				path);
	if (st.st_uid != 0 && (owner < 0 || st.st_uid != (uid_t)owner))
		return res_fail(res, -EPERM, ATTLS_RC_KEY_UNPROTECTED,
				"chown it to root or the key ring owner",
				"%s %s is owned by uid %u, not by root%s%s",
				what, path, (unsigned)st.st_uid, owner_name ? " or " : "",
				owner_name ? owner_name : "");
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return res_fail(res, -EPERM, ATTLS_RC_KEY_UNPROTECTED,
				"chmod 600 the file",
				"%s %s is accessible by group or others (mode %04o)",
				what, path, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* Open `name` relative to dfd (or absolute when dfd is AT_FDCWD) as a FILE. */
static FILE *open_pem(int dfd, const char *name, const char *path,
		      struct keyring_res *res, int *err)
{
	FILE *fp;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = res_fail(res, -errno, ATTLS_RC_KEYRING_READ,
				"check the key ring files", "%s: %s", path,
				strerror(errno));
		return NULL;
	}
	fp = fdopen(fd, "r");
	if (!fp) {
		*err = res_fail(res, -errno, ATTLS_RC_NOMEM, "",
				"%s: %s", path, strerror(errno));
		close(fd);
	}
	return fp;
}

/*
 * Certificate and chain from fp (at its start): the first certificate is
 * the leaf, the following ones its chain.
 */
static int load_certs(SSL_CTX *ctx, FILE *fp, const char *path,
		      struct keyring_res *res)
{
	X509 *leaf, *x;
	int err;

	leaf = PEM_read_X509(fp, NULL, pem_password, NULL);
	if (!leaf)
		return res_fail(res, -EINVAL, ATTLS_RC_CERT_FORMAT,
				"put a PEM certificate in it",
				"no PEM certificate in %s", path);
	if (SSL_CTX_use_certificate(ctx, leaf) != 1) {
		err = res_fail(res, -EINVAL, ATTLS_RC_CERT_FORMAT,
			       "use a certificate OpenSSL accepts (key size, signature)",
			       "certificate in %s refused: %s", path,
			       ERR_reason_error_string(ERR_peek_error()));
		X509_free(leaf);
		return err;
	}
	X509_free(leaf);
	while ((x = PEM_read_X509(fp, NULL, pem_password, NULL))) {
		/* add0: the context owns x from here on. */
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			return res_fail(res, -ENOMEM, ATTLS_RC_NOMEM, "",
					"chain of %s", path);
		}
	}
	/* The loop ends on "no start line" at EOF: not an error. */
	ERR_clear_error();
	return 0;
}

static int load_key(SSL_CTX *ctx, FILE *fp, const char *path, const char *pw,
		    struct keyring_res *res)
{
	EVP_PKEY *pk;

	pk = PEM_read_PrivateKey(fp, NULL, pem_password, (void *)pw);
	if (!pk && pw && *pw)
		return res_fail(res, -EINVAL, ATTLS_RC_NO_PRIVATE_KEY,
				"check KeyringPw or KeyringStashFile",
				"private key in %s cannot be read with the configured password: %s",
				path, ERR_reason_error_string(ERR_peek_error()));
	if (!pk)
		return res_fail(res, -EINVAL, ATTLS_RC_NO_PRIVATE_KEY,
				"store an unencrypted PEM private key, or give KeyringPw",
				"no usable private key in %s (encrypted without a password?): %s",
				path, ERR_reason_error_string(ERR_peek_error()));
	if (SSL_CTX_use_PrivateKey(ctx, pk) != 1) {
		EVP_PKEY_free(pk);
		return res_fail(res, -EINVAL, ATTLS_RC_KEY_MISMATCH,
				"put the key that belongs to the certificate",
				"private key %s does not match its certificate: %s",
				path, ERR_reason_error_string(ERR_peek_error()));
	}
	EVP_PKEY_free(pk);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return res_fail(res, -EINVAL, ATTLS_RC_KEY_MISMATCH,
				"put the key that belongs to the certificate",
				"private key %s does not match its certificate",
				path);
	return 0;
}

/* Every keyless label of the ring is a CA certificate (file may hold several). */
static int load_cas(SSL_CTX *ctx, const struct ring *r, struct keyring_res *res)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	char name[300], path[PATH_MAX + 300];
	unsigned ncas = 0;
	size_t i;
	FILE *fp;
	X509 *x;
	int err = 0;

	for (i = 0; i < r->nlabels; i++) {
		if (r->labels[i].has_key)
			continue;
		snprintf(name, sizeof(name), "%s.pem", r->labels[i].name);
		snprintf(path, sizeof(path), "%s/%s", res->path, name);
		fp = open_pem(r->dfd, name, path, res, &err);
		if (!fp)
			return err;
		while ((x = PEM_read_X509(fp, NULL, pem_password, NULL))) {
			if (X509_STORE_add_cert(store, x) != 1 ||
			    SSL_CTX_add_client_CA(ctx, x) != 1) {
				X509_free(x);
				fclose(fp);
				return res_fail(res, -ENOMEM, ATTLS_RC_NOMEM, "",
						"CA certificate %s", path);
			}
			X509_free(x);
			ncas++;
		}
		ERR_clear_error();
		fclose(fp);
	}
	if (!ncas)
		return res_fail(res, -ENOENT, ATTLS_RC_NO_CA_CERTS,
				"add the CA certificates as LABEL.pem without a .key",
				"no certificate-authority certificates in %s to verify partner certificates",
				res->path);
	return 0;
}

static void check_validity(SSL_CTX *ctx, struct keyring_res *res)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);
	const ASN1_TIME *t;
	const char *what;
	char when[64] = "";
	BIO *b;
	int n;

	if (!x)
		return;
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
		t = X509_get0_notBefore(x);
		what = "is not valid before";
	} else if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
		t = X509_get0_notAfter(x);
		what = "expired";
	} else {
		return;
	}
	b = BIO_new(BIO_s_mem());
	if (b && ASN1_TIME_print(b, t)) {
		n = BIO_read(b, when, sizeof(when) - 1);
		when[n > 0 ? n : 0] = '\0';
	}
	BIO_free(b);
	res->warn_rc = ATTLS_RC_CERT_EXPIRED;
	snprintf(res->warn, sizeof(res->warn), "certificate '%.256s' %s %s",
		 res->label[0] ? res->label : "(file)", what, when);
}

static int load_file(SSL_CTX *ctx, const char *path, int want_ca,
		     const char *pw, struct keyring_res *res)
{
	FILE *fp;
	int err = 0;

	snprintf(res->path, sizeof(res->path), "%s", path);
	if (want_ca)
		return res_fail(res, -EINVAL, ATTLS_RC_NO_CA_CERTS,
				"use a key ring directory with CA certificates",
				"a PEM file key ring (%s) has no CA certificates to verify partners",
				path);
	fp = open_pem(AT_FDCWD, path, path, res, &err);
	if (!fp) {
		res->rc = ATTLS_RC_KEYRING_OPEN;
		snprintf(res->fix, sizeof(res->fix), "create it or change Keyring");
		return err;
	}
	/* The file holds the private key: it must be protected. */
	err = key_file_check(fileno(fp), "private key file", path, -1, NULL,
			     res);
	if (!err)
		err = load_certs(ctx, fp, path, res);
	if (!err) {
		rewind(fp);
		err = load_key(ctx, fp, path, pw, res);
	}
	fclose(fp);
	return err;
}

static int load_ring(SSL_CTX *ctx, const char *root, const char *owner,
		     const char *ring_name, const char *label, int want_ca,
		     struct keyring_res *res)
{
	struct ring r = { .dfd = -1 };
	char name[300], path[PATH_MAX + 300];
	long uid = owner_uid(owner);
	FILE *fp;
	int err = 0;

	snprintf(res->path, sizeof(res->path), "%s/%s/%s", root, owner,
		 ring_name);
	r.dfd = open(res->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r.dfd < 0) {
		err = -errno;
		return res_fail(res, err, ATTLS_RC_KEYRING_OPEN,
				err == -ENOENT ? "create it or change Keyring" :
				"make it a directory readable by root or change Keyring",
				"%s: %s", res->path, strerror(-err));
	}
	err = ring_scan(&r);
	if (err) {
		res_fail(res, err, ATTLS_RC_KEYRING_READ, "check the directory",
			 "%s: %s", res->path, strerror(-err));
		goto free_ring;
	}
	err = ring_pick(&r, label, res);
	if (err)
		goto free_ring;

	snprintf(name, sizeof(name), "%s.pem", res->label);
	snprintf(path, sizeof(path), "%s/%s", res->path, name);
	fp = open_pem(r.dfd, name, path, res, &err);
	if (!fp)
		goto free_ring;
	err = load_certs(ctx, fp, path, res);
	fclose(fp);
	if (err)
		goto free_ring;

	snprintf(name, sizeof(name), "%s.key", res->label);
	snprintf(path, sizeof(path), "%s/%s", res->path, name);
	fp = open_pem(r.dfd, name, path, res, &err);
	if (!fp)
		goto free_ring;
	err = key_file_check(fileno(fp), "private key file", path, uid, owner,
			     res);
	if (!err)
		err = load_key(ctx, fp, path, NULL, res);
	fclose(fp);
	if (err)
		goto free_ring;
	if (want_ca)
		err = load_cas(ctx, &r, res);
free_ring:
	ring_free(&r);
	return err;
}

int keyring_load(SSL_CTX *ctx, const char *root, const char *keyring,
		 const char *label, const char *user, int want_ca,
		 const char *pw, struct keyring_res *res)
{
	char owner[256], ring_name[1024];
	const char *slash;
	int kind, err;

	memset(res, 0, sizeof(*res));
	if (label && *label)
		snprintf(res->label, sizeof(res->label), "%s", label);
	if (!root || !*root)
		root = KEYRING_ROOT;
	kind = keyring_kind(keyring);
	if (kind < 0) {
		snprintf(res->path, sizeof(res->path), "%s", keyring ? keyring : "");
		return res_fail(res, -EINVAL, ATTLS_RC_KEYRING_OPEN,
				"write Keyring as OWNER/RING, RING or an absolute path",
				"key ring name '%s' is not valid", res->path);
	}
	if (label && *label && !label_ok(label))
		return res_fail(res, -EINVAL, ATTLS_RC_LABEL_NOT_FOUND,
				"use a label without '/' that does not start with '.'",
				"certificate label '%s' is not valid", label);

	switch (kind) {
	case KEYRING_FILE:
		err = load_file(ctx, keyring, want_ca, pw, res);
		break;
	case KEYRING_USER:
		if (!user || !ring_name_ok(user, strlen(user))) {
			snprintf(res->path, sizeof(res->path), "%s/?/%s", root,
				 keyring);
			err = res_fail(res, -ENOENT, ATTLS_RC_USER_UNKNOWN,
				       "give the owner a user name or write Keyring OWNER/RING",
				       "no usable user name for a key ring without owner (%s)",
				       user ? user : "uid without a name");
			break;
		}
		snprintf(ring_name, sizeof(ring_name), "%s", keyring);
		err = load_ring(ctx, root, user, ring_name, label, want_ca, res);
		break;
	default:
		slash = strchr(keyring, '/');
		snprintf(owner, sizeof(owner), "%.*s", (int)(slash - keyring),
			 keyring);
		snprintf(ring_name, sizeof(ring_name), "%s", slash + 1);
		err = load_ring(ctx, root, owner, ring_name, label, want_ca, res);
		break;
	}
	if (!err) {
		check_validity(ctx, res);
		ERR_clear_error();
	} else {
		attls_ssl_drain(res->path, "key ring");
	}
	return err;
}

int keyring_read_stash(const char *path, char *pw, size_t len,
		       struct keyring_res *res)
{
	char *nl;
	FILE *fp;
	int err = 0;

	memset(res, 0, sizeof(*res));
	snprintf(res->path, sizeof(res->path), "%s", path);
	pw[0] = '\0';
	fp = open_pem(AT_FDCWD, path, path, res, &err);
	if (!fp) {
		snprintf(res->fix, sizeof(res->fix),
			 "create it or change KeyringStashFile");
		return err;
	}
	/* A password file is a secret like a key: same protection. */
	err = key_file_check(fileno(fp), "stash file", path, -1, NULL, res);
	if (!err && !fgets(pw, (int)len, fp))
		err = res_fail(res, -EINVAL, ATTLS_RC_KEYRING_READ,
			       "put the password on the first line of KeyringStashFile",
			       "stash file %s is empty", path);
	fclose(fp);
	nl = strpbrk(pw, "\r\n");
	if (nl)
		*nl = '\0';
	return err;
}
