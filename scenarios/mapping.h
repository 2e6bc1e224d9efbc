/* SPDX-License-Identifier: MIT */
/*
 * The mapping language (scenario-format.md "Bundles and mapping", Fusion's
 * IML): a string with {{expression}} parts is compiled once, when the
 * scenario is loaded, and evaluated per bundle. A string that is exactly one
 * {{expression}} keeps the expression's type; any other string is text with
 * the values inserted (json_to_text rules). scenarios/MAPPING.md describes
 * the grammar and every function.
 *
 * Values are cJSON trees. Dates are ISO 8601 UTC strings with milliseconds;
 * a file value is an object recognised by json_is_file_value().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct mapping;
struct tz;

/* Limits on what a user can make the compiler and evaluator do. */
#define MAPPING_MAX_DEPTH 64 /* nesting of parentheses and calls */
#define MAPPING_MAX_TEXT (1 << 20) /* bytes of one template */

struct mapping_error {
	size_t offset; /* 0-based byte offset in the template text */
	char *message; /* owned */
};

/* Compiles `text`. A text with no {{ }} compiles to a constant. On a syntax
 * error returns -EINVAL and fills *reterr (caller frees reterr->message). */
int mapping_compile(const char *text, struct mapping **ret, struct mapping_error *reterr);
/* Accepts NULL; returns NULL. */
struct mapping *mapping_free(struct mapping *mapping);
/* True when the text held no {{ }}: its value is the text itself. */
bool mapping_is_constant(const struct mapping *mapping);
/* The source text as compiled (borrowed). */
const char *mapping_text(const struct mapping *mapping);

/* Calls `fn` for every reference root in the template: the first path
 * segment of each reference ("2" in {{2.file.name}}, "execution", "error", …)
 * with its byte offset in the text. Stops and returns fn's value when it is
 * not 0. */
typedef int mapping_ref_fn(void *userdata, const char *root, size_t offset);
int mapping_foreach_ref(const struct mapping *mapping, mapping_ref_fn *fn, void *userdata);

/* Resolves a reference root to its value: a module id to that module's
 * output bundle on the current path, "execution", "scenario", "error",
 * "bundle" to their context objects. Returns a borrowed value, or NULL when
 * the root is unknown (the reference then reads as null). */
typedef const cJSON *mapping_resolve_fn(void *userdata, const char *root);

struct mapping_scope {
	mapping_resolve_fn *resolve;
	void *userdata;
	int64_t now_ms; /* what `now` is for this evaluation (epoch ms) */
	const char *timezone; /* IANA name for date formatting; NULL = UTC */
	const struct tz *tz; /* MAY be set: `timezone` already loaded (util/tz.h), so
			       * evaluation reads no zone file; borrowed */
};

/* Evaluates the template. On success *ret is a new tree (caller frees with
 * cJSON_Delete). A type error or a failing function returns -EINVAL with a
 * message naming the expression and the position (caller frees). */
int mapping_eval(const struct mapping *mapping, const struct mapping_scope *scope, cJSON **ret,
		 char **reterr_msg);
/* Truthiness as filters use it: false, null, "", 0 and "false" are false. */
bool mapping_truthy(const cJSON *value);
