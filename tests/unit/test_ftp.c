// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_ftp.c - the FTP helper's line parser and rewriter (user/ftp.c) and
 * the ApplicationProtocol policy parameter that turns it on.
 */
#include <errno.h>
#include <string.h>

#include "../../user/ftp.h"
#include "policy_build.h"
#include "unit.h"

/* Feed one client line; returns the action, reply in r. */
static enum ftp_action cmd(struct ftp_state *s, const char *line, char *r,
			   int *refused, int *prot)
{
	return ftp_client_line(s, line, strlen(line), r, refused, prot);
}

/* Feed whole server lines; the client-bound text in out. */
static void srv(struct ftp_state *s, const char *text, char *out, size_t cap)
{
	size_t at = 0, n, len = strlen(text);

	while (len && (n = ftp_line_len(text, len))) {
		at += ftp_server_piece(s, text, n, 1, out + at, cap - at);
		text += n;
		len -= n;
	}
	out[at] = '\0';
}

static void test_line_len(void)
{
	ASSERT_EQ(ftp_line_len("USER a\r\nPASS", 12), 8, "CRLF line");
	ASSERT_EQ(ftp_line_len("NOOP\n", 5), 5, "LF line");
	ASSERT_EQ(ftp_line_len("NOOP", 4), 0, "incomplete");
}

static void test_parse(void)
{
	struct ftp_cmd c;

	ASSERT_EQ(ftp_cmd_parse("auth tls\r\n", 10, &c), 0, "parse");
	ASSERT_EQ(c.verb, FTP_V_AUTH, "lower case verb");
	ASSERT_EQ(c.arglen, 3, "argument without CRLF");
	ASSERT_EQ(ftp_cmd_parse("RETR\r\n", 6, &c), 0, "no argument");
	ASSERT_EQ(c.verb, FTP_V_OTHER, "other verb");
	ASSERT_STREQ(c.arg, "", "empty argument");
	ASSERT_EQ(ftp_cmd_parse("AUTHX TLS\r\n", 11, &c), 0, "longer word");
	ASSERT_EQ(c.verb, FTP_V_OTHER, "AUTHX is not AUTH");
	ASSERT_EQ(ftp_cmd_parse("USER a\0b\r\n", 10, &c), -EINVAL, "NUL byte");
	ASSERT_EQ(ftp_cmd_parse("NOOP x\rUSER bob\r\n", 17, &c), -EINVAL,
		  "a lone CR would end a line for some servers: a second, unjudged command");
	ASSERT_EQ(ftp_cmd_parse("NOOP\r\r\n", 7, &c), -EINVAL, "CR before CRLF");
	ASSERT_EQ(ftp_cmd_parse("NOOP\r\n", 6, &c), 0, "CRLF ends the line");
}

static void test_no_cleartext_login(void)
{
	struct ftp_state s;
	char r[FTP_REPLY_MAX];
	int refused, prot;

	ftp_init(&s, 0);
	ASSERT_EQ(cmd(&s, "USER alice\r\n", r, &refused, &prot), FTP_REPLY, "USER");
	ASSERT_EQ(refused, 1, "USER refused");
	ASSERT_TRUE(!strncmp(r, "530 ", 4), r);
	ASSERT_EQ(cmd(&s, "PASS secret\r\n", r, &refused, &prot), FTP_REPLY, "PASS");
	ASSERT_EQ(refused, 1, "PASS refused");
	ASSERT_EQ(cmd(&s, " USER alice\r\n", r, &refused, &prot), FTP_REPLY,
		  "leading blank is not a way around");
	ASSERT_EQ(cmd(&s, "RETR /etc/passwd\r\n", r, &refused, &prot), FTP_REPLY, "RETR");
	ASSERT_EQ(cmd(&s, "FEAT\r\n", r, &refused, &prot), FTP_FORWARD, "FEAT");
	ASSERT_EQ(cmd(&s, "SYST\r\n", r, &refused, &prot), FTP_FORWARD, "SYST");
	ASSERT_EQ(cmd(&s, "QUIT\r\n", r, &refused, &prot), FTP_FORWARD, "QUIT");
	ASSERT_EQ(cmd(&s, "PROT P\r\n", r, &refused, &prot), FTP_REPLY, "PROT early");
	ASSERT_TRUE(!strncmp(r, "503 ", 4), r);
	ASSERT_EQ(cmd(&s, "AUTH GSSAPI\r\n", r, &refused, &prot), FTP_REPLY, "GSSAPI");
	ASSERT_TRUE(!strncmp(r, "504 ", 4), r);
}

static void test_auth_pbsz_prot(void)
{
	struct ftp_state s;
	char r[FTP_REPLY_MAX];
	int refused, prot;

	ftp_init(&s, 0);
	ASSERT_EQ(cmd(&s, "AUTH SSL\r\n", r, &refused, &prot), FTP_START_TLS,
		  "AUTH SSL (curl asks first)");
	ASSERT_TRUE(!strncmp(r, "234 ", 4), r);
	ftp_tls_started(&s);
	ASSERT_EQ(cmd(&s, "USER alice\r\n", r, &refused, &prot), FTP_FORWARD,
		  "USER under TLS");
	ASSERT_EQ(cmd(&s, "PBSZ 0\r\n", r, &refused, &prot), FTP_REPLY, "PBSZ");
	ASSERT_STREQ(r, "200 PBSZ=0\r\n", "PBSZ reply");
	ASSERT_EQ(cmd(&s, "PROT P\r\n", r, &refused, &prot), FTP_REPLY, "PROT P");
	ASSERT_EQ(prot, 1, "changed");
	ASSERT_EQ(s.prot_p, 1, "private");
	ASSERT_EQ(cmd(&s, "prot p\r\n", r, &refused, &prot), FTP_REPLY, "again");
	ASSERT_EQ(prot, 0, "unchanged");
	ASSERT_EQ(cmd(&s, "PROT C\r\n", r, &refused, &prot), FTP_REPLY, "PROT C");
	ASSERT_EQ(s.prot_p, 0, "clear");
	ASSERT_EQ(cmd(&s, "PROT S\r\n", r, &refused, &prot), FTP_REPLY, "PROT S");
	ASSERT_TRUE(!strncmp(r, "536 ", 4), r);
	ASSERT_EQ(cmd(&s, "CCC\r\n", r, &refused, &prot), FTP_REPLY, "CCC");
	ASSERT_TRUE(!strncmp(r, "534 ", 4), r);
	ASSERT_EQ(cmd(&s, "AUTH TLS\r\n", r, &refused, &prot), FTP_REPLY, "AUTH twice");
}

static void test_implicit(void)
{
	struct ftp_state s;
	char r[FTP_REPLY_MAX];
	int refused, prot;

	ftp_init(&s, 1);
	ASSERT_EQ(s.prot_p, 1, "implicit starts Private");
	ASSERT_EQ(cmd(&s, "USER a\r\n", r, &refused, &prot), FTP_FORWARD, "USER");
}

static void test_overlong(void)
{
	static char line[FTP_LINE_MAX + 2];
	struct ftp_state s;
	char r[FTP_REPLY_MAX];
	int refused, prot;

	ftp_init(&s, 1);
	memset(line, 'A', sizeof(line) - 1);
	line[sizeof(line) - 2] = '\n';
	ASSERT_EQ(cmd(&s, line, r, &refused, &prot), FTP_CLOSE, "overlong line");
}

static void test_feat_rewrite(void)
{
	struct ftp_state s;
	char r[FTP_REPLY_MAX], out[2048];
	int refused, prot;

	ftp_init(&s, 0);
	srv(&s, "220 (vsFTPd 3.0.3)\r\n", out, sizeof(out));
	ASSERT_STREQ(out, "220 (vsFTPd 3.0.3)\r\n", "banner untouched");
	cmd(&s, "FEAT\r\n", r, &refused, &prot);
	srv(&s, "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n"
		" SIZE\r\n TVFS\r\n211 End\r\n", out, sizeof(out));
	ASSERT_STREQ(out, "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n"
		     " REST STREAM\r\n SIZE\r\n TVFS\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n"
		     "211 End\r\n", "FEAT completed");
	/* a later 211 (STAT) is not a FEAT reply */
	srv(&s, "211-Status:\r\n x\r\n211 End\r\n", out, sizeof(out));
	ASSERT_STREQ(out, "211-Status:\r\n x\r\n211 End\r\n", "STAT untouched");
	/* a server listing some itself gets only the missing ones */
	cmd(&s, "FEAT\r\n", r, &refused, &prot);
	srv(&s, "211-Features:\r\n AUTH TLS\r\n PBSZ\r\n211 End\r\n", out, sizeof(out));
	ASSERT_STREQ(out, "211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n211 End\r\n",
		     "no duplicates");
	/* a one-line 211 becomes a list; a 500 stays */
	cmd(&s, "FEAT\r\n", r, &refused, &prot);
	srv(&s, "211 No features\r\n", out, sizeof(out));
	ASSERT_STREQ(out, "211-Features (attls):\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n"
		     "211 End\r\n", "one-line FEAT");
	cmd(&s, "FEAT\r\n", r, &refused, &prot);
	srv(&s, "500 Unknown command.\r\n", out, sizeof(out));
	ASSERT_STREQ(out, "500 Unknown command.\r\n", "no FEAT support");
	ASSERT_EQ(s.feat_pending, 0, "every FEAT answered");
	ASSERT_EQ(s.finals, 6, "six final replies");
	srv(&s, "150 Here it comes.\r\n", out, sizeof(out));
	ASSERT_EQ(s.finals, 6, "a preliminary reply is not final");
	srv(&s, "226-Done\r\n 226 in the text\r\n226 Transfer complete.\r\n", out, sizeof(out));
	ASSERT_EQ(s.finals, 7, "a multi-line final counts once");
}

static void test_fragments(void)
{
	struct ftp_state s;
	char out[256];
	size_t n;

	ftp_init(&s, 1);
	n = ftp_server_piece(&s, "211 ", 4, 0, out, sizeof(out));
	ASSERT_EQ(n, 4, "fragment passed");
	n = ftp_server_piece(&s, "211 End\r\n", 9, 1, out, sizeof(out));
	ASSERT_EQ(n, 9, "its continuation is not a line start");
}

static const char *POLICY_FTP =
	"TTLSRule r\n{\n LocalPortRange 21\n Direction Inbound\n"
	" TTLSGroupActionRef g\n TTLSEnvironmentActionRef e\n"
	" TTLSConnectionActionRef c\n}\n"
	"TTLSGroupAction g\n{\n TTLSEnabled On\n}\n"
	"TTLSEnvironmentAction e\n{\n HandshakeRole Server\n"
	" TTLSKeyringParms\n {\n Keyring test/ring\n }\n"
	" TTLSEnvironmentAdvancedParms\n {\n ApplicationProtocol FTP\n"
	" SecondaryMap On\n }\n}\n"
	"TTLSConnectionAction c\n{\n TTLSConnectionAdvancedParms\n {\n"
	" %s\n }\n}\n";

static void test_policy_parameter(void)
{
	struct attls_map_image img;
	char text[1024], *diags = NULL;
	int rc;

	snprintf(text, sizeof(text), POLICY_FTP, "HandshakeTimeout 5");
	rc = policy_build_at(text, 0, &img, &diags);
	if (ASSERT_EQ(rc, 0, diags)) {
		ASSERT_EQ(img.envs[0].app_protocol, ATTLS_APP_FTP, "FTP");
		ASSERT_EQ(img.envs[0].secondary_map, 1, "SecondaryMap");
		attls_map_image_free(&img);
	}
	free(diags);
	snprintf(text, sizeof(text), POLICY_FTP, "ApplicationProtocol None");
	rc = policy_build_at(text, 0, &img, &diags);
	if (ASSERT_EQ(rc, 0, diags)) {
		ASSERT_EQ(img.envs[0].app_protocol, ATTLS_APP_NONE,
			  "connection level over environment");
		attls_map_image_free(&img);
	}
	free(diags);
	snprintf(text, sizeof(text), POLICY_FTP, "ApplicationProtocol SMTP");
	rc = policy_build_at(text, 0, &img, &diags);
	ASSERT_TRUE(rc != 0, "SMTP refused");
	ASSERT_TRUE(strstr(diags, "t.policy:30:") != NULL, diags);
	free(diags);
	snprintf(text, sizeof(text), POLICY_FTP, "SecondaryMap Off");
	rc = policy_build_at(text, 0, &img, &diags);
	ASSERT_TRUE(rc != 0, "FTP without SecondaryMap refused");
	ASSERT_TRUE(diags && strstr(diags, "needs SecondaryMap On") != NULL, diags);
	free(diags);
	snprintf(text, sizeof(text), POLICY_FTP, "HandshakeTimeout 5");
	memcpy(strstr(text, "HandshakeRole Server") + 14, "Client", 6);
	rc = policy_build_at(text, 0, &img, &diags);
	ASSERT_TRUE(rc != 0, "FTP with HandshakeRole Client refused");
	ASSERT_TRUE(diags && strstr(diags, "HandshakeRole Client is not supported") != NULL,
		    diags);
	free(diags);
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_line_len),
		UNIT_TEST(test_parse),
		UNIT_TEST(test_no_cleartext_login),
		UNIT_TEST(test_auth_pbsz_prot),
		UNIT_TEST(test_implicit),
		UNIT_TEST(test_overlong),
		UNIT_TEST(test_feat_rewrite),
		UNIT_TEST(test_fragments),
		UNIT_TEST(test_policy_parameter),
	};

	return unit_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
