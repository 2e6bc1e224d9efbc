/* SPDX-License-Identifier: MIT */
/*
 * The one table of every app compiled in. Adding an app takes a folder, a
 * subdir() in modules/meson.build and one line here.
 */
#include "modules/registry.h"

#include <string.h>

#include "modules/module.h"
#include "util/xalloc.h"

/* Each app's descriptors, terminated by { .name = NULL }. */
extern const struct module_desc builtin_modules[];
extern const struct module_desc cloudconvert_modules[];
extern const struct module_desc files_modules[];
extern const struct module_desc http_modules[];
extern const struct module_desc webhooks_modules[];

static const struct module_desc *const apps[] = {
	builtin_modules, cloudconvert_modules, files_modules, http_modules, webhooks_modules,
};

static const struct module_desc *const *all;
static const char **names;

/* The flat tables are built once, on first use, from static data only; the
 * result never changes, so it is not mutable state in any observable sense. */
static void build_tables(void)
{
	size_t count = 0, i = 0;

	if (all)
		return;
	for (size_t a = 0; a < ELEMENTSOF(apps); a++)
		for (const struct module_desc *d = apps[a]; d->name; d++)
			count++;
	const struct module_desc **table = xcalloc(count + 1, sizeof(*table));
	names = xcalloc(count + 1, sizeof(*names));
	for (size_t a = 0; a < ELEMENTSOF(apps); a++)
		for (const struct module_desc *d = apps[a]; d->name; d++, i++) {
			table[i] = d;
			names[i] = xasprintf("%s.%s", d->app, d->name);
		}
	all = table;
}

const struct module_desc *registry_at(size_t i)
{
	build_tables();
	return all[i];
}

const char *const *registry_names(void)
{
	build_tables();
	return names;
}

const struct module_desc *registry_find(const char *qualified_name)
{
	build_tables();
	for (size_t i = 0; all[i]; i++)
		if (strcmp(names[i], qualified_name) == 0)
			return all[i];
	return NULL;
}

bool registry_has_app(const char *app)
{
	for (size_t a = 0; a < ELEMENTSOF(apps); a++)
		if (apps[a][0].app && strcmp(apps[a][0].app, app) == 0)
			return true;
	return false;
}
