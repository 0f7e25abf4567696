/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * lexer.h - tokens of the AT-TLS policy language.
 *
 * Line oriented like PAGENT: a parameter is "Keyword value..." up to the
 * end of its line, so newlines are tokens.  '#' at the start of a token
 * begins a comment to the end of the line; '{' and '}' are tokens of
 * their own; "double quotes" keep blanks inside one value; everything
 * else up to a blank, brace or quote is one word (so values may contain
 * '/', '*', '.', '-', ':' and '#').
 */
#ifndef ATTLS_LEXER_H
#define ATTLS_LEXER_H

#include <stddef.h>

#include "ast-t.h"

#define LEX_MAX_WORD	1024	/* Keyring paths: 1-1023 chars + NUL */

struct policy_diags;

enum tok_type {
	TOK_EOF = 0,
	TOK_EOL,
	TOK_WORD,
	TOK_LBRACE,
	TOK_RBRACE,
};

struct token {
	enum tok_type type;
	char *text;			/* TOK_WORD: malloc()ed, else NULL */
	struct ast_loc loc;
};

struct lexer {
	const char *file;		/* owned by the policy */
	const char *p;
	const char *end;
	unsigned line;
	unsigned col;
	struct policy_diags *d;
};

/* Start lexing `len` bytes of `text`; `file` names it in locations. */
void lex_init(struct lexer *lx, const char *file, const char *text,
	      size_t len, struct policy_diags *d);

/*
 * Store the next token in *t (the caller owns t->text and releases it
 * with tok_clear()).  Malformed input (control characters, unterminated
 * quotes, over-long words) is reported to the diagnostics and skipped or
 * truncated, so lexing always makes progress.  Returns 0 or -ENOMEM.
 */
int lex_next(struct lexer *lx, struct token *t);

/* Free a token's text and reset it to TOK_EOF; NULL-safe. */
void tok_clear(struct token *t);

/* Printable description of a token for messages: "'word'", "'{'", "end of line". */
const char *tok_describe(const struct token *t, char *buf, size_t len);

#endif /* ATTLS_LEXER_H */
