/* SPDX-License-Identifier: MIT */
/*
 * cJSON helpers shared by every layer: cleanup, printing, and the one test
 * that tells a file value ({name, size, mime, sha256, path}, see
 * scenario-format.md "Values that are files") from any other object.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/cleanup.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(cJSON, cJSON_Delete)
#define _cleanup_json_ _cleanup_(cJSON_Deletep)

/* Compact JSON text of `item` (NULL item → "null"); caller frees. */
char *json_print(const cJSON *item);
/* True for an object that is a file value: string name, number size,
 * string sha256 and string path. */
bool json_is_file_value(const cJSON *item);
/* Builds a file value; every string is copied. */
cJSON *json_file_value_new(const char *name, int64_t size, const char *mime, const char *sha256,
			   const char *path);
/* Borrowed string member, or NULL when missing or not a string. */
const char *json_get_string(const cJSON *object, const char *key);
/* Integer member, or `fallback` when missing or not a number. */
int64_t json_get_int(const cJSON *object, const char *key, int64_t fallback);
bool json_get_bool(const cJSON *object, const char *key, bool fallback);
/* Text of a scalar as Fusion shows it in text context: null → "", booleans
 * true/false, whole numbers without decimals, a file value → its name,
 * objects and arrays → compact JSON. Caller frees. */
char *json_to_text(const cJSON *item);
/* Whether `len` bytes are well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF, no NUL): what a JSON string may
 * hold. */
bool json_utf8_valid(const char *text, size_t len);
