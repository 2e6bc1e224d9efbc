/* SPDX-License-Identifier: MIT */
/*
 * Parsing of durations and sizes; see units.h.
 */
#include "util/units.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/strbuf.h"
#include "util/xalloc.h"

struct unit {
	const char *suffix;
	int64_t factor;
};

static int parse_with_units(const char *text, const struct unit *units, int64_t *ret)
{
	char *end = NULL;
	long double value;

	if (!text || !*text)
		return -EINVAL;
	errno = 0;
	value = strtold(text, &end);
	if (errno || end == text || value < 0)
		return -EINVAL;
	for (const struct unit *u = units; u->suffix; u++) {
		long double scaled;

		if (strcasecmp(end, u->suffix) != 0)
			continue;
		scaled = value * (long double)u->factor;
		if (scaled > (long double)INT64_MAX)
			return -ERANGE;
		*ret = (int64_t)scaled;
		return 0;
	}
	return -EINVAL;
}

int units_parse_duration(const char *text, int64_t *ret_ms)
{
	static const struct unit units[] = {
		{ "ms", 1 },	      { "s", 1000 },	     { "m", 60 * 1000 },
		{ "h", 3600 * 1000 }, { "d", 86400 * 1000 }, { NULL, 0 },
	};
	int64_t ms;
	int r;

	if (text && *text && strspn(text, "0123456789.") == strlen(text))
		return -EINVAL; /* a bare number has no unit: say which one is meant */
	r = parse_with_units(text, units, &ms);
	if (r < 0)
		return r;
	*ret_ms = ms;
	return 0;
}

int units_parse_size(const char *text, int64_t *ret_bytes)
{
	static const struct unit units[] = {
		{ "", 1 },
		{ "B", 1 },
		{ "KB", 1000 },
		{ "MB", 1000 * 1000 },
		{ "GB", 1000 * 1000 * 1000 },
		{ "KiB", 1024 },
		{ "MiB", 1024 * 1024 },
		{ "GiB", 1024 * 1024 * 1024 },
		{ NULL, 0 },
	};

	return parse_with_units(text, units, ret_bytes);
}

char *units_format_duration(int64_t ms)
{
	struct strbuf sb;

	if (ms < 1000)
		return xasprintf("%lldms", (long long)ms);
	strbuf_init(&sb);
	if (ms >= 3600000)
		strbuf_printf(&sb, "%lldh ", (long long)(ms / 3600000));
	if (ms % 3600000 >= 60000)
		strbuf_printf(&sb, "%lldm ", (long long)(ms % 3600000 / 60000));
	if (ms % 60000 >= 1000)
		strbuf_printf(&sb, "%llds ", (long long)(ms % 60000 / 1000));
	if (sb.len)
		sb.data[--sb.len] = '\0';
	return strbuf_steal(&sb);
}
