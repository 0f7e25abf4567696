/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* conn_json.h - one engine connection as JSON (attlsctl conn, netstat TTLS). */
#ifndef ATTLS_CONN_JSON_H
#define ATTLS_CONN_JSON_H

#include <json-c/json.h>

#include "engine.h"

/*
 * Append connection `ci` to the JSON array `arr`; with `env` non-NULL
 * (attlsctl conn --detail) also its effective parameters ("detail").
 * Secrets (KeyringPw) are never shown.  0 or -ENOMEM.
 */
int conn_json_add(const struct engine_conn_info *ci,
		  const struct attls_env_cfg *env, struct json_object *arr);

/*
 * "groups": per TTLSGroupAction of the installed policy `img` (and any
 * group only older connections still use) its environments and the open
 * connections `ci` of it by state (netstat TTLS GROUP).  0 or -ENOMEM.
 */
int conn_groups_json(const struct attls_map_image *img,
		     const struct engine_conn_info *ci, size_t n,
		     struct json_object *out);

/* "engine": the engine's counters (engine_stats()), failures by RC. */
int engine_stats_json(struct engine *e, struct json_object *out);

#endif /* ATTLS_CONN_JSON_H */
