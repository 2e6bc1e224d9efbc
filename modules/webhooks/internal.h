/* SPDX-License-Identifier: MIT */
/*
 * What the files of the webhooks app share: its two modules' fields and
 * entry points, listed in webhooks.c.
 */
#pragma once

#include "modules/module.h"

extern const struct module_field webhooks_custom_fields[];
int webhooks_custom_validate(const cJSON *constant_with, module_report_fn *report, void *ctx);
int webhooks_custom_start(struct module_run *run);

extern const struct module_field webhooks_respond_fields[];
int webhooks_respond_validate(const cJSON *constant_with, module_report_fn *report, void *ctx);
int webhooks_respond_start(struct module_run *run);
