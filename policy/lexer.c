// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * lexer.c - tokenizer for AT-TLS policy files (relayd-style, hand-written).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "lexer.h"

void lex_init(struct lexer *lx, const char *file, const char *text,
	      size_t len, struct policy_diags *d)
{
	lx->file = file;
	lx->p = text;
	lx->end = text + len;
	lx->line = 1;
	lx->col = 1;
	lx->d = d;
}

void tok_clear(struct token *t)
{
	if (!t)
		return;
	free(t->text);
	t->text = NULL;
	t->type = TOK_EOF;
}

static struct ast_loc lex_loc(const struct lexer *lx)
{
	struct ast_loc l = { .file = lx->file, .line = lx->line, .col = lx->col };

	return l;
}

static int lex_peekc(const struct lexer *lx)
{
	return lx->p < lx->end ? (unsigned char)*lx->p : -1;
}

static void lex_advance(struct lexer *lx)
{
	if (*lx->p == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->p++;
}

/* Blanks between tokens; '\r' too, so CRLF files from z/OS transfers work. */
static int is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Bytes that are never part of a policy: C0 controls other than blanks, DEL. */
static int is_bad(int c)
{
	return (c < 0x20 && c != '\n' && !is_blank(c)) || c == 0x7f;
}

static int ends_word(int c)
{
	return c < 0 || c == '\n' || is_blank(c) || c == '{' || c == '}' ||
	       c == '"' || is_bad(c);
}

static void skip_comment(struct lexer *lx)
{
	while (lex_peekc(lx) >= 0 && lex_peekc(lx) != '\n')
		lex_advance(lx);
}

static int lex_word(struct lexer *lx, struct token *t)
{
	char buf[LEX_MAX_WORD];
	size_t n = 0;
	int quoted = lex_peekc(lx) == '"';
	int c;

	if (quoted)
		lex_advance(lx);
	for (;;) {
		c = lex_peekc(lx);
		if (quoted) {
			if (c < 0 || c == '\n') {
				diag_add(lx->d, POLICY_SEV_ERROR, &t->loc,
					 "close the quote on the same line",
					 "unterminated quoted string");
				break;
			}
			if (c == '"') {
				lex_advance(lx);
				break;
			}
			if (is_bad(c))
				break;
		} else if (ends_word(c)) {
			break;
		}
		if (n == sizeof(buf) - 1) {
			diag_add(lx->d, POLICY_SEV_ERROR, &t->loc, NULL,
				 "value is longer than %d characters",
				 LEX_MAX_WORD - 1);
			n++;	/* remember the overflow */
		}
		if (n < sizeof(buf) - 1)
			buf[n++] = (char)c;
		lex_advance(lx);
	}
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	buf[n] = '\0';
	t->type = TOK_WORD;
	t->text = strdup(buf);
	return t->text ? 0 : -ENOMEM;
}

int lex_next(struct lexer *lx, struct token *t)
{
	int c;

	t->text = NULL;
	for (;;) {
		c = lex_peekc(lx);
		if (c < 0) {
			t->loc = lex_loc(lx);
			t->type = TOK_EOF;
			return 0;
		}
		if (is_blank(c)) {
			lex_advance(lx);
			continue;
		}
		if (c == '#') {
			skip_comment(lx);
			continue;
		}
		if (is_bad(c)) {
			struct ast_loc l = lex_loc(lx);

			diag_add(lx->d, POLICY_SEV_ERROR, &l,
				 "policy files are plain text; remove it",
				 "invalid character 0x%02x", c);
			lex_advance(lx);
			continue;
		}
		break;
	}
	t->loc = lex_loc(lx);
	switch (c) {
	case '\n':
		t->type = TOK_EOL;
		break;
	case '{':
		t->type = TOK_LBRACE;
		break;
	case '}':
		t->type = TOK_RBRACE;
		break;
	default:
		return lex_word(lx, t);
	}
	lex_advance(lx);
	return 0;
}

const char *tok_describe(const struct token *t, char *buf, size_t len)
{
	switch (t->type) {
	case TOK_EOF:
		return "end of file";
	case TOK_EOL:
		return "end of line";
	case TOK_LBRACE:
		return "'{'";
	case TOK_RBRACE:
		return "'}'";
	case TOK_WORD:
		break;
	}
	snprintf(buf, len, "'%s'", t->text);
	return buf;
}
