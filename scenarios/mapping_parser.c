/* SPDX-License-Identifier: MIT */
/*
 * The mapping compiler: splits a template into literal text and {{ }}
 * parts and parses each expression into a syntax tree, by recursive
 * descent over the grammar in MAPPING.md. Everything that can be checked
 * without data is checked here, once, when the scenario loads: syntax,
 * unknown functions and argument counts. Errors carry the byte offset in
 * the template; the loader turns it into a line and column.
 */
#include "scenarios/mapping.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/mapping_internal.h"
#include "util/xalloc.h"

struct parser {
	struct lexer lx;
	const char *src;
	size_t open; /* offset of the "{{" being parsed */
	int depth; /* parentheses and calls */
	bool failed;
	size_t err_offset;
	char *err_message; /* owned */
};

static struct node *parse_expr(struct parser *p);

static void fail(struct parser *p, size_t offset, const char *fmt, ...) _printf_(3, 4);
static void fail(struct parser *p, size_t offset, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	p->err_offset = offset;
	va_start(ap, fmt);
	p->err_message = xvasprintf(fmt, ap);
	va_end(ap);
}

/* Reports the current token as unexpected, with the lexer's own message
 * for a bad token and Fusion users' most common slip (a ',') called out. */
static void fail_unexpected(struct parser *p, const char *expected)
{
	const struct token *t = &p->lx.tok;

	if (p->src[t->offset] == ',')
		fail(p, t->offset, "expected %s; arguments are separated by ';', not ','",
		     expected);
	else if (t->kind == TOK_ERROR)
		fail(p, t->offset, "%s", t->error);
	else if (t->kind == TOK_END)
		fail(p, p->open, "unterminated '{{'");
	else if (t->kind == TOK_CLOSE)
		fail(p, t->offset, "expected %s before '}}'", expected);
	else
		fail(p, t->offset, "expected %s, found '%.*s'", expected,
		     (int)(t->len > 20 ? 20 : t->len), p->src + t->offset);
}

struct node *node_free(struct node *n)
{
	if (!n)
		return NULL;
	switch (n->kind) {
	case NODE_LITERAL:
		cJSON_Delete(n->literal);
		break;
	case NODE_REF:
		for (size_t i = 0; i < n->ref.nsegments; i++) {
			free(n->ref.segments[i].key);
			node_free(n->ref.segments[i].index);
		}
		free(n->ref.segments);
		free(n->ref.root);
		break;
	case NODE_UNARY:
	case NODE_BINARY:
		node_free(n->op.a);
		node_free(n->op.b);
		break;
	case NODE_CALL:
		for (size_t i = 0; i < n->call.nargs; i++)
			node_free(n->call.args[i]);
		free(n->call.args);
		break;
	case NODE_KEYWORD:
		break;
	}
	free(n);
	return NULL;
}

static struct node *node_new(enum node_kind kind, size_t offset)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->offset = offset;
	n->height = 1;
	return n;
}

/* Keeps the tree shallow enough for the recursive evaluator; operator
 * chains grow it without any parenthesis. */
static bool grow(struct parser *p, struct node *parent, const struct node *child)
{
	if (child->height + 1 > parent->height)
		parent->height = child->height + 1;
	if (parent->height > MAPPING_MAX_HEIGHT) {
		fail(p, parent->offset, "expression is too deeply nested or too long");
		return false;
	}
	return true;
}

static struct node *literal_new(size_t offset, cJSON *value)
{
	struct node *n = node_new(NODE_LITERAL, offset);

	n->literal = value;
	return n;
}

static struct node *ref_new(size_t offset, const char *root)
{
	struct node *n = node_new(NODE_REF, offset);

	n->ref.root = xstrdup(root);
	return n;
}

static struct segment *ref_add(struct node *ref, enum segment_kind kind)
{
	struct segment *s;

	ref->ref.segments =
		xrealloc(ref->ref.segments, (ref->ref.nsegments + 1) * sizeof(*ref->ref.segments));
	s = &ref->ref.segments[ref->ref.nsegments++];
	*s = (struct segment){ .kind = kind };
	return s;
}

static bool token_adjacent(const struct parser *p, size_t prev_end)
{
	return p->lx.tok.offset == prev_end;
}

/* Reads ".name", ".`odd name`", "[expr]" and "[]" after a reference root.
 * The parts must touch ("1.name", not "1 . name"), as in Fusion. */
static struct node *parse_path(struct parser *p, struct node *ref, size_t prev_end)
{
	_cleanup_(node_freep) struct node *owned = ref;

	for (;;) {
		const struct token *t = &p->lx.tok;

		if (t->kind == TOK_DOT && token_adjacent(p, prev_end)) {
			lexer_next_segment(&p->lx);
			if (t->kind != TOK_IDENT && t->kind != TOK_BACKTICK) {
				fail_unexpected(p, "a field name after '.'");
				return NULL;
			}
			ref_add(owned, SEG_KEY)->key = TAKE_PTR(p->lx.tok.text);
			prev_end = t->offset + t->len;
			lexer_next(&p->lx);
		} else if (t->kind == TOK_LBRACKET && token_adjacent(p, prev_end)) {
			size_t open = t->offset;
			struct node *index;

			lexer_next(&p->lx);
			if (t->kind == TOK_RBRACKET) {
				ref_add(owned, SEG_ALL);
			} else {
				if (++p->depth > MAPPING_MAX_DEPTH) {
					fail(p, open, "expression is nested too deeply");
					return NULL;
				}
				index = parse_expr(p);
				p->depth--;
				if (!index)
					return NULL;
				ref_add(owned, SEG_INDEX)->index = index;
				if (!grow(p, owned, index))
					return NULL;
				if (t->kind != TOK_RBRACKET) {
					fail_unexpected(p, "']'");
					return NULL;
				}
			}
			prev_end = t->offset + t->len;
			lexer_next(&p->lx);
		} else {
			return TAKE_PTR(owned);
		}
	}
}

/* Words that are values rather than references. */
static struct node *parse_keyword(const char *word, size_t offset)
{
	static const struct {
		const char *word;
		const char *text;
	} texts[] = {
		{ "emptystring", "" }, { "space", " " },       { "newline", "\n" },
		{ "tab", "\t" },       { "nbsp", "\xc2\xa0" }, { "carriagereturn", "\r" },
	};
	static const struct {
		const char *word;
		enum keyword kw;
	} dynamic[] = {
		{ "now", KW_NOW },
		{ "uuid", KW_UUID },
		{ "timestamp", KW_TIMESTAMP },
		{ "random", KW_RANDOM },
	};
	/* Fusion's variables, spelt as references to the context objects. */
	static const struct {
		const char *word;
		const char *root, *key;
	} aliases[] = {
		{ "executionId", "execution", "id" },	{ "executionID", "execution", "id" },
		{ "scenarioId", "scenario", "id" },	{ "scenarioID", "scenario", "id" },
		{ "scenarioName", "scenario", "name" },
	};
	struct node *n;

	if (streq(word, "null") || streq(word, "ignore"))
		return literal_new(offset, cJSON_CreateNull());
	if (streq(word, "true") || streq(word, "false"))
		return literal_new(offset, cJSON_CreateBool(streq(word, "true")));
	if (streq(word, "emptyarray"))
		return literal_new(offset, cJSON_CreateArray());
	if (streq(word, "pi"))
		return literal_new(offset, cJSON_CreateNumber(3.141592653589793));
	for (size_t i = 0; i < ELEMENTSOF(texts); i++)
		if (streq(word, texts[i].word))
			return literal_new(offset, cJSON_CreateString(texts[i].text));
	for (size_t i = 0; i < ELEMENTSOF(dynamic); i++)
		if (streq(word, dynamic[i].word)) {
			n = node_new(NODE_KEYWORD, offset);
			n->keyword = dynamic[i].kw;
			return n;
		}
	for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
		if (streq(word, aliases[i].word)) {
			n = ref_new(offset, aliases[i].root);
			ref_add(n, SEG_KEY)->key = xstrdup(aliases[i].key);
			return n;
		}
	return NULL;
}

static bool check_arity(struct parser *p, const struct node *call, size_t name_offset)
{
	const struct mapping_function *fn = call->call.fn;
	size_t n = call->call.nargs;

	if (n >= fn->min_args && (fn->max_args == MAPPING_VARARGS || n <= fn->max_args))
		return true;
	if (fn->min_args == fn->max_args)
		fail(p, name_offset, "'%s' takes %u argument%s, got %zu", fn->name, fn->min_args,
		     fn->min_args == 1 ? "" : "s", n);
	else if (n < fn->min_args)
		fail(p, name_offset, "'%s' takes at least %u argument%s, got %zu", fn->name,
		     fn->min_args, fn->min_args == 1 ? "" : "s", n);
	else
		fail(p, name_offset, "'%s' takes at most %u argument%s, got %zu", fn->name,
		     fn->max_args, fn->max_args == 1 ? "" : "s", n);
	return false;
}

/* name(arg; arg; …), with the current token just after '('. */
static struct node *parse_call(struct parser *p, const char *name, size_t offset)
{
	const struct mapping_function *fn = mapping_function_find(name);
	_cleanup_(node_freep) struct node *call = NULL;
	const struct token *t = &p->lx.tok;

	if (!fn) {
		const char *hint = mapping_function_suggest(name);

		if (hint)
			fail(p, offset, "unknown function '%s' (did you mean '%s'?)", name, hint);
		else
			fail(p, offset, "unknown function '%s'", name);
		return NULL;
	}
	if (++p->depth > MAPPING_MAX_DEPTH) {
		fail(p, offset, "expression is nested too deeply");
		return NULL;
	}
	call = node_new(NODE_CALL, offset);
	call->call.fn = fn;
	if (t->kind != TOK_RPAREN) {
		for (;;) {
			struct node *arg = parse_expr(p);

			if (!arg)
				return NULL;
			if (call->call.nargs >= 255) {
				node_free(arg);
				fail(p, offset, "too many arguments to '%s'", fn->name);
				return NULL;
			}
			call->call.args = xrealloc(
				call->call.args, (call->call.nargs + 1) * sizeof(*call->call.args));
			call->call.args[call->call.nargs++] = arg;
			if (!grow(p, call, arg))
				return NULL;
			if (t->kind == TOK_SEMI) {
				lexer_next(&p->lx);
				continue;
			}
			if (t->kind == TOK_RPAREN)
				break;
			if (t->kind == TOK_END || t->kind == TOK_CLOSE)
				fail(p, t->offset,
				     "expected ')' to close '%s(' opened at position %zu", name,
				     offset + 1);
			else
				fail_unexpected(p, "';' or ')'");
			return NULL;
		}
	}
	p->depth--;
	lexer_next(&p->lx);
	if (!check_arity(p, call, offset))
		return NULL;
	return TAKE_PTR(call);
}

static struct node *parse_identifier(struct parser *p)
{
	_cleanup_free_ char *word = TAKE_PTR(p->lx.tok.text);
	size_t offset = p->lx.tok.offset, end = offset + p->lx.tok.len;
	struct node *n;

	lexer_next(&p->lx);
	if (p->lx.tok.kind == TOK_LPAREN) {
		lexer_next(&p->lx);
		/* now() and uuid() read like calls in some Fusion examples. */
		if (p->lx.tok.kind == TOK_RPAREN && (streq(word, "now") || streq(word, "uuid"))) {
			lexer_next(&p->lx);
			return parse_keyword(word, offset);
		}
		return parse_call(p, word, offset);
	}
	n = parse_keyword(word, offset);
	if (n)
		return n->kind == NODE_REF ? parse_path(p, n, end) : n;
	return parse_path(p, ref_new(offset, word), end);
}

static struct node *parse_primary(struct parser *p)
{
	struct token *t = &p->lx.tok;
	struct node *n;

	switch (t->kind) {
	case TOK_NUMBER: {
		size_t offset = t->offset, end = t->offset + t->len;
		double number = t->number;

		if (t->integer) {
			lexer_next(&p->lx);
			/* "1.name": a module id starting a reference. */
			if ((t->kind == TOK_DOT || t->kind == TOK_LBRACKET) && t->offset == end) {
				_cleanup_free_ char *root = xstrndup(p->src + offset, end - offset);

				return parse_path(p, ref_new(offset, root), end);
			}
			return literal_new(offset, cJSON_CreateNumber(number));
		}
		n = literal_new(offset, cJSON_CreateNumber(t->number));
		lexer_next(&p->lx);
		return n;
	}
	case TOK_STRING:
		n = literal_new(t->offset, cJSON_CreateString(t->text));
		lexer_next(&p->lx);
		return n;
	case TOK_BACKTICK: {
		/* ``{{`1`}}``: a root written in backticks (the whole bundle). */
		size_t end = t->offset + t->len;

		n = ref_new(t->offset, t->text);
		lexer_next(&p->lx);
		return parse_path(p, n, end);
	}
	case TOK_IDENT:
		return parse_identifier(p);
	case TOK_LPAREN: {
		size_t open = t->offset;

		if (++p->depth > MAPPING_MAX_DEPTH) {
			fail(p, open, "expression is nested too deeply");
			return NULL;
		}
		lexer_next(&p->lx);
		n = parse_expr(p);
		if (!n)
			return NULL;
		if (t->kind != TOK_RPAREN) {
			node_free(n);
			if (t->kind == TOK_END || t->kind == TOK_CLOSE)
				fail(p, t->offset,
				     "expected ')' to close '(' opened at position %zu", open + 1);
			else
				fail_unexpected(p, "')'");
			return NULL;
		}
		p->depth--;
		lexer_next(&p->lx);
		return n;
	}
	default:
		fail_unexpected(p, "an expression");
		return NULL;
	}
}

static struct node *op_new(struct parser *p, enum op op, size_t offset, struct node *a,
			   struct node *b)
{
	struct node *n = node_new(b ? NODE_BINARY : NODE_UNARY, offset);

	n->op.op = op;
	n->op.a = a;
	n->op.b = b;
	if (!grow(p, n, a) || (b && !grow(p, n, b)))
		return node_free(n);
	return n;
}

static struct node *parse_unary(struct parser *p)
{
	const struct token *t = &p->lx.tok;

	if (t->kind == TOK_OP && t->op == OP_SUB) {
		size_t offset = t->offset;
		struct node *a;

		if (++p->depth > MAPPING_MAX_DEPTH) {
			fail(p, offset, "expression is nested too deeply");
			return NULL;
		}
		lexer_next(&p->lx);
		a = parse_unary(p);
		p->depth--;
		if (!a)
			return NULL;
		/* Fold "-5" so a negative number is a plain literal. */
		if (a->kind == NODE_LITERAL && cJSON_IsNumber(a->literal)) {
			cJSON_SetNumberValue(a->literal, -a->literal->valuedouble);
			a->offset = offset;
			return a;
		}
		return op_new(p, OP_NEG, offset, a, NULL);
	}
	return parse_primary(p);
}

/* The binary levels, loosest first. A token matches a level by its
 * operator, or for 'and'/'or' by the word. */
static const struct level {
	const char *word;
	enum op ops[6];
	size_t nops;
} levels[] = {
	{ "or", { OP_OR }, 1 },
	{ "and", { OP_AND }, 1 },
	{ NULL, { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE }, 6 },
	{ NULL, { OP_ADD, OP_SUB }, 2 },
	{ NULL, { OP_MUL, OP_DIV, OP_MOD }, 3 },
};

static bool match_level(const struct parser *p, const struct level *lv, enum op *ret)
{
	const struct token *t = &p->lx.tok;

	if (lv->word && t->kind == TOK_IDENT && streq(t->text, lv->word)) {
		*ret = lv->ops[0];
		return true;
	}
	if (t->kind != TOK_OP)
		return false;
	for (size_t i = 0; i < lv->nops; i++)
		if (t->op == lv->ops[i]) {
			*ret = t->op;
			return true;
		}
	return false;
}

static struct node *parse_level(struct parser *p, size_t level);

/* 'not' sits between 'and' and the comparisons: "not 1 = 2" is
 * "not (1 = 2)". */
static struct node *parse_not(struct parser *p)
{
	const struct token *t = &p->lx.tok;

	if (t->kind == TOK_IDENT && streq(t->text, "not")) {
		size_t offset = t->offset;
		struct node *a;

		if (++p->depth > MAPPING_MAX_DEPTH) {
			fail(p, offset, "expression is nested too deeply");
			return NULL;
		}
		lexer_next(&p->lx);
		a = parse_not(p);
		p->depth--;
		if (!a)
			return NULL;
		return op_new(p, OP_NOT, offset, a, NULL);
	}
	return parse_level(p, 2);
}

static struct node *parse_operand(struct parser *p, size_t level)
{
	if (level + 1 == 2)
		return parse_not(p);
	if (level + 1 < ELEMENTSOF(levels))
		return parse_level(p, level + 1);
	return parse_unary(p);
}

static struct node *parse_level(struct parser *p, size_t level)
{
	struct node *left = parse_operand(p, level);
	enum op op;

	while (left && match_level(p, &levels[level], &op)) {
		size_t offset = p->lx.tok.offset;
		struct node *right;

		lexer_next(&p->lx);
		right = parse_operand(p, level);
		if (!right)
			return node_free(left);
		left = op_new(p, op, offset, left, right);
	}
	return left;
}

static struct node *parse_expr(struct parser *p)
{
	return parse_level(p, 0);
}

/* Parses the expression after the "{{" at `open`; on success the lexer
 * stands just after the closing "}}". */
static struct node *parse_part(struct parser *p, size_t open)
{
	struct node *n;

	p->open = open;
	lexer_init(&p->lx, p->src, open + 2);
	lexer_next(&p->lx);
	if (p->lx.tok.kind == TOK_CLOSE) {
		fail(p, open, "empty expression '{{}}'");
		lexer_done(&p->lx);
		return NULL;
	}
	n = parse_expr(p);
	if (n && p->lx.tok.kind != TOK_CLOSE) {
		if (p->lx.tok.kind == TOK_RPAREN)
			fail(p, p->lx.tok.offset, "unmatched ')'");
		else
			fail_unexpected(p, "an operator or '}}'");
		n = node_free(n);
	}
	lexer_done(&p->lx);
	return n;
}

static void add_part(struct mapping *m, char *text, struct node *expr, size_t start, size_t end)
{
	m->parts = xrealloc(m->parts, (m->nparts + 1) * sizeof(*m->parts));
	m->parts[m->nparts++] =
		(struct part){ .text = text, .expr = expr, .start = start, .end = end };
}

int mapping_compile(const char *text, struct mapping **ret, struct mapping_error *reterr)
{
	_cleanup_(mapping_freep) struct mapping *m = NULL;
	struct parser p = { .src = text };
	size_t len = strlen(text), pos = 0;

	if (len > MAPPING_MAX_TEXT) {
		*reterr = (struct mapping_error){
			.offset = 0,
			.message = xasprintf("template is longer than %u bytes", MAPPING_MAX_TEXT)
		};
		return -EINVAL;
	}
	m = xcalloc(1, sizeof(*m));
	m->text = xstrdup(text);
	p.src = m->text;
	while (pos < len) {
		const char *open = strstr(m->text + pos, "{{");
		size_t at = open ? (size_t)(open - m->text) : len;
		struct node *expr;

		if (at > pos)
			add_part(m, xstrndup(m->text + pos, at - pos), NULL, pos, at);
		if (!open)
			break;
		expr = parse_part(&p, at);
		if (!expr) {
			*reterr = (struct mapping_error){ .offset = p.err_offset,
							  .message = p.err_message };
			return -EINVAL;
		}
		pos = p.lx.pos;
		add_part(m, NULL, expr, at, pos);
	}
	m->typed = m->nparts == 1 && m->parts[0].expr;
	*ret = TAKE_PTR(m);
	return 0;
}

struct mapping *mapping_free(struct mapping *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->nparts; i++) {
		free(m->parts[i].text);
		node_free(m->parts[i].expr);
	}
	free(m->parts);
	free(m->text);
	free(m);
	return NULL;
}

bool mapping_is_constant(const struct mapping *m)
{
	for (size_t i = 0; i < m->nparts; i++)
		if (m->parts[i].expr)
			return false;
	return true;
}

const char *mapping_text(const struct mapping *m)
{
	return m->text;
}

static int foreach_ref(const struct node *n, mapping_ref_fn *fn, void *userdata)
{
	int r = 0;

	switch (n->kind) {
	case NODE_REF:
		r = fn(userdata, n->ref.root, n->offset);
		for (size_t i = 0; r == 0 && i < n->ref.nsegments; i++)
			if (n->ref.segments[i].index)
				r = foreach_ref(n->ref.segments[i].index, fn, userdata);
		break;
	case NODE_UNARY:
	case NODE_BINARY:
		r = foreach_ref(n->op.a, fn, userdata);
		if (r == 0 && n->op.b)
			r = foreach_ref(n->op.b, fn, userdata);
		break;
	case NODE_CALL:
		for (size_t i = 0; r == 0 && i < n->call.nargs; i++)
			r = foreach_ref(n->call.args[i], fn, userdata);
		break;
	case NODE_LITERAL:
	case NODE_KEYWORD:
		break;
	}
	return r;
}

int mapping_foreach_ref(const struct mapping *m, mapping_ref_fn *fn, void *userdata)
{
	for (size_t i = 0; i < m->nparts; i++) {
		int r;

		if (!m->parts[i].expr)
			continue;
		r = foreach_ref(m->parts[i].expr, fn, userdata);
		if (r != 0)
			return r;
	}
	return 0;
}
