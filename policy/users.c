// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * users.c - Userid resolution for the compiler, replaceable by tests.
 *
 * The two hooks are the only mutable globals of the policy library: the
 * compiler is otherwise pure, and the user database is the one outside
 * fact it needs (AT-TLS resolves Userid when policy is installed, so a
 * reload picks up new users).
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "users.h"

static policy_uid_resolver uid_resolver;	/* NULL: getpwnam_r() */
static policy_user_lister user_lister;		/* NULL: getpwent() */

void policy_set_uid_resolver(policy_uid_resolver fn)
{
	uid_resolver = fn;
}

void policy_set_user_lister(policy_user_lister fn)
{
	user_lister = fn;
}

static int pw_resolve(const char *name, uint32_t *uid)
{
	long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	struct passwd pw, *res = NULL;
	char *buf;
	int rc;

	/* -1 means "no fixed limit": 16 KiB holds any sane entry */
	if (sz < 0)
		sz = 16384;
	buf = malloc((size_t)sz);
	if (!buf)
		return -ENOMEM;
	rc = getpwnam_r(name, &pw, buf, (size_t)sz, &res);
	if (!rc && res)
		*uid = (uint32_t)res->pw_uid;
	free(buf);
	if (rc)
		return -rc;
	return res ? 0 : -ENOENT;
}

/* getpwent() is not reentrant: compile policies from one thread. */
static int pw_list(policy_user_cb cb, void *arg)
{
	struct passwd *pw;
	int rc = 0;

	setpwent();
	while (!rc && (pw = getpwent()))
		rc = cb(pw->pw_name, (uint32_t)pw->pw_uid, arg);
	endpwent();
	return rc;
}

int users_resolve(const char *name, uint32_t *uid)
{
	return (uid_resolver ? uid_resolver : pw_resolve)(name, uid);
}

int users_list(policy_user_cb cb, void *arg)
{
	return (user_lister ? user_lister : pw_list)(cb, arg);
}
