/* SPDX-License-Identifier: MIT */
/*
 * What the files of modules/builtin/ share: each module file exports its
 * field table and hooks, and builtin.c lists them in builtin_modules[].
 * Nothing outside modules/builtin/ includes this header.
 */
#pragma once

#include <cjson/cJSON.h>

#include "modules/module.h"

/* builtin.sleep never waits longer than this (Fusion's Sleep: 300 s). */
#define SLEEP_MAX_MS (5 * 60 * 1000)
/* builtin.iterator refuses arrays longer than this (MaxResultsExceededError). */
#define ITERATOR_MAX_ITEMS 100000

extern const struct module_field sleep_fields[];
int sleep_with_validate(const cJSON *constant_with, module_report_fn *report, void *ctx);
int sleep_run_start(struct module_run *run);
void sleep_run_cancel(struct module_run *run);

extern const struct module_field iterator_fields[];
int iterator_run_start(struct module_run *run);

extern const struct module_field aggregator_fields[];
