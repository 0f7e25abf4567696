// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * attlsctl - inspect attls, bpftool style: attlsctl [-j|-p] OBJECT COMMAND.
 *
 * Reads the maps attlsd pinned, read-only (BPF_F_RDONLY), so it works even
 * when the daemon is wedged; it never reaches into the daemon's memory.
 *   attlsctl status                 live policy, counters, engine presence
 *   attlsctl listener show          sockets bound in protected cgroups
 *   attlsctl conn show [CONNID] [--detail] [--group]
 *                                   protected connections (netstat TTLS),
 *                                   from the daemon; --detail adds the
 *                                   effective parameters, --group is the
 *                                   per-group summary
 *   attlsctl trace CONNID LEVEL     Trace bits of one live connection
 *   attlsctl conn hops              the engine's hop table (pinned map)
 *   attlsctl keyring list OWNER/RING  certificates of a key ring
 *   attlsctl policy show [RULE]     the installed policy (pasearch -t),
 *                                   asked from attlsd's control socket
 *   attlsctl policy check FILE      parse + compile a policy file, show it
 *   attlsctl reload                 re-read the policy file (like SIGHUP)
 *   attlsctl zert watch|export|report|stats   zERT records (cli/zert.c)
 * With -j every output, errors included, is JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/attls_match.h"
#include "../policy/policy.h"
#include "../user/addr.h"
#include "../user/aj.h"
#include "../user/ctl.h"
#include "../user/rc_table.h"
#include "attlsctl.h"

void p_err(const struct ctl *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (c->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->json) {
		struct json_object *o = json_object_new_object();

		if (o && !aj_add_str(o, "error", msg)) {
			aj_print_and_free(o, stdout, c->pretty);
			return;
		}
		json_object_put(o);
	}
	fprintf(stderr, "Error: %s\n", msg);
}

/* Open a pinned map read-only; prints why not.  fd or -errno. */
static int open_map(const struct ctl *c, const char *name)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	char path[PATH_MAX];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", c->pin_root, name);
	fd = bpf_obj_get_opts(path, &opts);
	if (fd < 0) {
		err = -errno;
		p_err(c, "cannot open %s: %s (is attlsd running? it pins its "
		      "maps under %s)", path, strerror(-err), c->pin_root);
		return err;
	}
	return fd;
}

static const char *stat_names[ATTLS_STAT_MAX] = {
	[ATTLS_STAT_SYN_STEERED]	= "syn_steered",
	[ATTLS_STAT_SYN_DROPPED]	= "syn_dropped_no_engine",
	[ATTLS_STAT_SYN_CLEAR]		= "syn_cleartext_rule",
	[ATTLS_STAT_SYN_NOMATCH]	= "syn_no_rule",
	[ATTLS_STAT_HOP_PASSED]		= "engine_hop_passed",
	[ATTLS_STAT_BOUND_ADD]		= "bound_added",
	[ATTLS_STAT_BOUND_DEL]		= "bound_removed",
	[ATTLS_STAT_PEER_REWRITE]	= "peer_rewrites",
	[ATTLS_STAT_RB_DROPPED]		= "ringbuf_reserve_failed",
	[ATTLS_STAT_OWNER_MISSING]	= "owner_missing",
	[ATTLS_STAT_CONNECT_STEERED]	= "connect_steered",
	[ATTLS_STAT_CONNECT_REFUSED]	= "connect_refused_no_engine",
	[ATTLS_STAT_CONNECT_CLEAR]	= "connect_cleartext_rule",
	[ATTLS_STAT_CONNECT_NOMATCH]	= "connect_no_rule",
	[ATTLS_STAT_SOCKNAME_REWRITE]	= "sockname_rewrites",
	[ATTLS_STAT_GUARD_DENIED]	= "guard_denied_no_policy",
	[ATTLS_STAT_OBS_STARTED]	= "zert_observed_conns",
	[ATTLS_STAT_OBS_CHUNKS]		= "zert_observed_chunks",
	[ATTLS_STAT_OBS_DROPPED]	= "zert_chunks_dropped",
	[ATTLS_STAT_OBS_NO_STATE]	= "zert_not_observed",
	[ATTLS_STAT_ZERT_RECORDS]	= "zert_records",
	[ATTLS_STAT_ZERT_WRITE_ERRORS]	= "zert_write_errors",
	[ATTLS_STAT_ZERT_LOST]		= "zert_records_lost",
	[ATTLS_STAT_ZERT_UNMATCHED]	= "zert_unmatched_events",
	[ATTLS_STAT_ZERT_WATCH_DROPPED]	= "zert_watchers_dropped",
	[ATTLS_STAT_SEC_STEERED]	= "secondary_steered",
	[ATTLS_STAT_SEC_CLEAR]		= "secondary_cleartext",
};
_Static_assert(ATTLS_STAT_MAX == 27, "a name for every counter above");

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *j;

	if (!json_object_object_get_ex(o, key, &j) || !j)
		return "-";
	return json_object_get_string(j);
}

static long count_entries(int fd, size_t key_size)
{
	char key[256];
	long n = 0;
	void *prev = NULL;

	if (key_size > sizeof(key))
		return -EINVAL;
	while (!bpf_map_get_next_key(fd, prev, key)) {
		n++;
		prev = key;
	}
	return n;
}

static void print_rc_counts(struct json_object *eng, const char *key,
			    const char *title)
{
	struct json_object *m;

	if (!json_object_object_get_ex(eng, key, &m) ||
	    !json_object_object_length(m))
		return;
	printf("  %s:\n", title);
	json_object_object_foreach(m, rc, n) {
		const struct attls_rc_info *i = attls_rc_info(atoi(rc));

		printf("    RC %-5s %8lld  %s\n", rc, (long long)json_object_get_int64(n),
		       i ? i->text : "?");
	}
}

/* Labels of the engine's limit counters, in display order. */
static const char *const limit_names[][2] = {
	{ "connections",	 "connections (live)" },
	{ "max_connections",	 "connection limit" },
	{ "buffer_bytes",	 "relay buffer/direction" },
	{ "connections_accepted", "accepted" },
	{ "failed",		 "ended with an error RC" },
	{ "refused_no_steer",	 "refused_no_steer (5103)" },
	{ "refused_conn_limit",	 "refused_conn_limit (5131)" },
	{ "refused_rule_limit",	 "refused_rule_limit (5132)" },
	{ "handshake_timeouts",	 "handshake_timeouts (5101)" },
	{ "idle_timeouts",	 "idle_timeouts (5133)" },
};

/*
 * The daemon's part of attlsctl status, from its control socket: policy
 * file and generation, engine counters with failures by RC.  Into `root`
 * as "daemon" (JSON), else printed.  A daemon that does not answer is
 * reported, not an error: the pinned maps above still tell the truth.
 */
static int status_daemon(const struct ctl *c, struct json_object *root)
{
	struct json_object *req = request_new("status"), *reply = NULL, *eng;
	struct ctl quiet = *c;
	size_t i;
	int err;

	if (!req)
		return -ENOMEM;
	quiet.json = 0;
	err = ctl_request(&quiet, req, &reply);
	json_object_put(req);
	if (err) {
		if (root)
			return aj_add_null(root, "daemon");
		printf("daemon:              not answering (counters above are "
		       "from the pinned maps)\n");
		return 0;
	}
	if (root)
		return aj_add(root, "daemon", reply);
	printf("daemon:              pid %s, policy %s generation %s\n",
	       jstr(reply, "pid"), jstr(reply, "policy_file"),
	       jstr(reply, "generation"));
	if (json_object_object_get_ex(reply, "engine", &eng)) {
		for (i = 0; i < sizeof(limit_names) / sizeof(limit_names[0]); i++)
			printf("  %-26s %s\n", limit_names[i][1],
			       jstr(eng, limit_names[i][0]));
		printf("  %-26s %s (refused before mapping: %s)\n", "connections mapped",
		       jstr(eng, "connections_mapped"), jstr(eng, "connections_refused"));
		printf("  %-26s %s\n", "handshakes ok", jstr(eng, "handshakes_ok"));
		printf("  %-26s %s\n", "handshakes failed", jstr(eng, "handshakes_failed"));
		print_rc_counts(eng, "handshakes_failed_by_rc", "failed before secure, by RC");
		printf("  %-26s %s\n", "failed after secure", jstr(eng, "secure_failed"));
		print_rc_counts(eng, "secure_failed_by_rc", "failed after secure, by RC");
		printf("  %-26s %s (AUTH TLS %s, refused before AUTH %s, "
		       "protocol closed %s)\n", "FTP sessions", jstr(eng, "ftp_sessions"),
		       jstr(eng, "ftp_auth_tls"), jstr(eng, "ftp_refused_before_auth"),
		       jstr(eng, "ftp_protocol_closed"));
	}
	json_object_put(reply);
	return 0;
}

static int do_status(struct ctl *c, int argc, char **argv)
{
	struct attls_policy_hdr hdr;
	struct json_object *root = NULL, *stats = NULL;
	__u64 totals[ATTLS_STAT_MAX] = {};
	long nbound, nhop;
	int pol_fd, st_fd, b_fd, h_fd, e_fd, ncpu, i, err = 0;
	int engine[ATTLS_ENGINE_LSN_MAX];
	__u32 zero = 0, k;
	__u64 *vals;

	(void)argc;
	(void)argv;
	pol_fd = open_map(c, "attls_policy");
	if (pol_fd < 0)
		return pol_fd;
	st_fd = open_map(c, "attls_stats");
	b_fd = open_map(c, "attls_bound");
	h_fd = open_map(c, "attls_hop");
	e_fd = open_map(c, "attls_engine");
	if (st_fd < 0 || b_fd < 0 || h_fd < 0 || e_fd < 0) {
		err = -ENOENT;
		goto close_fds;
	}
	if (bpf_map_lookup_elem(pol_fd, &zero, &hdr)) {
		err = -errno;
		p_err(c, "reading attls_policy: %s", strerror(-err));
		goto close_fds;
	}
	ncpu = libbpf_num_possible_cpus();
	vals = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*vals));
	if (!vals) {
		err = -ENOMEM;
		goto close_fds;
	}
	for (k = 0; k < ATTLS_STAT_MAX; k++) {
		if (bpf_map_lookup_elem(st_fd, &k, vals))
			continue;
		for (i = 0; i < ncpu; i++)
			totals[k] += vals[i];
	}
	free(vals);
	nbound = count_entries(b_fd, sizeof(struct attls_endpoint));
	nhop = count_entries(h_fd, sizeof(struct attls_endpoint));
	for (k = 0; k < ATTLS_ENGINE_LSN_MAX; k++) {
		__u64 cookie;

		/* a SOCKMAP lookup from user space returns the socket cookie;
		 * ENOENT means the slot is empty: no engine listener */
		engine[k] = !bpf_map_lookup_elem(e_fd, &k, &cookie);
	}

	if (!c->json) {
		printf("policy generation:   %llu (rule set %u, %u clauses)%s\n",
		       (unsigned long long)hdr.generation, hdr.active & 1,
		       hdr.nrules[hdr.active & 1],
		       hdr.state == ATTLS_STATE_ACTIVE ? "" :
		       "\npolicy state:        NONE - guarded: protected cgroups "
		       "cannot use TCP until attlsd installs a policy");
		printf("engine listeners:    inbound IPv4 %s, IPv6 %s; "
		       "outbound IPv4 %s, IPv6 %s%s\n",
		       engine[ATTLS_ENGINE_LSN_V4] ? "up" : "DOWN",
		       engine[ATTLS_ENGINE_LSN_V6] ? "up" : "DOWN",
		       engine[ATTLS_ENGINE_OUT_V4] ? "up" : "DOWN",
		       engine[ATTLS_ENGINE_OUT_V6] ? "up" : "DOWN",
		       engine[ATTLS_ENGINE_LSN_V4] && engine[ATTLS_ENGINE_OUT_V4] ? "" :
		       "\n                     (protected connections are refused "
		       "until attlsd runs)");
		printf("bound sockets:       %ld\n", nbound);
		printf("engine connections:  %ld\n", nhop);
		for (k = 0; k < ATTLS_STAT_MAX; k++)
			printf("%-22s %llu\n", stat_names[k],
			       (unsigned long long)totals[k]);
		status_daemon(c, NULL);
		goto close_fds;
	}
	root = json_object_new_object();
	stats = json_object_new_object();
	if (!root || !stats) {
		json_object_put(stats);
		err = -ENOMEM;
		goto put_root;
	}
	for (k = 0; k < ATTLS_STAT_MAX && !err; k++)
		err = aj_add_u64(stats, stat_names[k], totals[k]);
	if (err) {
		json_object_put(stats);
		goto put_root;
	}
	err = aj_add_u64(root, "generation", hdr.generation);
	err = err ?: aj_add_u64(root, "clauses", hdr.nrules[hdr.active & 1]);
	err = err ?: aj_add_str(root, "state", hdr.state == ATTLS_STATE_ACTIVE ?
				"active" : "guarded");
	err = err ?: aj_add_bool(root, "engine_ipv4", engine[ATTLS_ENGINE_LSN_V4]);
	err = err ?: aj_add_bool(root, "engine_ipv6", engine[ATTLS_ENGINE_LSN_V6]);
	err = err ?: aj_add_bool(root, "engine_out_ipv4", engine[ATTLS_ENGINE_OUT_V4]);
	err = err ?: aj_add_bool(root, "engine_out_ipv6", engine[ATTLS_ENGINE_OUT_V6]);
	err = err ?: aj_add_i64(root, "bound_sockets", nbound);
	err = err ?: aj_add_i64(root, "engine_connections", nhop);
	if (err) {
		json_object_put(stats);
		goto put_root;
	}
	err = aj_add(root, "counters", stats);
	err = err ?: status_daemon(c, root);
	if (!err) {
		err = aj_print_and_free(root, stdout, c->pretty);
		root = NULL;
	}
put_root:
	json_object_put(root);
close_fds:
	if (e_fd >= 0)
		close(e_fd);
	if (h_fd >= 0)
		close(h_fd);
	if (b_fd >= 0)
		close(b_fd);
	if (st_fd >= 0)
		close(st_fd);
	close(pol_fd);
	return err;
}

/*
 * Walk every entry of a pinned hash map: a text table row or a JSON array
 * element per entry.  `row` fills `o` (JSON) or prints (o == NULL).
 */
struct map_view {
	const char *map;
	size_t key_size;
	size_t val_size;
	const char *header;		/* text mode column heads */
	int (*row)(const void *key, const void *val, struct json_object *o);
};

static int walk_map(const struct ctl *c, const struct map_view *v)
{
	char key[256], val[256], *prev = NULL;
	struct json_object *arr = NULL;
	int fd, err = 0;

	if (v->key_size > sizeof(key) || v->val_size > sizeof(val))
		return -EINVAL;
	fd = open_map(c, v->map);
	if (fd < 0)
		return fd;
	if (c->json) {
		arr = json_object_new_array();
		if (!arr) {
			close(fd);
			return -ENOMEM;
		}
	} else {
		printf("%s\n", v->header);
	}
	while (!bpf_map_get_next_key(fd, prev, key)) {
		struct json_object *o = NULL;

		prev = key;
		if (bpf_map_lookup_elem(fd, key, val))
			continue;	/* deleted meanwhile */
		if (!c->json) {
			v->row(key, val, NULL);
			continue;
		}
		o = json_object_new_object();
		err = o ? v->row(key, val, o) : -ENOMEM;
		if (err || json_object_array_add(arr, o)) {
			json_object_put(o);
			err = err ?: -ENOMEM;
			break;
		}
	}
	if (arr && !err)
		err = aj_print_and_free(arr, stdout, c->pretty);
	else
		json_object_put(arr);
	if (err)
		p_err(c, "reading %s: %s", v->map, strerror(-err));
	close(fd);
	return err;
}

static int listener_row(const void *k, const void *v, struct json_object *o)
{
	const struct attls_endpoint *key = k;
	const struct attls_bound_val *val = v;
	const char *fam = key->family == ATTLS_AF_INET6 ? "ipv6" : "ipv4";
	char addr[ATTLS_ADDRSTRLEN], comm[ATTLS_COMM_LEN + 1];
	char ep[ATTLS_ADDRSTRLEN + 8];
	int err;

	memcpy(comm, val->owner.comm, ATTLS_COMM_LEN);
	comm[ATTLS_COMM_LEN] = '\0';
	if (attls_addr_is_zero(key->addr))
		snprintf(addr, sizeof(addr), "%s",
			 key->family == ATTLS_AF_INET6 ? "::" : "0.0.0.0");
	else
		attls_addr_str(key->addr, addr, sizeof(addr));
	if (!o) {
		snprintf(ep, sizeof(ep), "%s..%u", addr, key->port);
		printf("%-40s %-7s %-16s %-8u %-8u\n", ep, fam, comm,
		       val->owner.pid, val->owner.uid);
		return 0;
	}
	err = aj_add_str(o, "addr", addr);
	err = err ?: aj_add_u64(o, "port", key->port);
	err = err ?: aj_add_str(o, "family", fam);
	err = err ?: aj_add_str(o, "job", comm);
	err = err ?: aj_add_u64(o, "pid", val->owner.pid);
	err = err ?: aj_add_u64(o, "uid", val->owner.uid);
	return err;
}

static int conn_row(const void *k, const void *v, struct json_object *o)
{
	const struct attls_hop_val *val = v;
	char l[ATTLS_ADDRSTRLEN], r[ATTLS_ADDRSTRLEN], id[20];
	char le[ATTLS_ADDRSTRLEN + 8], re[ATTLS_ADDRSTRLEN + 8];
	int err;

	(void)k;
	attls_addr_str(val->real.laddr, l, sizeof(l));
	attls_addr_str(val->real.raddr, r, sizeof(r));
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)val->conn_id);
	if (!o) {
		snprintf(le, sizeof(le), "%s..%u", l, val->real.lport);
		snprintf(re, sizeof(re), "%s..%u", r, val->real.rport);
		printf("%-16s %-30s %-30s %u\n", id, le, re, val->rule_id);
		return 0;
	}
	err = aj_add_str(o, "conn_id", id);
	err = err ?: aj_add_str(o, "local_addr", l);
	err = err ?: aj_add_u64(o, "local_port", val->real.lport);
	err = err ?: aj_add_str(o, "remote_addr", r);
	err = err ?: aj_add_u64(o, "remote_port", val->real.rport);
	err = err ?: aj_add_u64(o, "rule_id", val->rule_id);
	return err;
}

static int do_listener_show(struct ctl *c, int argc, char **argv)
{
	static const struct map_view v = {
		.map = "attls_bound",
		.key_size = sizeof(struct attls_endpoint),
		.val_size = sizeof(struct attls_bound_val),
		.header = "LOCAL                                    FAMILY  "
			  "JOB              PID      UID",
		.row = listener_row,
	};

	(void)argc;
	(void)argv;
	return walk_map(c, &v);
}

static int do_conn_hops(struct ctl *c, int argc, char **argv)
{
	static const struct map_view v = {
		.map = "attls_hop",
		.key_size = sizeof(struct attls_endpoint),
		.val_size = sizeof(struct attls_hop_val),
		.header = "CONNID           LOCAL                          "
			  "REMOTE                         RULE#",
		.row = conn_row,
	};

	(void)argc;
	(void)argv;
	return walk_map(c, &v);
}

/*
 * One request to attlsd's control socket.  Returns 0 with *reply (the
 * caller puts it), or -errno with the reason printed.  A reply with
 * "ok": false is returned as -errno too, its message printed.
 */
int ctl_connect(const struct ctl *c)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	ctl_socket_path(c->pin_root, sun.sun_path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = -errno;
		p_err(c, "cannot reach attlsd at %s: %s (is attlsd running?)",
		      sun.sun_path, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

int ctl_request(const struct ctl *c, struct json_object *req,
		struct json_object **reply)
{
	struct json_object *r = NULL, *jok, *jerr, *jdiag, *jno;
	struct json_tokener *tok;
	const char *s;
	char buf[65536];
	ssize_t n;
	int fd, err = 0;

	fd = ctl_connect(c);
	if (fd < 0)
		return fd;
	s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (!s || write(fd, s, strlen(s)) < 0 || write(fd, "\n", 1) < 0) {
		err = -errno ?: -EIO;
		p_err(c, "sending to attlsd: %s", strerror(-err));
		goto close_fd;
	}
	tok = json_tokener_new_ex(64);
	if (!tok) {
		err = -ENOMEM;
		goto close_fd;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		r = json_tokener_parse_ex(tok, buf, (int)n);
		if (r || json_tokener_get_error(tok) != json_tokener_continue)
			break;
	}
	json_tokener_free(tok);
	if (!r) {
		err = -EPROTO;
		p_err(c, "attlsd sent no valid reply");
		goto close_fd;
	}
	if (!json_object_object_get_ex(r, "ok", &jok) || !json_object_get_boolean(jok)) {
		err = json_object_object_get_ex(r, "errno", &jno) ?
		      -(int)json_object_get_int(jno) : -EIO;
		if (json_object_object_get_ex(r, "diagnostics", &jdiag) &&
		    json_object_get_string(jdiag) && !c->json)
			fputs(json_object_get_string(jdiag), stderr);
		if (c->json) {
			aj_print_and_free(r, stdout, c->pretty);
		} else {
			json_object_object_get_ex(r, "error", &jerr);
			p_err(c, "attlsd: %s", jerr ? json_object_get_string(jerr) :
			      "request failed");
			json_object_put(r);
		}
		r = NULL;
		goto close_fd;
	}
	*reply = r;
close_fd:
	close(fd);
	return err ?: (r ? 0 : -EIO);
}

struct json_object *request_new(const char *cmd)
{
	struct json_object *req = json_object_new_object();

	if (req && aj_add_str(req, "cmd", cmd)) {
		json_object_put(req);
		return NULL;
	}
	return req;
}

static int do_policy_show(struct ctl *c, int argc, char **argv)
{
	struct json_object *req, *reply = NULL, *jtext;
	int err;

	if (argc > 1) {
		p_err(c, "usage: attlsctl policy show [RULE]");
		return -EINVAL;
	}
	req = request_new("policy");
	if (!req)
		return -ENOMEM;
	err = argc ? aj_add_str(req, "rule", argv[0]) : 0;
	err = err ?: (c->json ? 0 : aj_add_str(req, "format", argc ? "json" : "text"));
	err = err ?: ctl_request(c, req, &reply);
	json_object_put(req);
	if (err)
		return err;
	if (c->json)
		return aj_print_and_free(reply, stdout, c->pretty);
	if (json_object_object_get_ex(reply, "text", &jtext))
		fputs(json_object_get_string(jtext), stdout);
	else	/* one rule: its JSON, readable */
		aj_print_and_free(json_object_get(reply), stdout, 1);
	json_object_put(reply);
	return 0;
}

int ctl_call_noargs(const struct ctl *c, const char *cmd, const char *usage,
		    int argc, struct json_object **reply)
{
	struct json_object *req, *r = NULL;
	int err;

	*reply = NULL;
	if (argc) {
		p_err(c, "usage: %s", usage);
		return -EINVAL;
	}
	req = request_new(cmd);
	if (!req)
		return -ENOMEM;
	err = ctl_request(c, req, &r);
	json_object_put(req);
	if (err)
		return err;
	if (c->json)
		return aj_print_and_free(r, stdout, c->pretty);
	*reply = r;
	return 0;
}

static int do_reload(struct ctl *c, int argc, char **argv)
{
	struct json_object *reply, *j;
	int err;

	(void)argv;
	err = ctl_call_noargs(c, "reload", "attlsctl reload", argc, &reply);
	if (err || !reply)
		return err;
	if (json_object_object_get_ex(reply, "diagnostics", &j) &&
	    json_object_get_string(j))
		fputs(json_object_get_string(j), stderr);
	json_object_object_get_ex(reply, "generation", &j);
	printf("policy reloaded: generation %lld\n",
	       j ? (long long)json_object_get_int64(j) : -1LL);
	json_object_put(reply);
	return 0;
}


static void print_object(struct json_object *o, const char *indent)
{
	json_object_object_foreach(o, key, val) {
		if (val && json_object_is_type(val, json_type_object))
			continue;
		printf("%s%-22s %s\n", indent, key,
		       val ? json_object_get_string(val) : "-");
	}
}

/* One connection, every field (netstat TTLS CONN id [DETAIL]). */
static void print_conn_detail(struct json_object *o)
{
	struct json_object *sub;

	print_object(o, "  ");
	if (json_object_object_get_ex(o, "peer_cert", &sub) && sub) {
		printf("  peer certificate:\n");
		print_object(sub, "    ");
	}
	if (json_object_object_get_ex(o, "detail", &sub) && sub) {
		printf("  effective parameters:\n");
		print_object(sub, "    ");
	}
}

/* netstat TTLS GROUP: one line per group. */
static void print_groups(struct json_object *reply)
{
	struct json_object *arr, *g, *envs;
	size_t i, n, k;

	if (!json_object_object_get_ex(reply, "groups", &arr))
		return;
	printf("%-20s %-28s %6s %10s %9s %6s\n", "GROUP", "ENVIRONMENTS", "CONNS",
	       "NOT-SECURE", "HANDSHAKE", "SECURE");
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		char envl[256] = "";
		size_t len = 0;

		g = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(g, "environments", &envs)) {
			for (k = 0; k < json_object_array_length(envs) &&
			     len < sizeof(envl); k++)
				len += (size_t)snprintf(envl + len, sizeof(envl) - len,
					"%s%s", k ? "," : "", json_object_get_string(
					json_object_array_get_idx(envs, k)));
		}
		printf("%-20s %-28s %6s %10s %9s %6s\n", jstr(g, "group"),
		       envl[0] ? envl : "-", jstr(g, "connections"),
		       jstr(g, "not_secure"), jstr(g, "handshake_in_progress"),
		       jstr(g, "secure"));
	}
}

/*
 * attlsctl conn show [CONNID] [--detail] [--group]: like netstat TTLS,
 * its CONN id DETAIL form and its GROUP summary.
 */
static int do_conn_show(struct ctl *c, int argc, char **argv)
{
	struct json_object *req, *reply = NULL, *arr, *o;
	const char *id = NULL;
	int detail = 0, group = 0, a, err;
	size_t i, n;

	for (a = 0; a < argc; a++) {
		if (!strcmp(argv[a], "--detail") || !strcmp(argv[a], "detail"))
			detail = 1;
		else if (!strcmp(argv[a], "--group") || !strcmp(argv[a], "group"))
			group = 1;
		else if (!id && argv[a][0] != '-')
			id = argv[a];
		else
			break;
	}
	if (a < argc || (group && (id || detail))) {
		p_err(c, "usage: attlsctl conn show [CONNID] [--detail] | "
		      "attlsctl conn show --group");
		return -EINVAL;
	}
	req = request_new("conn");
	if (!req)
		return -ENOMEM;
	err = id ? aj_add_str(req, "id", id) : 0;
	err = err ?: detail ? aj_add_bool(req, "detail", 1) : 0;
	err = err ?: group ? aj_add_bool(req, "group", 1) : 0;
	err = err ?: ctl_request(c, req, &reply);
	json_object_put(req);
	if (err)
		return err;
	if (c->json)
		return aj_print_and_free(reply, stdout, c->pretty);
	if (group) {
		print_groups(reply);
		json_object_put(reply);
		return 0;
	}
	if (!json_object_object_get_ex(reply, "connections", &arr)) {
		json_object_put(reply);
		return -EPROTO;
	}
	n = json_object_array_length(arr);
	for (i = 0; (id || detail) && i < n; i++) {
		printf("%sconnection %s\n", i ? "\n" : "",
		       jstr(json_object_array_get_idx(arr, i), "conn_id"));
		print_conn_detail(json_object_array_get_idx(arr, i));
	}
	if (!id && !detail) {
		printf("%-16s %-22s %-22s %-10s %-9s %-16s %-8s %s\n", "CONNID",
		       "LOCAL", "REMOTE", "JOB", "USER", "RULE", "PROTOCOL",
		       "STATE");
		for (i = 0; i < n; i++) {
			char le[64], re[64];

			o = json_object_array_get_idx(arr, i);
			snprintf(le, sizeof(le), "%s..%s", jstr(o, "local_addr"),
				 jstr(o, "local_port"));
			snprintf(re, sizeof(re), "%s..%s", jstr(o, "remote_addr"),
				 jstr(o, "remote_port"));
			printf("%-16s %-22s %-22s %-10s %-9s %-16s %-8s %s\n",
			       jstr(o, "conn_id"), le, re, jstr(o, "job"),
			       jstr(o, "user"), jstr(o, "rule"), jstr(o, "protocol"),
			       jstr(o, "state"));
		}
	}
	if (!n)
		printf("(no protected connections)\n");
	json_object_put(reply);
	return 0;
}

static int do_conn_group(struct ctl *c, int argc, char **argv)
{
	char *args[] = { "--group" };

	(void)argv;
	if (argc) {
		p_err(c, "usage: attlsctl conn group");
		return -EINVAL;
	}
	return do_conn_show(c, 1, args);
}

/* attlsctl trace CONNID LEVEL: a live connection's Trace bits. */
static int do_trace_set(struct ctl *c, int argc, char **argv)
{
	struct json_object *req, *reply = NULL;
	char *end;
	long level;
	int err;

	errno = 0;
	level = argc == 2 ? strtol(argv[1], &end, 0) : -1;
	if (argc != 2 || errno || *end || level < 0 || level > 255) {
		p_err(c, "usage: attlsctl trace CONNID LEVEL (LEVEL 0-255: 1, 2 "
		      "errors to the daemon log, syslog; 4 info; 8 events; 16 flow; "
		      "32 data)");
		return -EINVAL;
	}
	req = request_new("trace");
	if (!req)
		return -ENOMEM;
	err = aj_add_str(req, "id", argv[0]);
	err = err ?: aj_add_u64(req, "level", (uint64_t)level);
	err = err ?: ctl_request(c, req, &reply);
	json_object_put(req);
	if (err)
		return err;
	if (c->json)
		return aj_print_and_free(reply, stdout, c->pretty);
	printf("connection %s: Trace %s -> %s (from its next event)\n", argv[0],
	       jstr(reply, "old_level"), jstr(reply, "level"));
	json_object_put(reply);
	return 0;
}

static int explain_one(const struct ctl *c, const struct attls_rc_info *i,
		       struct json_object *arr)
{
	struct json_object *o;
	int err;

	if (!c->json) {
		printf("RC %d  %s\n  meaning: %s\n  cause:   %s\n  fix:     %s\n\n",
		       i->rc, i->name, i->text, i->cause, i->fix);
		return 0;
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	err = aj_add_i64(o, "rc", i->rc);
	err = err ?: aj_add_str(o, "name", i->name);
	err = err ?: aj_add_str(o, "meaning", i->text);
	err = err ?: aj_add_str(o, "cause", i->cause);
	err = err ?: aj_add_str(o, "fix", i->fix);
	if (err || json_object_array_add(arr, o)) {
		json_object_put(o);
		return err ?: -ENOMEM;
	}
	return 0;
}

/* attlsctl explain [RC ...]: what a return code means and how to fix it. */
static int do_explain(struct ctl *c, int argc, char **argv)
{
	const struct attls_rc_info *tab, *i;
	struct json_object *arr = NULL;
	size_t n, k;
	int a, err = 0;

	if (c->json) {
		arr = json_object_new_array();
		if (!arr)
			return -ENOMEM;
	}
	tab = attls_rc_table(&n);
	for (k = 0; !argc && k < n && !err; k++)
		err = explain_one(c, &tab[k], arr);
	for (a = 0; a < argc && !err; a++) {
		char *end;
		long rc;

		errno = 0;
		rc = strtol(argv[a], &end, 10);
		i = errno || *end || rc < 0 || rc > 99999 ? NULL : attls_rc_info((int)rc);
		if (!i) {
			p_err(c, "%s is not an attls return code (attlsctl explain "
			      "lists them all; docs/return-codes.md)", argv[a]);
			err = -ENOENT;
			break;
		}
		err = explain_one(c, i, arr);
	}
	if (arr && !err)
		return aj_print_and_free(arr, stdout, c->pretty);
	json_object_put(arr);
	return err;
}

static int do_keyring_list(struct ctl *c, int argc, char **argv)
{
	struct json_object *req, *reply = NULL, *labels, *l, *j;
	size_t i, n;
	int err;

	if (argc != 1) {
		p_err(c, "usage: attlsctl keyring list OWNER/RING");
		return -EINVAL;
	}
	req = request_new("keyring");
	if (!req)
		return -ENOMEM;
	err = aj_add_str(req, "ring", argv[0]);
	err = err ?: ctl_request(c, req, &reply);
	json_object_put(req);
	if (err)
		return err;
	if (c->json)
		return aj_print_and_free(reply, stdout, c->pretty);
	/* like RACDCERT LISTRING: one block per certificate */
	if (!json_object_object_get_ex(reply, "certificates", &labels) ||
	    !json_object_is_type(labels, json_type_array)) {
		p_err(c, "attlsd sent no certificate list");
		json_object_put(reply);
		return -EPROTO;
	}
	printf("Key ring %s\n", argv[0]);
	if (json_object_object_get_ex(reply, "path", &j))
		printf("  %-20s %s\n", "path", json_object_get_string(j));
	if (json_object_object_get_ex(reply, "access", &j))
		printf("  %-20s %s\n", "access",
		       json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	n = json_object_array_length(labels);
	for (i = 0; i < n; i++) {
		static const char *const fields[] = {
			"label", "owner", "usage", "default", "subject", "issuer",
			"serial", "not_before", "not_after", "expired", "key_type",
			"key_bits", "sha256", "error",
		};
		size_t f;

		l = json_object_array_get_idx(labels, i);
		printf("\n");
		for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
			if (json_object_object_get_ex(l, fields[f], &j))
				printf("  %-20s %s\n", fields[f],
				       json_object_get_string(j));
	}
	if (!n)
		printf("  (no certificates)\n");
	json_object_put(reply);
	return 0;
}

static int do_policy_check(struct ctl *c, int argc, char **argv)
{
	struct attls_map_image img = {};
	struct policy_diags *diags = NULL;
	struct policy *p = NULL;
	int err;

	if (argc != 1) {
		p_err(c, "usage: attlsctl policy check FILE");
		return -EINVAL;
	}
	err = policy_parse_file(argv[0], &p, &diags);
	if (!err)
		err = policy_compile(p, &img, diags);
	if (diags)
		policy_diags_print(diags, stderr);
	if (err)
		p_err(c, "%s: %s", argv[0], diags && policy_diags_errors(diags) ?
		      "policy has errors (see above)" : strerror(-err));
	else if (!c->json)
		attls_map_image_dump(&img, stdout);
	else {
		struct json_object *o = json_object_new_object();

		err = o ? 0 : -ENOMEM;
		err = err ?: aj_add_str(o, "file", argv[0]);
		err = err ?: aj_add_u64(o, "rules", img.nactions);
		err = err ?: aj_add_u64(o, "clauses", img.nrules);
		err = err ?: aj_add_u64(o, "environments", img.nenvs);
		if (!err)
			err = aj_print_and_free(o, stdout, c->pretty);
		else
			json_object_put(o);
	}
	attls_map_image_free(&img);
	policy_free(p);
	policy_diags_free(diags);
	return err;
}

static const struct cmd status_cmds[] = {
	{ "show", do_status, "live policy generation, counters, engine" },
	{ NULL, NULL, NULL },
};
static const struct cmd listener_cmds[] = {
	{ "show", do_listener_show, "sockets bound in protected cgroups" },
	{ NULL, NULL, NULL },
};
static const struct cmd explain_cmds[] = {
	{ "rc", do_explain, "[RC ...]: meaning, cause and fix of return codes" },
	{ NULL, NULL, NULL },
};
static const struct cmd keyring_cmds[] = {
	{ "list", do_keyring_list, "OWNER/RING: certificates of a key ring, like RACDCERT LISTRING" },
	{ NULL, NULL, NULL },
};
static const struct cmd reload_cmds[] = {
	{ "now", do_reload, "re-read the policy file; the old one stays on error" },
	{ NULL, NULL, NULL },
};
static const struct cmd conn_cmds[] = {
	{ "show", do_conn_show, "[CONNID] [--detail] [--group]: protected connections, like netstat TTLS" },
	{ "group", do_conn_group, "per-group summary, like netstat TTLS GROUP" },
	{ "hops", do_conn_hops, "engine hops from the pinned map (no daemon needed)" },
	{ NULL, NULL, NULL },
};
static const struct cmd trace_cmds[] = {
	{ "set", do_trace_set, "CONNID LEVEL: Trace bits of one live connection" },
	{ NULL, NULL, NULL },
};
static const struct cmd policy_cmds[] = {
	{ "show", do_policy_show, "[RULE]: the installed policy, like pasearch -t" },
	{ "check", do_policy_check, "FILE: parse, compile and show a policy file" },
	{ NULL, NULL, NULL },
};

struct object {
	const char *name;
	const struct cmd *cmds;
};

static const struct object objects[] = {
	{ "status", status_cmds },
	{ "listener", listener_cmds },
	{ "conn", conn_cmds },
	{ "policy", policy_cmds },
	{ "reload", reload_cmds },
	{ "zert", zert_cmds },
	{ "keyring", keyring_cmds },
	{ "explain", explain_cmds },
	{ "trace", trace_cmds },
	{ NULL, NULL },
};

static void usage(FILE *f)
{
	const struct object *o;
	const struct cmd *cm;

	fprintf(f, "usage: attlsctl [-j|-p] [--pin-root DIR] OBJECT COMMAND [ARGS]\n\n");
	for (o = objects; o->name; o++)
		for (cm = o->cmds; cm->name; cm++)
			fprintf(f, "  attlsctl %-8s %-6s %s\n", o->name, cm->name,
				cm->help);
	fprintf(f, "\nObjects and commands may be abbreviated to a unique prefix.\n");
}

/* Unique-prefix match over names spaced `stride` bytes apart. */
static int match(const struct ctl *c, const char *what, const char *word,
		 const void *table, size_t stride)
{
	const char *base = table;
	int found = -1, i;
	size_t n = strlen(word);

	for (i = 0; *(const char *const *)(base + (size_t)i * stride); i++) {
		const char *name = *(const char *const *)(base + (size_t)i * stride);

		if (!strcmp(name, word))
			return i;
		if (!strncmp(name, word, n)) {
			if (found >= 0) {
				p_err(c, "ambiguous %s prefix '%s'", what, word);
				return -EINVAL;
			}
			found = i;
		}
	}
	if (found < 0)
		p_err(c, "unknown %s '%s' (try 'attlsctl help')", what, word);
	return found < 0 ? -ENOENT : found;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",     no_argument,       NULL, 'j' },
		{ "pretty",   no_argument,       NULL, 'p' },
		{ "pin-root", required_argument, NULL, 'P' },
		{ "help",     no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c = { .pin_root = ATTLS_PIN_ROOT };
	const struct object *obj;
	int opt, oi, ci, err;

	while ((opt = getopt_long(argc, argv, "+jph", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			c.json = 1;
			break;
		case 'p':
			c.json = 1;
			c.pretty = 1;
			break;
		case 'P':
			c.pin_root = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || !strcmp(argv[0], "help")) {
		usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	oi = match(&c, "object", argv[0], objects, sizeof(objects[0]));
	if (oi < 0)
		return EXIT_FAILURE;
	obj = &objects[oi];
	if (argc < 2) {
		/* "attlsctl status" = "attlsctl status show" */
		ci = 0;
		argc = 0;
	} else if ((argv[1][0] >= '0' && argv[1][0] <= '9') ||
		   argv[1][0] == '-' ||
		   (obj->cmds == trace_cmds && strcmp(argv[1], "set")) ||
		   (obj->cmds == conn_cmds && strlen(argv[1]) == 16)) {
		/* "attlsctl explain 202", "attlsctl conn --group",
		 * "attlsctl trace CONNID 255", "attlsctl conn CONNID": an
		 * argument of the object's first command, never a command */
		ci = 0;
		argc -= 1;
		argv += 1;
	} else {
		ci = match(&c, "command", argv[1], obj->cmds, sizeof(obj->cmds[0]));
		if (ci < 0)
			return EXIT_FAILURE;
		argc -= 2;
		argv += 2;
	}
	err = obj->cmds[ci].fn(&c, argc, argv);
	return err ? EXIT_FAILURE : EXIT_SUCCESS;
}
