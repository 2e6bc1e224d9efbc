/* SPDX-License-Identifier: MIT */
/*
 * The one place that lists every module compiled in (no plugins: the set of
 * modules can be read in registry.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct module_desc;

/* Finds "app.module"; NULL when unknown. */
const struct module_desc *registry_find(const char *qualified_name);
/* Every qualified name, NULL-terminated, for "did you mean" and listings.
 * Static storage. */
const char *const *registry_names(void);
/* Descriptor i (0-based) or NULL past the end. */
const struct module_desc *registry_at(size_t i);
/* Whether an app named `app` exists (for "unknown app" vs "unknown module"). */
bool registry_has_app(const char *app);
