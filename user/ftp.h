/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ftp.h - the FTP control-connection helper of ApplicationProtocol FTP
 * (docs/ftp.md): a pure line parser and rewriter, no sockets, no TLS.
 *
 * The engine gives it every complete command line from the client and
 * every reply line from the server.  For a server that knows nothing of
 * TLS it answers AUTH TLS/SSL (234, then the engine starts the TLS server
 * handshake), PBSZ and PROT itself, adds AUTH TLS, PBSZ and PROT to the
 * server's FEAT reply, refuses every command but AUTH, FEAT, SYST, HELP,
 * NOOP, OPTS and QUIT before AUTH TLS (530: no USER or PASS ever reaches
 * the server in cleartext), refuses CCC, and tells the engine the data
 * protection PROT set (for SecondaryMap).  Client input is hostile:
 * everything is bounded, and what it cannot judge it refuses.
 */
#ifndef ATTLS_FTP_H
#define ATTLS_FTP_H

#include <stddef.h>

/* Longest command line accepted, CRLF included (vsftpd's limit too). */
#define FTP_LINE_MAX		4096
/* Longest reply the helper itself makes, or adds to FEAT. */
#define FTP_REPLY_MAX		256

enum ftp_verb {
	FTP_V_OTHER = 0,
	FTP_V_AUTH,
	FTP_V_PBSZ,
	FTP_V_PROT,
	FTP_V_CCC,
	FTP_V_FEAT,
	FTP_V_QUIT,
	FTP_V_NOOP,
	FTP_V_SYST,
	FTP_V_HELP,
	FTP_V_OPTS,
	FTP_V_USER,
	FTP_V_PASS,
};

/* What to do with one client command line. */
enum ftp_action {
	FTP_FORWARD = 0,	/* pass it to the server unchanged */
	FTP_REPLY,		/* the server never sees it; send `reply` */
	FTP_START_TLS,		/* send `reply` (234) in cleartext, then the
				 * TLS server handshake; nothing may follow
				 * the line in the same read */
	FTP_CLOSE,		/* hostile or unusable: end the connection */
};

struct ftp_state {
	unsigned tls:1;		/* the control connection is TLS */
	unsigned pbsz:1;	/* PBSZ seen (under TLS) */
	unsigned prot_p:1;	/* data protection Private (PROT P) */
	unsigned in_multi:1;	/* inside a multi-line reply */
	unsigned feat_reply:1;	/* ... which answers FEAT */
	unsigned mid_line:1;	/* server: inside a line passed in pieces */
	unsigned seen_auth:1;	/* the server's FEAT lists these itself */
	unsigned seen_pbsz:1;
	unsigned seen_prot:1;
	unsigned feat_pending;	/* FEATs forwarded, reply not yet seen */
	unsigned finals;	/* final (2xx-5xx) replies completed so far:
				 * the engine pairs them with the commands
				 * it forwarded, to order its own replies */
	char multi_code[3];	/* code of the multi-line reply */
};

struct ftp_cmd {
	enum ftp_verb verb;
	const char *arg;	/* after the first space; "" if none */
	size_t arglen;		/* without the line end */
};

/*
 * Start a control connection.  implicit: TLS from the first byte (a TLS
 * port such as 990); data protection then starts Private, as implicit
 * FTPS clients expect, else Clear (RFC 4217).
 */
void ftp_init(struct ftp_state *s, int implicit);

/*
 * Length of the first complete line of buf[0..len) including its LF, or
 * 0 when there is none yet.
 */
size_t ftp_line_len(const char *buf, size_t len);

/*
 * Parse one command line (`len` bytes, line end included or not).  The
 * verb is the text before the first space, case-insensitive.  0, or
 * -EINVAL when the line holds a NUL byte (never valid FTP; a server's C
 * parser would see a different line than we do).
 */
int ftp_cmd_parse(const char *line, size_t len, struct ftp_cmd *cmd);

/*
 * Decide on one complete client command line (line end included; at most
 * FTP_LINE_MAX bytes, longer is FTP_CLOSE).  reply gets the answer for
 * FTP_REPLY / FTP_START_TLS (CRLF-terminated, NUL-terminated, at most
 * FTP_REPLY_MAX).  *refused is set to 1 when a command was refused for
 * being sent before AUTH TLS (RC 5142), else 0.  *prot_changed is set to
 * 1 when PROT changed s->prot_p.
 */
enum ftp_action ftp_client_line(struct ftp_state *s, const char *line,
				size_t len, char *reply, int *refused,
				int *prot_changed);

/*
 * The TLS handshake after FTP_START_TLS completed: commands now come
 * under TLS.
 */
void ftp_tls_started(struct ftp_state *s);

/*
 * One piece of the server's reply stream: a complete line (complete = 1,
 * line end included) or, for a line longer than the caller's buffer, a
 * fragment (complete = 0, passed through; the next piece continues it).
 * Writes what to send to the client into out (cap bytes, at least
 * len + 3 * FTP_REPLY_MAX) and returns its length: the piece itself,
 * with the FEAT reply completed by the TLS features.
 */
size_t ftp_server_piece(struct ftp_state *s, const char *piece, size_t len,
			int complete, char *out, size_t cap);

#endif /* ATTLS_FTP_H */
