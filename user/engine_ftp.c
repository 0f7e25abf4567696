// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * engine_ftp.c - ApplicationProtocol FTP in the engine's relay (the
 * interface and the data flow are described in engine_int.h; the protocol
 * decisions are user/ftp.c's, docs/ftp.md the user's view).
 *
 * Client input is hostile: it is judged one complete line at a time from
 * a buffer of FTP_LINE_MAX bytes (a longer line ends the connection, RC
 * 5153), and no byte reaches the server before its line was judged.
 * Server output is passed one line (or FTP_SRV_PIECE fragment) at a time,
 * with room for the FEAT additions reserved in the relay buffer.
 *
 * Order: a reply the engine makes itself (234, PBSZ/PROT 200, 530) waits
 * until the server has sent the final replies of every command forwarded
 * before it, and the next client line waits until that reply is out, so
 * a pipelining client still reads its replies in command order.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "ftp.h"
#include "log.h"
#include "rc.h"
#include "trace.h"

/*
 * Largest piece of the server's stream handled at once.  A piece plus the
 * FEAT additions (3 * FTP_REPLY_MAX) must fit into an empty relay buffer
 * of ENGINE_MIN_BUFSIZE; longer server lines are passed as fragments.
 */
#define FTP_SRV_PIECE	2048
/* Our replies waiting for the server's (at most one is queued at a time). */
#define FTP_HELD_MAX	FTP_REPLY_MAX

_Static_assert(FTP_SRV_PIECE + 3 * FTP_REPLY_MAX <= ENGINE_MIN_BUFSIZE,
	       "a server piece and the FEAT additions fit any relay buffer");
_Static_assert(FTP_LINE_MAX <= ENGINE_MIN_BUFSIZE,
	       "a command line fits any relay buffer");

struct ftp_conn {
	struct ftp_state st;
	struct rbuf cin;		/* partner bytes not yet judged */
	struct rbuf sin;		/* application bytes not yet passed */
	char held[FTP_HELD_MAX];	/* our reply, after the server's */
	size_t nheld;
	unsigned outstanding;		/* forwarded, final reply not yet seen */
	unsigned finals_seen;		/* st.finals accounted for */
	unsigned auth:1;		/* AUTH TLS accepted: 234, then TLS */
	unsigned handshake:1;		/* 234 queued, handshake not complete */
};

struct ftp_conn *ftp_conn_new(int implicit)
{
	struct ftp_conn *f = calloc(1, sizeof(*f));

	if (f)
		ftp_init(&f->st, implicit);
	return f;
}

void ftp_conn_free(struct ftp_conn *f)
{
	if (!f)
		return;
	rbuf_free(&f->cin);
	rbuf_free(&f->sin);
	free(f);
}

struct rbuf *ftp_conn_client_in(struct ftp_conn *f, size_t *cap)
{
	*cap = FTP_LINE_MAX;
	return &f->cin;
}

struct rbuf *ftp_conn_server_in(struct ftp_conn *f, size_t *cap)
{
	*cap = FTP_SRV_PIECE;
	return &f->sin;
}

int ftp_conn_protected(const struct ftp_conn *f)
{
	return f->st.prot_p;
}

int ftp_conn_client_drained(const struct ftp_conn *f)
{
	return !f->cin.len;
}

int ftp_conn_server_drained(const struct ftp_conn *f)
{
	return !f->sin.len && !f->nheld;
}

/* The server's final replies since the last call answer forwarded commands. */
static void ftp_account(struct ftp_conn *f)
{
	unsigned n = f->st.finals - f->finals_seen;

	f->finals_seen = f->st.finals;
	f->outstanding = f->outstanding > n ? f->outstanding - n : 0;
}

/* Server stream -> to_client, one line or fragment at a time. */
static int ftp_server_pass(struct ftp_conn *f, struct ftp_io *io)
{
	char piece[FTP_SRV_PIECE], out[FTP_SRV_PIECE + 3 * FTP_REPLY_MAX];
	size_t n, ll, olen;
	int progress = 0, complete;

	while (f->sin.len) {
		n = f->sin.len;
		rbuf_peek(&f->sin, FTP_SRV_PIECE, piece, n);
		ll = ftp_line_len(piece, n);
		complete = ll > 0;
		if (!ll) {
			if (n < FTP_SRV_PIECE && !io->server_eof)
				break;		/* the rest of the line comes */
			ll = n;
		}
		if (io->cap - io->to_client->len < ll + 3 * FTP_REPLY_MAX)
			break;			/* back-pressure */
		olen = ftp_server_piece(&f->st, piece, ll, complete, out, sizeof(out));
		if (rbuf_put(io->to_client, io->cap, out, olen))
			return -ATTLS_RC_NOMEM;
		rbuf_consume(&f->sin, ll, FTP_SRV_PIECE);
		ftp_account(f);
		progress = 1;
	}
	if (!f->sin.len)
		rbuf_release(&f->sin);
	return progress;
}

/* Our queued reply -> to_client once the server has answered what came
 * before it (at once when the server's stream ended). */
static int ftp_held_pass(struct ftp_conn *f, struct ftp_io *io)
{
	if (!f->nheld)
		return 0;
	if (!io->server_eof && (f->outstanding || f->st.mid_line || f->st.in_multi))
		return 0;
	if (io->cap - io->to_client->len < f->nheld)
		return 0;
	if (rbuf_put(io->to_client, io->cap, f->held, f->nheld))
		return -ATTLS_RC_NOMEM;
	f->nheld = 0;
	if (f->auth) {
		/* The 234 is the last cleartext byte: the handshake next. */
		f->auth = 0;
		f->handshake = 1;
		io->start_tls = 1;
	}
	return 1;
}

static int ftp_refuse(struct conn *c, const char *why)
{
	trace_err(conn_trace(c), ATTLS_RC_FTP_PROTOCOL, "FTP Control", "%s; connection "
		 "closed (fix: check the client)", why);
	conn_count_ftp(c, CONN_FTP_CLOSED);
	return -ATTLS_RC_FTP_PROTOCOL;
}

/* A command the parser answers itself: log what needs it, act on PROT. */
static int ftp_answer(struct ftp_conn *f, struct conn *c, const char *line,
		      size_t ll, int refused, int prot_changed)
{
	size_t n;
	int err;

	if (refused) {
		/* the verb only (letters, at most 8): the argument may be a
		 * password, and the log must not get control characters */
		for (n = 0; n < ll && n < 8 && isalpha((unsigned char)line[n]); n++)
			;
		trace_err(conn_trace(c), ATTLS_RC_FTP_CLEARTEXT, "FTP Control",
			 "command '%.*s' before AUTH TLS refused with 530; the "
			 "server did not see it (fix: the client must use "
			 "explicit FTPS, e.g. curl --ssl-reqd, or implicit "
			 "FTPS on the TLS port)", (int)n, line);
		conn_count_ftp(c, CONN_FTP_REFUSED);
	}
	if (prot_changed) {
		/* Before the 200 goes out: the client opens the data
		 * connection as soon as it reads it. */
		err = conn_secmap_protect(c, f->st.prot_p);
		if (err) {
			trace_err(conn_trace(c), ATTLS_RC_SECMAP, "FTP Control",
				 "PROT %c: the data protection cannot be set "
				 "in attls_secmap (%s); connection closed",
				 f->st.prot_p ? 'P' : 'C', strerror(-err));
			return -ATTLS_RC_SECMAP;
		}
		trace_event(conn_trace(c), ATTLS_RC_OK, "FTP Control",
			       "data protection %s (PROT %c)",
			       f->st.prot_p ? "Private" : "Clear",
			       f->st.prot_p ? 'P' : 'C');
	}
	return 0;
}

/* Client stream -> judged lines -> to_server, or our reply queued. */
static int ftp_client_pass(struct ftp_conn *f, struct conn *c, struct ftp_io *io)
{
	char line[FTP_LINE_MAX], reply[FTP_REPLY_MAX];
	int progress = 0, refused, prot_changed, err;
	enum ftp_action act;
	size_t n, ll;

	while (f->cin.len) {
		if (f->auth || f->handshake)
			return ftp_refuse(c, "bytes after AUTH TLS before the "
					  "TLS handshake");
		if (f->nheld)
			break;		/* our reply first */
		n = f->cin.len;
		rbuf_peek(&f->cin, FTP_LINE_MAX, line, n);
		ll = ftp_line_len(line, n);
		if (!ll) {
			if (n == FTP_LINE_MAX)
				return ftp_refuse(c, "a command line over 4096 bytes");
			if (io->client_eof) {
				log_debug("%s: FTP: %zu bytes of an unfinished "
					  "command at the end dropped",
					  conn_trace(c)->desc, n);
				rbuf_consume(&f->cin, n, FTP_LINE_MAX);
				progress = 1;
			}
			break;
		}
		if (io->cap - io->to_server->len < ll)
			break;		/* back-pressure */
		act = ftp_client_line(&f->st, line, ll, reply, &refused,
				      &prot_changed);
		switch (act) {
		case FTP_FORWARD:
			if (rbuf_put(io->to_server, io->cap, line, ll))
				return -ATTLS_RC_NOMEM;
			f->outstanding++;
			break;
		case FTP_START_TLS:
			f->auth = 1;
			/* fall through */
		case FTP_REPLY:	/* FTP_START_TLS: the 234 is our reply */
			err = ftp_answer(f, c, line, ll, refused, prot_changed);
			if (err)
				return err;
			f->nheld = strlen(reply);
			memcpy(f->held, reply, f->nheld);
			break;
		case FTP_CLOSE:
		default:
			return ftp_refuse(c, "a command line with a NUL byte");
		}
		rbuf_consume(&f->cin, ll, FTP_LINE_MAX);
		progress = 1;
	}
	if (!f->cin.len)
		rbuf_release(&f->cin);
	return progress;
}

int ftp_conn_pump(struct ftp_conn *f, struct conn *c, struct ftp_io *io)
{
	int progress = 0, r;

	io->start_tls = 0;
	if (f->handshake && io->secure) {
		f->handshake = 0;
		ftp_tls_started(&f->st);
		conn_count_ftp(c, CONN_FTP_AUTH_TLS);
		log_debug("%s: FTP: control connection secured by AUTH TLS",
			  conn_trace(c)->desc);
	}
	r = ftp_server_pass(f, io);
	if (r < 0)
		return r;
	progress |= r;
	r = ftp_held_pass(f, io);
	if (r < 0 || io->start_tls)
		return r;
	progress |= r;
	r = ftp_client_pass(f, c, io);
	if (r < 0)
		return r;
	progress |= r;
	/* a reply the client pass just queued may go at once */
	r = ftp_held_pass(f, io);
	if (r < 0)
		return r;
	return progress | r;
}
