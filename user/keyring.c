// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * keyring.c - AT-TLS key rings on a file system (keyring.h,
 * docs/keyrings.md): entries by label, PERSONAL/CERTAUTH usage, the
 * default, PEM and PKCS#12 files, the ACCESS list and the SAFCheck
 * certificate map.
 */
#include <ctype.h>
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

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "../policy/policy-t.h"
#include "aj.h"
#include "keyring.h"
#include "rc.h"
#include "tlsinfo.h"

#define RING_CONF	"ring.conf"
#define RING_STASH	"ring.sth"
#define RING_ACCESS	"ACCESS"
#define CERTMAP		"certmap"
#define USER_LEN	33	/* user names, as engine.c caches them */

/* One entry of a ring: a label and what its file(s) gave. */
struct kr_entry {
	char *label;
	char file[300];		/* LABEL.pem or LABEL.p12 */
	enum keyring_usage usage;
	int usage_set;		/* ring.conf said so */
	int is_default;
	int has_key_file;	/* LABEL.key exists / the .p12 holds a key */
	X509 *cert;		/* NULL when unreadable */
	STACK_OF(X509) *chain;	/* the file's further certificates */
	EVP_PKEY *key;
	int rc;			/* load failure, 0 = usable */
	char cause[512];
	char fix[160];
};

/* One NAME.crl file of a ring: one or more CRLs, PEM or DER. */
struct kr_crl {
	char file[300];
	STACK_OF(X509_CRL) *crls;
	int rc;			/* unreadable or not signed by a CA of the
				 * ring (ATTLS_RC_CRL_BAD), 0 = usable */
	char cause[512];
	char fix[160];
};

struct keyring {
	int kind;
	char path[PATH_MAX];
	char owner[256];	/* "" for a file */
	long owner_uid;		/* -1: no such user */
	struct kr_entry *ents;	/* sorted by label */
	size_t n;
	struct kr_crl *crls;	/* sorted by file name */
	size_t ncrls, crl_cap;
};

struct keyring_acl {
	int all;		/* everybody (file, own ring, or '*') */
	char owner[256];
	char path[PATH_MAX];	/* the ring, for messages */
	char (*users)[USER_LEN];
	size_t nusers;
};

struct certmap_ent {
	int by_sha;
	unsigned char sha[32];
	char *dn;		/* RFC 2253, by_sha == 0 */
	char user[USER_LEN];
};

struct keyring_certmap {
	struct certmap_ent *v;
	size_t n;
};

static int res_fail(struct keyring_res *res, int err, int rc, const char *fix,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void fault_vset(int *rc_out, char *cause, size_t clen, char *fix_out,
		       size_t flen, int rc, const char *fix, const char *fmt,
		       va_list ap) __attribute__((format(printf, 8, 0)));

/* A failure's RC, cause (printf) and fix into the three fields given:
 * the one body of res_fail(), ent_fail() and crl_fail(). */
static void fault_vset(int *rc_out, char *cause, size_t clen, char *fix_out,
		       size_t flen, int rc, const char *fix, const char *fmt,
		       va_list ap)
{
	*rc_out = rc;
	vsnprintf(cause, clen, fmt, ap);
	snprintf(fix_out, flen, "%s", fix);
}

static int res_fail(struct keyring_res *res, int err, int rc, const char *fix,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fault_vset(&res->rc, res->cause, sizeof(res->cause), res->fix,
		   sizeof(res->fix), rc, fix, fmt, ap);
	va_end(ap);
	return err;
}

static void ent_fail(struct kr_entry *e, int rc, const char *fix,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Record why entry e is unusable (the first reason wins). */
static void ent_fail(struct kr_entry *e, int rc, const char *fix,
		     const char *fmt, ...)
{
	va_list ap;

	if (e->rc)
		return;
	va_start(ap, fmt);
	fault_vset(&e->rc, e->cause, sizeof(e->cause), e->fix, sizeof(e->fix),
		   rc, fix, fmt, ap);
	va_end(ap);
}

/* The first OpenSSL error's reason, for messages; the queue is cleared. */
static const char *ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, len, "%s", r ? r : "unknown OpenSSL error");
	ERR_clear_error();
	return buf;
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

/*
 * Secrets (private keys, PKCS#12 files with a key, stash files): owned by
 * root or the ring's owner, and not readable or writable by group or
 * others (as ssh insists for its keys).
 */
static int secret_check(const struct stat *st, const char *what,
			const char *path, long owner, const char *owner_name,
			int *rc, char *cause, size_t clen, const char **fix)
{
	if (!S_ISREG(st->st_mode)) {
		*rc = ATTLS_RC_KEYRING_READ;
		*fix = "make it a regular file";
		snprintf(cause, clen, "%s %s is not a regular file", what, path);
		return -EINVAL;
	}
	if (st->st_uid != 0 && (owner < 0 || st->st_uid != (uid_t)owner)) {
		*rc = ATTLS_RC_KEY_UNPROTECTED;
		*fix = "chown it to root or the key ring owner";
		snprintf(cause, clen, "%s %s is owned by uid %u, not by root%s%s",
			 what, path, (unsigned)st->st_uid,
			 owner_name && *owner_name ? " or " : "",
			 owner_name ? owner_name : "");
		return -EPERM;
	}
	if (st->st_mode & (S_IRWXG | S_IRWXO)) {
		*rc = ATTLS_RC_KEY_UNPROTECTED;
		*fix = "chmod 600 the file";
		snprintf(cause, clen,
			 "%s %s is accessible by group or others (mode %04o)",
			 what, path, (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

static int key_file_check(int fd, const char *what, const char *path,
			  long owner, const char *owner_name,
			  struct keyring_res *res)
{
	const char *fix = "";
	struct stat st;
	int rc = 0, err;

	if (fstat(fd, &st))
		return res_fail(res, -errno, ATTLS_RC_KEYRING_READ,
				"check the file", "%s: %s", path, strerror(errno));
	err = secret_check(&st, what, path, owner, owner_name, &rc, res->cause,
			   sizeof(res->cause), &fix);
	if (err) {
		res->rc = rc;
		snprintf(res->fix, sizeof(res->fix), "%s", fix);
	}
	return err;
}

/*
 * Files that decide who is trusted (ring directory, ACCESS, certmap):
 * owned by root or `owner`, not writable by group or others.
 */
static int config_check(const struct stat *st, const char *what,
			const char *path, long owner, struct keyring_res *res)
{
	if (st->st_uid != 0 && (owner < 0 || st->st_uid != (uid_t)owner))
		return res_fail(res, -EPERM, ATTLS_RC_KEYRING_OPEN,
				"chown it to root or the key ring owner",
				"%s %s is owned by uid %u, not by root or the owner",
				what, path, (unsigned)st->st_uid);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return res_fail(res, -EPERM, ATTLS_RC_KEYRING_OPEN,
				"chmod go-w it",
				"%s %s is writable by group or others (mode %04o)",
				what, path, (unsigned)(st->st_mode & 07777));
	return 0;
}

/* Open `name` relative to dfd (or absolute when dfd is AT_FDCWD) as a FILE. */
static FILE *open_file(int dfd, const char *name, int *err)
{
	FILE *fp;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	fp = fdopen(fd, "r");
	if (!fp) {
		*err = -errno;
		close(fd);
	}
	return fp;
}

static void ent_clear(struct kr_entry *e)
{
	free(e->label);
	X509_free(e->cert);
	sk_X509_pop_free(e->chain, X509_free);
	EVP_PKEY_free(e->key);
	memset(e, 0, sizeof(*e));
}

void keyring_free(struct keyring *kr)
{
	size_t i;

	if (!kr)
		return;
	for (i = 0; i < kr->n; i++)
		ent_clear(&kr->ents[i]);
	for (i = 0; i < kr->ncrls; i++)
		sk_X509_CRL_pop_free(kr->crls[i].crls, X509_CRL_free);
	free(kr->crls);
	free(kr->ents);
	free(kr);
}

/* Certificates of a PEM file: the first is e->cert, the others e->chain. */
static void read_pem_certs(struct kr_entry *e, FILE *fp, const char *path)
{
	X509 *x;

	e->cert = PEM_read_X509(fp, NULL, pem_password, NULL);
	if (!e->cert) {
		ERR_clear_error();
		ent_fail(e, ATTLS_RC_CERT_FORMAT, "put a PEM certificate in it",
			 "no PEM certificate in %s", path);
		return;
	}
	e->chain = sk_X509_new_null();
	if (!e->chain) {
		ent_fail(e, ATTLS_RC_NOMEM, "", "chain of %s", path);
		return;
	}
	while ((x = PEM_read_X509(fp, NULL, pem_password, NULL))) {
		if (!sk_X509_push(e->chain, x)) {
			X509_free(x);
			ent_fail(e, ATTLS_RC_NOMEM, "", "chain of %s", path);
			break;
		}
	}
	/* The loop ends on "no start line" at EOF: not an error. */
	ERR_clear_error();
}

static void read_pem_key(struct kr_entry *e, FILE *fp, const char *path,
			 const char *pw)
{
	char why[256];

	e->key = PEM_read_PrivateKey(fp, NULL, pem_password, (void *)pw);
	if (e->key)
		return;
	ssl_reason(why, sizeof(why));
	if (pw && *pw)
		ent_fail(e, ATTLS_RC_NO_PRIVATE_KEY,
			 "check KeyringPw, KeyringStashFile or ring.sth",
			 "private key in %s cannot be read with the configured password: %s",
			 path, why);
	else
		ent_fail(e, ATTLS_RC_NO_PRIVATE_KEY,
			 "store an unencrypted PEM private key, or give a password",
			 "no usable private key in %s (encrypted without a password?): %s",
			 path, why);
}

/* LABEL.pem of a ring, and LABEL.key if there is one. */
static void load_pem_entry(const struct keyring *kr, int dfd,
			   struct kr_entry *e, const char *pw)
{
	char path[PATH_MAX + 300], key[300], cause[512];
	const char *fix = "";
	struct stat st;
	FILE *fp;
	int err = 0, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", kr->path, e->file);
	fp = open_file(dfd, e->file, &err);
	if (!fp) {
		ent_fail(e, ATTLS_RC_KEYRING_READ, "check the key ring files",
			 "%s: %s", path, strerror(-err));
		return;
	}
	read_pem_certs(e, fp, path);
	fclose(fp);

	snprintf(key, sizeof(key), "%s.key", e->label);
	snprintf(path, sizeof(path), "%s/%s", kr->path, key);
	if (fstatat(dfd, key, &st, 0))
		return;		/* no key: a CA certificate */
	e->has_key_file = 1;
	fp = open_file(dfd, key, &err);
	if (!fp) {
		ent_fail(e, ATTLS_RC_KEYRING_READ, "check the key ring files",
			 "%s: %s", path, strerror(-err));
		return;
	}
	if (fstat(fileno(fp), &st)) {
		ent_fail(e, ATTLS_RC_KEYRING_READ, "check the file", "%s: %s",
			 path, strerror(errno));
	} else if (secret_check(&st, "private key file", path, kr->owner_uid,
				kr->owner, &rc, cause, sizeof(cause), &fix)) {
		ent_fail(e, rc, fix, "%s", cause);
	} else {
		read_pem_key(e, fp, path, pw);
	}
	fclose(fp);
}

/*
 * A PKCS#12 file (fp at `path`): certificate, key and chain.  One without
 * a key but with certificates is a CA entry: its first certificate is the
 * entry's, the others its chain.  With a key, the file is a secret.
 */
static void load_p12(struct kr_entry *e, FILE *fp, const char *path,
		     const char *pw, long owner, const char *owner_name)
{
	STACK_OF(X509) *ca = NULL;
	const char *fix = "";
	char why[256], cause[512];
	struct stat st;
	PKCS12 *p12;
	int rc = 0;

	p12 = d2i_PKCS12_fp(fp, NULL);
	if (!p12) {
		ent_fail(e, ATTLS_RC_CERT_FORMAT, "store a DER PKCS#12 file",
			 "%s is not a PKCS#12 file: %s", path,
			 ssl_reason(why, sizeof(why)));
		return;
	}
	if (!PKCS12_parse(p12, pw && *pw ? pw : NULL, &e->key, &e->cert, &ca)) {
		PKCS12_free(p12);
		/* Unreadable: taken for what PKCS#12 files mostly are, a
		 * personal certificate, so its use reports why. */
		e->has_key_file = 1;
		ent_fail(e, ATTLS_RC_KEYRING_READ,
			 "check KeyringPw, KeyringStashFile or ring.sth",
			 "PKCS#12 file %s cannot be read%s: %s", path,
			 pw && *pw ? " with the configured password" :
			 " without a password", ssl_reason(why, sizeof(why)));
		return;
	}
	PKCS12_free(p12);
	e->chain = ca ? ca : sk_X509_new_null();
	if (!e->chain) {
		ent_fail(e, ATTLS_RC_NOMEM, "", "%s", path);
		return;
	}
	if (!e->cert && sk_X509_num(e->chain) > 0)
		e->cert = sk_X509_shift(e->chain);
	if (!e->cert) {
		ent_fail(e, ATTLS_RC_CERT_FORMAT, "put a certificate in it",
			 "no certificate in PKCS#12 file %s", path);
		return;
	}
	if (!e->key)
		return;
	e->has_key_file = 1;
	if (fstat(fileno(fp), &st)) {
		ent_fail(e, ATTLS_RC_KEYRING_READ, "check the file", "%s: %s",
			 path, strerror(errno));
	} else if (secret_check(&st, "PKCS#12 file with a private key", path,
				owner, owner_name, &rc, cause, sizeof(cause),
				&fix)) {
		ent_fail(e, rc, fix, "%s", cause);
		/* never use a key that others could have read */
		EVP_PKEY_free(e->key);
		e->key = NULL;
	}
}

static void load_p12_entry(const struct keyring *kr, int dfd,
			   struct kr_entry *e, const char *pw)
{
	char path[PATH_MAX + 300];
	FILE *fp;
	int err = 0;

	snprintf(path, sizeof(path), "%s/%s", kr->path, e->file);
	fp = open_file(dfd, e->file, &err);
	if (!fp) {
		ent_fail(e, ATTLS_RC_KEYRING_READ, "check the key ring files",
			 "%s: %s", path, strerror(-err));
		return;
	}
	load_p12(e, fp, path, pw, kr->owner_uid, kr->owner);
	fclose(fp);
}

static int ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kr_entry *)a)->label,
		      ((const struct kr_entry *)b)->label);
}

static struct kr_entry *ring_find(const struct keyring *kr, const char *label)
{
	struct kr_entry key = { .label = (char *)label };

	if (!kr->n)
		return NULL;
	return bsearch(&key, kr->ents, kr->n, sizeof(*kr->ents), ent_cmp);
}

static int crl_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kr_crl *)a)->file,
		      ((const struct kr_crl *)b)->file);
}

/* A NAME.crl file found in the ring directory: loaded later. */
static int crl_add(struct keyring *kr, const char *name)
{
	struct kr_crl *v;

	if (kr->ncrls == kr->crl_cap) {
		v = realloc(kr->crls, (kr->crl_cap ? 2 * kr->crl_cap : 4) *
			    sizeof(*v));
		if (!v)
			return -ENOMEM;
		kr->crls = v;
		kr->crl_cap = kr->crl_cap ? 2 * kr->crl_cap : 4;
	}
	v = &kr->crls[kr->ncrls++];
	memset(v, 0, sizeof(*v));
	snprintf(v->file, sizeof(v->file), "%s", name);
	return 0;
}

/* LABEL.pem / LABEL.p12 (and NAME.crl) files of the ring directory dfd, sorted. */
static int ring_scan(struct keyring *kr, int dfd)
{
	struct kr_entry *v;
	struct dirent *de;
	size_t n, cap = 0, i;
	const char *ext;
	DIR *d;
	int fd, err = 0;

	fd = dup(dfd);
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
		if (de->d_name[0] == '.' || n <= 4 || n > 255)
			continue;
		ext = de->d_name + n - 4;
		if (!strcmp(ext, ".crl")) {
			err = crl_add(kr, de->d_name);
			if (err)
				break;
			continue;
		}
		if (strcmp(ext, ".pem") && strcmp(ext, ".p12"))
			continue;
		if (kr->n == cap) {
			cap = cap ? 2 * cap : 8;
			v = realloc(kr->ents, cap * sizeof(*v));
			if (!v) {
				err = -ENOMEM;
				break;
			}
			kr->ents = v;
		}
		v = &kr->ents[kr->n];
		memset(v, 0, sizeof(*v));
		v->label = strndup(de->d_name, n - 4);
		if (!v->label) {
			err = -ENOMEM;
			break;
		}
		snprintf(v->file, sizeof(v->file), "%s", de->d_name);
		kr->n++;
	}
	closedir(d);
	if (kr->ncrls)
		qsort(kr->crls, kr->ncrls, sizeof(*kr->crls), crl_cmp);
	if (err || !kr->n)
		return err;
	qsort(kr->ents, kr->n, sizeof(*kr->ents), ent_cmp);
	/* LABEL.pem and LABEL.p12 both: which one is meant is unclear. */
	for (i = 1; i < kr->n; i++) {
		if (strcmp(kr->ents[i - 1].label, kr->ents[i].label))
			continue;
		ent_fail(&kr->ents[i - 1], ATTLS_RC_KEYRING_READ,
			 "keep one of LABEL.pem and LABEL.p12",
			 "label '%s' has both a .pem and a .p12 file in %s",
			 kr->ents[i].label, kr->path);
		ent_clear(&kr->ents[i]);
		memmove(&kr->ents[i], &kr->ents[i + 1],
			(kr->n - i - 1) * sizeof(*kr->ents));
		kr->n--;
		i--;
	}
	return 0;
}

/*
 * Split a ring.conf / certmap line into words (double quotes group,
 * '#' outside quotes ends the line).  Returns the number of words or -1
 * on an unterminated quote.
 */
static int split_words(char *line, char **w, int max)
{
	char *p = line;
	int n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p || *p == '#')
			return n;
		if (n == max)
			return n + 1;
		w[n++] = p;
		if (*p == '"') {
			w[n - 1] = ++p;
			while (*p && *p != '"')
				p++;
			if (*p != '"')
				return -1;
			*p++ = '\0';
			continue;
		}
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
}

/* ring.conf: `label NAME [usage personal|certauth] [default]` lines. */
static int read_ring_conf(struct keyring *kr, int dfd, struct keyring_res *res)
{
	char line[1024], *w[8], path[PATH_MAX + 16];
	struct kr_entry *e;
	unsigned lineno = 0;
	struct stat st;
	FILE *fp;
	int n, i, err = 0, ndef = 0;

	snprintf(path, sizeof(path), "%s/%s", kr->path, RING_CONF);
	fp = open_file(dfd, RING_CONF, &err);
	if (!fp)
		return err == -ENOENT ? 0 :
		       res_fail(res, err, ATTLS_RC_KEYRING_READ, "check the file",
				"%s: %s", path, strerror(-err));
	if (fstat(fileno(fp), &st) == 0)
		err = config_check(&st, "key ring configuration", path,
				   kr->owner_uid, res);
	while (!err && fgets(line, sizeof(line), fp)) {
		lineno++;
		n = split_words(line, w, 8);
		if (n == 0)
			continue;
		if (n < 0 || n > 6 || strcmp(w[0], "label") || n < 2) {
			err = res_fail(res, -EINVAL, ATTLS_RC_KEYRING_READ,
				       "write: label NAME [usage personal|certauth] [default]",
				       "%s:%u: not a label line", path, lineno);
			break;
		}
		e = ring_find(kr, w[1]);
		if (!e) {
			err = res_fail(res, -ENOENT, ATTLS_RC_LABEL_NOT_FOUND,
				       "add NAME.pem or NAME.p12, or fix the label",
				       "%s:%u: label '%s' has no .pem or .p12 file",
				       path, lineno, w[1]);
			break;
		}
		for (i = 2; i < n && !err; i++) {
			if (!strcmp(w[i], "default")) {
				e->is_default = 1;
				ndef++;
			} else if (!strcmp(w[i], "usage") && i + 1 < n &&
				   (!strcasecmp(w[i + 1], "personal") ||
				    !strcasecmp(w[i + 1], "certauth"))) {
				e->usage = !strcasecmp(w[i + 1], "personal") ?
					   KEYRING_PERSONAL : KEYRING_CERTAUTH;
				e->usage_set = 1;
				i++;
			} else {
				err = res_fail(res, -EINVAL, ATTLS_RC_KEYRING_READ,
					       "write: label NAME [usage personal|certauth] [default]",
					       "%s:%u: unknown word '%s'", path,
					       lineno, w[i]);
			}
		}
	}
	fclose(fp);
	if (!err && ndef > 1)
		err = res_fail(res, -EINVAL, ATTLS_RC_KEYRING_READ,
			       "mark one label default", "%s: %d labels marked default",
			       path, ndef);
	return err;
}

/* Usage of every entry, and the default one. */
static int ring_settle(struct keyring *kr, struct keyring_res *res)
{
	struct kr_entry *e, *def = NULL, *only = NULL;
	size_t i, npersonal = 0;

	for (i = 0; i < kr->n; i++) {
		e = &kr->ents[i];
		if (!e->usage_set)
			e->usage = e->has_key_file || e->key ? KEYRING_PERSONAL :
				   KEYRING_CERTAUTH;
		if (e->usage == KEYRING_PERSONAL) {
			npersonal++;
			only = e;
			if (!e->key)
				ent_fail(e, ATTLS_RC_NO_PRIVATE_KEY,
					 "add LABEL.key beside LABEL.pem, or mark it usage certauth",
					 "label '%s' in %s has no private key",
					 e->label, kr->path);
		}
		if (e->is_default)
			def = e;
	}
	if (def && def->usage != KEYRING_PERSONAL)
		return res_fail(res, -EINVAL, ATTLS_RC_KEYRING_READ,
				"mark a personal certificate default",
				"%s/%s: the default label '%s' is a CA certificate",
				kr->path, RING_CONF, def->label);
	if (!def) {
		e = ring_find(kr, "default");
		if (e && e->usage == KEYRING_PERSONAL)
			def = e;
		else if (npersonal == 1)
			def = only;
		if (def)
			def->is_default = 1;
	}
	return 0;
}

/* The ring's stash (ring.sth), protected like a key; "" when none. */
static int ring_stash(struct keyring *kr, int dfd, char *pw, size_t len,
		      struct keyring_res *res)
{
	char path[PATH_MAX + 16], *nl;
	FILE *fp;
	int err = 0;

	pw[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", kr->path, RING_STASH);
	fp = open_file(dfd, RING_STASH, &err);
	if (!fp)
		return err == -ENOENT ? 0 :
		       res_fail(res, err, ATTLS_RC_KEYRING_READ, "check the file",
				"%s: %s", path, strerror(-err));
	err = key_file_check(fileno(fp), "stash file", path, kr->owner_uid,
			     kr->owner, res);
	if (!err && !fgets(pw, (int)len, fp))
		pw[0] = '\0';
	fclose(fp);
	nl = strpbrk(pw, "\r\n");
	if (nl)
		*nl = '\0';
	return err;
}

/*
 * Owner and directory of the ring `keyring` (OWNER/RING, or RING of
 * `user`) under root into kr.  0, or -ENOENT for a ring without owner
 * and no usable user name.
 */
static int ring_path(const char *root, const char *keyring, const char *user,
		     struct keyring *kr)
{
	const char *slash = strchr(keyring, '/');

	if (!root || !*root)
		root = KEYRING_ROOT;
	if (!slash) {
		if (!user || !ring_name_ok(user, strlen(user)))
			return -ENOENT;
		snprintf(kr->owner, sizeof(kr->owner), "%s", user);
		snprintf(kr->path, sizeof(kr->path), "%s/%s/%s", root, user,
			 keyring);
		return 0;
	}
	snprintf(kr->owner, sizeof(kr->owner), "%.*s", (int)(slash - keyring),
		 keyring);
	snprintf(kr->path, sizeof(kr->path), "%s/%s", root, keyring);
	return 0;
}

/* ---- certificate revocation lists ------------------------------------ */

static void crl_fail(struct kr_crl *c, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record why CRL file c is unusable (the first reason wins). */
static void crl_fail(struct kr_crl *c, const char *fix, const char *fmt, ...)
{
	va_list ap;

	if (c->rc)
		return;
	va_start(ap, fmt);
	fault_vset(&c->rc, c->cause, sizeof(c->cause), c->fix, sizeof(c->fix),
		   ATTLS_RC_CRL_BAD, fix, fmt, ap);
	va_end(ap);
}

static int crl_push(struct kr_crl *c, X509_CRL *x)
{
	if (sk_X509_CRL_push(c->crls, x))
		return 0;
	X509_CRL_free(x);
	return -ENOMEM;
}

/*
 * The CRLs of fp: PEM blocks ("-----BEGIN X509 CRL-----"), else DER ones.
 * A damaged PEM block after good ones is an error too: a CRL never goes
 * missing silently.
 */
static void read_crls(struct kr_crl *c, FILE *fp, const char *path)
{
	BIO *b = BIO_new_fp(fp, BIO_NOCLOSE);
	unsigned long le;
	X509_CRL *x;
	char why[256];
	int err = 0;

	c->crls = sk_X509_CRL_new_null();
	if (!b || !c->crls) {
		BIO_free(b);
		crl_fail(c, "", "%s: out of memory", path);
		return;
	}
	ERR_clear_error();
	while (!err && (x = PEM_read_bio_X509_CRL(b, NULL, pem_password, NULL)))
		err = crl_push(c, x);
	le = ERR_peek_last_error();
	if (!err && sk_X509_CRL_num(c->crls) && le &&
	    !(ERR_GET_LIB(le) == ERR_LIB_PEM &&
	      ERR_GET_REASON(le) == PEM_R_NO_START_LINE)) {
		crl_fail(c, "replace the file with the CRLs as the CA issued them",
			 "%s: a CRL after the first %d cannot be read: %s", path,
			 sk_X509_CRL_num(c->crls), ssl_reason(why, sizeof(why)));
		BIO_free(b);
		return;
	}
	ERR_clear_error();
	if (!err && !sk_X509_CRL_num(c->crls) && BIO_reset(b) == 0) {
		while (!err && (x = d2i_X509_CRL_bio(b, NULL)))
			err = crl_push(c, x);
		ERR_clear_error();
	}
	BIO_free(b);
	if (err)
		crl_fail(c, "", "%s: out of memory", path);
	else if (!sk_X509_CRL_num(c->crls))
		crl_fail(c, "store the CA's CRL in PEM or DER form (openssl crl -in FILE -noout -text reads it)",
			 "%s holds no certificate revocation list in PEM or DER form",
			 path);
}

/*
 * The CERTAUTH certificate of kr that signed crl, or NULL (named: one
 * carries the CRL's issuer name, but none verifies its signature).
 */
static X509 *crl_signer(const struct keyring *kr, X509_CRL *crl, int *named)
{
	const X509_NAME *issuer = X509_CRL_get_issuer(crl);
	const struct kr_entry *e;
	X509 *x;
	size_t i;
	int j;

	*named = 0;
	for (i = 0; i < kr->n; i++) {
		e = &kr->ents[i];
		if (e->usage != KEYRING_CERTAUTH || e->rc || !e->cert)
			continue;
		for (j = -1; j < sk_X509_num(e->chain); j++) {
			x = j < 0 ? e->cert : sk_X509_value(e->chain, j);
			if (X509_NAME_cmp(X509_get_subject_name(x), issuer))
				continue;
			*named = 1;
			if (X509_CRL_verify(crl, X509_get0_pubkey(x)) == 1)
				return x;
		}
	}
	ERR_clear_error();
	return NULL;
}

/*
 * Read every NAME.crl of the ring and check that a CERTAUTH certificate
 * of the ring signed each CRL in it.  A file that fails keeps its reason
 * (kr_crl.rc): keyring_use_crls() refuses the environment with it.
 * Whoever can write a CRL file could put an older one back (and so lift a
 * revocation): it must be protected like ring.conf.  0 or -ENOMEM.
 */
static int ring_load_crls(struct keyring *kr, int dfd)
{
	char path[PATH_MAX + 300], issuer[256];
	struct keyring_res *res;
	struct kr_crl *c;
	struct stat st;
	size_t i;
	int j, named, err = 0;
	FILE *fp;

	if (!kr->ncrls)
		return 0;
	res = malloc(sizeof(*res));
	if (!res)
		return -ENOMEM;
	for (i = 0; i < kr->ncrls; i++) {
		c = &kr->crls[i];
		snprintf(path, sizeof(path), "%s/%s", kr->path, c->file);
		fp = open_file(dfd, c->file, &err);
		if (!fp) {
			crl_fail(c, "check the key ring files", "%s: %s", path,
				 strerror(-err));
			err = 0;
			continue;
		}
		memset(res, 0, sizeof(*res));
		if (fstat(fileno(fp), &st))
			crl_fail(c, "check the file", "%s: %s", path, strerror(errno));
		else if (config_check(&st, "certificate revocation list", path,
				      kr->owner_uid, res))
			crl_fail(c, res->fix, "%s", res->cause);
		else
			read_crls(c, fp, path);
		fclose(fp);
		for (j = 0; !c->rc && j < sk_X509_CRL_num(c->crls); j++) {
			X509_CRL *crl = sk_X509_CRL_value(c->crls, j);

			if (crl_signer(kr, crl, &named))
				continue;
			tlsinfo_name(X509_CRL_get_issuer(crl), issuer, sizeof(issuer));
			if (named)
				crl_fail(c, "replace it with the CRL the CA signed, or the CA certificate with the one that signed it",
					 "%s: the signature of the CRL of %s does not verify "
					 "with the ring's CA certificate of that name", path,
					 issuer);
			else
				crl_fail(c, "add the CA certificate that issued the CRL to the ring (usage certauth)",
					 "%s: the CRL's issuer %s is not a CA certificate "
					 "(CERTAUTH) of the ring", path, issuer);
		}
	}
	free(res);
	ERR_clear_error();
	return 0;
}

int keyring_use_crls(const struct keyring *kr, SSL_CTX *ctx,
		     struct keyring_res *res)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	const struct kr_crl *c;
	size_t i;
	int j, n = 0;

	snprintf(res->path, sizeof(res->path), "%s", kr->path);
	for (i = 0; i < kr->ncrls; i++) {
		c = &kr->crls[i];
		if (c->rc)
			return res_fail(res, -EINVAL, c->rc, c->fix, "%s", c->cause);
		for (j = 0; j < sk_X509_CRL_num(c->crls); j++) {
			if (X509_STORE_add_crl(store, sk_X509_CRL_value(c->crls, j)) != 1) {
				ERR_clear_error();
				return res_fail(res, -ENOMEM, ATTLS_RC_NOMEM, "",
						"CRL file %s", c->file);
			}
			n++;
		}
	}
	/* Every certificate of the chain, not only the partner's own; the
	 * level (GSK_CRL_SECURITY_LEVEL) is applied by conn_verify_cb(). */
	if (n && X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx),
					     X509_V_FLAG_CRL_CHECK |
					     X509_V_FLAG_CRL_CHECK_ALL) != 1)
		return res_fail(res, -ENOMEM, ATTLS_RC_NOMEM, "", "CRL checking");
	return n;
}

int keyring_crl_tolerates(unsigned level, int verify_err, int anchor)
{
	switch (verify_err) {
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		return anchor || level != ATTLS_CRL_HIGH;
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return anchor || level == ATTLS_CRL_LOW;
	}
	return 0;
}

/* Name, length and bytes of CRL file `name` of dfd into the digest. */
static int crl_hash_file(EVP_MD_CTX *md, int dfd, const char *name)
{
	char buf[16384];
	uint64_t total = 0;
	size_t got;
	FILE *fp;
	int err = 0;

	fp = open_file(dfd, name, &err);
	if (!fp)
		return err;
	if (EVP_DigestUpdate(md, name, strlen(name) + 1) != 1)
		err = -ENOMEM;
	while (!err && (got = fread(buf, 1, sizeof(buf), fp)) > 0) {
		total += got;
		if (EVP_DigestUpdate(md, buf, got) != 1)
			err = -ENOMEM;
	}
	if (!err && ferror(fp))
		err = -EIO;
	fclose(fp);
	if (!err && EVP_DigestUpdate(md, &total, sizeof(total)) != 1)
		err = -ENOMEM;
	return err;
}

int keyring_crl_digest(const char *root, const char *keyring, const char *user,
		       unsigned char sha[32])
{
	struct keyring *kr;
	unsigned int len = 0;
	EVP_MD_CTX *md;
	size_t i;
	int dfd, kind, err;

	memset(sha, 0, 32);
	kind = keyring_kind(keyring);
	if (kind < 0)
		return kind;
	if (kind == KEYRING_FILE)
		return 0;	/* one file: no CA certificates, no CRLs */
	kr = calloc(1, sizeof(*kr));
	if (!kr)
		return -ENOMEM;
	err = ring_path(root, keyring, user, kr);
	if (err)
		goto free_kr;
	dfd = open(kr->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err = -errno;
		goto free_kr;
	}
	md = EVP_MD_CTX_new();
	err = md ? ring_scan(kr, dfd) : -ENOMEM;
	if (!err && !kr->ncrls)
		goto free_md;	/* all zero, as for a file */
	if (!err && EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		err = -ENOMEM;
	for (i = 0; !err && i < kr->ncrls; i++)
		err = crl_hash_file(md, dfd, kr->crls[i].file);
	if (!err && (EVP_DigestFinal_ex(md, sha, &len) != 1 || len != 32))
		err = -ENOMEM;
free_md:
	EVP_MD_CTX_free(md);
	close(dfd);
	ERR_clear_error();
	if (err)
		memset(sha, 0, 32);
free_kr:
	keyring_free(kr);
	return err;
}

static int open_dir_ring(struct keyring *kr, const char *pw,
			 struct keyring_res *res)
{
	char stash[256];
	struct stat st;
	size_t i;
	int dfd, err;

	dfd = open(kr->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err = -errno;
		return res_fail(res, err, ATTLS_RC_KEYRING_OPEN,
				err == -ENOENT ? "create it or change Keyring" :
				"make it a directory readable by root or change Keyring",
				"%s: %s", kr->path, strerror(-err));
	}
	/* Whoever can write the directory can add CA certificates. */
	err = fstat(dfd, &st) ? -errno :
	      config_check(&st, "key ring directory", kr->path, kr->owner_uid, res);
	if (err)
		goto close_dir;
	err = ring_scan(kr, dfd);
	if (err) {
		res_fail(res, err, ATTLS_RC_KEYRING_READ, "check the directory",
			 "%s: %s", kr->path, strerror(-err));
		goto close_dir;
	}
	if (!pw || !*pw) {
		err = ring_stash(kr, dfd, stash, sizeof(stash), res);
		if (err)
			goto close_dir;
		pw = stash;
	}
	for (i = 0; i < kr->n; i++) {
		if (kr->ents[i].rc)
			continue;
		if (!strcmp(kr->ents[i].file + strlen(kr->ents[i].file) - 4, ".p12"))
			load_p12_entry(kr, dfd, &kr->ents[i], pw);
		else
			load_pem_entry(kr, dfd, &kr->ents[i], pw);
	}
	OPENSSL_cleanse(stash, sizeof(stash));
	err = read_ring_conf(kr, dfd, res);
	if (!err)
		err = ring_settle(kr, res);
	if (!err)
		err = ring_load_crls(kr, dfd);
	if (err == -ENOMEM && !res->rc)
		res_fail(res, err, ATTLS_RC_NOMEM, "", "%s", kr->path);
close_dir:
	close(dfd);
	return err;
}

/* /abs/path.pem (certificate, chain, key) or /abs/path.p12: one entry. */
static int open_file_ring(struct keyring *kr, const char *pw,
			  struct keyring_res *res)
{
	struct kr_entry *e;
	const char *base = strrchr(kr->path, '/') + 1;
	size_t n = strlen(kr->path);
	FILE *fp;
	int err = 0;

	kr->ents = calloc(1, sizeof(*kr->ents));
	if (!kr->ents)
		return res_fail(res, -ENOMEM, ATTLS_RC_NOMEM, "", "%s", kr->path);
	e = &kr->ents[0];
	kr->n = 1;
	e->label = strdup(base);
	if (!e->label)
		return res_fail(res, -ENOMEM, ATTLS_RC_NOMEM, "", "%s", kr->path);
	snprintf(e->file, sizeof(e->file), "%s", base);
	e->usage = KEYRING_PERSONAL;
	e->usage_set = 1;
	e->is_default = 1;
	fp = open_file(AT_FDCWD, kr->path, &err);
	if (!fp)
		return res_fail(res, err, ATTLS_RC_KEYRING_OPEN,
				"create it or change Keyring", "%s: %s",
				kr->path, strerror(-err));
	if (n > 4 && !strcmp(kr->path + n - 4, ".p12")) {
		load_p12(e, fp, kr->path, pw, -1, NULL);
		if (!e->rc && !e->key)
			ent_fail(e, ATTLS_RC_NO_PRIVATE_KEY,
				 "put the private key into the PKCS#12 file",
				 "PKCS#12 file %s has no private key", kr->path);
	} else {
		/* The file holds the private key: it must be protected. */
		err = key_file_check(fileno(fp), "private key file", kr->path,
				     -1, NULL, res);
		if (err) {
			fclose(fp);
			return err;
		}
		read_pem_certs(e, fp, kr->path);
		rewind(fp);
		if (!e->rc)
			read_pem_key(e, fp, kr->path, pw);
	}
	fclose(fp);
	if (e->rc)
		return res_fail(res, -EINVAL, e->rc, e->fix, "%s", e->cause);
	return 0;
}

int keyring_open(const char *root, const char *keyring, const char *user,
		 const char *pw, struct keyring **out, struct keyring_res *res)
{
	struct keyring *kr;
	int kind, err;

	*out = NULL;
	memset(res, 0, sizeof(*res));
	if (!root || !*root)
		root = KEYRING_ROOT;
	kind = keyring_kind(keyring);
	if (kind < 0) {
		snprintf(res->path, sizeof(res->path), "%s", keyring ? keyring : "");
		return res_fail(res, -EINVAL, ATTLS_RC_KEYRING_OPEN,
				"write Keyring as OWNER/RING, RING or an absolute path",
				"key ring name '%s' is not valid", res->path);
	}
	kr = calloc(1, sizeof(*kr));
	if (!kr)
		return res_fail(res, -ENOMEM, ATTLS_RC_NOMEM, "", "key ring");
	kr->kind = kind;
	kr->owner_uid = -1;
	if (kind == KEYRING_FILE) {
		snprintf(kr->path, sizeof(kr->path), "%s", keyring);
		snprintf(res->path, sizeof(res->path), "%s", kr->path);
		err = open_file_ring(kr, pw, res);
		goto out;
	}
	if (ring_path(root, keyring, user, kr)) {
		snprintf(res->path, sizeof(res->path), "%s/?/%s", root, keyring);
		err = res_fail(res, -ENOENT, ATTLS_RC_USER_UNKNOWN,
			       "give the owner a user name or write Keyring OWNER/RING",
			       "no usable user name for a key ring without owner (%s)",
			       user ? user : "uid without a name");
		goto out;
	}
	snprintf(res->path, sizeof(res->path), "%s", kr->path);
	kr->owner_uid = owner_uid(kr->owner);
	err = open_dir_ring(kr, pw, res);
out:
	ERR_clear_error();
	if (err) {
		keyring_free(kr);
		return err;
	}
	*out = kr;
	return 0;
}

/* "a, b, c" of the labels (PERSONAL only with `personal`) for messages. */
static void ring_list(const struct keyring *kr, int personal, char *buf,
		      size_t len)
{
	size_t i, off = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < kr->n && off < len; i++) {
		if (personal && kr->ents[i].usage != KEYRING_PERSONAL)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
			     kr->ents[i].label);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* The PERSONAL entry `label` (default when ""/NULL), or NULL with res. */
static const struct kr_entry *pick_personal(const struct keyring *kr,
					    const char *label, int optional,
					    struct keyring_res *res, int *err)
{
	const struct kr_entry *e;
	char list[512];
	size_t i, np = 0;

	if (label && *label) {
		snprintf(res->label, sizeof(res->label), "%s", label);
		if (!label_ok(label)) {
			*err = res_fail(res, -EINVAL, ATTLS_RC_LABEL_NOT_FOUND,
					"use a label without '/' that does not start with '.'",
					"certificate label '%s' is not valid", label);
			return NULL;
		}
		e = ring_find(kr, label);
		if (!e) {
			ring_list(kr, 0, list, sizeof(list));
			*err = res_fail(res, -ENOENT, ATTLS_RC_LABEL_NOT_FOUND,
					"add the certificate or change CertificateLabel",
					"label '%s' not found in %s (labels: %s)",
					label, kr->path, list);
			return NULL;
		}
		if (e->usage != KEYRING_PERSONAL) {
			*err = res_fail(res, -ENOENT, ATTLS_RC_NO_PRIVATE_KEY,
					"add LABEL.key beside LABEL.pem or choose a personal certificate",
					"label '%s' in %s is a CA certificate (usage certauth, no private key)",
					label, kr->path);
			return NULL;
		}
	} else {
		e = NULL;
		for (i = 0; i < kr->n; i++) {
			if (kr->ents[i].usage == KEYRING_PERSONAL)
				np++;
			if (kr->ents[i].is_default)
				e = &kr->ents[i];
		}
		if (!e && optional && !np) {
			*err = -ENOENT;
			return NULL;
		}
		if (!e && np > 1) {
			ring_list(kr, 1, list, sizeof(list));
			*err = res_fail(res, -EINVAL, ATTLS_RC_NO_CERTIFICATE,
					"mark one default in ring.conf, name it 'default' or set CertificateLabel",
					"no default certificate in %s: %zu personal certificates (%s)",
					kr->path, np, list);
			return NULL;
		}
		/*
		 * Only CA certificates: the server certificate is not
		 * connected to the ring.  z/OS reports that as RC 6 (the
		 * default label is not found; the seed's second worked
		 * failure); an empty ring has no certificate at all (7).
		 */
		if (!e && kr->n) {
			ring_list(kr, 0, list, sizeof(list));
			*err = res_fail(res, -ENOENT, ATTLS_RC_LABEL_NOT_FOUND,
					"connect the certificate: add LABEL.pem and LABEL.key (or LABEL.p12) to the key ring",
					"no personal certificate in %s, only CA certificates (%s)",
					kr->path, list);
			return NULL;
		}
		if (!e) {
			*err = res_fail(res, -ENOENT, ATTLS_RC_NO_CERTIFICATE,
					"add LABEL.pem and LABEL.key (or LABEL.p12) to the key ring",
					"no certificate in %s", kr->path);
			return NULL;
		}
		snprintf(res->label, sizeof(res->label), "%s", e->label);
	}
	if (e->rc) {
		*err = res_fail(res, -EINVAL, e->rc, e->fix, "%s", e->cause);
		return NULL;
	}
	return e;
}

static void check_validity(X509 *x, struct keyring_res *res)
{
	const ASN1_TIME *t;
	const char *what;
	char when[64] = "";
	BIO *b;
	int n;

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

int keyring_get_cert(const struct keyring *kr, const char *label, X509 **cert,
		     EVP_PKEY **key, STACK_OF(X509) **chain,
		     struct keyring_res *res)
{
	const struct kr_entry *e;
	int err = 0;

	snprintf(res->path, sizeof(res->path), "%s", kr->path);
	e = pick_personal(kr, label, 0, res, &err);
	if (!e)
		return err;
	*cert = e->cert;
	*key = e->key;
	*chain = e->chain;
	return 0;
}

int keyring_use_cert(const struct keyring *kr, SSL_CTX *ctx, const char *label,
		     int optional, struct keyring_res *res)
{
	const struct kr_entry *e;
	char why[256];
	unsigned long le;
	int err = 0;

	snprintf(res->path, sizeof(res->path), "%s", kr->path);
	e = pick_personal(kr, label, optional, res, &err);
	if (!e)
		return err;
	if (SSL_CTX_use_cert_and_key(ctx, e->cert, e->key, e->chain, 0) != 1) {
		le = ERR_peek_last_error();
		if (ERR_GET_REASON(le) == SSL_R_NOT_REPLACING_CERTIFICATE)
			return res_fail(res, -EEXIST, ATTLS_RC_NO_CERTIFICATE,
					"list one label per key type (RSA, EC, ...)",
					"label '%s' in %s has the key type of a label "
					"already chosen; the server picks by key type",
					e->label, kr->path);
		if (ERR_GET_REASON(le) == SSL_R_PRIVATE_KEY_MISMATCH)
			return res_fail(res, -EINVAL, ATTLS_RC_KEY_MISMATCH,
					"put the key that belongs to the certificate",
					"private key of label '%s' in %s does not match its certificate",
					e->label, kr->path);
		return res_fail(res, -EINVAL, ATTLS_RC_CERT_FORMAT,
				"use a certificate OpenSSL accepts (key size, signature)",
				"certificate '%s' in %s refused: %s", e->label,
				kr->path, ssl_reason(why, sizeof(why)));
	}
	check_validity(e->cert, res);
	return 0;
}

int keyring_use_cas(const struct keyring *kr, SSL_CTX *ctx, int client_ca_list,
		    struct keyring_res *res)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	const struct kr_entry *e;
	unsigned ncas = 0, nbad = 0;
	size_t i;
	int j;

	snprintf(res->path, sizeof(res->path), "%s", kr->path);
	for (i = 0; i < kr->n; i++) {
		e = &kr->ents[i];
		if (e->usage != KEYRING_CERTAUTH)
			continue;
		if (e->rc || !e->cert) {
			/* reported by `attlsctl keyring list` */
			nbad++;
			continue;
		}
		for (j = -1; j < sk_X509_num(e->chain); j++) {
			X509 *x = j < 0 ? e->cert : sk_X509_value(e->chain, j);

			if (X509_STORE_add_cert(store, x) != 1 ||
			    (client_ca_list && SSL_CTX_add_client_CA(ctx, x) != 1)) {
				ERR_clear_error();
				return res_fail(res, -ENOMEM, ATTLS_RC_NOMEM, "",
						"CA certificate '%s'", e->label);
			}
			ncas++;
		}
	}
	if (!ncas)
		return res_fail(res, -ENOENT, ATTLS_RC_NO_CA_CERTS,
				"add the CA certificates as LABEL.pem without a .key "
				"(usage certauth)",
				"no certificate-authority certificates in %s to verify "
				"partner certificates%s", kr->path,
				nbad ? " (the CA entries there cannot be read)" : "");
	if (nbad && !res->warn_rc) {
		res->warn_rc = ATTLS_RC_KEYRING_READ;
		snprintf(res->warn, sizeof(res->warn),
			 "%u CA entr%s of %.400s cannot be read (attlsctl keyring list)",
			 nbad, nbad == 1 ? "y" : "ies", kr->path);
	}
	return 0;
}

/* ---- access list ------------------------------------------------------ */

void keyring_acl_free(struct keyring_acl *acl)
{
	if (!acl)
		return;
	free(acl->users);
	free(acl);
}

/* ACCESS: user names, blank- or line-separated; '#' comments; '*' = all. */
static int read_access(struct keyring_acl *acl, const char *path, long owner,
		       struct keyring_res *res)
{
	char line[1024], *w[64];
	struct stat st;
	FILE *fp;
	int n, i, err = 0;
	size_t cap = 0;

	fp = open_file(AT_FDCWD, path, &err);
	if (!fp)
		return err == -ENOENT ? 0 :
		       res_fail(res, err, ATTLS_RC_KEYRING_OPEN, "check the file",
				"%s: %s", path, strerror(-err));
	if (fstat(fileno(fp), &st) == 0)
		err = config_check(&st, "key ring access list", path, owner, res);
	while (!err && fgets(line, sizeof(line), fp)) {
		n = split_words(line, w, 64);
		if (n < 0 || n > 64) {
			err = res_fail(res, -EINVAL, ATTLS_RC_KEYRING_OPEN,
				       "list user names, at most 64 per line",
				       "%s: a line cannot be read", path);
			break;
		}
		for (i = 0; i < n; i++) {
			char (*u)[USER_LEN];

			if (!strcmp(w[i], "*")) {
				acl->all = 1;
				continue;
			}
			if (strlen(w[i]) >= USER_LEN)
				continue;	/* no such user name */
			if (acl->nusers == cap) {
				cap = cap ? 2 * cap : 16;
				u = realloc(acl->users, cap * sizeof(*u));
				if (!u) {
					err = res_fail(res, -ENOMEM, ATTLS_RC_NOMEM,
						       "", "%s", path);
					break;
				}
				acl->users = u;
			}
			snprintf(acl->users[acl->nusers++], USER_LEN, "%s", w[i]);
		}
	}
	fclose(fp);
	return err;
}

int keyring_acl_load(const char *root, const char *keyring,
		     struct keyring_acl **out, struct keyring_res *res)
{
	struct keyring_acl *acl;
	char path[PATH_MAX + 16];
	const char *slash;
	int kind, err = 0;

	*out = NULL;
	memset(res, 0, sizeof(*res));
	if (!root || !*root)
		root = KEYRING_ROOT;
	acl = calloc(1, sizeof(*acl));
	if (!acl)
		return res_fail(res, -ENOMEM, ATTLS_RC_NOMEM, "", "access list");
	kind = keyring_kind(keyring);
	snprintf(acl->path, sizeof(acl->path), "%s", keyring ? keyring : "");
	if (kind == KEYRING_OWNED) {
		slash = strchr(keyring, '/');
		snprintf(acl->owner, sizeof(acl->owner), "%.*s",
			 (int)(slash - keyring), keyring);
		snprintf(acl->path, sizeof(acl->path), "%s/%s", root, keyring);
		snprintf(res->path, sizeof(res->path), "%s", acl->path);
		snprintf(path, sizeof(path), "%s/%s", acl->path, RING_ACCESS);
		err = read_access(acl, path, owner_uid(acl->owner), res);
	} else {
		acl->all = 1;
	}
	if (err) {
		keyring_acl_free(acl);
		return err;
	}
	*out = acl;
	return 0;
}

int keyring_acl_check(const struct keyring_acl *acl, uint32_t uid,
		      const char *user, struct keyring_res *res)
{
	size_t i;

	if (acl->all || uid == 0)
		return 0;
	if (user) {
		if (!strcmp(user, acl->owner))
			return 0;
		for (i = 0; i < acl->nusers; i++) {
			if (!strcmp(user, acl->users[i]))
				return 0;
		}
	}
	if (!res)
		return -EACCES;
	memset(res, 0, sizeof(*res));
	snprintf(res->path, sizeof(res->path), "%s", acl->path);
	return res_fail(res, -EACCES, ATTLS_RC_KEYRING_OPEN,
			"add the user to the ring's ACCESS file or use a ring the user owns",
			"access denied: user %s is not the owner (%s) of key ring %s "
			"and is not granted access in its %s file",
			user ? user : "(uid without a name)", acl->owner,
			acl->path, RING_ACCESS);
}

/* ---- SAFCheck certificate map ---------------------------------------- */

void keyring_certmap_free(struct keyring_certmap *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		free(m->v[i].dn);
	free(m->v);
	free(m);
}

/* 64 hex digits, colons allowed between bytes, into sha[32]. */
static int parse_sha256(const char *s, unsigned char *sha)
{
	unsigned n = 0;
	int hi, lo;

	while (*s && n < 32) {
		if (*s == ':') {
			s++;
			continue;
		}
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
			return -1;
		hi = isdigit((unsigned char)s[0]) ? s[0] - '0' :
		     tolower((unsigned char)s[0]) - 'a' + 10;
		lo = isdigit((unsigned char)s[1]) ? s[1] - '0' :
		     tolower((unsigned char)s[1]) - 'a' + 10;
		sha[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	return n == 32 && !*s ? 0 : -1;
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/*
 * One certmap line: `subject <DN with blanks> <user>` or `sha256 <hex>
 * <user>`: the first word is the kind, the last the user, the DN all in
 * between.  0, 1 for a blank line, -1 when malformed.
 */
static int certmap_line(char *line, struct certmap_ent *ent)
{
	char *p = line, *kind, *user, *end;

	memset(ent, 0, sizeof(*ent));
	if ((end = strchr(p, '#')) && (end == p || isspace((unsigned char)end[-1])))
		*end = '\0';	/* a comment; '#' inside a DN value stays */
	trim(p);
	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return 1;
	kind = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	if (!*p)
		return -1;
	*p++ = '\0';
	while (isspace((unsigned char)*p))
		p++;
	user = strrchr(p, ' ');
	end = strrchr(p, '\t');
	if (!user || (end && end > user))
		user = end;
	if (!user)
		return -1;
	*user++ = '\0';
	trim(p);
	if (!*p || !*user || strlen(user) >= USER_LEN)
		return -1;
	snprintf(ent->user, sizeof(ent->user), "%s", user);
	if (!strcmp(kind, "sha256")) {
		ent->by_sha = 1;
		return parse_sha256(p, ent->sha) ? -1 : 0;
	}
	if (strcmp(kind, "subject"))
		return -1;
	ent->dn = strdup(p);
	return ent->dn ? 0 : -1;
}

int keyring_certmap_load(const char *root, struct keyring_certmap **out,
			 struct keyring_res *res)
{
	struct keyring_certmap *m;
	struct certmap_ent ent, *v;
	char line[2048];
	unsigned lineno = 0;
	struct stat st;
	size_t cap = 0;
	FILE *fp;
	int err = 0, r;

	*out = NULL;
	memset(res, 0, sizeof(*res));
	if (!root || !*root)
		root = KEYRING_ROOT;
	snprintf(res->path, sizeof(res->path), "%s/%s", root, CERTMAP);
	m = calloc(1, sizeof(*m));
	if (!m)
		return res_fail(res, -ENOMEM, ATTLS_RC_NOMEM, "", "certmap");
	fp = open_file(AT_FDCWD, res->path, &err);
	if (!fp) {
		if (err == -ENOENT) {
			*out = m;
			return 0;
		}
		keyring_certmap_free(m);
		return res_fail(res, err, ATTLS_RC_KEYRING_READ, "check the file",
				"%s: %s", res->path, strerror(-err));
	}
	/* It decides who a client is: root's alone. */
	if (fstat(fileno(fp), &st) == 0)
		err = config_check(&st, "certificate map", res->path, 0, res);
	while (!err && fgets(line, sizeof(line), fp)) {
		lineno++;
		r = certmap_line(line, &ent);
		if (r > 0)
			continue;
		if (r < 0) {
			free(ent.dn);
			err = res_fail(res, -EINVAL, ATTLS_RC_KEYRING_READ,
				       "write: subject <RFC 2253 DN> <user> or sha256 <hex> <user>",
				       "%s:%u: not a certificate mapping", res->path,
				       lineno);
			break;
		}
		if (m->n == cap) {
			cap = cap ? 2 * cap : 16;
			v = realloc(m->v, cap * sizeof(*v));
			if (!v) {
				free(ent.dn);
				err = res_fail(res, -ENOMEM, ATTLS_RC_NOMEM, "",
					       "%s", res->path);
				break;
			}
			m->v = v;
		}
		m->v[m->n++] = ent;
	}
	fclose(fp);
	if (err) {
		keyring_certmap_free(m);
		return err;
	}
	*out = m;
	return 0;
}

int keyring_certmap_find(const struct keyring_certmap *m, X509 *x, char *user,
			 size_t len)
{
	unsigned char sha[EVP_MAX_MD_SIZE];
	struct zert_cert desc;
	unsigned int n = 0;
	size_t i;

	if (!m || !x)
		return -ENOENT;
	if (X509_digest(x, EVP_sha256(), sha, &n) == 1 && n == 32) {
		for (i = 0; i < m->n; i++) {
			if (m->v[i].by_sha && !memcmp(m->v[i].sha, sha, 32)) {
				snprintf(user, len, "%s", m->v[i].user);
				return 0;
			}
		}
	}
	ERR_clear_error();
	tlsinfo_cert(x, &desc);
	for (i = 0; i < m->n; i++) {
		if (!m->v[i].by_sha && desc.subject[0] &&
		    !strcmp(m->v[i].dn, desc.subject)) {
			snprintf(user, len, "%s", m->v[i].user);
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- attlsctl keyring list -------------------------------------------- */

/*
 * Finish one `keyring list` object o (err: how filling it went so far):
 * the entry's failure rc/cause if any, then into arr; o is freed on error.
 */
static int list_add(struct json_object *arr, struct json_object *o, int err,
		    int rc, const char *cause)
{
	if (!err && rc) {
		err = aj_add_i64(o, "rc", rc);
		err = err ?: aj_add_str(o, "error", cause);
	}
	ERR_clear_error();
	if (err) {
		json_object_put(o);
		return err;
	}
	if (json_object_array_add(arr, o)) {
		json_object_put(o);
		return -ENOMEM;
	}
	return 0;
}

static int list_entry(const struct keyring *kr, const struct kr_entry *e,
		      struct json_object *arr)
{
	struct json_object *o = json_object_new_object();
	struct zert_cert d;
	int err;

	if (!o)
		return -ENOMEM;
	tlsinfo_cert(e->cert, &d);
	err = aj_add_str(o, "label", e->label);
	err = err ?: aj_add_str(o, "owner", kr->owner[0] ? kr->owner : NULL);
	err = err ?: aj_add_str(o, "usage", e->usage == KEYRING_PERSONAL ?
				"personal" : "certauth");
	err = err ?: aj_add_bool(o, "default", e->is_default);
	err = err ?: aj_add_str(o, "file", e->file);
	if (!err && e->cert) {
		err = aj_add_str(o, "subject", d.subject);
		err = err ?: aj_add_str(o, "issuer", d.issuer);
		err = err ?: aj_add_str(o, "serial", d.serial);
		err = err ?: aj_add_str(o, "not_before", d.not_before);
		err = err ?: aj_add_str(o, "not_after", d.not_after);
		err = err ?: aj_add_bool(o, "expired",
			X509_cmp_current_time(X509_get0_notAfter(e->cert)) < 0);
		err = err ?: aj_add_str(o, "key_type", d.key_type);
		err = err ?: aj_add_u64(o, "key_bits", d.key_bits);
		err = err ?: aj_add_str(o, "sha256", d.sha256);
	}
	return list_add(arr, o, err, e->rc, e->cause);
}

/* One CRL of file c for `attlsctl keyring list`. */
static int list_crl(const struct kr_crl *c, X509_CRL *crl,
		    struct json_object *arr)
{
	struct json_object *o = json_object_new_object();
	const ASN1_TIME *next;
	char name[256], last[32], nxt[32];
	STACK_OF(X509_REVOKED) *rev;
	int err;

	if (!o)
		return -ENOMEM;
	err = aj_add_str(o, "file", c->file);
	if (!err && crl) {
		next = X509_CRL_get0_nextUpdate(crl);
		rev = X509_CRL_get_REVOKED(crl);
		tlsinfo_name(X509_CRL_get_issuer(crl), name, sizeof(name));
		tlsinfo_time(X509_CRL_get0_lastUpdate(crl), last, sizeof(last));
		tlsinfo_time(next, nxt, sizeof(nxt));
		err = aj_add_str(o, "issuer", name);
		err = err ?: aj_add_str(o, "last_update", last);
		err = err ?: aj_add_str(o, "next_update", next ? nxt : NULL);
		err = err ?: aj_add_bool(o, "expired",
					 next && X509_cmp_current_time(next) < 0);
		err = err ?: aj_add_u64(o, "revoked", rev ?
					(uint64_t)sk_X509_REVOKED_num(rev) : 0);
	}
	return list_add(arr, o, err, c->rc, c->cause);
}

/* "crls": every CRL of every NAME.crl file; a bad file once, with its error. */
static int list_crls(const struct keyring *kr, struct json_object *out)
{
	struct json_object *arr = json_object_new_array();
	const struct kr_crl *c;
	size_t i;
	int j, n, err = arr ? 0 : -ENOMEM;

	for (i = 0; !err && i < kr->ncrls; i++) {
		c = &kr->crls[i];
		n = c->crls ? sk_X509_CRL_num(c->crls) : 0;
		if (c->rc || !n)
			err = list_crl(c, n ? sk_X509_CRL_value(c->crls, 0) : NULL, arr);
		for (j = 0; !err && !c->rc && j < n; j++)
			err = list_crl(c, sk_X509_CRL_value(c->crls, j), arr);
	}
	if (err) {
		json_object_put(arr);
		return err;
	}
	return aj_add(out, "crls", arr);
}

static int list_access(const char *root, const char *keyring,
		       struct json_object *out)
{
	struct keyring_acl *acl = NULL;
	struct json_object *arr;
	struct keyring_res *res;
	size_t i;
	int err;

	res = malloc(sizeof(*res));
	if (!res)
		return -ENOMEM;
	err = keyring_acl_load(root, keyring, &acl, res);
	if (err) {
		err = aj_add_str(out, "access_error", res->cause);
		free(res);
		return err;
	}
	free(res);
	arr = json_object_new_array();
	err = arr ? 0 : -ENOMEM;
	if (!err && acl->all)
		err = json_object_array_add(arr, json_object_new_string("*")) ?
		      -ENOMEM : 0;
	for (i = 0; !err && i < acl->nusers; i++)
		err = json_object_array_add(arr, json_object_new_string(
					    acl->users[i])) ? -ENOMEM : 0;
	keyring_acl_free(acl);
	if (err) {
		json_object_put(arr);
		return err;
	}
	return aj_add(out, "access", arr);
}

int keyring_list_json(const char *root, const char *owner_ring,
		      struct json_object *out)
{
	struct keyring_res *res;
	struct json_object *arr;
	struct keyring *kr = NULL;
	size_t i;
	int err, kind = keyring_kind(owner_ring);

	res = malloc(sizeof(*res));
	if (!res)
		return -ENOMEM;
	err = aj_add_str(out, "keyring", owner_ring);
	if (err)
		goto free_res;
	if (kind == KEYRING_USER) {
		err = -EINVAL;
		aj_add_i64(out, "rc", ATTLS_RC_KEYRING_OPEN);
		aj_add_str(out, "error", "give the ring as OWNER/RING");
		goto free_res;
	}
	err = keyring_open(root, owner_ring, NULL, NULL, &kr, res);
	aj_add_str(out, "path", res->path);
	if (err) {
		aj_add_i64(out, "rc", res->rc);
		aj_add_str(out, "error", res->cause);
		goto free_res;
	}
	err = aj_add_str(out, "owner", kr->owner[0] ? kr->owner : NULL);
	err = err ?: list_access(root, owner_ring, out);
	arr = err ? NULL : json_object_new_array();
	if (!err && !arr)
		err = -ENOMEM;
	for (i = 0; !err && i < kr->n; i++)
		err = list_entry(kr, &kr->ents[i], arr);
	if (!err)
		err = aj_add(out, "certificates", arr);
	else
		json_object_put(arr);
	err = err ?: list_crls(kr, out);
	keyring_free(kr);
free_res:
	free(res);
	return err;
}

/* ---- stash files ------------------------------------------------------ */

int keyring_read_stash(const char *path, char *pw, size_t len,
		       struct keyring_res *res)
{
	char *nl;
	FILE *fp;
	int err = 0;

	memset(res, 0, sizeof(*res));
	snprintf(res->path, sizeof(res->path), "%s", path);
	pw[0] = '\0';
	fp = open_file(AT_FDCWD, path, &err);
	if (!fp)
		return res_fail(res, err, ATTLS_RC_KEYRING_READ,
				"create it or change KeyringStashFile", "%s: %s",
				path, strerror(-err));
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
