/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * zert_sum.h - zERT summary records (SMF 119 subtype 12 analog): per
 * security-session shape, connection counts at the start and the end of
 * each interval, handshakes and bytes during it.
 *
 * A shape is who (job, user), where (server address and port, client
 * address) and how (protection, protocol, version, cipher, key exchange,
 * server key type and size).  A connection counts in one shape while it
 * is active: the collector holds the shape pointer from the connection's
 * init (or change) to its term.  Not thread-safe: the collector's lock
 * covers every call.
 */
#ifndef ATTLS_ZERT_SUM_H
#define ATTLS_ZERT_SUM_H

#include <stdint.h>

#include <json-c/json.h>

#include "../bpf/attls_abi.h"
#include "zert_session.h"

struct zert_shape_key {
	char job[ATTLS_COMM_LEN + 1];
	uint32_t uid;
	char user[33];
	__u8 server_addr[ATTLS_ADDR_LEN];
	__u16 server_port;
	__u8 client_addr[ATTLS_ADDR_LEN];
	int inbound;			/* the observed socket is the server */
	char protection[12];		/* "attls", "app-tls", "ssh", "none", ... */
	int observed;
	char protocol[8];
	char version[8];
	char cipher[OBS_NAME_LEN];
	int cipher_code;
	char kex[OBS_NAME_LEN];
	char group[OBS_NAME_LEN];
	int post_quantum;
	char key_type[OBS_NAME_LEN];
	unsigned key_bits;
};

struct zert_shape;
struct zert_sum;

int zert_sum_new(struct zert_sum **out);
void zert_sum_free(struct zert_sum *sum);

/* Fill a key: identity from the arguments, "how" from `s` (NULL for a
 * connection with no security session). */
void zert_shape_key_fill(struct zert_shape_key *k, const char *job,
			 uint32_t uid, const char *user,
			 const struct attls_flow *flow, int inbound,
			 const char *protection, const struct zert_session *s);

/*
 * A connection starts counting (init): total and active up, a handshake
 * outcome counted; `partial` says its attributes are incomplete.
 * Returns the shape to pass to zert_sum_end(), or NULL (out of memory:
 * then the summary misses it, and the caller counts that).
 */
struct zert_shape *zert_sum_start(struct zert_sum *sum,
				  const struct zert_shape_key *k, int partial,
				  enum zert_outcome outcome);

/* The shape of `k` if it exists (no counting). */
struct zert_shape *zert_sum_find(struct zert_sum *sum,
				 const struct zert_shape_key *k);

/* A counting connection ends (term). */
void zert_sum_end(struct zert_shape *sh, uint64_t bytes_in, uint64_t bytes_out);

/* A connection that ended before it was counted (short-term). */
int zert_sum_short(struct zert_sum *sum, const struct zert_shape_key *k,
		   int partial, enum zert_outcome outcome, uint64_t bytes_in,
		   uint64_t bytes_out);

/*
 * End the interval [start_ns, end_ns) (CLOCK_REALTIME): for every shape
 * with activity in it, `emit` gets a summary record built on `hdr(arg)`
 * (the record's common fields), then counters roll over; shapes with no
 * active connection and nothing in this interval are forgotten.
 * Returns the number of records emitted.
 */
unsigned zert_sum_interval(struct zert_sum *sum, uint64_t start_ns,
			   uint64_t end_ns, unsigned seconds,
			   struct json_object *(*hdr)(void *arg),
			   void (*emit)(void *arg, struct json_object *rec),
			   void *arg);

#endif /* ATTLS_ZERT_SUM_H */
