/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * rbuf.h - the engine's bounded ring buffers (engine_conn.c relay
 * directions, engine_ftp.c line staging).  The capacity is not stored: the
 * owner passes the same `cap` to every call.  Plain C, no engine types.
 */
#ifndef ATTLS_RBUF_H
#define ATTLS_RBUF_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

/* A bounded ring buffer of bytes; data is NULL while it is empty. */
struct rbuf {
	char *data;
	size_t head;
	size_t len;
};

/* Allocate the cap bytes of b if it has none.  0 or -ENOMEM. */
static inline int rbuf_ensure(struct rbuf *b, size_t cap)
{
	if (b->data)
		return 0;
	b->data = malloc(cap);
	b->head = 0;
	return b->data ? 0 : -ENOMEM;
}

/* Idle connections keep no buffer memory. */
static inline void rbuf_release(struct rbuf *b)
{
	if (b->data && !b->len) {
		free(b->data);
		b->data = NULL;
		b->head = 0;
	}
}

static inline void rbuf_free(struct rbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->head = b->len = 0;
}

/* The buffered data as one or two segments. */
static inline int rbuf_data_iov(const struct rbuf *b, size_t cap, struct iovec *iov)
{
	size_t first = b->len < cap - b->head ? b->len : cap - b->head;

	iov[0].iov_base = b->data + b->head;
	iov[0].iov_len = first;
	if (b->len > first) {
		iov[1].iov_base = b->data;
		iov[1].iov_len = b->len - first;
		return 2;
	}
	return 1;
}

/* The free space as one or two segments. */
static inline int rbuf_space_iov(const struct rbuf *b, size_t cap, struct iovec *iov)
{
	size_t tail = (b->head + b->len) % cap, space = cap - b->len;
	size_t first = space < cap - tail ? space : cap - tail;

	iov[0].iov_base = b->data + tail;
	iov[0].iov_len = first;
	if (space > first) {
		iov[1].iov_base = b->data;
		iov[1].iov_len = space - first;
		return 2;
	}
	return 1;
}

static inline void rbuf_consume(struct rbuf *b, size_t n, size_t cap)
{
	b->len -= n;
	/*
	 * An empty ring restarts at 0 for the longest contiguous segments.
	 * SSL_write() retries need the same data at a pointer that may move
	 * (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER) with at least the same
	 * length: the head segment only grows while data is pending, and
	 * the ring is only reset when nothing is pending.
	 */
	b->head = b->len ? (b->head + n) % cap : 0;
}

/* Append n bytes (n <= cap - b->len).  0 or -ENOMEM. */
static inline int rbuf_put(struct rbuf *b, size_t cap, const void *p, size_t n)
{
	struct iovec iov[2] = { { 0 } };
	size_t first;

	if (rbuf_ensure(b, cap))
		return -ENOMEM;
	rbuf_space_iov(b, cap, iov);
	first = n < iov[0].iov_len ? n : iov[0].iov_len;
	memcpy(iov[0].iov_base, p, first);
	if (n > first)
		memcpy(iov[1].iov_base, (const char *)p + first, n - first);
	b->len += n;
	return 0;
}

/* Copy the first n buffered bytes (n <= b->len) to out, linear. */
static inline void rbuf_peek(const struct rbuf *b, size_t cap, void *out, size_t n)
{
	struct iovec iov[2] = { { 0 } };
	size_t first;

	rbuf_data_iov(b, cap, iov);
	first = n < iov[0].iov_len ? n : iov[0].iov_len;
	memcpy(out, iov[0].iov_base, first);
	if (n > first)
		memcpy((char *)out + first, iov[1].iov_base, n - first);
}

#endif /* ATTLS_RBUF_H */
