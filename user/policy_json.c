// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aj.h"
#include "policy_json.h"
#include "../policy/policy.h"

static int clause_json(const struct attls_rule *cl, struct json_object *arr)
{
	struct json_object *o = json_object_new_object();
	struct attls_clause_text t;
	int err;

	if (!o)
		return -ENOMEM;
	attls_clause_format(cl, &t);
	err = aj_add_str(o, "local_addr", t.local_addr);
	err = err ?: aj_add_str(o, "remote_addr", t.remote_addr);
	err = err ?: aj_add_str(o, "local_port", t.local_port);
	err = err ?: aj_add_str(o, "remote_port", t.remote_port);
	err = err ?: aj_add_str(o, "jobname", t.jobname);
	err = err ?: aj_add_str(o, "userid", t.userid);
	if (err || json_object_array_add(arr, o)) {
		json_object_put(o);
		return err ?: -ENOMEM;
	}
	return 0;
}

static int rule_json(const struct attls_map_image *img, size_t id, size_t first,
		     size_t n, struct json_object *arr)
{
	const struct attls_action *a = &img->actions[id];
	struct json_object *o, *clauses;
	char where[300];
	size_t i;
	int err;

	o = json_object_new_object();
	clauses = json_object_new_array();
	if (!o || !clauses) {
		json_object_put(o);
		json_object_put(clauses);
		return -ENOMEM;
	}
	for (i = 0, err = 0; i < n && !err; i++)
		err = clause_json(&img->rules[first + i], clauses);
	snprintf(where, sizeof(where), "%s:%u", a->where.file, a->where.line);
	err = err ?: aj_add_str(o, "name", a->rule_name);
	err = err ?: aj_add_u64(o, "priority", a->priority);
	err = err ?: aj_add_str(o, "direction", n ?
				attls_direction_name(img->rules[first].flags) : NULL);
	err = err ?: aj_add_str(o, "group", a->group_name);
	err = err ?: aj_add_bool(o, "enabled", a->enabled);
	err = err ?: aj_add_str(o, "environment", a->env_name[0] ? a->env_name : NULL);
	err = err ?: aj_add_str(o, "connection", a->conn_name[0] ? a->conn_name : NULL);
	err = err ?: aj_add_str(o, "effective_environment",
				a->env_index >= 0 && (size_t)a->env_index < img->nenvs ?
				img->envs[a->env_index].name : NULL);
	err = err ?: aj_add_u64(o, "trace", a->trace);
	err = err ?: aj_add_u64(o, "max_connections", a->max_conns);
	err = err ?: aj_add_u64(o, "idle_timeout", a->idle_timeout);
	/* IpTimeCondition: outside its window a rule keeps no clause */
	err = err ?: aj_add_bool(o, "in_effect", !a->time_inactive);
	err = err ?: aj_add_bool(o, "time_condition", a->time.set != 0);
	err = err ?: aj_add_str(o, "source", where);
	if (err) {
		json_object_put(clauses);
		json_object_put(o);
		return err;
	}
	err = aj_add(o, "clauses", clauses);
	if (err || json_object_array_add(arr, o)) {
		json_object_put(o);
		return err ?: -ENOMEM;
	}
	return 0;
}

static int env_json(const struct attls_env_cfg *e, struct json_object *arr)
{
	struct json_object *o = json_object_new_object(), *protos;
	char where[300];
	int err;

	protos = json_object_new_array();
	if (!o || !protos) {
		json_object_put(o);
		json_object_put(protos);
		return -ENOMEM;
	}
	if ((e->protocols & ATTLS_PROTO_TLS12 &&
	     json_object_array_add(protos, json_object_new_string("TLSv1.2"))) ||
	    (e->protocols & ATTLS_PROTO_TLS13 &&
	     json_object_array_add(protos, json_object_new_string("TLSv1.3")))) {
		json_object_put(protos);
		json_object_put(o);
		return -ENOMEM;
	}
	snprintf(where, sizeof(where), "%s:%u", e->where.file, e->where.line);
	err = aj_add_str(o, "name", e->name);
	err = err ?: aj_add_str(o, "handshake_role", attls_role_name(e->role));
	err = err ?: aj_add_str(o, "keyring", e->keyring);
	err = err ?: aj_add_str(o, "certificate_label",
				e->cert_label[0] ? e->cert_label : NULL);
	err = err ?: aj_add_str(o, "tls13_suites",
				e->tls13_suites[0] ? e->tls13_suites : NULL);
	err = err ?: aj_add_str(o, "tls12_ciphers",
				e->tls12_ciphers[0] ? e->tls12_ciphers : NULL);
	err = err ?: aj_add_u64(o, "handshake_timeout", e->handshake_timeout);
	err = err ?: aj_add_u64(o, "trace", e->trace);
	err = err ?: aj_add_u64(o, "user_instance", e->user_instance);
	err = err ?: aj_add_str(o, "source", where);
	if (err) {
		json_object_put(protos);
		json_object_put(o);
		return err;
	}
	err = aj_add(o, "protocols", protos);
	if (err || json_object_array_add(arr, o)) {
		json_object_put(o);
		return err ?: -ENOMEM;
	}
	return 0;
}

int policy_image_to_json(const struct attls_map_image *img, const char *rule,
			 struct json_object *out)
{
	struct json_object *rules, *envs;
	size_t id, i, first;
	int err = 0, want_env = -1, found = 0;

	rules = json_object_new_array();
	envs = json_object_new_array();
	if (!rules || !envs) {
		json_object_put(rules);
		json_object_put(envs);
		return -ENOMEM;
	}
	for (id = 0, first = 0; id < img->nactions && !err; id++) {
		/* clauses are adjacent and in rule_id order */
		for (i = first; i < img->nrules && img->rules[i].rule_id == id; i++)
			;
		if (!rule || !strcasecmp(rule, img->actions[id].rule_name)) {
			err = rule_json(img, id, first, i - first, rules);
			want_env = img->actions[id].env_index;
			found = 1;
		}
		first = i;
	}
	for (i = 0; i < img->nenvs && !err; i++)
		if (!rule || (int)i == want_env)
			err = env_json(&img->envs[i], envs);
	if (!err && rule && !found)
		err = -ENOENT;
	if (err) {
		json_object_put(rules);
		json_object_put(envs);
		return err;
	}
	err = aj_add(out, "rules", rules);
	if (err) {
		json_object_put(envs);
		return err;
	}
	return aj_add(out, "environments", envs);
}
