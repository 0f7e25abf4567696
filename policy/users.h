/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * users.h - the user database as the compiler sees it (hookable, policy.h).
 */
#ifndef ATTLS_USERS_H
#define ATTLS_USERS_H

#include <stdint.h>

#include "policy.h"

/* Name -> uid through the installed resolver: 0, -ENOENT or -errno. */
int users_resolve(const char *name, uint32_t *uid);

/* Walk all users through the installed lister (see policy_user_lister). */
int users_list(policy_user_cb cb, void *arg);

#endif /* ATTLS_USERS_H */
