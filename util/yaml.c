/* SPDX-License-Identifier: MIT */
/*
 * YAML text → struct yaml_node trees; see yaml.h.
 *
 * The tree is built from libyaml's event stream (not its document loader)
 * with an explicit stack, so nesting costs no C stack and the limits are
 * checked as the input is read: a file that is too deep or has too many
 * nodes stops the parser at the spot where it went over. Typing scalars by
 * the core schema lives here too, so every reader of YAML (scenarios, the
 * daemon's configuration, connections) agrees on what `10`, `"10"` and `no`
 * are: a number, a string and a string (YAML 1.1's yes/no booleans are not
 * booleans here).
 */
#include "util/yaml.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/diag.h"
#include "util/xalloc.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

struct frame {
	struct yaml_node *node; /* the sequence or mapping being filled */
	bool have_key; /* mapping: the last pair has its key but no value yet */
};

struct anchor {
	char *name; /* owned */
	struct yaml_node *node; /* borrowed from the tree (or the graveyard) */
};

struct builder {
	const char *file;
	const struct yaml_limits *limits;
	struct diag_list *diags;
	int problems;
	size_t nodes;
	struct frame *stack;
	size_t depth, stack_capacity;
	struct anchor *anchors;
	size_t anchor_count, anchor_capacity;
	/* Duplicate pairs dropped from mappings; an anchor may still point into
	 * them, so they live until the parse ends. */
	struct yaml_node **graveyard;
	size_t graveyard_count, graveyard_capacity;
	struct yaml_node *root;
	int documents;
};

static void problem(struct builder *b, int line, int column, const char *fmt, ...) _printf_(4, 5);

static void problem(struct builder *b, int line, int column, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_error(b->diags, b->file, line, column, "%s", msg);
	b->problems++;
}

struct yaml_node *yaml_node_free(struct yaml_node *node)
{
	if (!node)
		return NULL;
	for (size_t i = 0; i < node->count; i++) {
		if (node->kind == YAML_NODE_SEQUENCE) {
			yaml_node_free(node->items[i]);
		} else if (node->kind == YAML_NODE_MAPPING) {
			yaml_node_free(node->pairs[i].key);
			yaml_node_free(node->pairs[i].value);
		}
	}
	free(node->items);
	free(node->pairs);
	free(node->value);
	free(node->tag);
	free(node);
	return NULL;
}

static int count_node(struct builder *b, const yaml_mark_t *mark)
{
	if (++b->nodes <= b->limits->max_nodes)
		return 0;
	problem(b, (int)mark->line + 1, (int)mark->column + 1,
		"the document has more than %zu nodes", b->limits->max_nodes);
	return -EINVAL;
}

static struct yaml_node *node_new(enum yaml_node_kind kind, const yaml_mark_t *start,
				  const yaml_mark_t *end)
{
	struct yaml_node *node = xcalloc(1, sizeof(*node));

	node->kind = kind;
	node->line = (int)start->line + 1;
	node->column = (int)start->column + 1;
	node->end_line = (int)end->line + 1;
	return node;
}

/* Keeps the tags of the core schema and "!" (non-specific: "this is a
 * string"); anything else is reported and dropped. */
static char *check_tag(struct builder *b, const yaml_char_t *tag, const yaml_mark_t *mark,
		       enum yaml_node_kind kind)
{
	static const char *const scalar_tags[] = { "str", "int", "float", "bool", "null", NULL };
	const char *t = (const char *)tag;

	if (!t)
		return NULL;
	if (streq(t, "!"))
		return xstrdup(t);
	if (strncmp(t, TAG_PREFIX, strlen(TAG_PREFIX)) == 0) {
		const char *name = t + strlen(TAG_PREFIX);

		if (kind == YAML_NODE_SEQUENCE && streq(name, "seq"))
			return xstrdup(t);
		if (kind == YAML_NODE_MAPPING && streq(name, "map"))
			return xstrdup(t);
		for (size_t i = 0; kind == YAML_NODE_SCALAR && scalar_tags[i]; i++)
			if (streq(name, scalar_tags[i]))
				return xstrdup(t);
		problem(b, (int)mark->line + 1, (int)mark->column + 1,
			"tag '!!%s' does not fit a %s", name, yaml_node_kind_to_string(kind));
		return NULL;
	}
	problem(b, (int)mark->line + 1, (int)mark->column + 1, "unsupported tag '%s'", t);
	return NULL;
}

static bool is_digits(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

static bool text_is_int(const char *s)
{
	if (strncmp(s, "0o", 2) == 0)
		return is_digits(s + 2, "01234567");
	if (strncmp(s, "0x", 2) == 0)
		return is_digits(s + 2, "0123456789abcdefABCDEF");
	if (*s == '-' || *s == '+')
		s++;
	return is_digits(s, "0123456789");
}

static bool text_is_float(const char *s)
{
	static const char *const infinities[] = { ".inf", ".Inf", ".INF", NULL };
	static const char *const nans[] = { ".nan", ".NaN", ".NAN", NULL };
	size_t digits;

	for (size_t i = 0; nans[i]; i++)
		if (streq(s, nans[i]))
			return true;
	if (*s == '-' || *s == '+')
		s++;
	for (size_t i = 0; infinities[i]; i++)
		if (streq(s, infinities[i]))
			return true;
	digits = strspn(s, "0123456789");
	s += digits;
	if (*s == '.') {
		size_t frac = strspn(s + 1, "0123456789");

		if (digits == 0 && frac == 0)
			return false;
		s += 1 + frac;
	} else if (digits == 0) {
		return false;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!is_digits(s, "0123456789"))
			return false;
		return true;
	}
	return *s == '\0';
}

static bool text_is_null(const char *s)
{
	return !*s || streq(s, "~") || streq(s, "null") || streq(s, "Null") || streq(s, "NULL");
}

static int text_to_bool(const char *s, bool *ret)
{
	if (streq(s, "true") || streq(s, "True") || streq(s, "TRUE")) {
		*ret = true;
		return 0;
	}
	if (streq(s, "false") || streq(s, "False") || streq(s, "FALSE")) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

static enum yaml_scalar_type classify_plain(const char *s)
{
	bool b;

	if (text_is_null(s))
		return YAML_SCALAR_NULL;
	if (text_to_bool(s, &b) == 0)
		return YAML_SCALAR_BOOL;
	if (text_is_int(s))
		return YAML_SCALAR_INT;
	if (text_is_float(s))
		return YAML_SCALAR_FLOAT;
	return YAML_SCALAR_STRING;
}

enum yaml_scalar_type yaml_scalar_type(const struct yaml_node *scalar)
{
	static const struct {
		const char *name;
		enum yaml_scalar_type type;
	} tags[] = {
		{ TAG_PREFIX "str", YAML_SCALAR_STRING },  { TAG_PREFIX "int", YAML_SCALAR_INT },
		{ TAG_PREFIX "float", YAML_SCALAR_FLOAT }, { TAG_PREFIX "bool", YAML_SCALAR_BOOL },
		{ TAG_PREFIX "null", YAML_SCALAR_NULL },   { "!", YAML_SCALAR_STRING },
	};

	assert(scalar && scalar->kind == YAML_NODE_SCALAR);
	for (size_t i = 0; scalar->tag && i < ELEMENTSOF(tags); i++)
		if (streq(scalar->tag, tags[i].name))
			return tags[i].type;
	if (scalar->style != YAML_STYLE_PLAIN)
		return YAML_SCALAR_STRING;
	return classify_plain(scalar->value);
}

/* A scalar with an explicit core tag must be what the tag says. */
static void check_tagged_scalar(struct builder *b, struct yaml_node *node)
{
	const char *v = node->value;
	bool ok = true, dummy;

	if (!node->tag || streq(node->tag, TAG_PREFIX "str") || streq(node->tag, "!"))
		return;
	switch (yaml_scalar_type(node)) {
	case YAML_SCALAR_INT:
		ok = text_is_int(v);
		break;
	case YAML_SCALAR_FLOAT:
		ok = text_is_int(v) || text_is_float(v);
		break;
	case YAML_SCALAR_BOOL:
		ok = text_to_bool(v, &dummy) == 0;
		break;
	case YAML_SCALAR_NULL:
		ok = text_is_null(v);
		break;
	case YAML_SCALAR_STRING:
		break;
	}
	if (!ok) {
		problem(b, node->line, node->column, "'%s' does not fit its tag '!!%s'", v,
			node->tag + strlen(TAG_PREFIX));
		free(node->tag);
		node->tag = NULL;
	}
}

static int push(struct builder *b, struct yaml_node *node, const yaml_mark_t *mark)
{
	if (b->depth >= (size_t)b->limits->max_depth) {
		problem(b, (int)mark->line + 1, (int)mark->column + 1,
			"the document is nested deeper than %d levels", b->limits->max_depth);
		yaml_node_free(node);
		return -EINVAL;
	}
	b->stack = xgrow(b->stack, &b->stack_capacity, b->depth + 1, sizeof(*b->stack));
	b->stack[b->depth++] = (struct frame){ .node = node };
	return 0;
}

/* Hands a finished node to its parent (or makes it the root). Takes
 * ownership of `node` in every case. */
static int attach(struct builder *b, struct yaml_node *node)
{
	struct frame *f;
	struct yaml_node *parent;

	if (b->depth == 0) {
		assert(!b->root);
		b->root = node;
		return 0;
	}
	f = &b->stack[b->depth - 1];
	parent = f->node;
	if (parent->kind == YAML_NODE_SEQUENCE) {
		parent->items =
			xrealloc(parent->items, (parent->count + 1) * sizeof(*parent->items));
		parent->items[parent->count++] = node;
		return 0;
	}
	if (f->have_key) {
		parent->pairs[parent->count - 1].value = node;
		f->have_key = false;
		return 0;
	}
	if (node->kind != YAML_NODE_SCALAR) {
		problem(b, node->line, node->column, "mapping keys must be scalars, not a %s",
			yaml_node_kind_to_string(node->kind));
		yaml_node_free(node);
		return -EINVAL;
	}
	parent->pairs = xrealloc(parent->pairs, (parent->count + 1) * sizeof(*parent->pairs));
	parent->pairs[parent->count++] = (struct yaml_pair){ .key = node };
	f->have_key = true;
	return 0;
}

static void remember_anchor(struct builder *b, const yaml_char_t *anchor, struct yaml_node *node)
{
	if (!anchor)
		return;
	for (size_t i = 0; i < b->anchor_count; i++)
		if (streq(b->anchors[i].name, (const char *)anchor)) {
			b->anchors[i].node = node; /* a redefined anchor means the later node */
			return;
		}
	b->anchors =
		xgrow(b->anchors, &b->anchor_capacity, b->anchor_count + 1, sizeof(*b->anchors));
	b->anchors[b->anchor_count++] = (struct anchor){ xstrdup((const char *)anchor), node };
}

static int copy_node(struct builder *b, const struct yaml_node *src, size_t depth,
		     const yaml_mark_t *mark, struct yaml_node **ret)
{
	_cleanup_yaml_node_ struct yaml_node *n = NULL;
	int r;

	r = count_node(b, mark);
	if (r < 0)
		return r;
	if (src->kind != YAML_NODE_SCALAR && depth >= (size_t)b->limits->max_depth) {
		problem(b, (int)mark->line + 1, (int)mark->column + 1,
			"the alias makes the document nest deeper than %d levels",
			b->limits->max_depth);
		return -EINVAL;
	}
	n = xmalloc(sizeof(*n));
	*n = *src;
	n->tag = src->tag ? xstrdup(src->tag) : NULL;
	n->value = src->value ? xstrndup(src->value, src->length) : NULL;
	n->items = NULL;
	n->pairs = NULL;
	n->count = 0;
	if (src->kind == YAML_NODE_SEQUENCE)
		n->items = xcalloc(src->count ? src->count : 1, sizeof(*n->items));
	if (src->kind == YAML_NODE_MAPPING)
		n->pairs = xcalloc(src->count ? src->count : 1, sizeof(*n->pairs));
	for (size_t i = 0; i < src->count; i++, n->count++) {
		if (src->kind == YAML_NODE_SEQUENCE) {
			r = copy_node(b, src->items[i], depth + 1, mark, &n->items[i]);
		} else {
			r = copy_node(b, src->pairs[i].key, depth + 1, mark, &n->pairs[i].key);
			if (r >= 0)
				r = copy_node(b, src->pairs[i].value, depth + 1, mark,
					      &n->pairs[i].value);
		}
		if (r < 0) {
			n->count++; /* free the half-copied entry too */
			return r;
		}
	}
	*ret = TAKE_PTR(n);
	return 0;
}

static int resolve_alias(struct builder *b, const yaml_event_t *e)
{
	const char *name = (const char *)e->data.alias.anchor;
	struct yaml_node *copy = NULL;
	int r;

	for (size_t i = b->anchor_count; i > 0; i--) {
		const struct anchor *a = &b->anchors[i - 1];

		if (!streq(a->name, name))
			continue;
		for (size_t d = 0; d < b->depth; d++)
			if (b->stack[d].node == a->node) {
				problem(b, (int)e->start_mark.line + 1,
					(int)e->start_mark.column + 1,
					"alias '*%s' refers to a node that contains it", name);
				return -EINVAL;
			}
		r = copy_node(b, a->node, b->depth, &e->start_mark, &copy);
		if (r < 0)
			return r;
		return attach(b, copy);
	}
	problem(b, (int)e->start_mark.line + 1, (int)e->start_mark.column + 1,
		"alias '*%s' names no anchor defined before it", name);
	return -EINVAL;
}

static int compare_pair_keys(const void *x, const void *y, void *arg)
{
	const struct yaml_pair *pairs = arg;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int r = strcmp(pairs[a].key->value, pairs[b].key->value);

	if (r)
		return r;
	return a < b ? -1 : a > b;
}

/* Reports every key that repeats an earlier one in the mapping and drops
 * those pairs, keeping the first. Sorting keeps this O(n log n) for the
 * large mappings a hostile file could hold. */
static void drop_duplicate_keys(struct builder *b, struct yaml_node *map)
{
	_cleanup_free_ size_t *order = NULL;
	_cleanup_free_ bool *dropped = NULL;
	size_t kept = 0;

	if (map->count < 2)
		return;
	order = xcalloc(map->count, sizeof(*order));
	dropped = xcalloc(map->count, sizeof(*dropped));
	for (size_t i = 0; i < map->count; i++)
		order[i] = i;
	qsort_r(order, map->count, sizeof(*order), compare_pair_keys, map->pairs);
	for (size_t i = 1, first = order[0]; i < map->count; i++) {
		const struct yaml_pair *p = &map->pairs[order[i]];

		if (strcmp(p->key->value, map->pairs[first].key->value) != 0) {
			first = order[i];
			continue;
		}
		dropped[order[i]] = true;
		problem(b, p->key->line, p->key->column, "duplicate key '%s' (first at %d:%d)",
			p->key->value, map->pairs[first].key->line, map->pairs[first].key->column);
	}
	for (size_t i = 0; i < map->count; i++) {
		if (!dropped[i]) {
			map->pairs[kept++] = map->pairs[i];
			continue;
		}
		b->graveyard = xgrow(b->graveyard, &b->graveyard_capacity, b->graveyard_count + 2,
				     sizeof(*b->graveyard));
		b->graveyard[b->graveyard_count++] = map->pairs[i].key;
		b->graveyard[b->graveyard_count++] = map->pairs[i].value;
	}
	map->count = kept;
}

static int on_scalar(struct builder *b, const yaml_event_t *e)
{
	static const enum yaml_node_style styles[] = {
		[YAML_ANY_SCALAR_STYLE] = YAML_STYLE_PLAIN,
		[YAML_PLAIN_SCALAR_STYLE] = YAML_STYLE_PLAIN,
		[YAML_SINGLE_QUOTED_SCALAR_STYLE] = YAML_STYLE_SINGLE_QUOTED,
		[YAML_DOUBLE_QUOTED_SCALAR_STYLE] = YAML_STYLE_DOUBLE_QUOTED,
		[YAML_LITERAL_SCALAR_STYLE] = YAML_STYLE_LITERAL,
		[YAML_FOLDED_SCALAR_STYLE] = YAML_STYLE_FOLDED,
	};
	struct yaml_node *node;
	int r;

	r = count_node(b, &e->start_mark);
	if (r < 0)
		return r;
	node = node_new(YAML_NODE_SCALAR, &e->start_mark, &e->end_mark);
	node->style = styles[e->data.scalar.style];
	node->value = xstrndup((const char *)e->data.scalar.value, e->data.scalar.length);
	node->length = strlen(node->value); /* an escaped \0 ends the text here */
	node->tag = check_tag(b, e->data.scalar.tag, &e->start_mark, YAML_NODE_SCALAR);
	check_tagged_scalar(b, node);
	remember_anchor(b, e->data.scalar.anchor, node);
	return attach(b, node);
}

static int on_collection_start(struct builder *b, const yaml_event_t *e, enum yaml_node_kind kind)
{
	const yaml_char_t *tag, *anchor;
	bool flow;
	struct yaml_node *node;
	int r;

	r = count_node(b, &e->start_mark);
	if (r < 0)
		return r;
	if (kind == YAML_NODE_SEQUENCE) {
		tag = e->data.sequence_start.tag;
		anchor = e->data.sequence_start.anchor;
		flow = e->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	} else {
		tag = e->data.mapping_start.tag;
		anchor = e->data.mapping_start.anchor;
		flow = e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
	}
	node = node_new(kind, &e->start_mark, &e->end_mark);
	node->style = flow ? YAML_STYLE_FLOW : YAML_STYLE_BLOCK;
	node->tag = check_tag(b, tag, &e->start_mark, kind);
	remember_anchor(b, anchor, node);
	return push(b, node, &e->start_mark);
}

static int on_collection_end(struct builder *b, const yaml_event_t *e)
{
	struct yaml_node *node;

	assert(b->depth > 0);
	node = b->stack[--b->depth].node;
	node->end_line = (int)e->end_mark.line + 1;
	if (node->kind == YAML_NODE_MAPPING)
		drop_duplicate_keys(b, node);
	return attach(b, node);
}

static int on_event(struct builder *b, const yaml_event_t *e)
{
	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->documents++ > 0) {
			problem(b, (int)e->start_mark.line + 1, (int)e->start_mark.column + 1,
				"only one YAML document is allowed in the file");
			return -EINVAL;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		return resolve_alias(b, e);
	case YAML_SCALAR_EVENT:
		return on_scalar(b, e);
	case YAML_SEQUENCE_START_EVENT:
		return on_collection_start(b, e, YAML_NODE_SEQUENCE);
	case YAML_MAPPING_START_EVENT:
		return on_collection_start(b, e, YAML_NODE_MAPPING);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_collection_end(b, e);
	default:
		return 0;
	}
}

/* libyaml's reader errors carry a byte offset rather than a mark. */
static void offset_to_position(const char *text, size_t len, size_t offset, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < offset && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

static void report_parser_error(struct builder *b, const yaml_parser_t *p, const char *text,
				size_t len)
{
	int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;

	if (p->error == YAML_READER_ERROR) {
		offset_to_position(text, len, p->problem_offset, &line, &col);
		problem(b, line, col, "%s", p->problem ? p->problem : "cannot read the text");
	} else if (p->context) {
		problem(b, line, col, "%s (%s at %zu:%zu)", p->problem, p->context,
			p->context_mark.line + 1, p->context_mark.column + 1);
	} else {
		problem(b, line, col, "%s", p->problem ? p->problem : "invalid YAML");
	}
}

static void builder_done(struct builder *b)
{
	for (size_t i = 0; i < b->depth; i++)
		yaml_node_free(b->stack[i].node);
	for (size_t i = 0; i < b->anchor_count; i++)
		free(b->anchors[i].name);
	for (size_t i = 0; i < b->graveyard_count; i++)
		yaml_node_free(b->graveyard[i]);
	free(b->stack);
	free(b->anchors);
	free(b->graveyard);
	yaml_node_free(b->root);
}

int yaml_tree_parse(const char *text, size_t len, const char *file,
		    const struct yaml_limits *limits, struct yaml_node **ret_root,
		    struct diag_list *diags)
{
	struct builder b = { .file = file, .limits = limits, .diags = diags };
	yaml_parser_t parser;
	int r = 0;

	assert(limits && limits->max_depth > 0);
	if (len > limits->max_size) {
		diag_error(diags, file, 0, 0, "the file is larger than %zu bytes",
			   limits->max_size);
		return -EFBIG;
	}
	if (!yaml_parser_initialize(&parser))
		abort(); /* only fails on OOM, which aborts everywhere else too */
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (bool end = false; !end && r >= 0;) {
		yaml_event_t event;

		if (!yaml_parser_parse(&parser, &event)) {
			report_parser_error(&b, &parser, text, len);
			r = -EINVAL;
			break;
		}
		end = event.type == YAML_STREAM_END_EVENT;
		r = on_event(&b, &event);
		yaml_event_delete(&event);
	}
	yaml_parser_delete(&parser);
	if (r >= 0) {
		*ret_root = TAKE_PTR(b.root);
		r = b.problems;
	}
	builder_done(&b);
	return r;
}

const struct yaml_pair *yaml_node_get_pair(const struct yaml_node *map, const char *key)
{
	if (!map || map->kind != YAML_NODE_MAPPING)
		return NULL;
	for (size_t i = 0; i < map->count; i++)
		if (streq(map->pairs[i].key->value, key))
			return &map->pairs[i];
	return NULL;
}

const struct yaml_node *yaml_node_get(const struct yaml_node *map, const char *key)
{
	const struct yaml_pair *p = yaml_node_get_pair(map, key);

	return p ? p->value : NULL;
}

bool yaml_node_is_null(const struct yaml_node *node)
{
	return !node ||
	       (node->kind == YAML_NODE_SCALAR && yaml_scalar_type(node) == YAML_SCALAR_NULL);
}

bool yaml_node_is_string(const struct yaml_node *node)
{
	return node && node->kind == YAML_NODE_SCALAR &&
	       yaml_scalar_type(node) == YAML_SCALAR_STRING;
}

int yaml_node_get_bool(const struct yaml_node *node, bool *ret)
{
	if (!node || node->kind != YAML_NODE_SCALAR || yaml_scalar_type(node) != YAML_SCALAR_BOOL)
		return -EINVAL;
	return text_to_bool(node->value, ret);
}

int yaml_node_get_int(const struct yaml_node *node, int64_t *ret)
{
	const char *s;
	char *end = NULL;
	long long v;
	int base = 10;

	if (!node || node->kind != YAML_NODE_SCALAR || yaml_scalar_type(node) != YAML_SCALAR_INT)
		return -EINVAL;
	s = node->value;
	if (strncmp(s, "0o", 2) == 0) {
		s += 2;
		base = 8;
	} else if (strncmp(s, "0x", 2) == 0) {
		s += 2;
		base = 16;
	}
	errno = 0;
	v = strtoll(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static cJSON *scalar_to_json(const struct yaml_node *node)
{
	const char *s = node->value;
	int64_t i;
	bool b = false;

	switch (yaml_scalar_type(node)) {
	case YAML_SCALAR_NULL:
		return cJSON_CreateNull();
	case YAML_SCALAR_BOOL:
		text_to_bool(s, &b);
		return cJSON_CreateBool(b);
	case YAML_SCALAR_INT:
		if (yaml_node_get_int(node, &i) == 0)
			return cJSON_CreateNumber((double)i);
		return cJSON_CreateNumber(strtod(s, NULL));
	case YAML_SCALAR_FLOAT:
		if (*s == '+' || *s == '-')
			s++;
		if (s[0] == '.' && (s[1] == 'i' || s[1] == 'I'))
			return cJSON_CreateNumber(node->value[0] == '-' ? -INFINITY : INFINITY);
		if (s[0] == '.' && (s[1] == 'n' || s[1] == 'N'))
			return cJSON_CreateNumber(NAN);
		return cJSON_CreateNumber(strtod(node->value, NULL));
	case YAML_SCALAR_STRING:
		break;
	}
	return cJSON_CreateString(node->value);
}

cJSON *yaml_node_to_json(const struct yaml_node *node)
{
	cJSON *out;

	if (!node)
		return cJSON_CreateNull();
	switch (node->kind) {
	case YAML_NODE_SCALAR:
		return scalar_to_json(node);
	case YAML_NODE_SEQUENCE:
		out = cJSON_CreateArray();
		for (size_t i = 0; i < node->count; i++)
			cJSON_AddItemToArray(out, yaml_node_to_json(node->items[i]));
		return out;
	case YAML_NODE_MAPPING:
		out = cJSON_CreateObject();
		for (size_t i = 0; i < node->count; i++)
			cJSON_AddItemToObject(out, node->pairs[i].key->value,
					      yaml_node_to_json(node->pairs[i].value));
		return out;
	}
	return cJSON_CreateNull();
}

const char *yaml_node_kind_to_string(enum yaml_node_kind kind)
{
	switch (kind) {
	case YAML_NODE_SCALAR:
		return "scalar";
	case YAML_NODE_SEQUENCE:
		return "list";
	case YAML_NODE_MAPPING:
		return "map";
	}
	return "node";
}
