// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_ftp.c - libFuzzer target for the FTP helper (user/ftp.c): a client
 * can send anything, and so can a compromised server.
 *
 * The first byte picks implicit or explicit mode; the rest is split at
 * LFs into lines, each line's first byte choosing the client (even) or
 * the server (odd) side, the server side sometimes in fragments.  Checks
 * the helper's promises, not only memory safety: before TLS only the
 * allow-listed verbs are forwarded (no USER/PASS in cleartext), replies
 * are NUL-terminated CRLF lines with a 3-digit code, rewritten server
 * output fits its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../user/ftp.h"

static void check_forward(const struct ftp_state *before, const char *line,
			  size_t len)
{
	struct ftp_cmd c;

	if (before->tls)
		return;
	if (ftp_cmd_parse(line, len, &c))
		abort();
	switch (c.verb) {
	case FTP_V_FEAT: case FTP_V_QUIT: case FTP_V_NOOP: case FTP_V_SYST:
	case FTP_V_HELP: case FTP_V_OPTS:
		return;
	default:
		abort();	/* something else reached the server in cleartext */
	}
}

static void check_reply(const char *r)
{
	size_t n = strnlen(r, FTP_REPLY_MAX);

	if (n == FTP_REPLY_MAX || n < 6 || r[0] < '1' || r[0] > '5' ||
	    r[n - 2] != '\r' || r[n - 1] != '\n')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[FTP_LINE_MAX + 4 * FTP_REPLY_MAX];
	char reply[FTP_REPLY_MAX];
	struct ftp_state s, before;
	const char *p = (const char *)data;
	int refused, prot;
	size_t n, len;

	if (!size)
		return 0;
	ftp_init(&s, data[0] & 1);
	p++;
	size--;
	while (size) {
		len = ftp_line_len(p, size);
		if (!len)
			len = size;
		if (len > FTP_LINE_MAX + 1)
			len = FTP_LINE_MAX + 1;
		if (!(p[0] & 1)) {
			before = s;
			switch (ftp_client_line(&s, p, len, reply, &refused, &prot)) {
			case FTP_FORWARD:
				check_forward(&before, p, len);
				break;
			case FTP_START_TLS:
				check_reply(reply);
				ftp_tls_started(&s);
				break;
			case FTP_REPLY:
				check_reply(reply);
				break;
			case FTP_CLOSE:
				break;
			}
		} else {
			size_t half = (p[0] & 2) ? len / 2 : 0;

			if (half) {
				n = ftp_server_piece(&s, p, half, 0, out, sizeof(out));
				if (n > sizeof(out))
					abort();
			}
			n = ftp_server_piece(&s, p + half, len - half,
					     ftp_line_len(p, len) == len, out,
					     sizeof(out));
			if (n > sizeof(out) || n < len - half)
				abort();
		}
		p += len;
		size -= len;
	}
	return 0;
}
