/* SPDX-License-Identifier: MIT */
/*
 * The table runner shared by the mapping tests: a case is a template, the
 * bundles it reads (JSON: root → value; NULL for the default fixture), and
 * either the expected value as JSON or a substring of the expected error.
 * Evaluation happens at MAPPING_CASES_NOW_MS in the case's zone.
 */
#pragma once

#include <stdint.h>

struct mapping;

#define MAPPING_CASES_NOW_MS 1795888800000LL /* 2026-11-28T18:00:00.000Z */

struct mapping_case {
	const char *text;
	const char *scope; /* NULL: the default bundles below */
	const char *expect; /* JSON; NULL when an error is expected */
	const char *error; /* substring of the evaluation error */
	const char *tz; /* scenario time zone; NULL is UTC */
};

/* Runs every case up to one with text NULL; fails the test on the first
 * mismatch, naming the case. */
void mapping_cases_run(const struct mapping_case *cases);
/* Evaluates an already compiled mapping against one case's data. */
void mapping_case_check(const struct mapping *m, const char *scope, const char *tz,
			const char *expect, const char *error);
