/* SPDX-License-Identifier: MIT */
/*
 * Splits the inside of one {{ }} into tokens for mapping_parser.c. The
 * lexer works on the whole template so every token keeps its byte offset
 * there, which is what error messages and the loader's columns need.
 *
 * Two Fusion details shape it: "1.file.name" starts with a module id, so a
 * number followed by '.' and a letter is an integer token the parser turns
 * into a reference root; and a path segment after '.' may start with a
 * digit ("1.data.2fa"), so the parser asks for segments explicitly.
 */
#include "scenarios/mapping_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"
#include "util/xalloc.h"

bool lexer_is_ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

static bool is_ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c == '$' || c >= 0x80;
}

void lexer_init(struct lexer *lx, const char *src, size_t pos)
{
	*lx = (struct lexer){ .src = src, .pos = pos };
}

void lexer_done(struct lexer *lx)
{
	free(lx->tok.text);
	lx->tok.text = NULL;
}

static void set_token(struct lexer *lx, enum token_kind kind, size_t start)
{
	free(lx->tok.text);
	lx->tok = (struct token){ .kind = kind, .offset = start, .len = lx->pos - start };
}

static void set_error(struct lexer *lx, size_t start, const char *message)
{
	set_token(lx, TOK_ERROR, start);
	lx->tok.error = message;
}

static void skip_space(struct lexer *lx)
{
	while (isspace((unsigned char)lx->src[lx->pos]))
		lx->pos++;
}

/* Backslash escapes in quoted text: \n \t \r and the quote characters and
 * the backslash itself. Any other backslash stays as written, so regular
 * expressions such as "/\d+/g" need no doubling. */
static void lex_string(struct lexer *lx, size_t start)
{
	char quote = lx->src[lx->pos++];
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	for (;;) {
		char c = lx->src[lx->pos];

		if (c == '\0') {
			strbuf_done(&sb);
			set_error(lx, start, "unterminated text literal");
			return;
		}
		lx->pos++;
		if (c == quote)
			break;
		if (c == '\\') {
			char n = lx->src[lx->pos];
			const char *esc = strchr("nrt\\'\"`", n);

			if (n && esc) {
				lx->pos++;
				c = n == 'n' ? '\n' : n == 'r' ? '\r' : n == 't' ? '\t' : n;
			}
		}
		strbuf_putc(&sb, c);
	}
	set_token(lx, TOK_STRING, start);
	lx->tok.text = strbuf_steal(&sb);
}

static void lex_backtick(struct lexer *lx, size_t start)
{
	const char *end = strchr(lx->src + lx->pos + 1, '`');

	if (!end) {
		lx->pos++;
		set_error(lx, start, "unterminated '`'");
		return;
	}
	lx->pos = (size_t)(end - lx->src) + 1;
	set_token(lx, TOK_BACKTICK, start);
	lx->tok.text = xstrndup(lx->src + start + 1, lx->pos - start - 2);
}

static void lex_number(struct lexer *lx, size_t start)
{
	const char *p = lx->src + lx->pos;
	_cleanup_free_ char *digits = NULL;
	bool integer = true;
	char *end;
	double d;

	while (isdigit((unsigned char)*p))
		p++;
	/* "1.5" is a number, "1.name" and "1.`x`" start a reference. */
	if (p[0] == '.' && isdigit((unsigned char)p[1])) {
		integer = false;
		p++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if ((p[0] == 'e' || p[0] == 'E') &&
	    (isdigit((unsigned char)p[1]) ||
	     ((p[1] == '+' || p[1] == '-') && isdigit((unsigned char)p[2])))) {
		integer = false;
		p += 2;
		while (isdigit((unsigned char)*p))
			p++;
	}
	/* strtod would take "1." of "1.name"; read exactly the digits seen. */
	digits = xstrndup(lx->src + start, (size_t)(p - lx->src) - start);
	d = strtod(digits, &end);
	lx->pos = (size_t)(p - lx->src);
	if (*end || !isfinite(d)) {
		set_error(lx, start, "invalid number");
		return;
	}
	set_token(lx, TOK_NUMBER, start);
	lx->tok.number = d;
	lx->tok.integer = integer;
}

static void lex_ident(struct lexer *lx, size_t start)
{
	while (lexer_is_ident_char((unsigned char)lx->src[lx->pos]))
		lx->pos++;
	set_token(lx, TOK_IDENT, start);
	lx->tok.text = xstrndup(lx->src + start, lx->pos - start);
}

static bool lex_operator(struct lexer *lx, size_t start)
{
	static const struct {
		const char *text;
		enum token_kind kind;
		enum op op;
	} ops[] = {
		{ "}}", TOK_CLOSE, 0 },	  { "!=", TOK_OP, OP_NE },  { "<=", TOK_OP, OP_LE },
		{ ">=", TOK_OP, OP_GE },  { "=", TOK_OP, OP_EQ },   { "<", TOK_OP, OP_LT },
		{ ">", TOK_OP, OP_GT },	  { "+", TOK_OP, OP_ADD },  { "-", TOK_OP, OP_SUB },
		{ "*", TOK_OP, OP_MUL },  { "/", TOK_OP, OP_DIV },  { "%", TOK_OP, OP_MOD },
		{ "&", TOK_OP, OP_AND },  { "|", TOK_OP, OP_OR },   { ".", TOK_DOT, 0 },
		{ "[", TOK_LBRACKET, 0 }, { "]", TOK_RBRACKET, 0 }, { "(", TOK_LPAREN, 0 },
		{ ")", TOK_RPAREN, 0 },	  { ";", TOK_SEMI, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(ops); i++) {
		size_t n = strlen(ops[i].text);

		if (strncmp(lx->src + lx->pos, ops[i].text, n) == 0) {
			lx->pos += n;
			set_token(lx, ops[i].kind, start);
			lx->tok.op = ops[i].op;
			return true;
		}
	}
	return false;
}

void lexer_next(struct lexer *lx)
{
	size_t start;
	unsigned char c;

	skip_space(lx);
	start = lx->pos;
	c = (unsigned char)lx->src[lx->pos];
	if (c == '\0')
		set_token(lx, TOK_END, start);
	else if (c == '\'' || c == '"')
		lex_string(lx, start);
	else if (c == '`')
		lex_backtick(lx, start);
	else if (isdigit(c))
		lex_number(lx, start);
	else if (is_ident_start(c))
		lex_ident(lx, start);
	else if (!lex_operator(lx, start)) {
		lx->pos++;
		set_error(lx, start, "unexpected character");
	}
}

void lexer_next_segment(struct lexer *lx)
{
	size_t start = lx->pos;
	unsigned char c = (unsigned char)lx->src[start];

	if (c == '`') {
		lex_backtick(lx, start);
		return;
	}
	if (!lexer_is_ident_char(c)) {
		set_error(lx, start, "expected a field name after '.'");
		return;
	}
	lex_ident(lx, start);
}
