// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "aj.h"
#include "conn_json.h"

static int add_cert(struct json_object *o, const char *key,
		    const struct zert_cert *z)
{
	struct json_object *c;
	int err;

	if (!z->subject[0])
		return aj_add_null(o, key);
	c = json_object_new_object();
	if (!c)
		return -ENOMEM;
	err = aj_add_str(c, "subject", z->subject);
	err = err ?: aj_add_str(c, "issuer", z->issuer);
	err = err ?: aj_add_str(c, "serial", z->serial);
	err = err ?: aj_add_str(c, "not_before", z->not_before);
	err = err ?: aj_add_str(c, "not_after", z->not_after);
	err = err ?: aj_add_str(c, "key_type", z->key_type);
	err = err ?: aj_add_u64(c, "key_bits", z->key_bits);
	err = err ?: aj_add_str(c, "sha256", z->sha256);
	if (err) {
		json_object_put(c);
		return err;
	}
	return aj_add(o, key, c);
}

int conn_json_add(const struct zert_conn *c, struct json_object *arr)
{
	struct json_object *o = json_object_new_object();
	char l[ATTLS_ADDRSTRLEN], r[ATTLS_ADDRSTRLEN], id[20];
	char comm[ATTLS_COMM_LEN + 1], pwbuf[1024];
	struct passwd pw, *res = NULL;
	int secure = c->tls.protocol[0] != '\0', err;
	const char *state;

	if (!o)
		return -ENOMEM;
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)c->conn_id);
	memcpy(comm, c->owner.comm, ATTLS_COMM_LEN);
	comm[ATTLS_COMM_LEN] = '\0';
	getpwuid_r(c->owner.uid, &pw, pwbuf, sizeof(pwbuf), &res);
	/* ApplicationControlled On: cleartext until the application starts
	 * TLS ("Appl Control", as z/OS shows it), and again after a stop. */
	if (c->appl_ctl)
		secure = c->ctl_state == 3;
	state = c->appl_ctl && c->ctl_state == 1 ? "Appl Control" :
		secure ? "secure" : "handshake in progress";
	err = aj_add_str(o, "conn_id", id);
	err = err ?: aj_add_str(o, "state", state);
	err = err ?: aj_add_bool(o, "application_controlled", c->appl_ctl);
	err = err ?: aj_add_str(o, "direction", c->direction == ATTLS_RF_OUTBOUND ?
				"outbound" : "inbound");
	err = err ?: aj_add_str(o, "local_addr", attls_addr_str(c->wire.laddr, l, sizeof(l)));
	err = err ?: aj_add_u64(o, "local_port", c->wire.lport);
	err = err ?: aj_add_str(o, "remote_addr", attls_addr_str(c->wire.raddr, r, sizeof(r)));
	err = err ?: aj_add_u64(o, "remote_port", c->wire.rport);
	err = err ?: aj_add_str(o, "job", comm);
	err = err ?: aj_add_u64(o, "pid", c->owner.pid);
	err = err ?: aj_add_u64(o, "uid", c->owner.uid);
	err = err ?: aj_add_str(o, "user", res ? res->pw_name : NULL);
	err = err ?: aj_add_str(o, "rule", c->rule);
	err = err ?: aj_add_str(o, "group", c->group);
	err = err ?: aj_add_str(o, "environment", c->env[0] ? c->env : NULL);
	err = err ?: aj_add_str(o, "connection", c->conn[0] ? c->conn : NULL);
	err = err ?: aj_add_str(o, "protocol", secure ? c->tls.protocol : NULL);
	err = err ?: aj_add_str(o, "cipher", secure ? c->tls.cipher_iana : NULL);
	err = err ?: aj_add_str(o, "key_exchange", secure && c->tls.group[0] ?
				c->tls.group : NULL);
	err = err ?: aj_add_str(o, "role", secure ? c->tls.role : NULL);
	err = err ?: aj_add_bool(o, "resumed", c->tls.resumed);
	err = err ?: add_cert(o, "peer_cert", &c->tls.peer_cert);
	err = err ?: aj_add_str(o, "peer_user", c->tls.peer_user[0] ?
				c->tls.peer_user : NULL);
	err = err ?: aj_add_u64(o, "bytes_in", c->bytes_in);
	err = err ?: aj_add_u64(o, "bytes_out", c->bytes_out);
	if (err || json_object_array_add(arr, o)) {
		json_object_put(o);
		return err ?: -ENOMEM;
	}
	return 0;
}
