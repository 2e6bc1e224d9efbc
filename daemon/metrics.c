/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus text format writer (metrics.h). The rules it keeps, from
 * the exposition format's specification: metric names match
 * [a-zA-Z_:][a-zA-Z0-9_:]* and label names [a-zA-Z_][a-zA-Z0-9_]* (those
 * starting "__" are reserved); a label value escapes backslash, double
 * quote and newline as \\, \" and \n, and a HELP text backslash and
 * newline; a family's # HELP and # TYPE come once, before its samples, and
 * its samples stay together; a value is a Go float, so +Inf, -Inf and NaN.
 * Every call checks its input first and writes nothing when it is wrong,
 * so the text stays well-formed whatever a caller passes.
 */
#include "daemon/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

static const char *const metric_type_table[_METRIC_TYPE_MAX] = {
	[METRIC_COUNTER] = "counter",
	[METRIC_GAUGE] = "gauge",
	[METRIC_HISTOGRAM] = "histogram",
};

const char *metric_type_to_string(enum metric_type type)
{
	if (type < 0 || type >= _METRIC_TYPE_MAX)
		return NULL;
	return metric_type_table[type];
}

enum metric_type metric_type_from_string(const char *s)
{
	for (int i = 0; i < _METRIC_TYPE_MAX; i++)
		if (s && streq(s, metric_type_table[i]))
			return (enum metric_type)i;
	return _METRIC_TYPE_INVALID;
}

void metrics_writer_init(struct metrics_writer *writer, struct strbuf *out)
{
	*writer = (struct metrics_writer){ .out = out, .type = _METRIC_TYPE_INVALID };
}

void metrics_writer_done(struct metrics_writer *writer)
{
	for (size_t i = 0; i < writer->n_families; i++)
		free(writer->families[i]);
	free(writer->families);
	*writer = (struct metrics_writer){ .type = _METRIC_TYPE_INVALID };
}

static bool name_valid(const char *name, bool colon)
{
	if (!name || !*name)
		return false;
	for (const char *p = name; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			  (colon && c == ':') || (p > name && c >= '0' && c <= '9');

		if (!ok)
			return false;
	}
	return true;
}

static bool labels_valid(const struct metric_label *labels, size_t n_labels, bool histogram)
{
	for (size_t i = 0; i < n_labels; i++) {
		if (!name_valid(labels[i].name, false) || strncmp(labels[i].name, "__", 2) == 0 ||
		    !labels[i].value)
			return false;
		if (histogram && streq(labels[i].name, "le"))
			return false;
	}
	return true;
}

static bool declared(const struct metrics_writer *writer, const char *name)
{
	for (size_t i = 0; i < writer->n_families; i++)
		if (streq(writer->families[i], name))
			return true;
	return false;
}

/* Appends `text` escaping backslash and newline, and the double quote
 * too inside a label value. */
static void put_escaped(struct strbuf *out, const char *text, bool quote)
{
	for (const char *p = text; *p; p++) {
		if (*p == '\\')
			strbuf_puts(out, "\\\\");
		else if (*p == '\n')
			strbuf_puts(out, "\\n");
		else if (quote && *p == '"')
			strbuf_puts(out, "\\\"");
		else
			strbuf_putc(out, *p);
	}
}

int metrics_family_declare(struct metrics_writer *writer, const char *name, enum metric_type type,
			   const char *help)
{
	if (!name_valid(name, true) || !metric_type_to_string(type))
		return -EINVAL;
	if (declared(writer, name))
		return -EEXIST;
	writer->families = xgrow(writer->families, &writer->capacity, writer->n_families + 1,
				 sizeof(*writer->families));
	writer->families[writer->n_families++] = xstrdup(name);
	writer->type = type;
	strbuf_printf(writer->out, "# HELP %s ", name);
	put_escaped(writer->out, help ? help : "", false);
	strbuf_printf(writer->out, "\n# TYPE %s %s\n", name, metric_type_to_string(type));
	return 0;
}

void metrics_format_value(double value, char buf[static 32])
{
	if (isnan(value)) {
		snprintf(buf, 32, "NaN");
		return;
	}
	if (isinf(value)) {
		snprintf(buf, 32, "%s", value > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* Whole numbers as integers (-0 as 0); 2^63 and above stay floats. */
	if (value == trunc(value) && fabs(value) < 9.2e18) {
		snprintf(buf, 32, "%" PRId64, (int64_t)value);
		return;
	}
	for (int precision = 1; precision <= 17; precision++) {
		snprintf(buf, 32, "%.*g", precision, value);
		if (strtod(buf, NULL) == value)
			return;
	}
}

/* name_suffix{labels[,le="bound"]} value */
static void put_sample(struct strbuf *out, const char *name, const char *suffix,
		       const struct metric_label *labels, size_t n_labels, const char *le,
		       const char *value)
{
	strbuf_printf(out, "%s%s", name, suffix);
	if (n_labels > 0 || le) {
		strbuf_putc(out, '{');
		for (size_t i = 0; i < n_labels; i++) {
			strbuf_printf(out, "%s%s=\"", i ? "," : "", labels[i].name);
			put_escaped(out, labels[i].value, true);
			strbuf_putc(out, '"');
		}
		if (le)
			strbuf_printf(out, "%sle=\"%s\"", n_labels ? "," : "", le);
		strbuf_putc(out, '}');
	}
	strbuf_printf(out, " %s\n", value);
}

/* Whether `name` may have samples now: the family declared last, of a
 * type that fits the call. */
static bool sample_allowed(const struct metrics_writer *writer, const char *name, bool histogram)
{
	if (writer->n_families == 0 || !name ||
	    !streq(writer->families[writer->n_families - 1], name))
		return false;
	return histogram == (writer->type == METRIC_HISTOGRAM);
}

int metrics_sample_write(struct metrics_writer *writer, const char *name,
			 const struct metric_label *labels, size_t n_labels, double value)
{
	char text[32];

	if (!sample_allowed(writer, name, false) || !labels_valid(labels, n_labels, false))
		return -EINVAL;
	metrics_format_value(value, text);
	put_sample(writer->out, name, "", labels, n_labels, NULL, text);
	return 0;
}

int metrics_histogram_write(struct metrics_writer *writer, const char *name,
			    const struct metric_label *labels, size_t n_labels,
			    const double *bounds, size_t n_bounds, const uint64_t *counts,
			    double sum)
{
	char le[32], text[32];
	uint64_t total = 0;

	if (!sample_allowed(writer, name, true) || !labels_valid(labels, n_labels, true))
		return -EINVAL;
	for (size_t i = 0; i < n_bounds; i++)
		if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
			return -EINVAL;
	for (size_t i = 0; i <= n_bounds; i++) {
		total += counts[i];
		if (i < n_bounds)
			metrics_format_value(bounds[i], le);
		else
			snprintf(le, sizeof(le), "+Inf");
		snprintf(text, sizeof(text), "%" PRIu64, total);
		put_sample(writer->out, name, "_bucket", labels, n_labels, le, text);
	}
	metrics_format_value(sum, text);
	put_sample(writer->out, name, "_sum", labels, n_labels, NULL, text);
	snprintf(text, sizeof(text), "%" PRIu64, total);
	put_sample(writer->out, name, "_count", labels, n_labels, NULL, text);
	return 0;
}
