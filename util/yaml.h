/* SPDX-License-Identifier: MIT */
/*
 * YAML text → a tree of nodes that remember where they were written (1-based
 * line and column, counted in characters as libyaml counts them), how a
 * scalar was written (plain or quoted) and its tag, so that callers can
 * report problems at the exact spot and type scalars by the YAML 1.2 core
 * schema (a quoted "10" is text, a plain 10 a number).
 *
 * Parsing is bounded (input size, nesting depth, node count). Aliases are
 * resolved by copying the anchored node; the copies count against the node
 * limit, so "billion laughs" stops at the limit. Duplicate keys are an error.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/cleanup.h"

struct diag_list;

enum yaml_node_kind {
	YAML_NODE_SCALAR,
	YAML_NODE_SEQUENCE,
	YAML_NODE_MAPPING,
};

enum yaml_node_style {
	YAML_STYLE_PLAIN,
	YAML_STYLE_SINGLE_QUOTED,
	YAML_STYLE_DOUBLE_QUOTED,
	YAML_STYLE_LITERAL, /* | block */
	YAML_STYLE_FOLDED, /* > block */
	YAML_STYLE_BLOCK, /* sequences and mappings written as indented blocks */
	YAML_STYLE_FLOW, /* [ ] and { } */
};

/* What a scalar means under the YAML 1.2 core schema (tags respected). */
enum yaml_scalar_type {
	YAML_SCALAR_NULL,
	YAML_SCALAR_BOOL,
	YAML_SCALAR_INT,
	YAML_SCALAR_FLOAT,
	YAML_SCALAR_STRING,
};

struct yaml_pair {
	struct yaml_node *key; /* owned; always a scalar */
	struct yaml_node *value; /* owned */
};

struct yaml_node {
	enum yaml_node_kind kind;
	enum yaml_node_style style;
	int line; /* 1-based: where the node starts (a quoted scalar: its opening quote) */
	int column; /* 1-based, in characters */
	int end_line; /* 1-based: the line the node ends on */
	char *tag; /* owned: the resolved tag as written ("tag:yaml.org,2002:str"), or NULL */

	/* YAML_NODE_SCALAR */
	char *value; /* owned; NUL-terminated */
	size_t length; /* bytes of value */

	/* YAML_NODE_SEQUENCE: items; YAML_NODE_MAPPING: pairs, in file order */
	struct yaml_node **items; /* owned */
	struct yaml_pair *pairs; /* owned */
	size_t count;
};

struct yaml_limits {
	size_t max_size; /* bytes of input */
	int max_depth; /* nesting of sequences and mappings */
	size_t max_nodes; /* every node, alias copies included */
};

/*
 * Parses one YAML document. Diagnostics name `file` (may be NULL).
 *
 * Problems after which the tree still makes sense (a duplicate key: the first
 * one is kept; a scalar that does not fit its explicit tag) are appended to
 * `diags` and counted: the function then returns that count (≥ 0) with the
 * tree in *ret_root. A syntax error or an exceeded limit returns -EINVAL
 * (-EFBIG for the input size) with the problem in `diags`. An empty document
 * gives *ret_root = NULL. A second document in the stream is an error.
 */
int yaml_tree_parse(const char *text, size_t len, const char *file,
		    const struct yaml_limits *limits, struct yaml_node **ret_root,
		    struct diag_list *diags);
/* Accepts NULL; returns NULL. */
struct yaml_node *yaml_node_free(struct yaml_node *node);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct yaml_node, yaml_node_free)
#define _cleanup_yaml_node_ _cleanup_(yaml_node_freep)

/* The value of `key` in a mapping, or NULL (also when `map` is not a mapping). */
const struct yaml_node *yaml_node_get(const struct yaml_node *map, const char *key);
/* The pair whose key is `key`, or NULL. */
const struct yaml_pair *yaml_node_get_pair(const struct yaml_node *map, const char *key);

/* The core-schema type of a scalar. */
enum yaml_scalar_type yaml_scalar_type(const struct yaml_node *scalar);
/* True for a null scalar (plain empty, ~, null) or a NULL node. */
bool yaml_node_is_null(const struct yaml_node *node);
/* True for a quoted scalar or one written as a plain string. */
bool yaml_node_is_string(const struct yaml_node *node);
/* Reads a scalar as a boolean / integer; -EINVAL when it is not one (a
 * quoted "true" is text, not a boolean). */
int yaml_node_get_bool(const struct yaml_node *node, bool *ret);
int yaml_node_get_int(const struct yaml_node *node, int64_t *ret);

/* Converts a tree to JSON by the core schema (maps → objects, sequences →
 * arrays, scalars typed). */
cJSON *yaml_node_to_json(const struct yaml_node *node);

const char *yaml_node_kind_to_string(enum yaml_node_kind kind);
