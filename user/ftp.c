// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ftp.c - the FTP control-connection helper (ftp.h; RFC 959, RFC 2228,
 * RFC 2389 FEAT, RFC 4217 FTP over TLS).  Pure: no I/O, no allocation.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ftp.h"

static const struct {
	const char *word;
	enum ftp_verb verb;
} verbs[] = {
	{ "AUTH", FTP_V_AUTH }, { "PBSZ", FTP_V_PBSZ }, { "PROT", FTP_V_PROT },
	{ "CCC", FTP_V_CCC },   { "FEAT", FTP_V_FEAT }, { "QUIT", FTP_V_QUIT },
	{ "NOOP", FTP_V_NOOP }, { "SYST", FTP_V_SYST }, { "HELP", FTP_V_HELP },
	{ "OPTS", FTP_V_OPTS }, { "USER", FTP_V_USER }, { "PASS", FTP_V_PASS },
};

/* The features RFC 4217 says a server with TLS lists in FEAT. */
#define FEAT_AUTH	" AUTH TLS\r\n"
#define FEAT_PBSZ	" PBSZ\r\n"
#define FEAT_PROT	" PROT\r\n"

void ftp_init(struct ftp_state *s, int implicit)
{
	memset(s, 0, sizeof(*s));
	s->tls = !!implicit;
	s->prot_p = !!implicit;
}

size_t ftp_line_len(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);

	return nl ? (size_t)(nl - buf) + 1 : 0;
}

/* Length of line without its line end (LF, CRLF). */
static size_t line_body(const char *line, size_t len)
{
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	return len;
}

int ftp_cmd_parse(const char *line, size_t len, struct ftp_cmd *cmd)
{
	size_t n = line_body(line, len), w, i;

	memset(cmd, 0, sizeof(*cmd));
	cmd->arg = "";
	/*
	 * NUL anywhere, or a CR that does not end the line: a server that
	 * takes a lone CR as a line end would see a second command the
	 * helper never judged ("NOOP x\rUSER bob\r\n" before AUTH TLS).
	 * RFC 959 sends a CR inside a path name as CR NUL, refused anyway.
	 */
	if (memchr(line, '\0', len) || memchr(line, '\r', n))
		return -EINVAL;
	for (w = 0; w < n && line[w] != ' '; w++)
		;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strlen(verbs[i].word) == w &&
		    !strncasecmp(line, verbs[i].word, w)) {
			cmd->verb = verbs[i].verb;
			break;
		}
	}
	if (w < n) {
		cmd->arg = line + w + 1;
		cmd->arglen = n - w - 1;
	}
	return 0;
}

/* Does the argument equal `word` (case-insensitive, trailing blanks ok)? */
static int arg_is(const struct ftp_cmd *c, const char *word)
{
	size_t n = c->arglen, wl = strlen(word);

	while (n && c->arg[n - 1] == ' ')
		n--;
	return n == wl && !strncasecmp(c->arg, word, wl);
}

static enum ftp_action say(char *reply, const char *text)
{
	snprintf(reply, FTP_REPLY_MAX, "%s\r\n", text);
	return FTP_REPLY;
}

/* Under TLS: everything but the security commands goes to the server. */
static enum ftp_action client_tls(struct ftp_state *s, const struct ftp_cmd *c,
				  char *reply, int *prot_changed)
{
	int p;

	switch (c->verb) {
	case FTP_V_AUTH:
		return say(reply, "503 Already using TLS on this connection (attls).");
	case FTP_V_CCC:
		/* the control connection never goes back to cleartext */
		return say(reply, "534 CCC refused: the control connection stays protected (attls).");
	case FTP_V_PBSZ:
		s->pbsz = 1;
		return say(reply, "200 PBSZ=0");
	case FTP_V_PROT:
		if (arg_is(c, "P")) {
			p = 1;
		} else if (arg_is(c, "C")) {
			p = 0;
		} else if (arg_is(c, "S") || arg_is(c, "E")) {
			return say(reply, "536 Protection level not supported: use C or P (attls).");
		} else {
			return say(reply, "504 Protection level unknown: use C or P (attls).");
		}
		*prot_changed = s->prot_p != p;
		s->prot_p = p;
		return say(reply, p ? "200 Protection level set to Private (attls)." :
				      "200 Protection level set to Clear (attls).");
	case FTP_V_FEAT:
		s->feat_pending++;
		return FTP_FORWARD;
	default:
		return FTP_FORWARD;
	}
}

/* Before AUTH TLS: an allow list, so nothing unforeseen reaches the server. */
static enum ftp_action client_clear(struct ftp_state *s, const struct ftp_cmd *c,
				    char *reply, int *refused)
{
	switch (c->verb) {
	case FTP_V_AUTH:
		if (arg_is(c, "TLS") || arg_is(c, "TLS-C") || arg_is(c, "SSL") ||
		    arg_is(c, "TLS-P")) {
			snprintf(reply, FTP_REPLY_MAX,
				 "234 Proceed with negotiation (attls).\r\n");
			return FTP_START_TLS;
		}
		return say(reply, "504 AUTH type not supported: use AUTH TLS (attls).");
	case FTP_V_PBSZ:
	case FTP_V_PROT:
	case FTP_V_CCC:
		return say(reply, "503 Send AUTH TLS first (attls).");
	case FTP_V_FEAT:
		s->feat_pending++;
		return FTP_FORWARD;
	case FTP_V_QUIT:
	case FTP_V_NOOP:
	case FTP_V_SYST:
	case FTP_V_HELP:
	case FTP_V_OPTS:
		return FTP_FORWARD;
	default:
		*refused = 1;
		return say(reply, "530 This server requires TLS: send AUTH TLS first (attls).");
	}
}

enum ftp_action ftp_client_line(struct ftp_state *s, const char *line,
				size_t len, char *reply, int *refused,
				int *prot_changed)
{
	struct ftp_cmd c;

	*refused = 0;
	*prot_changed = 0;
	reply[0] = '\0';
	if (len > FTP_LINE_MAX || ftp_cmd_parse(line, len, &c))
		return FTP_CLOSE;
	if (s->tls)
		return client_tls(s, &c, reply, prot_changed);
	return client_clear(s, &c, reply, refused);
}

void ftp_tls_started(struct ftp_state *s)
{
	s->tls = 1;
}

/* "ddd-" or "ddd " at the start of a reply line: 1 and *multi set. */
static int reply_start(const char *p, size_t len, int *multi)
{
	if (len < 4 || p[0] < '1' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9' || (p[3] != '-' && p[3] != ' '))
		return 0;
	*multi = p[3] == '-';
	return 1;
}

/* A feature line of the server's FEAT reply: note what it lists itself. */
static void feat_note(struct ftp_state *s, const char *p, size_t len)
{
	size_t n = line_body(p, len);

	if (n >= 5 && !strncasecmp(p, " AUTH", 5))
		s->seen_auth = 1;
	else if (n == 5 && !strncasecmp(p, " PBSZ", 5))
		s->seen_pbsz = 1;
	else if (n == 5 && !strncasecmp(p, " PROT", 5))
		s->seen_prot = 1;
}

static size_t put(char *out, size_t at, size_t cap, const char *p, size_t n)
{
	if (at + n > cap)
		n = cap - at;
	memcpy(out + at, p, n);
	return at + n;
}

/* The TLS features the server's list lacks. */
static size_t feat_add(struct ftp_state *s, char *out, size_t at, size_t cap)
{
	if (!s->seen_auth)
		at = put(out, at, cap, FEAT_AUTH, strlen(FEAT_AUTH));
	if (!s->seen_pbsz)
		at = put(out, at, cap, FEAT_PBSZ, strlen(FEAT_PBSZ));
	if (!s->seen_prot)
		at = put(out, at, cap, FEAT_PROT, strlen(FEAT_PROT));
	s->seen_auth = s->seen_pbsz = s->seen_prot = 0;
	return at;
}

size_t ftp_server_piece(struct ftp_state *s, const char *piece, size_t len,
			int complete, char *out, size_t cap)
{
	int starts = !s->mid_line, multi = 0;
	size_t at = 0;

	s->mid_line = !complete;
	if (!starts) {
		return put(out, 0, cap, piece, len);
	}
	if (s->in_multi) {
		/* the end line repeats the code followed by a space */
		if (len >= 4 && !memcmp(piece, s->multi_code, 3) && piece[3] == ' ') {
			s->in_multi = 0;
			s->finals += piece[0] != '1';
			if (s->feat_reply) {
				s->feat_reply = 0;
				at = feat_add(s, out, at, cap);
			}
		} else if (s->feat_reply) {
			feat_note(s, piece, len);
		}
		return put(out, at, cap, piece, len);
	}
	if (!reply_start(piece, len, &multi))
		return put(out, 0, cap, piece, len);	/* not a reply: as is */
	if (s->feat_pending && piece[0] != '1') {
		/* the (final) reply to the oldest FEAT */
		s->feat_pending--;
		if (!memcmp(piece, "211", 3)) {
			if (multi) {
				s->feat_reply = 1;
			} else {
				/* "211 no features": make it a list */
				static const char head[] = "211-Features (attls):\r\n";

				at = put(out, at, cap, head, sizeof(head) - 1);
				at = feat_add(s, out, at, cap);
				s->finals++;
				return put(out, at, cap, "211 End\r\n", 9);
			}
		}
	}
	if (multi) {
		s->in_multi = 1;
		memcpy(s->multi_code, piece, 3);
	} else {
		s->finals += piece[0] != '1';
	}
	return put(out, at, cap, piece, len);
}
