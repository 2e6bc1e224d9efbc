/* SPDX-License-Identifier: MIT */
/*
 * The scenario's own values: `scenario:` (the name, by default the file's
 * stem), `description:`, `timezone:` and the `settings:` table with
 * Fusion's defaults (scenario-format.md "Settings"). The settings are a
 * table of keys, types, limits and offsets so adding one is one line.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/internal.h"
#include "util/tz.h"
#include "util/units.h"
#include "util/xalloc.h"

enum setting_type {
	SETTING_BOOL,
	SETTING_INT,
	SETTING_DURATION,
	SETTING_SIZE,
};

struct setting {
	const char *key;
	enum setting_type type;
	size_t offset; /* in struct scenario_settings */
	int64_t min, max;
};

#define MS(n) ((int64_t)(n)*1000)

static const struct setting settings_table[] = {
	{ "store_incomplete", SETTING_BOOL, offsetof(struct scenario_settings, store_incomplete) },
	{ "sequential", SETTING_BOOL, offsetof(struct scenario_settings, sequential) },
	{ "max_consecutive_errors", SETTING_INT,
	  offsetof(struct scenario_settings, max_consecutive_errors), 1, 10000 },
	{ "max_cycles", SETTING_INT, offsetof(struct scenario_settings, max_cycles), 1, 10000 },
	{ "timeout", SETTING_DURATION, offsetof(struct scenario_settings, timeout_ms), MS(1),
	  MS(7 * 86400) },
	{ "max_file_size", SETTING_SIZE, offsetof(struct scenario_settings, max_file_size), 1,
	  INT64_MAX },
	{ "confidential", SETTING_BOOL, offsetof(struct scenario_settings, confidential) },
	{ "data_loss", SETTING_BOOL, offsetof(struct scenario_settings, data_loss) },
	{ "auto_commit", SETTING_BOOL, offsetof(struct scenario_settings, auto_commit) },
	{ "commit_trigger_last", SETTING_BOOL,
	  offsetof(struct scenario_settings, commit_trigger_last) },
};

void settings_init(struct scenario_settings *settings)
{
	*settings = (struct scenario_settings){
		.store_incomplete = false,
		.sequential = false,
		.max_consecutive_errors = 3,
		.max_cycles = 1,
		.timeout_ms = MS(40 * 60),
		.max_file_size = 100 * 1024 * 1024,
		.confidential = false,
		.data_loss = false,
		.auto_commit = true,
		.commit_trigger_last = true,
	};
}

static void load_bool(struct loader *l, const struct setting *s, const struct yaml_node *value,
		      void *field)
{
	_cleanup_free_ char *got = NULL;
	bool b;

	if (yaml_node_get_bool(value, &b) == 0) {
		*(bool *)field = b;
		return;
	}
	got = loader_describe(value);
	loader_error(l, value, "settings.%s: expected true or false, got %s", s->key, got);
}

static void load_number(struct loader *l, const struct setting *s, const struct yaml_node *value,
			void *field)
{
	static const char *const expected[] = {
		[SETTING_INT] = "an integer",
		[SETTING_DURATION] = "a duration like '40m'",
		[SETTING_SIZE] = "a size like '100MiB'",
	};
	_cleanup_free_ char *got = NULL;
	int64_t v = 0;
	int r = -EINVAL;

	if (s->type == SETTING_INT)
		r = yaml_node_get_int(value, &v);
	else if (value->kind == YAML_NODE_SCALAR && s->type == SETTING_DURATION)
		r = units_parse_duration(value->value, &v);
	else if (value->kind == YAML_NODE_SCALAR && s->type == SETTING_SIZE)
		r = units_parse_size(value->value, &v);
	if (r < 0 && r != -ERANGE) {
		got = loader_describe(value);
		loader_error(l, value, "settings.%s: expected %s, got %s", s->key,
			     expected[s->type], got);
		return;
	}
	if (r == -ERANGE || v < s->min || v > s->max) {
		got = loader_describe(value);
		if (s->type == SETTING_INT)
			loader_error(l, value, "settings.%s: %s is out of range %lld..%lld", s->key,
				     got, (long long)s->min, (long long)s->max);
		else
			loader_error(l, value, "settings.%s: %s is out of range", s->key, got);
		return;
	}
	if (s->type == SETTING_INT)
		*(int *)field = (int)v;
	else
		*(int64_t *)field = v;
}

void settings_load(struct loader *l, const struct yaml_node *node)
{
	const char *keys[ELEMENTSOF(settings_table) + 1] = { NULL };

	if (yaml_node_is_null(node))
		return;
	if (node->kind != YAML_NODE_MAPPING) {
		loader_error(l, node, "'settings' must be a map");
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(settings_table); i++)
		keys[i] = settings_table[i].key;
	loader_keys_check(l, node, keys, "settings: ");

	for (size_t i = 0; i < ELEMENTSOF(settings_table); i++) {
		const struct setting *s = &settings_table[i];
		const struct yaml_node *value = yaml_node_get(node, s->key);
		void *field = (char *)&l->scenario->settings + s->offset;

		if (!value)
			continue;
		if (streq(s->key, "store_incomplete"))
			l->store_incomplete = value;
		if (s->type == SETTING_BOOL)
			load_bool(l, s, value, field);
		else
			load_number(l, s, value, field);
	}
}

static bool valid_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > LOADER_MAX_NAME)
		return false;
	if (!islower((unsigned char)name[0]) && !isdigit((unsigned char)name[0]))
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

/* The name a file gives when it has no `scenario:` key: its stem, lower case. */
static char *name_from_file(const char *file)
{
	const char *base = strrchr(file, '/');
	char *name, *dot;

	name = xstrdup(base ? base + 1 : file);
	dot = strrchr(name, '.');
	if (dot && dot != name)
		*dot = '\0';
	for (char *c = name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return name;
}

static void load_name(struct loader *l, const struct yaml_node *root)
{
	const struct yaml_node *node = yaml_node_get(root, "scenario");
	_cleanup_free_ char *from_file = NULL;
	const char *name;

	if (node) {
		name = loader_text(l, node, "'scenario'");
		if (!name)
			return;
		if (!valid_name(name)) {
			loader_error(l, node,
				     "scenario name '%s' is not valid: names match "
				     "[a-z0-9][a-z0-9._-]* (at most %d characters)",
				     name, LOADER_MAX_NAME);
			return;
		}
		l->scenario->name = xstrdup(name);
		return;
	}
	if (!l->file) {
		loader_error(l, root, "missing 'scenario': the name of the scenario");
		return;
	}
	from_file = name_from_file(l->file);
	if (!valid_name(from_file)) {
		loader_error(l, root,
			     "no 'scenario' name given, and the file name gives '%s', which is not "
			     "a valid name ([a-z0-9][a-z0-9._-]*): add 'scenario: NAME'",
			     from_file);
		return;
	}
	l->scenario->name = TAKE_PTR(from_file);
}

static void load_timezone(struct loader *l, const struct yaml_node *node)
{
	const char *name;
	int r;

	if (!node)
		return;
	name = loader_text(l, node, "'timezone'");
	if (!name)
		return;
	r = tz_load(name, &l->tz);
	if (r < 0) {
		loader_error(l, node,
			     "unknown time zone '%s' (an IANA name such as "
			     "'Europe/Amsterdam' or 'UTC')",
			     name);
		return;
	}
	free(l->scenario->timezone);
	l->scenario->timezone = xstrdup(name);
}

void settings_load_header(struct loader *l, const struct yaml_node *root)
{
	const struct yaml_node *description = yaml_node_get(root, "description");

	load_name(l, root);
	load_timezone(l, yaml_node_get(root, "timezone"));
	if (description && !yaml_node_is_null(description)) {
		const char *text = loader_text(l, description, "'description'");

		if (text)
			l->scenario->description = xstrdup(text);
	}
}
