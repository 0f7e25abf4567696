/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * zert_out.h - the zERT NDJSON files: DIR/zert.ndjson is always the file
 * being written; it is rotated to DIR/zert-YYYYMMDDTHHMMSSZ-NNN.ndjson (UTC
 * of the rotation, NNN counting rotations within that second) when it
 * reaches a size or an age, and rotated files beyond
 * a count or older than a number of days are deleted.  Readers
 * (`attlsctl zert export`) take the rotated files in name order, then
 * zert.ndjson.  Not thread-safe: the collector serialises calls.
 */
#ifndef ATTLS_ZERT_OUT_H
#define ATTLS_ZERT_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ZERT_OUT_ACTIVE		"zert.ndjson"
#define ZERT_OUT_PREFIX		"zert-"
#define ZERT_OUT_SUFFIX		".ndjson"

struct zert_out_opts {
	uint64_t max_bytes;		/* rotate at this size; 0 = never */
	unsigned max_age;		/* rotate after this many seconds; 0 = never */
	unsigned keep;			/* rotated files kept; 0 = no limit */
	unsigned retention_days;	/* delete rotated files older; 0 = never */
};

struct zert_out;

/* Create DIR (0750) if needed and open DIR/zert.ndjson for appending
 * (0640).  0 or -errno. */
int zert_out_open(const char *dir, const struct zert_out_opts *opts,
		  struct zert_out **out);
/* Flush and close. */
void zert_out_close(struct zert_out *o);

/*
 * Lines are queued in a batch of ZERT_OUT_BATCH bytes and written with one
 * write(2) when the batch is full, before a rotation, and at
 * zert_out_flush() -- the collector flushes after each drain of the ring
 * buffer, each engine record and each timer tick (docs/zert.md
 * "Durability").  A line that would pass max_bytes rotates the file first,
 * so files end at the same lines as when each line was written alone.
 */
#define ZERT_OUT_BATCH		(64 * 1024)

/* Records written to the file and lost to write errors since the last
 * zert_out_take_stats(), and the last error (-errno). */
struct zert_out_stats {
	uint64_t written;
	uint64_t lost;
	int err;
};

/* Queue one line (`len` bytes, the '\n' included). */
void zert_out_append(struct zert_out *o, const char *line, size_t len);
/* Write what is queued.  A failed or short write loses the lines that did
 * not reach the file (counted in the stats); a failed rotation keeps
 * writing to the current file. */
void zert_out_flush(struct zert_out *o);
void zert_out_take_stats(struct zert_out *o, struct zert_out_stats *st);

/* Rotate by age and apply retention; call now and then (every second). */
void zert_out_tick(struct zert_out *o, time_t now);

/* Rotate now (also for tests). 0 or -errno. */
int zert_out_rotate(struct zert_out *o);

const char *zert_out_path(const struct zert_out *o);
const char *zert_out_dir(const struct zert_out *o);

#endif /* ATTLS_ZERT_OUT_H */
