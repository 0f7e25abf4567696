// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * policy.c - the front end's entry points: read, parse, resolve.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ast.h"
#include "diag.h"
#include "parser.h"
#include "policy.h"

/* Far above any real policy (thousands of rules are ~1 MiB); bounds memory. */
#define POLICY_MAX_BYTES	(16u << 20)

static int parse_buf(const char *name, const char *text, size_t len,
		     struct policy **out, struct policy_diags *d)
{
	struct policy *p;
	const char *file;
	int err;

	p = policy_new();
	if (!p)
		return -ENOMEM;
	file = policy_intern_file(p, name);
	if (!file) {
		err = -ENOMEM;
		goto free_policy;
	}
	err = parse_text(p, d, file, text, len);
	if (err == -E2BIG)
		err = -EINVAL;	/* gave up: the errors are in `d` */
	if (err)
		goto free_policy;
	resolve_policy(p, d);
	if (diag_oom(d))
		err = -ENOMEM;
	else if (policy_diags_errors(d))
		err = -EINVAL;
	if (err)
		goto free_policy;
	*out = p;
	return 0;

free_policy:
	policy_free(p);
	return err;
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

	*out = NULL;
	if (diags)
		*diags = NULL;
	if (!d)
		return -ENOMEM;
	return finish(parse_buf(name, text, strlen(text), out, d), d, diags);
}

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

int policy_parse_file(const char *path, struct policy **out,
		      struct policy_diags **diags)
{
	struct policy_diags *d = policy_diags_new();
	struct ast_loc where = { .file = path };
	char *text = NULL;
	size_t len = 0;
	int fd, err;

	*out = NULL;
	if (diags)
		*diags = NULL;
	if (!d)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		diag_add(d, POLICY_SEV_ERROR, &where, NULL, "cannot open: %s",
			 strerror(-err));
		return finish(err, d, diags);
	}
	err = read_all(fd, &text, &len);
	close(fd);
	if (err) {
		diag_add(d, POLICY_SEV_ERROR, &where,
			 err == -EFBIG ? "policy files are limited to 16 MiB" : NULL,
			 "cannot read: %s", strerror(-err));
		return finish(err, d, diags);
	}
	err = parse_buf(path, text, len, out, d);
	free(text);
	return finish(err, d, diags);
}
