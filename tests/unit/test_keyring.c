// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_keyring.c - key rings on disk (user/keyring.c, docs/keyrings.md):
 * usage and default, ring.conf, PKCS#12 with a stash, file protection,
 * the ACCESS list, the SAFCheck certificate map, `keyring list` JSON.
 *
 * Certificates are made here with the OpenSSL API in a temporary root.
 * The ring owner is the user running the test, so file ownership checks
 * pass without root; the certificate map must be root's, so that test
 * checks the refusal when not run as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../../user/keyring.h"
#include "../../policy/policy-t.h"
#include "../../user/rc.h"
#include "unit.h"

/* The temporary key ring root of one test and its owner (us). */
#define FIXTURE_CERTS	4

struct fixture {
	char root[PATH_MAX];
	char owner[64];
	EVP_PKEY *ca_key;
	X509 *ca;
	/* personal() certificates and keys, freed by fixture_fini() */
	X509 *certs[FIXTURE_CERTS];
	EVP_PKEY *keys[FIXTURE_CERTS];
	int ncerts;
};

static EVP_PKEY *new_key(void)
{
	return EVP_EC_gen("P-256");
}

/* A certificate for `cn` with key `key`, signed by ca/ca_key (self-signed
 * when ca is NULL), valid from now + from_days for `days` days. */
static X509 *new_cert(const char *cn, EVP_PKEY *key, X509 *ca,
		      EVP_PKEY *ca_key, int is_ca, long from_days, long days)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *n;
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	if (!x)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from_days * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), (from_days + days) * 86400);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
				   (const unsigned char *)"attls unit", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : n);
	X509V3_set_ctx(&v3, ca ? ca : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
				  is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (ext) {
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (!X509_sign(x, ca ? ca_key : key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static void path_of(char *buf, size_t len, const struct fixture *f,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void path_of(char *buf, size_t len, const struct fixture *f,
		    const char *fmt, ...)
{
	char rel[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(buf, len, "%.3000s/%s", f->root, rel);
}

static int write_text(const char *path, mode_t mode, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	chmod(path, mode);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

/* ring/LABEL.pem (cert, then extra) and, with key, ring/LABEL.key. */
static int put_pem(const struct fixture *f, const char *ring, const char *label,
		   X509 *cert, EVP_PKEY *key, mode_t key_mode)
{
	char path[PATH_MAX];
	FILE *fp;
	int ok;

	path_of(path, sizeof(path), f, "%s/%s.pem", ring, label);
	fp = fopen(path, "w");
	if (!fp)
		return -errno;
	ok = PEM_write_X509(fp, cert);
	fclose(fp);
	if (!ok)
		return -EIO;
	if (!key)
		return 0;
	path_of(path, sizeof(path), f, "%s/%s.key", ring, label);
	fp = fopen(path, "w");
	if (!fp)
		return -errno;
	ok = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
	chmod(path, key_mode);
	return ok ? 0 : -EIO;
}

static int put_p12(const struct fixture *f, const char *ring, const char *label,
		   X509 *cert, EVP_PKEY *key, const char *pw, mode_t mode)
{
	char path[PATH_MAX];
	PKCS12 *p12;
	FILE *fp;
	int ok;

	p12 = PKCS12_create(pw, label, key, cert, NULL, 0, 0, 0, 0, 0);
	if (!p12)
		return -EIO;
	path_of(path, sizeof(path), f, "%s/%s.p12", ring, label);
	fp = fopen(path, "w");
	if (!fp) {
		PKCS12_free(p12);
		return -errno;
	}
	ok = i2d_PKCS12_fp(fp, p12);
	fclose(fp);
	PKCS12_free(p12);
	chmod(path, mode);
	return ok ? 0 : -EIO;
}

static int mkring(const struct fixture *f, const char *ring)
{
	char path[PATH_MAX];

	path_of(path, sizeof(path), f, "%s", f->owner);
	mkdir(path, 0755);
	path_of(path, sizeof(path), f, "%s", ring);
	return mkdir(path, 0755) ? -errno : 0;
}

static int fixture_init(struct fixture *f)
{
	struct passwd *pw = getpwuid(geteuid());

	memset(f, 0, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/attls-unit-keyring-XXXXXX");
	if (!mkdtemp(f->root) || !pw)
		return -errno;
	chmod(f->root, 0755);
	snprintf(f->owner, sizeof(f->owner), "%s", pw->pw_name);
	f->ca_key = new_key();
	f->ca = f->ca_key ? new_cert("unit CA", f->ca_key, NULL, NULL, 1, 0, 2) : NULL;
	return f->ca ? 0 : -ENOMEM;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void fixture_fini(struct fixture *f)
{
	nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	while (f->ncerts--) {
		X509_free(f->certs[f->ncerts]);
		EVP_PKEY_free(f->keys[f->ncerts]);
	}
	X509_free(f->ca);
	EVP_PKEY_free(f->ca_key);
}

/* A personal certificate of the test CA, owned by the fixture: (cert,
 * key) or 0 on failure. */
static int personal(struct fixture *f, const char *cn, X509 **x, EVP_PKEY **k)
{
	if (f->ncerts == FIXTURE_CERTS)
		return 0;
	*k = new_key();
	*x = *k ? new_cert(cn, *k, f->ca, f->ca_key, 0, 0, 2) : NULL;
	f->keys[f->ncerts] = *k;
	f->certs[f->ncerts++] = *x;
	return *x != NULL;
}

static void test_default_and_usage(void)
{
	struct keyring_res res;
	struct keyring *kr = NULL;
	struct fixture f;
	char ring[300];
	EVP_PKEY *k1 = NULL, *k2 = NULL;
	X509 *c1 = NULL, *c2 = NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ASSERT_EQ(fixture_init(&f), 0, "fixture"))
		return;
	snprintf(ring, sizeof(ring), "%s/srv", f.owner);
	if (!ASSERT_EQ(mkring(&f, ring), 0, "ring dir") ||
	    !ASSERT_TRUE(personal(&f, "one", &c1, &k1) && personal(&f, "two", &c2, &k2),
			 "certificates"))
		goto out;
	put_pem(&f, ring, "default", c1, k1, 0600);
	put_pem(&f, ring, "other", c2, k2, 0600);
	put_pem(&f, ring, "ca", f.ca, NULL, 0);
	ASSERT_EQ(keyring_open(f.root, ring, NULL, NULL, &kr, &res), 0, res.cause);
	if (!kr)
		goto out;
	ASSERT_EQ(keyring_use_cert(kr, ctx, NULL, 0, &res), 0, res.cause);
	ASSERT_STREQ(res.label, "default", "label 'default' is the default");
	ASSERT_EQ(keyring_use_cas(kr, ctx, 1, &res), 0, res.cause);
	ASSERT_TRUE(keyring_use_cert(kr, ctx, "ca", 0, &res) < 0, "a CA as ours");
	ASSERT_EQ(res.rc, ATTLS_RC_NO_PRIVATE_KEY, "CERTAUTH entry: RC 428");
	ASSERT_TRUE(keyring_use_cert(kr, ctx, "nope", 0, &res) < 0, "unknown label");
	ASSERT_EQ(res.rc, ATTLS_RC_LABEL_NOT_FOUND, "RC 6");
	keyring_free(kr);
	kr = NULL;
	/* no 'default' label and two personal certificates: no default */
	{
		char p[PATH_MAX];

		path_of(p, sizeof(p), &f, "%s/default.pem", ring);
		unlink(p);
		path_of(p, sizeof(p), &f, "%s/default.key", ring);
		unlink(p);
		put_pem(&f, ring, "third", c1, k1, 0600);
	}
	ASSERT_EQ(keyring_open(f.root, ring, NULL, NULL, &kr, &res), 0, res.cause);
	if (kr) {
		ASSERT_TRUE(keyring_use_cert(kr, ctx, NULL, 0, &res) < 0, "ambiguous");
		ASSERT_EQ(res.rc, ATTLS_RC_NO_CERTIFICATE, "RC 7 without a default");
		ASSERT_TRUE(strstr(res.cause, "other") && strstr(res.cause, "third"),
			    "the candidates are named");
		ASSERT_EQ(keyring_use_cert(kr, ctx, NULL, 1, &res), -EINVAL,
			  "optional still refuses an ambiguous default");
	}
out:
	keyring_free(kr);
	SSL_CTX_free(ctx);
	fixture_fini(&f);
}

static void test_ring_conf(void)
{
	struct keyring_res res;
	struct keyring *kr = NULL;
	struct fixture f;
	char ring[300], conf[PATH_MAX];
	EVP_PKEY *k1 = NULL, *k2 = NULL;
	X509 *c1 = NULL, *c2 = NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ASSERT_EQ(fixture_init(&f), 0, "fixture"))
		return;
	snprintf(ring, sizeof(ring), "%s/conf", f.owner);
	path_of(conf, sizeof(conf), &f, "%s/ring.conf", ring);
	if (!ASSERT_EQ(mkring(&f, ring), 0, "ring dir") ||
	    !ASSERT_TRUE(personal(&f, "a", &c1, &k1) && personal(&f, "b", &c2, &k2),
			 "certificates"))
		goto out;
	put_pem(&f, ring, "alpha", c1, k1, 0600);
	put_pem(&f, ring, "web server", c2, k2, 0600);
	put_pem(&f, ring, "root", f.ca, NULL, 0);
	write_text(conf, 0644, "# comment\n"
		   "label \"web server\" usage personal default\n"
		   "label root usage certauth   # the CA\n");
	ASSERT_EQ(keyring_open(f.root, ring, NULL, NULL, &kr, &res), 0, res.cause);
	if (kr) {
		ASSERT_EQ(keyring_use_cert(kr, ctx, NULL, 0, &res), 0, res.cause);
		ASSERT_STREQ(res.label, "web server", "ring.conf default");
		keyring_free(kr);
		kr = NULL;
	}
	write_text(conf, 0644, "label ghost default\n");
	ASSERT_TRUE(keyring_open(f.root, ring, NULL, NULL, &kr, &res) < 0,
		    "a label without its file");
	ASSERT_EQ(res.rc, ATTLS_RC_LABEL_NOT_FOUND, "RC 6");
	ASSERT_TRUE(strstr(res.cause, "ring.conf:1") != NULL, res.cause);
	write_text(conf, 0644, "label root default\n");
	ASSERT_TRUE(keyring_open(f.root, ring, NULL, NULL, &kr, &res) < 0,
		    "a CA as default");
	write_text(conf, 0644, "label alpha usage sometimes\n");
	ASSERT_TRUE(keyring_open(f.root, ring, NULL, NULL, &kr, &res) < 0,
		    "unknown usage");
	ASSERT_EQ(res.rc, ATTLS_RC_KEYRING_READ, "RC 102");
	write_text(conf, 0666, "label alpha default\n");
	ASSERT_TRUE(keyring_open(f.root, ring, NULL, NULL, &kr, &res) < 0,
		    "world-writable ring.conf");
	ASSERT_EQ(res.rc, ATTLS_RC_KEYRING_OPEN, "RC 202");
out:
	keyring_free(kr);
	SSL_CTX_free(ctx);
	fixture_fini(&f);
}

static void test_p12_and_protection(void)
{
	struct keyring_res res;
	struct keyring *kr = NULL;
	struct fixture f;
	char ring[300], sth[PATH_MAX];
	EVP_PKEY *k1 = NULL, *k2 = NULL;
	X509 *c1 = NULL, *c2 = NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ASSERT_EQ(fixture_init(&f), 0, "fixture"))
		return;
	snprintf(ring, sizeof(ring), "%s/p12", f.owner);
	path_of(sth, sizeof(sth), &f, "%s/ring.sth", ring);
	if (!ASSERT_EQ(mkring(&f, ring), 0, "ring dir") ||
	    !ASSERT_TRUE(personal(&f, "p12 client", &c1, &k1) &&
			 personal(&f, "loose", &c2, &k2), "certificates"))
		goto out;
	put_p12(&f, ring, "client", c1, k1, "s3cret", 0600);
	put_pem(&f, ring, "loose", c2, k2, 0644);	/* key readable by all */
	put_pem(&f, ring, "ca", f.ca, NULL, 0);
	write_text(sth, 0600, "s3cret\n");
	ASSERT_EQ(keyring_open(f.root, ring, NULL, NULL, &kr, &res), 0, res.cause);
	if (!kr)
		goto out;
	ASSERT_EQ(keyring_use_cert(kr, ctx, "client", 0, &res), 0, res.cause);
	ASSERT_EQ(keyring_use_cas(kr, ctx, 0, &res), 0, res.cause);
	ASSERT_TRUE(keyring_use_cert(kr, ctx, "loose", 0, &res) < 0,
		    "an unprotected key");
	ASSERT_EQ(res.rc, ATTLS_RC_KEY_UNPROTECTED, "RC 5109");
	keyring_free(kr);
	kr = NULL;
	/* a wrong stash: the entry fails, the ring opens */
	write_text(sth, 0600, "wrong\n");
	ASSERT_EQ(keyring_open(f.root, ring, NULL, NULL, &kr, &res), 0, res.cause);
	if (kr) {
		ASSERT_TRUE(keyring_use_cert(kr, ctx, "client", 0, &res) < 0,
			    "PKCS#12 with the wrong password");
		ASSERT_EQ(res.rc, ATTLS_RC_KEYRING_READ, "RC 102");
		keyring_free(kr);
		kr = NULL;
	}
	/* a readable stash is refused outright */
	write_text(sth, 0644, "s3cret\n");
	ASSERT_TRUE(keyring_open(f.root, ring, NULL, NULL, &kr, &res) < 0,
		    "readable ring.sth");
	ASSERT_EQ(res.rc, ATTLS_RC_KEY_UNPROTECTED, "RC 5109");
out:
	keyring_free(kr);
	SSL_CTX_free(ctx);
	fixture_fini(&f);
}

static void test_acl(void)
{
	struct keyring_acl *acl = NULL;
	struct keyring_res res;
	struct fixture f;
	char ring[300], access[PATH_MAX];

	if (!ASSERT_EQ(fixture_init(&f), 0, "fixture"))
		return;
	snprintf(ring, sizeof(ring), "%s/acl", f.owner);
	path_of(access, sizeof(access), &f, "%s/ACCESS", ring);
	if (!ASSERT_EQ(mkring(&f, ring), 0, "ring dir"))
		goto out;
	ASSERT_EQ(keyring_acl_load(f.root, ring, &acl, &res), 0, res.cause);
	if (acl) {
		ASSERT_EQ(keyring_acl_check(acl, 1000, f.owner, NULL), 0, "the owner");
		ASSERT_EQ(keyring_acl_check(acl, 0, "root", NULL), 0, "root");
		ASSERT_EQ(keyring_acl_check(acl, 4242, "mallory", &res), -EACCES,
			  "a stranger");
		ASSERT_EQ(res.rc, ATTLS_RC_KEYRING_OPEN, "RC 202");
		ASSERT_TRUE(strstr(res.cause, "mallory") && strstr(res.cause, "ACCESS"),
			    res.cause);
		ASSERT_EQ(keyring_acl_check(acl, 4243, NULL, NULL), -EACCES,
			  "a uid without a name");
		keyring_acl_free(acl);
		acl = NULL;
	}
	write_text(access, 0644, "# grants\nalice bob\n  carol\n");
	ASSERT_EQ(keyring_acl_load(f.root, ring, &acl, &res), 0, res.cause);
	if (acl) {
		ASSERT_EQ(keyring_acl_check(acl, 5, "bob", NULL), 0, "listed");
		ASSERT_EQ(keyring_acl_check(acl, 6, "carol", NULL), 0, "listed");
		ASSERT_EQ(keyring_acl_check(acl, 7, "dave", NULL), -EACCES, "not listed");
		keyring_acl_free(acl);
		acl = NULL;
	}
	write_text(access, 0644, "*\n");
	ASSERT_EQ(keyring_acl_load(f.root, ring, &acl, &res), 0, res.cause);
	if (acl)
		ASSERT_EQ(keyring_acl_check(acl, 7, "dave", NULL), 0, "'*'");
	keyring_acl_free(acl);
	acl = NULL;
	write_text(access, 0666, "mallory\n");
	ASSERT_TRUE(keyring_acl_load(f.root, ring, &acl, &res) < 0,
		    "a world-writable ACCESS");
	ASSERT_EQ(keyring_acl_load(f.root, "RING", &acl, &res), 0, "own ring");
	if (acl)
		ASSERT_EQ(keyring_acl_check(acl, 7, "dave", NULL), 0,
			  "a ring without owner is always the user's own");
out:
	keyring_acl_free(acl);
	fixture_fini(&f);
}

static void test_certmap(void)
{
	struct keyring_certmap *m = NULL;
	struct keyring_res res;
	struct fixture f;
	char path[PATH_MAX], user[33], text[512], fp[100];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0, i;
	EVP_PKEY *k1 = NULL, *k2 = NULL, *k3 = NULL;
	X509 *c1 = NULL, *c2 = NULL, *c3 = NULL;

	if (!ASSERT_EQ(fixture_init(&f), 0, "fixture"))
		return;
	path_of(path, sizeof(path), &f, "certmap");
	if (!ASSERT_TRUE(personal(&f, "alice", &c1, &k1) &&
			 personal(&f, "bob", &c2, &k2) &&
			 personal(&f, "eve", &c3, &k3), "certificates"))
		goto out;
	ASSERT_EQ(keyring_certmap_load(f.root, &m, &res), 0, "no file: empty map");
	if (m)
		ASSERT_EQ(keyring_certmap_find(m, c1, user, sizeof(user)), -ENOENT,
			  "empty map");
	keyring_certmap_free(m);
	m = NULL;
	X509_digest(c2, EVP_sha256(), md, &n);
	for (i = 0; i < n; i++)
		snprintf(fp + 3 * i, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
	snprintf(text, sizeof(text), "# map\nsubject CN=alice,O=attls unit  alice\n"
		 "sha256 %s\tbob\n", fp);
	write_text(path, 0644, text);
	if (geteuid() != 0) {
		/* not root's: refused (the map says who a client is) */
		ASSERT_TRUE(keyring_certmap_load(f.root, &m, &res) < 0, "not root's");
		goto out;
	}
	ASSERT_EQ(keyring_certmap_load(f.root, &m, &res), 0, res.cause);
	if (m) {
		ASSERT_EQ(keyring_certmap_find(m, c1, user, sizeof(user)), 0, "by subject");
		ASSERT_STREQ(user, "alice", "subject -> alice");
		ASSERT_EQ(keyring_certmap_find(m, c2, user, sizeof(user)), 0,
			  "by fingerprint");
		ASSERT_STREQ(user, "bob", "fingerprint -> bob");
		ASSERT_EQ(keyring_certmap_find(m, c3, user, sizeof(user)), -ENOENT,
			  "unmapped");
	}
	keyring_certmap_free(m);
	m = NULL;
	write_text(path, 0644, "subject onlyoneword\n");
	ASSERT_TRUE(keyring_certmap_load(f.root, &m, &res) < 0, "malformed");
	ASSERT_TRUE(strstr(res.cause, "certmap:1") != NULL, res.cause);
	write_text(path, 0666, "sha256 00 x\n");
	ASSERT_TRUE(keyring_certmap_load(f.root, &m, &res) < 0, "world-writable");
out:
	keyring_certmap_free(m);
	fixture_fini(&f);
}

/* ServerCertificateLabel: one certificate per key type in one context. */
static void test_key_type_slots(void)
{
	struct keyring_res res;
	struct keyring *kr = NULL;
	struct fixture f;
	char ring[300];
	EVP_PKEY *ke = NULL, *ke2 = NULL, *kr1 = EVP_RSA_gen(2048);
	X509 *ce = NULL, *ce2 = NULL, *cr = NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ASSERT_EQ(fixture_init(&f), 0, "fixture"))
		goto free_keys;
	snprintf(ring, sizeof(ring), "%s/types", f.owner);
	cr = kr1 ? new_cert("rsa", kr1, f.ca, f.ca_key, 0, 0, 2) : NULL;
	if (!ASSERT_EQ(mkring(&f, ring), 0, "ring dir") ||
	    !ASSERT_TRUE(cr && personal(&f, "ec", &ce, &ke) &&
			 personal(&f, "ec2", &ce2, &ke2), "certificates"))
		goto out;
	put_pem(&f, ring, "ec", ce, ke, 0600);
	put_pem(&f, ring, "ec2", ce2, ke2, 0600);
	put_pem(&f, ring, "rsa", cr, kr1, 0600);
	ASSERT_EQ(keyring_open(f.root, ring, NULL, NULL, &kr, &res), 0, res.cause);
	if (!kr)
		goto out;
	ASSERT_EQ(keyring_use_cert(kr, ctx, "ec", 0, &res), 0, res.cause);
	ASSERT_EQ(keyring_use_cert(kr, ctx, "rsa", 0, &res), 0, res.cause);
	ASSERT_EQ(keyring_use_cert(kr, ctx, "ec2", 0, &res), -EEXIST,
		  "a second EC certificate");
	ASSERT_EQ(res.rc, ATTLS_RC_NO_CERTIFICATE, "RC 7");
	ASSERT_TRUE(strstr(res.cause, "key type") != NULL, res.cause);
out:
	keyring_free(kr);
	fixture_fini(&f);
free_keys:
	SSL_CTX_free(ctx);
	X509_free(cr);
	EVP_PKEY_free(kr1);
}

static void test_list_json(void)
{
	struct json_object *o = json_object_new_object(), *certs, *e, *v;
	struct fixture f;
	char ring[300];
	EVP_PKEY *k1 = NULL;
	X509 *c1 = NULL;
	size_t i, n;
	int seen = 0;

	if (!ASSERT_EQ(fixture_init(&f), 0, "fixture"))
		return;
	snprintf(ring, sizeof(ring), "%s/list", f.owner);
	if (!ASSERT_EQ(mkring(&f, ring), 0, "ring dir") ||
	    !ASSERT_TRUE(personal(&f, "listed", &c1, &k1), "certificate"))
		goto out;
	put_pem(&f, ring, "default", c1, k1, 0600);
	put_pem(&f, ring, "ca", f.ca, NULL, 0);
	ASSERT_EQ(keyring_list_json(f.root, ring, o), 0, "list");
	if (!ASSERT_TRUE(json_object_object_get_ex(o, "certificates", &certs),
			 json_object_to_json_string(o)))
		goto out;
	n = json_object_array_length(certs);
	ASSERT_EQ(n, 2, "two entries");
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(certs, i);
		json_object_object_get_ex(e, "label", &v);
		if (strcmp(json_object_get_string(v), "default"))
			continue;
		seen = 1;
		json_object_object_get_ex(e, "usage", &v);
		ASSERT_STREQ(json_object_get_string(v), "personal", "usage");
		json_object_object_get_ex(e, "default", &v);
		ASSERT_TRUE(json_object_get_boolean(v), "default");
		json_object_object_get_ex(e, "sha256", &v);
		ASSERT_EQ(strlen(json_object_get_string(v)), 64, "fingerprint");
		json_object_object_get_ex(e, "subject", &v);
		ASSERT_STREQ(json_object_get_string(v), "CN=listed,O=attls unit",
			     "RFC 2253 subject");
	}
	ASSERT_TRUE(seen, "the default entry is listed");
out:
	json_object_put(o);
	fixture_fini(&f);
}

/* A CRL of ca (key ca_key) revoking `revoked` (may be NULL), valid from
 * now + from_s for valid_s seconds. */
static X509_CRL *new_crl(X509 *ca, EVP_PKEY *ca_key, X509 *revoked,
			 long from_s, long valid_s)
{
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *r;
	ASN1_TIME *t = ASN1_TIME_new();

	if (!crl || !t)
		goto fail;
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
	X509_gmtime_adj(t, from_s);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, from_s + valid_s);
	X509_CRL_set1_nextUpdate(crl, t);
	if (revoked) {
		r = X509_REVOKED_new();
		X509_gmtime_adj(t, -60);
		if (!r || !X509_REVOKED_set_serialNumber(r,
				(ASN1_INTEGER *)X509_get0_serialNumber(revoked)) ||
		    !X509_REVOKED_set_revocationDate(r, t) ||
		    !X509_CRL_add0_revoked(crl, r)) {
			X509_REVOKED_free(r);
			goto fail;
		}
	}
	X509_CRL_sort(crl);
	if (!X509_CRL_sign(crl, ca_key, EVP_sha256()))
		goto fail;
	ASN1_TIME_free(t);
	return crl;
fail:
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return NULL;
}

/* ring/NAME.crl: the CRL in PEM, or DER with `der`. */
static int put_crl(const struct fixture *f, const char *ring, const char *name,
		   X509_CRL *crl, int der)
{
	char path[PATH_MAX];
	FILE *fp;
	int ok;

	path_of(path, sizeof(path), f, "%s/%s.crl", ring, name);
	fp = fopen(path, "w");
	if (!fp)
		return -errno;
	ok = der ? i2d_X509_CRL_fp(fp, crl) : PEM_write_X509_CRL(fp, crl);
	fclose(fp);
	return ok ? 0 : -EIO;
}

/* X509_verify_cert() of x with ctx's store, flags and GSK level `level`
 * applied the way conn_verify_cb() does: the final X509_V_ERR_*. */
static int crl_level;

static int level_cb(int ok, X509_STORE_CTX *st)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(st);
	int depth = X509_STORE_CTX_get_error_depth(st);

	if (ok)
		return 1;
	if (keyring_crl_tolerates(crl_level, X509_STORE_CTX_get_error(st),
				  chain && depth == sk_X509_num(chain) - 1)) {
		X509_STORE_CTX_set_error(st, X509_V_OK);
		return 1;
	}
	return 0;
}

static int verify_with(SSL_CTX *ctx, X509 *x, int level)
{
	X509_STORE_CTX *st = X509_STORE_CTX_new();
	int err = -1;

	crl_level = level;
	if (st && X509_STORE_CTX_init(st, SSL_CTX_get_cert_store(ctx), x, NULL) == 1) {
		X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(st),
				       SSL_CTX_get0_param(ctx));
		X509_STORE_CTX_set_verify_cb(st, level_cb);
		X509_verify_cert(st);
		err = X509_STORE_CTX_get_error(st);
	}
	X509_STORE_CTX_free(st);
	return err;
}

/*
 * A fresh server context *ctx with the ring's CA certificates and CRLs
 * (the old one freed): what keyring_use_crls() returned, or -1000 when
 * the ring or its CAs cannot be used.
 */
static int ring_crls(const struct fixture *f, const char *ring, SSL_CTX **ctx)
{
	struct keyring_res res;
	struct keyring *kr = NULL;
	int n = -1000;

	SSL_CTX_free(*ctx);
	*ctx = SSL_CTX_new(TLS_server_method());
	if (*ctx && !keyring_open(f->root, ring, NULL, NULL, &kr, &res) &&
	    !keyring_use_cas(kr, *ctx, 0, &res))
		n = keyring_use_crls(kr, *ctx, &res);
	keyring_free(kr);
	return n;
}

/* NAME.crl files: PEM and DER, checked against the ring's CAs, the
 * revoked certificate refused, levels, the digest a reload compares. */
static void test_crl(void)
{
	struct keyring_res res;
	struct keyring *kr = NULL;
	struct fixture f;
	char ring[300], path[PATH_MAX];
	unsigned char d1[32], d2[32], d3[32];
	EVP_PKEY *kg = NULL, *kv = NULL, *rk = new_key();
	X509 *good = NULL, *bad = NULL, *rogue = NULL;
	X509_CRL *crl = NULL, *old = NULL, *foreign = NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ASSERT_EQ(fixture_init(&f), 0, "fixture"))
		goto free_all;
	snprintf(ring, sizeof(ring), "%s/crl", f.owner);
	rogue = rk ? new_cert("rogue CA", rk, NULL, NULL, 1, 0, 2) : NULL;
	if (!ASSERT_EQ(mkring(&f, ring), 0, "ring dir") ||
	    !ASSERT_TRUE(personal(&f, "good", &good, &kg) &&
			 personal(&f, "revoked", &bad, &kv) && rogue, "certificates"))
		goto out;
	crl = new_crl(f.ca, f.ca_key, bad, -60, 3600);
	old = new_crl(f.ca, f.ca_key, NULL, -7200, 3600);
	foreign = new_crl(rogue, rk, NULL, -60, 3600);
	if (!ASSERT_TRUE(crl && old && foreign, "CRLs"))
		goto out;
	put_pem(&f, ring, "ca", f.ca, NULL, 0);
	put_pem(&f, ring, "default", good, kg, 0600);

	/* no CRL file: no revocation checking, digest all zero */
	ASSERT_EQ(keyring_crl_digest(f.root, ring, NULL, d1), 0, "digest");
	memset(d2, 0, sizeof(d2));
	ASSERT_TRUE(!memcmp(d1, d2, 32), "no CRLs: zero digest");
	ASSERT_EQ(ring_crls(&f, ring, &ctx), 0, "no CRLs");
	ASSERT_EQ(verify_with(ctx, bad, ATTLS_CRL_HIGH), X509_V_OK,
		  "without CRL files nothing is revoked, even at High");

	/* PEM: the revoked certificate fails at every level */
	put_crl(&f, ring, "ca", crl, 0);
	ASSERT_EQ(keyring_crl_digest(f.root, ring, NULL, d2), 0, "digest");
	ASSERT_TRUE(memcmp(d1, d2, 32), "a CRL file changes the digest");
	ASSERT_EQ(ring_crls(&f, ring, &ctx), 1, "CRLs of the ring");
	ASSERT_EQ(verify_with(ctx, bad, ATTLS_CRL_LOW), X509_V_ERR_CERT_REVOKED,
		  "revoked at Low");
	ASSERT_EQ(verify_with(ctx, bad, ATTLS_CRL_HIGH), X509_V_ERR_CERT_REVOKED,
		  "revoked at High");
	ASSERT_EQ(verify_with(ctx, good, ATTLS_CRL_HIGH), X509_V_OK,
		  "not revoked, current CRL: passes High");

	/* DER, and expired: Medium and High refuse, Low uses it */
	put_crl(&f, ring, "ca", old, 1);
	ASSERT_EQ(keyring_crl_digest(f.root, ring, NULL, d3), 0, "digest");
	ASSERT_TRUE(memcmp(d2, d3, 32), "replaced content changes the digest");
	ASSERT_EQ(ring_crls(&f, ring, &ctx), 1, "DER CRL");
	ASSERT_EQ(verify_with(ctx, good, ATTLS_CRL_MEDIUM), X509_V_ERR_CRL_HAS_EXPIRED,
		  "expired CRL at Medium");
	ASSERT_EQ(attls_rc_from_verify(X509_V_ERR_CRL_HAS_EXPIRED),
		  ATTLS_RC_CRL_EXPIRED, "RC 5163");
	ASSERT_EQ(verify_with(ctx, good, ATTLS_CRL_LOW), X509_V_OK,
		  "expired CRL used at Low");

	/* High: a CRL only from another CA of the ring */
	put_pem(&f, ring, "rogue", rogue, NULL, 0);
	put_crl(&f, ring, "rogue", foreign, 0);
	path_of(path, sizeof(path), &f, "%s/ca.crl", ring);
	unlink(path);
	ASSERT_EQ(ring_crls(&f, ring, &ctx), 1, "CRLs of the ring");
	ASSERT_EQ(verify_with(ctx, good, ATTLS_CRL_HIGH), X509_V_ERR_UNABLE_TO_GET_CRL,
		  "High without the issuer's CRL");
	ASSERT_EQ(attls_rc_from_verify(X509_V_ERR_UNABLE_TO_GET_CRL),
		  ATTLS_RC_CRL_MISSING, "RC 5162");
	ASSERT_EQ(verify_with(ctx, good, ATTLS_CRL_MEDIUM), X509_V_OK,
		  "Medium without the issuer's CRL");

	/* a CRL whose issuer is no CA of the ring, and garbage: RC 5161 */
	path_of(path, sizeof(path), &f, "%s/rogue.pem", ring);
	unlink(path);
	ASSERT_EQ(keyring_open(f.root, ring, NULL, NULL, &kr, &res), 0, res.cause);
	ASSERT_EQ(keyring_use_crls(kr, ctx, &res), -EINVAL, "foreign CRL");
	ASSERT_EQ(res.rc, ATTLS_RC_CRL_BAD, "RC 5161");
	ASSERT_TRUE(strstr(res.cause, "rogue.crl") && strstr(res.cause, "rogue CA"),
		    res.cause);
	keyring_free(kr);
	kr = NULL;
	path_of(path, sizeof(path), &f, "%s/junk.crl", ring);
	write_text(path, 0644, "not a CRL\n");
	path_of(path, sizeof(path), &f, "%s/rogue.crl", ring);
	unlink(path);
	ASSERT_EQ(keyring_open(f.root, ring, NULL, NULL, &kr, &res), 0, res.cause);
	ASSERT_EQ(keyring_use_crls(kr, ctx, &res), -EINVAL, "junk CRL");
	ASSERT_EQ(res.rc, ATTLS_RC_CRL_BAD, "RC 5161");
	ASSERT_TRUE(strstr(res.cause, "junk.crl") != NULL, res.cause);
out:
	keyring_free(kr);
	fixture_fini(&f);
free_all:
	SSL_CTX_free(ctx);
	X509_CRL_free(crl);
	X509_CRL_free(old);
	X509_CRL_free(foreign);
	X509_free(rogue);
	EVP_PKEY_free(rk);
}

/* The level table alone: what each GSK_CRL_SECURITY_LEVEL lets pass. */
static void test_crl_levels(void)
{
	static const int exp = X509_V_ERR_CRL_HAS_EXPIRED;
	static const int none = X509_V_ERR_UNABLE_TO_GET_CRL;

	ASSERT_TRUE(keyring_crl_tolerates(ATTLS_CRL_LOW, none, 0), "Low: no CRL");
	ASSERT_TRUE(keyring_crl_tolerates(ATTLS_CRL_LOW, exp, 0), "Low: expired");
	ASSERT_TRUE(keyring_crl_tolerates(ATTLS_CRL_MEDIUM, none, 0), "Medium: no CRL");
	ASSERT_TRUE(!keyring_crl_tolerates(ATTLS_CRL_MEDIUM, exp, 0), "Medium: expired");
	ASSERT_TRUE(!keyring_crl_tolerates(ATTLS_CRL_HIGH, none, 0), "High: no CRL");
	ASSERT_TRUE(!keyring_crl_tolerates(ATTLS_CRL_HIGH, exp, 0), "High: expired");
	ASSERT_TRUE(keyring_crl_tolerates(ATTLS_CRL_HIGH, none, 1), "High: anchor");
	ASSERT_TRUE(!keyring_crl_tolerates(ATTLS_CRL_LOW, X509_V_ERR_CERT_REVOKED, 1),
		    "revoked never passes");
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_default_and_usage),
		UNIT_TEST(test_ring_conf),
		UNIT_TEST(test_p12_and_protection),
		UNIT_TEST(test_acl),
		UNIT_TEST(test_certmap),
		UNIT_TEST(test_key_type_slots),
		UNIT_TEST(test_list_json),
		UNIT_TEST(test_crl),
		UNIT_TEST(test_crl_levels),
	};

	return unit_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
