/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* conn_json.h - one engine connection as JSON (attlsctl conn, netstat TTLS). */
#ifndef ATTLS_CONN_JSON_H
#define ATTLS_CONN_JSON_H

#include <json-c/json.h>

#include "zert.h"

/* Append connection `c` to the JSON array `arr`.  0 or -ENOMEM. */
int conn_json_add(const struct zert_conn *c, struct json_object *arr);

#endif /* ATTLS_CONN_JSON_H */
