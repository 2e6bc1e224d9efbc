/* SPDX-License-Identifier: MIT */
/*
 * Table runner for the mapping tests; see test_mapping_cases.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_mapping_cases.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/mapping.h"
#include "util/json.h"

/* What the tables read unless a case brings its own bundles. */
static const char default_scope[] =
	"{\"1\": {\"name\": \"Report.pdf\", \"count\": 3, \"price\": \"12.50\", \"ratio\": 0.25,"
	"  \"big\": 1e21, \"whole\": 1500.0, \"tags\": [\"a\", \"b\", \"c\"],"
	"  \"items\": [{\"id\": 1, \"name\": \"x\"}, {\"id\": 2, \"name\": \"y\"}],"
	"  \"Customer Name\": \"ACME\", \"0\": \"zero\", \"empty\": \"\", \"nothing\": null,"
	"  \"flag\": true, \"nested\": {\"deep\": {\"v\": 42}}, \"data\": {\"2fa\": true}},"
	" \"2\": {\"file\": {\"name\": \"out.png\", \"size\": 10, \"mime\": \"image/png\","
	"  \"sha256\": \"ab\", \"path\": \"/blobs/ab\"}},"
	" \"execution\": {\"id\": \"exec-7\"}, \"scenario\": {\"name\": \"convert\", \"id\": 12},"
	" \"bundle\": {\"index\": 1, \"total\": 2}, \"trigger\": {\"body\": {\"id\": \"w-1\"}}}";

static const cJSON *resolve(void *userdata, const char *root)
{
	return cJSON_GetObjectItemCaseSensitive(userdata, root);
}

void mapping_case_check(const struct mapping *m, const char *scope_json, const char *tz,
			const char *expect, const char *error)
{
	cJSON *bundles = cJSON_Parse(scope_json ? scope_json : default_scope);
	struct mapping_scope scope = {
		.resolve = resolve,
		.userdata = bundles,
		.now_ms = MAPPING_CASES_NOW_MS,
		.timezone = tz,
	};
	cJSON *got = NULL, *want = NULL;
	char *message = NULL, *printed = NULL;
	int r;

	if (!bundles)
		fail_msg("'%s': the case's scope is not JSON", mapping_text(m));
	r = mapping_eval(m, &scope, &got, &message);
	if (error) {
		if (r != -EINVAL || !message || !strstr(message, error))
			fail_msg("'%s': expected error '%s', got r=%d '%s' value %s",
				 mapping_text(m), error, r, message ? message : "(none)",
				 r == 0 ? (printed = json_print(got)) : "-");
	} else {
		want = cJSON_Parse(expect);
		if (!want)
			fail_msg("'%s': the expected value is not JSON: %s", mapping_text(m),
				 expect);
		if (r != 0)
			fail_msg("'%s': expected %s, got error %d '%s'", mapping_text(m), expect, r,
				 message ? message : "(none)");
		if (!cJSON_Compare(got, want, true))
			fail_msg("'%s': expected %s, got %s", mapping_text(m), expect,
				 printed = json_print(got));
	}
	free(printed);
	free(message);
	cJSON_Delete(got);
	cJSON_Delete(want);
	cJSON_Delete(bundles);
}

void mapping_cases_run(const struct mapping_case *cases)
{
	for (const struct mapping_case *c = cases; c->text; c++) {
		struct mapping_error err = { 0 };
		struct mapping *m = NULL;

		if (mapping_compile(c->text, &m, &err) < 0)
			fail_msg("'%s': compile error at %zu: %s", c->text, err.offset,
				 err.message);
		mapping_case_check(m, c->scope, c->tz, c->expect, c->error);
		mapping_free(m);
	}
}
