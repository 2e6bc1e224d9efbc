/* SPDX-License-Identifier: MIT */
/*
 * What the mapping compiler, evaluator and function files share: the syntax
 * tree, the evaluation context, value coercion and the function tables.
 * Nothing outside scenarios/mapping*.c includes this.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "scenarios/mapping.h"
#include "util/cleanup.h"

struct strbuf;
struct tz;

/* Largest text a function or an interpolation may produce, and the largest
 * array a function may build: a runaway mapping fails instead of eating
 * the daemon's memory. */
#define MAPPING_MAX_RESULT (16u << 20)
#define MAPPING_MAX_ARRAY 1000000u
/* Height of the syntax tree (operator chains count too), which bounds the
 * evaluator's recursion. */
#define MAPPING_MAX_HEIGHT (MAPPING_MAX_DEPTH * 4)

/* ---- syntax tree ---- */

enum node_kind {
	NODE_LITERAL, /* constant value */
	NODE_REF, /* root.path… */
	NODE_KEYWORD, /* value known only at evaluation (now, uuid, …) */
	NODE_UNARY, /* not x, -x */
	NODE_BINARY, /* x op y */
	NODE_CALL, /* name(arg; arg; …) */
};

enum keyword {
	KW_NOW,
	KW_UUID,
	KW_TIMESTAMP,
	KW_RANDOM,
};

enum op {
	OP_OR,
	OP_AND,
	OP_NOT,
	OP_EQ,
	OP_NE,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_ADD,
	OP_SUB,
	OP_MUL,
	OP_DIV,
	OP_MOD,
	OP_NEG,
};

enum segment_kind {
	SEG_KEY, /* .name or .`odd name` */
	SEG_INDEX, /* [expr], 1-based */
	SEG_ALL, /* [] : the array itself; later segments apply to each item */
};

struct segment {
	enum segment_kind kind;
	char *key; /* owned; SEG_KEY */
	struct node *index; /* owned; SEG_INDEX */
};

struct mapping_function;

struct node {
	enum node_kind kind;
	size_t offset; /* byte offset in the template text */
	unsigned height; /* 1 for a leaf */
	union {
		cJSON *literal; /* owned */
		enum keyword keyword;
		struct {
			char *root; /* owned */
			struct segment *segments; /* owned */
			size_t nsegments;
		} ref;
		struct {
			enum op op;
			struct node *a, *b; /* owned; b is NULL for unary */
		} op;
		struct {
			const struct mapping_function *fn;
			struct node **args; /* owned */
			size_t nargs;
		} call;
	};
};

struct node *node_free(struct node *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct node, node_free)

/* One piece of a template: literal text or an expression between {{ }}. */
struct part {
	char *text; /* owned; literal text, or NULL for an expression */
	struct node *expr; /* owned */
	size_t start, end; /* byte range of "{{…}}" in the template */
};

struct mapping {
	char *text; /* owned source */
	struct part *parts; /* owned */
	size_t nparts;
	bool typed; /* exactly one {{expr}} and nothing else: keep its type */
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct mapping, mapping_free)

/* ---- lexer ---- */

enum token_kind {
	TOK_END, /* end of the template text: the {{ was never closed */
	TOK_CLOSE, /* }} */
	TOK_NUMBER,
	TOK_STRING,
	TOK_IDENT,
	TOK_BACKTICK, /* `quoted segment` */
	TOK_DOT,
	TOK_LBRACKET,
	TOK_RBRACKET,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_SEMI,
	TOK_OP,
	TOK_ERROR,
};

struct token {
	enum token_kind kind;
	size_t offset; /* in the template text */
	size_t len; /* bytes of source */
	enum op op; /* TOK_OP */
	double number; /* TOK_NUMBER */
	bool integer; /* TOK_NUMBER written as digits only */
	char *text; /* owned; TOK_STRING, TOK_IDENT, TOK_BACKTICK (unquoted) */
	const char *error; /* TOK_ERROR: static message */
};

struct lexer {
	const char *src; /* whole template */
	size_t pos;
	struct token tok; /* current token */
};

void lexer_init(struct lexer *lx, const char *src, size_t pos);
void lexer_done(struct lexer *lx);
/* Replaces lx->tok with the next token. */
void lexer_next(struct lexer *lx);
/* Reads a path segment name right after a '.' (letters, digits, _ and $),
 * as TOK_IDENT, or a backtick segment; anything else gives TOK_ERROR. */
void lexer_next_segment(struct lexer *lx);
bool lexer_is_ident_char(unsigned char c);

/* ---- evaluation ---- */

/* A value during evaluation: either borrowed from the scope (a reference)
 * or owned. json is never NULL; missing values are &mapping_null. */
struct mval {
	const cJSON *json;
	cJSON *owned;
};

extern const cJSON mapping_null;

static inline void mval_done(struct mval *v)
{
	cJSON_Delete(v->owned);
	v->owned = NULL;
	v->json = NULL;
}

static inline struct mval mval_own(cJSON *item)
{
	return (struct mval){ .json = item, .owned = item };
}

/* Takes an owned copy out of v (duplicating a borrowed value). */
cJSON *mval_take(struct mval *v);

struct eval {
	const struct mapping *mapping;
	const struct mapping_scope *scope;
	const struct part *part; /* the {{ }} being evaluated, for messages */
	char *error; /* owned; first error message */
	struct tz *tz; /* owned; scope->timezone, loaded on first use */
	bool tz_loaded;
};

/* Records "<message> (at position N in {{…}})" and returns -EINVAL. */
int eval_fail(struct eval *ev, const struct node *at, const char *fmt, ...) _printf_(3, 4);
int eval_node(struct eval *ev, const struct node *n, struct mval *ret);

/* ---- values ---- */

/* "null", "boolean", "number", "text", "array", "collection", "file". */
const char *value_type_name(const cJSON *v);
/* Number from a number, or from text that is a number ("12", " 1.5 ").
 * Returns false for anything else. */
bool value_to_number(const cJSON *v, double *ret);
/* Text form (json_to_text rules); caller frees. */
char *value_to_text(const cJSON *v);
/* Equality as `=` uses it: numbers with numeric text by value, dates by
 * instant, otherwise same type and same content. */
bool value_equal(const cJSON *a, const cJSON *b);
/* Creates a number, or fails for NaN and infinities. */
int value_number_new(struct eval *ev, const struct node *at, double d, cJSON **ret);
/* Creates a string, failing above MAPPING_MAX_RESULT; takes ownership of s. */
int value_string_take(struct eval *ev, const struct node *at, char *s, cJSON **ret);
/* Reads a path such as "a.b[2].c" or "3" (1-based for arrays) in `from`;
 * NULL when missing. */
const cJSON *value_get_path(const cJSON *from, const char *path);
/* Concatenates text of many values into sb, failing above the limit. */
int value_text_append(struct eval *ev, const struct node *at, struct strbuf *sb, const cJSON *v);

/* ---- functions ---- */

struct call_args {
	const cJSON *const *v; /* evaluated arguments, borrowed */
	size_t n;
};

/* An ordinary function: gets its evaluated arguments, returns a new value. */
typedef int mapping_func_fn(struct eval *ev, const struct node *call, const struct call_args *args,
			    cJSON **ret);
/* A function that decides which arguments to evaluate (if, ifempty, switch). */
typedef int mapping_lazy_fn(struct eval *ev, const struct node *call, struct mval *ret);

#define MAPPING_VARARGS 255

struct mapping_function {
	const char *name;
	uint8_t min_args;
	uint8_t max_args; /* MAPPING_VARARGS for no limit */
	mapping_func_fn *fn;
	mapping_lazy_fn *lazy;
};

/* Tables, each ending with { .name = NULL }. */
extern const struct mapping_function mapping_functions_general[];
extern const struct mapping_function mapping_functions_text[];
extern const struct mapping_function mapping_functions_encode[];
extern const struct mapping_function mapping_functions_array[];
extern const struct mapping_function mapping_functions_math[];
extern const struct mapping_function mapping_functions_date[];

/* Finds a function by name, ignoring case ("ifEmpty" is "ifempty"). */
const struct mapping_function *mapping_function_find(const char *name);
/* Closest known name for a "did you mean" hint, or NULL. */
const char *mapping_function_suggest(const char *name);

/* Argument helpers for function bodies: each fails with a message naming
 * the function and the argument. */
int arg_number(struct eval *ev, const struct node *call, const struct call_args *args, size_t i,
	       double *ret);
int arg_int(struct eval *ev, const struct node *call, const struct call_args *args, size_t i,
	    int64_t *ret);
/* Text of argument i (json_to_text rules; null is ""); caller frees. */
char *arg_text(const struct call_args *args, size_t i);
/* Argument i as an array: an array as is, null as NULL (empty), anything
 * else as a one-item array (Fusion's coercion); *ret_tmp holds a
 * temporary wrapper the caller deletes. */
const cJSON *arg_array(const struct call_args *args, size_t i, cJSON **ret_tmp);
bool arg_present(const struct call_args *args, size_t i);
const char *call_name(const struct node *call);

/* ---- dates (mapping_date.c) ---- */

/* The zone for this evaluation (scope->timezone), or NULL for UTC. */
const struct tz *eval_timezone(struct eval *ev);
/* Reads a date: ISO 8601 text (a time without offset is local to `tz`),
 * or a number of epoch milliseconds. */
int value_to_date(const cJSON *v, const struct tz *tz, int64_t *ret_ms);
int arg_date(struct eval *ev, const struct node *call, const struct call_args *args, size_t i,
	     int64_t *ret_ms);
int value_date_new(struct eval *ev, const struct node *at, int64_t ms, cJSON **ret);

/* ---- UTF-8 (mapping_utf8.c) ---- */

/* Decodes one code point at s (len bytes left); invalid bytes decode as
 * themselves (Latin-1) so text never gets lost. Returns bytes used. */
size_t utf8_decode(const char *s, size_t len, uint32_t *ret_cp);
void utf8_encode(struct strbuf *sb, uint32_t cp);
size_t utf8_length(const char *s);
/* Byte offset of code point index `index` (clamped to the end). */
size_t utf8_offset(const char *s, size_t index);
uint32_t utf8_lower(uint32_t cp);
uint32_t utf8_upper(uint32_t cp);
/* Base letter of a Latin letter with diacritics, or 0. */
char utf8_strip_diacritic(uint32_t cp);

/* ---- regular expressions (mapping_regex.c) ---- */

struct mapping_regex;
/* Parses "/pattern/flags"; returns 0 with *ret NULL when `text` is not
 * written that way (a plain search string). */
int mapping_regex_parse(const char *text, struct mapping_regex **ret, char **reterr);
int mapping_regex_compile(const char *pattern, const char *flags, struct mapping_regex **ret,
			  char **reterr);
struct mapping_regex *mapping_regex_free(struct mapping_regex *re);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct mapping_regex, mapping_regex_free)
bool mapping_regex_global(const struct mapping_regex *re);
bool mapping_regex_matches(const struct mapping_regex *re, const char *text);
/* Replaces matches (all with the g flag, else the first) expanding $&, $1…$99
 * and $$ in `with`. Fails when the result grows above MAPPING_MAX_RESULT. */
int mapping_regex_replace(const struct mapping_regex *re, const char *text, const char *with,
			  char **ret);
