// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * policy.c - the front end's entry points: read, parse, resolve, and the
 * PAGENT configuration layer.
 *
 * policy_parse_file() accepts what z/OS PAGENT reads, so a configuration
 * tree can be used as is:
 *
 *   main file    TcpImage TCPIP /etc/pagent/TCPIP.conf   (or PEPInstance)
 *                CommonTTLSConfig /etc/pagent/common.policy
 *   image file   TTLSConfig /etc/pagent/ttls.policy      (none: the common file)
 *   policy files AT-TLS statements, common file first
 *
 * or, as before, a plain AT-TLS policy file.  A file is classified by what
 * it holds: TcpImage/PEPInstance/CommonTTLSConfig make a main file,
 * TTLSConfig alone an image file.  Every file of the chain is parsed into
 * one AST (one namespace: a name defined in both the common and the stack
 * file is a duplicate), then resolved once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ast.h"
#include "diag.h"
#include "keywords.h"
#include "parser.h"
#include "policy.h"

/* Far above any real policy (thousands of rules are ~1 MiB); bounds memory. */
#define POLICY_MAX_BYTES	(16u << 20)
/* main, image, common, stack policy: a chain never holds more */
#define LOAD_MAX_FILES		8

/* Read all of `fd` into a new buffer: 0 (with buf, len set) or -errno. */
static int read_all(int fd, char **buf, size_t *len)
{
	struct stat sb;
	size_t n = 0, cap;
	char *b = NULL;
	int err;

	if (fstat(fd, &sb) < 0)
		return -errno;
	if (S_ISDIR(sb.st_mode))
		return -EISDIR;
	if ((unsigned long long)sb.st_size > POLICY_MAX_BYTES)
		return -EFBIG;
	/* st_size is only a hint (0 for pipes and procfs): grow as needed */
	cap = (size_t)sb.st_size + 1;
	for (;;) {
		ssize_t r;

		if (n == cap || !b) {
			char *nb;

			if (b)
				cap *= 2;
			if (cap < 4096)
				cap = 4096;
			nb = realloc(b, cap);
			if (!nb) {
				err = -ENOMEM;
				goto free_buf;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto free_buf;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > POLICY_MAX_BYTES) {
			err = -EFBIG;
			goto free_buf;
		}
	}
	*buf = b;
	*len = n;
	return 0;

free_buf:
	free(b);
	return err;
}

struct loaded {
	dev_t dev;
	ino_t ino;
	const char *name;		/* interned */
	size_t first, end;		/* its statements in p->stmts */
	size_t errors;			/* parse errors in it */
};

struct loader {
	struct policy *p;
	struct policy_diags *d;
	struct loaded files[LOAD_MAX_FILES];
	size_t nfiles;
	int gave_up;			/* a parse hit its error limit */
};

/* `rel` relative to the directory of `base` (absolute names stay). */
static int join_path(const char *base, const char *rel, char *out, size_t len)
{
	const char *slash = strrchr(base, '/');
	int n;

	if (rel[0] == '/' || !slash)
		n = snprintf(out, len, "%s", rel);
	else
		n = snprintf(out, len, "%.*s/%s", (int)(slash - base + 1) - 1,
			     base, rel);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* "main.conf -> TCPIP.conf" for cycle messages. */
static void chain_text(const struct loader *ld, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < ld->nfiles && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? " -> " : "",
				      ld->files[i].name);
}

/*
 * Read and parse `path` (named at `from` by statement `what`; NULL for the
 * caller's file).  On success *out is the file's entry.  Problems with a
 * named file are policy errors at `from` (-EINVAL); with the caller's own
 * file the -errno is returned.
 */
static int load(struct loader *ld, const char *path, const struct ast_loc *from,
		const char *what, const struct loaded **out)
{
	struct ast_loc where = { .file = path };
	struct loaded *f;
	char chain[512];
	struct stat sb;
	char *text = NULL;
	size_t len = 0, i;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto io_error;
	}
	if (fstat(fd, &sb) < 0) {
		err = -errno;
		close(fd);
		goto io_error;
	}
	for (i = 0; i < ld->nfiles; i++) {
		if (ld->files[i].dev != sb.st_dev || ld->files[i].ino != sb.st_ino)
			continue;
		close(fd);
		chain_text(ld, chain, sizeof(chain));
		diag_add(ld->d, POLICY_SEV_ERROR, from,
			 "a configuration chain goes main file -> image file -> policy files, each named once",
			 "%s names '%s', which is already being read (%s): a cycle",
			 what, path, chain);
		return -EINVAL;
	}
	if (ld->nfiles == LOAD_MAX_FILES) {
		close(fd);
		diag_add(ld->d, POLICY_SEV_ERROR, from, NULL,
			 "%s: too many configuration files", what);
		return -EINVAL;
	}
	err = read_all(fd, &text, &len);
	close(fd);
	if (err)
		goto io_error;
	f = &ld->files[ld->nfiles];
	f->name = policy_intern_file(ld->p, path);
	if (!f->name) {
		free(text);
		return -ENOMEM;
	}
	f->dev = sb.st_dev;
	f->ino = sb.st_ino;
	f->first = ld->p->nstmts;
	f->errors = policy_diags_errors(ld->d);
	err = parse_text(ld->p, ld->d, f->name, text, len);
	free(text);
	f->end = ld->p->nstmts;
	f->errors = policy_diags_errors(ld->d) - f->errors;
	ld->nfiles++;
	if (err == -E2BIG) {
		ld->gave_up = 1;
		err = 0;
	}
	*out = f;
	return err;

io_error:
	if (!from) {
		diag_add(ld->d, POLICY_SEV_ERROR, &where,
			 err == -EFBIG ? "policy files are limited to 16 MiB" : NULL,
			 "cannot %s: %s", err == -EFBIG || err == -EISDIR ?
			 "read" : "open", strerror(-err));
		return err;
	}
	diag_add(ld->d, POLICY_SEV_ERROR, from,
		 err == -ENOENT ? "check the name; relative names are relative to the file that holds them" : NULL,
		 "%s: cannot read '%s': %s", what, path, strerror(-err));
	return -EINVAL;
}

static int is_attls(const struct ast_stmt *st)
{
	return !st->parent && !stmt_kind_is_config(st->kind);
}

/* Configuration statements in an AT-TLS policy file: each is an error. */
static void check_policy_file(struct loader *ld, const struct loaded *f,
			      int from_string)
{
	size_t i;

	for (i = f->first; i < f->end; i++) {
		const struct ast_stmt *st = ld->p->stmts[i];

		if (!stmt_kind_is_config(st->kind))
			continue;
		diag_add(ld->d, POLICY_SEV_ERROR, &st->loc,
			 from_string ? "configuration statements are followed only when a file is read (attlsd -f, attlsctl policy check)" :
				       "an AT-TLS policy file (named by TTLSConfig) holds AT-TLS statements only",
			 "%s belongs in a PAGENT configuration file, not in an AT-TLS policy file",
			 st->u.cfg.what);
	}
}

/* AT-TLS statements in a main or image file: one error for all of them. */
static void check_config_file(struct loader *ld, const struct loaded *f,
			      const char *kind)
{
	const struct ast_stmt *first = NULL;
	char label[AST_LABEL_LEN];
	size_t i, n = 0;

	for (i = f->first; i < f->end; i++) {
		if (!is_attls(ld->p->stmts[i]))
			continue;
		if (!first)
			first = ld->p->stmts[i];
		n++;
	}
	if (!first)
		return;
	diag_add(ld->d, POLICY_SEV_ERROR, &first->loc,
		 "move AT-TLS statements to the policy file that TTLSConfig names",
		 "%s%s in the PAGENT %s", ast_stmt_label(first, label, sizeof(label)),
		 n > 1 ? " and the AT-TLS statements after it are" : " is", kind);
}

/* The last statement of `kind` in f (PAGENT: a repeated one replaces). */
static const struct ast_stmt *last_of(struct loader *ld, const struct loaded *f,
				      enum stmt_kind kind, int warn)
{
	const struct ast_stmt *last = NULL;
	size_t i;

	for (i = f->first; i < f->end; i++) {
		const struct ast_stmt *st = ld->p->stmts[i];

		if (st->kind != kind)
			continue;
		if (last && warn)
			diag_add(ld->d, POLICY_SEV_WARNING, &last->loc,
				 "remove all but one", "%s is given again at line %u, which replaces this one",
				 last->u.cfg.what, st->loc.line);
		last = st;
	}
	return last;
}

/* The file `st` (TTLSConfig, CommonTTLSConfig, TcpImage) names, from `base`. */
static int named_path(struct loader *ld, const struct ast_stmt *st,
		      const char *base, char *path, size_t len)
{
	if (!join_path(base, st->u.cfg.path.s, path, len))
		return 0;
	diag_add(ld->d, POLICY_SEV_ERROR, &st->u.cfg.path.loc, NULL,
		 "%s: the file name is too long", st->u.cfg.what);
	return -EINVAL;
}

/* Read the policy file `path` named by `st`. */
static int load_policy(struct loader *ld, const struct ast_stmt *st,
		       const char *path, const struct loaded **out)
{
	int err = load(ld, path, &st->u.cfg.path.loc, st->u.cfg.what, out);

	if (!err)
		check_policy_file(ld, *out, 0);
	return err;
}

/*
 * An image file: its TTLSConfig names the stack's policy file (none: the
 * common file).  The common file is read first, as PAGENT does.
 */
static int follow_image(struct loader *ld, const struct loaded *img,
			const struct ast_stmt *common, const char *common_base,
			const struct ast_loc *named_at)
{
	struct ast_loc at = { .file = img->name };
	const struct ast_stmt *ttls = last_of(ld, img, STMT_TTLSCONFIG, 1);
	const struct loaded *cf = NULL, *pf;
	char path[4096];
	struct stat sb;
	int err;

	if (!ttls) {
		diag_add(ld->d, POLICY_SEV_ERROR, named_at ? named_at : &at,
			 "add TTLSConfig /path/to/ttls.policy to the image file (TTLSConfig alone means the CommonTTLSConfig file)",
			 "image file '%s' has no TTLSConfig: the stack would get no AT-TLS policy",
			 img->name);
		return -EINVAL;
	}
	if (!ttls->u.cfg.path.s && !common) {
		diag_add(ld->d, POLICY_SEV_ERROR, &ttls->loc,
			 "name the policy file, or add CommonTTLSConfig to the main configuration file",
			 "TTLSConfig without a file name means the CommonTTLSConfig file, and there is none");
		return -EINVAL;
	}
	if (common) {
		err = named_path(ld, common, common_base, path, sizeof(path));
		if (!err)
			err = load_policy(ld, common, path, &cf);
		if (err)
			return err;
	}
	if (!ttls->u.cfg.path.s)
		return 0;
	err = named_path(ld, ttls, img->name, path, sizeof(path));
	if (err)
		return err;
	if (cf && !stat(path, &sb) && sb.st_dev == cf->dev && sb.st_ino == cf->ino) {
		diag_add(ld->d, POLICY_SEV_WARNING, &ttls->u.cfg.path.loc,
			 "write TTLSConfig without a file name to use the common file",
			 "TTLSConfig names the CommonTTLSConfig file '%s' again: it is read once",
			 cf->name);
		return 0;
	}
	return load_policy(ld, ttls, path, &pf);
}

/* A main file: follow the first TcpImage (attls protects one stack). */
static int follow_main(struct loader *ld, const struct loaded *main_f)
{
	const struct ast_stmt *tcp = NULL, *common, *st;
	const struct loaded *img = main_f;
	char path[4096];
	struct stat sb;
	size_t i;
	int err;

	check_config_file(ld, main_f, "main configuration file");
	for (i = main_f->first; i < main_f->end; i++) {
		st = ld->p->stmts[i];
		if (st->kind != STMT_TCPIMAGE)
			continue;
		if (!tcp) {
			tcp = st;
			continue;
		}
		diag_add(ld->d, POLICY_SEV_WARNING, &st->loc,
			 "remove it, or point attlsd at a main file with one TcpImage",
			 "%s %s is ignored: attls protects one TCP/IP stack and follows %s %s (line %u)",
			 st->u.cfg.what, st->u.cfg.stack, tcp->u.cfg.what,
			 tcp->u.cfg.stack, tcp->loc.line);
	}
	common = last_of(ld, main_f, STMT_COMMON_TTLS, 1);
	if (!tcp) {
		struct ast_loc at = { .file = main_f->name };

		diag_add(ld->d, POLICY_SEV_ERROR, &at,
			 "add TcpImage TCPIP /path/to/image.conf",
			 "main configuration file has CommonTTLSConfig but no TcpImage (or PEPInstance)");
		return -EINVAL;
	}
	if (tcp->u.cfg.path.s) {
		if (named_path(ld, tcp, main_f->name, path, sizeof(path)))
			return -EINVAL;
		/* the image file may be the main file itself (IBM allows it) */
		if (stat(path, &sb) || sb.st_dev != main_f->dev ||
		    sb.st_ino != main_f->ino) {
			err = load(ld, path, &tcp->u.cfg.path.loc, tcp->u.cfg.what,
				   &img);
			if (err)
				return err;
			if (img->errors)
				return -EINVAL;
			check_config_file(ld, img, "image file");
			for (i = img->first; i < img->end; i++) {
				st = ld->p->stmts[i];
				if (st->kind == STMT_TCPIMAGE ||
				    st->kind == STMT_COMMON_TTLS)
					diag_add(ld->d, POLICY_SEV_ERROR, &st->loc, NULL,
						 "%s belongs in the main configuration file, not in an image file",
						 st->u.cfg.what);
			}
		}
	}
	if (img != main_f) {
		for (i = main_f->first; i < main_f->end; i++) {
			st = ld->p->stmts[i];
			if (st->kind == STMT_TTLSCONFIG)
				diag_add(ld->d, POLICY_SEV_WARNING, &st->loc,
					 "move it to the image file",
					 "TTLSConfig in the main configuration file is ignored: the image file '%s' names the policy",
					 img->name);
		}
	}
	return follow_image(ld, img, common, main_f->name,
			    tcp->u.cfg.path.s ? &tcp->u.cfg.path.loc : &tcp->loc);
}

/* Follow the configuration chain from the caller's file. */
static int load_entry(struct loader *ld, const char *path)
{
	const struct loaded *f;
	int has_main = 0, has_ttls = 0;
	size_t i;
	int err;

	err = load(ld, path, NULL, NULL, &f);
	if (err)
		return err;
	for (i = f->first; i < f->end; i++) {
		enum stmt_kind k = ld->p->stmts[i]->kind;

		has_main |= k == STMT_TCPIMAGE || k == STMT_COMMON_TTLS;
		has_ttls |= k == STMT_TTLSCONFIG;
	}
	/* a broken configuration statement: following it only adds noise */
	if ((has_main || has_ttls) && f->errors)
		return -EINVAL;
	if (has_main)
		return follow_main(ld, f);
	if (has_ttls) {
		check_config_file(ld, f, "image file");
		return follow_image(ld, f, NULL, NULL, NULL);
	}
	return 0;
}

/* Resolve and hand over `p`, or free it: 0, -EINVAL or -ENOMEM. */
static int finish_policy(struct policy *p, struct policy_diags *d, int err,
			 struct policy **out)
{
	if (!err) {
		resolve_policy(p, d);
		if (diag_oom(d))
			err = -ENOMEM;
		else if (policy_diags_errors(d))
			err = -EINVAL;
	} else if (err == -E2BIG) {
		err = -EINVAL;	/* gave up: the errors are in `d` */
	}
	if (err) {
		policy_free(p);
		return err;
	}
	*out = p;
	return 0;
}

/* Hand the diagnostics to the caller, or drop them. */
static int finish(int err, struct policy_diags *d, struct policy_diags **diags)
{
	if (diags)
		*diags = d;
	else
		policy_diags_free(d);
	return err;
}

int policy_parse_string(const char *name, const char *text,
			struct policy **out, struct policy_diags **diags)
{
	struct policy_diags *d = policy_diags_new();
	struct loader ld = { .d = d };
	struct loaded f = { 0 };
	int err;

	*out = NULL;
	if (diags)
		*diags = NULL;
	if (!d)
		return -ENOMEM;
	ld.p = policy_new();
	if (!ld.p)
		return finish(-ENOMEM, d, diags);
	f.name = policy_intern_file(ld.p, name);
	if (!f.name)
		return finish(finish_policy(ld.p, d, -ENOMEM, out), d, diags);
	err = parse_text(ld.p, d, f.name, text, strlen(text));
	f.end = ld.p->nstmts;
	if (!err)
		check_policy_file(&ld, &f, 1);
	return finish(finish_policy(ld.p, d, err, out), d, diags);
}

int policy_parse_file(const char *path, struct policy **out,
		      struct policy_diags **diags)
{
	struct policy_diags *d = policy_diags_new();
	struct loader ld = { 0 };
	int err;

	*out = NULL;
	if (diags)
		*diags = NULL;
	if (!d)
		return -ENOMEM;
	ld.p = policy_new();
	ld.d = d;
	if (!ld.p)
		return finish(-ENOMEM, d, diags);
	/* -EINVAL here is a broken chain (missing file, cycle): resolving
	 * half a policy would only add noise.  Parse errors come back as 0
	 * and are resolved, so every problem is reported in one run. */
	err = load_entry(&ld, path);
	if (err && err != -EINVAL && err != -ENOMEM) {
		/* the caller's own file could not be read: its -errno */
		policy_free(ld.p);
		return finish(err, d, diags);
	}
	if (!err && ld.gave_up)
		err = -E2BIG;
	return finish(finish_policy(ld.p, d, err, out), d, diags);
}

size_t policy_source_files(const struct policy *p, const char *const **files)
{
	*files = (const char *const *)p->files;
	return p->nfiles;
}
