/* SPDX-License-Identifier: MIT */
/*
 * cJSON helpers; see json.h.
 */
#include "util/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/xalloc.h"

char *json_print(const cJSON *item)
{
	char *text;

	if (!item)
		return xstrdup("null");
	text = cJSON_PrintUnformatted(item);
	if (!text)
		return xstrdup("null");
	/* cJSON allocates with malloc by default, so free() is correct. */
	return text;
}

bool json_is_file_value(const cJSON *item)
{
	return cJSON_IsObject(item) &&
	       cJSON_IsString(cJSON_GetObjectItemCaseSensitive(item, "name")) &&
	       cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(item, "size")) &&
	       cJSON_IsString(cJSON_GetObjectItemCaseSensitive(item, "sha256")) &&
	       cJSON_IsString(cJSON_GetObjectItemCaseSensitive(item, "path"));
}

cJSON *json_file_value_new(const char *name, int64_t size, const char *mime, const char *sha256,
			   const char *path)
{
	cJSON *file = cJSON_CreateObject();

	cJSON_AddStringToObject(file, "name", name);
	cJSON_AddNumberToObject(file, "size", (double)size);
	cJSON_AddStringToObject(file, "mime", mime ? mime : "application/octet-stream");
	cJSON_AddStringToObject(file, "sha256", sha256);
	cJSON_AddStringToObject(file, "path", path);
	return file;
}

const char *json_get_string(const cJSON *object, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

int64_t json_get_int(const cJSON *object, const char *key, int64_t fallback)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);

	return cJSON_IsNumber(item) ? (int64_t)item->valuedouble : fallback;
}

bool json_get_bool(const cJSON *object, const char *key, bool fallback)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);

	return cJSON_IsBool(item) ? cJSON_IsTrue(item) : fallback;
}

static char *number_to_text(double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 1e17)
		return xasprintf("%.0f", v);
	/* %.17g round-trips; trim to the shortest form that still does. */
	for (int precision = 1; precision <= 17; precision++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "%.*g", precision, v);
		if (strtod(buf, NULL) == v)
			return xstrdup(buf);
	}
	return xasprintf("%.17g", v);
}

char *json_to_text(const cJSON *item)
{
	if (!item || cJSON_IsNull(item))
		return xstrdup("");
	if (cJSON_IsTrue(item))
		return xstrdup("true");
	if (cJSON_IsFalse(item))
		return xstrdup("false");
	if (cJSON_IsString(item))
		return xstrdup(item->valuestring);
	if (cJSON_IsNumber(item))
		return number_to_text(item->valuedouble);
	if (json_is_file_value(item))
		return xstrdup(json_get_string(item, "name"));
	return json_print(item);
}

/* RFC 3629's table, byte by byte: hand-written because the few lines are
 * cheaper than a dependency for them. */
bool json_utf8_valid(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text, *end = s + len;

	while (s < end) {
		unsigned char c = *s;
		size_t n;
		unsigned char lo = 0x80, hi = 0xbf;

		if (c == 0)
			return false;
		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return false;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if ((size_t)(end - s) <= n || s[1] < lo || s[1] > hi)
			return false;
		for (size_t i = 2; i <= n; i++)
			if (s[i] < 0x80 || s[i] > 0xbf)
				return false;
		s += n + 1;
	}
	return true;
}
