/* SPDX-License-Identifier: MIT */
/*
 * A writer of the Prometheus text exposition format (version 0.0.4) for
 * GET /metrics: families declared once (# HELP, # TYPE), samples with
 * escaped labels, histograms from bucket counts. It only writes; the
 * daemon owns the counters.
 */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
	_METRIC_TYPE_MAX,
	_METRIC_TYPE_INVALID = -EINVAL,
};

const char *metric_type_to_string(enum metric_type type);
enum metric_type metric_type_from_string(const char *s);

struct metric_label {
	const char *name; /* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" */
	const char *value; /* any UTF-8; escaped on output */
};

struct metrics_writer {
	struct strbuf *out; /* borrowed; the text is appended to it */
	char **families; /* owned; the names declared so far */
	size_t n_families;
	size_t capacity;
	enum metric_type type; /* of the family declared last */
};

/* Embedded: the writer appends to `out` until metrics_writer_done(). */
void metrics_writer_init(struct metrics_writer *writer, struct strbuf *out);
void metrics_writer_done(struct metrics_writer *writer);

/* Declares a family: its # HELP and # TYPE lines; its samples follow
 * before the next family. -EINVAL for an invalid name or type, -EEXIST
 * for a name declared before. Nothing is written on error. */
int metrics_family_declare(struct metrics_writer *writer, const char *name, enum metric_type type,
			   const char *help);
/* One sample of the counter or gauge family declared last: `name` is the
 * family's. -EINVAL for another name, a histogram family or an invalid
 * label name; nothing is written then. */
int metrics_sample_write(struct metrics_writer *writer, const char *name,
			 const struct metric_label *labels, size_t n_labels, double value);
/* One histogram of the histogram family declared last: `counts` holds
 * n_bounds + 1 observations per bucket (not cumulative; the last is above
 * every bound), `bounds` is strictly increasing and finite. Writes the
 * cumulative name_bucket{le=...} lines, +Inf included, name_sum and
 * name_count. -EINVAL as metrics_sample_write(), or for bounds out of
 * order or a label named "le". */
int metrics_histogram_write(struct metrics_writer *writer, const char *name,
			    const struct metric_label *labels, size_t n_labels,
			    const double *bounds, size_t n_bounds, const uint64_t *counts,
			    double sum);

/* A value as the format spells it: integers without exponent, the
 * shortest text that reads back the same otherwise, +Inf, -Inf, NaN.
 * Writes at most 32 bytes with the NUL. */
void metrics_format_value(double value, char buf[static 32]);
