/* SPDX-License-Identifier: MIT */
/*
 * The scenario folder as the daemon sees it: every *.yaml / *.yml file,
 * loaded and validated, one entry per scenario name, sorted by name.
 *
 * A reload compares the folder with what runs: a file whose size, mtime and
 * inode did not change is not read again (so a reload stays cheap with
 * thousands of scenarios); a file whose text changed becomes the scenario's
 * new version, while runs in flight finish with the version they started
 * with (struct scenario_version is shared by reference); a file that fails
 * validation is reported with its FILE:LINE:COL problems and its previous
 * version keeps running; a file that is gone takes its scenario out of the
 * schedule, but not out of the store's history.
 */
#include "daemon/daemon.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scenarios/engine.h"
#include "scenarios/scenario.h"
#include "store/store.h"
#include "util/diag.h"
#include "util/json.h"
#include "util/tz.h"
#include "util/xalloc.h"

#define CATALOG_MAX_FILES 100000

struct scenario_version *scenario_version_ref(struct scenario_version *v)
{
	v->refs++;
	return v;
}

void scenario_version_unref(struct scenario_version *v)
{
	if (!v || --v->refs > 0)
		return;
	scenario_free(v->scenario);
	free(v);
}

/* The zone `name`, loaded once; NULL (UTC) when it cannot be (the loader
 * checked it exists, so it vanished since). */
static const struct tz *zone(struct zone_cache *cache, const char *name)
{
	struct tz *tz = NULL;

	for (size_t i = 0; i < cache->count; i++)
		if (streq(tz_name(cache->zones[i]), name))
			return cache->zones[i];
	if (tz_load(name, &tz) < 0)
		return NULL;
	cache->zones = xrealloc(cache->zones, (cache->count + 1) * sizeof(*cache->zones));
	cache->zones[cache->count++] = tz;
	return tz;
}

static struct scenario_version *version_new(struct catalog *cat, struct scenario *scenario)
{
	struct scenario_version *v = xcalloc(1, sizeof(*v));

	v->refs = 1;
	v->scenario = scenario;
	if (scenario->timezone)
		v->tz = zone(&cat->zones, scenario->timezone);
	return v;
}

void reload_report_init(struct reload_report *report)
{
	*report = (struct reload_report){
		.added = cJSON_CreateArray(),
		.changed = cJSON_CreateArray(),
		.removed = cJSON_CreateArray(),
		.problems = cJSON_CreateArray(),
	};
}

void reload_report_done(struct reload_report *report)
{
	cJSON_Delete(report->added);
	cJSON_Delete(report->changed);
	cJSON_Delete(report->removed);
	cJSON_Delete(report->problems);
	*report = (struct reload_report){ 0 };
}

static int by_name(const void *a, const void *b)
{
	const struct daemon_scenario *x = *(struct daemon_scenario *const *)a;
	const struct daemon_scenario *y = *(struct daemon_scenario *const *)b;

	return strcmp(x->name, y->name);
}

struct daemon_scenario *catalog_find(const struct catalog *catalog, const char *name)
{
	struct daemon_scenario key = { .name = (char *)name };
	struct daemon_scenario *k = &key;
	struct daemon_scenario **found;

	if (!catalog->count)
		return NULL;
	found = bsearch(&k, catalog->items, catalog->count, sizeof(*catalog->items), by_name);
	return found ? *found : NULL;
}

static void scenario_entry_free(struct daemon_scenario *s)
{
	trigger_route_free(s->route);
	if (s->webhook_secret) {
		explicit_bzero(s->webhook_secret, strlen(s->webhook_secret));
		free(s->webhook_secret);
	}
	free(s->webhook_problem);
	scenario_version_unref(s->version);
	free(s->name);
	free(s->path);
	free(s->problem);
	free(s->schedule_key);
	free(s);
}

void catalog_done(struct catalog *catalog)
{
	for (size_t i = 0; i < catalog->count; i++)
		scenario_entry_free(catalog->items[i]);
	free(catalog->items);
	cJSON_Delete(catalog->problems);
	for (size_t i = 0; i < catalog->zones.count; i++)
		tz_free(catalog->zones.zones[i]);
	free(catalog->zones.zones);
	*catalog = (struct catalog){ 0 };
}

/* One file of the folder, as this reload found it. */
struct found {
	char *path; /* owned */
	struct stat st;
	struct scenario *loaded; /* owned: a new text that loaded; NULL otherwise */
	struct daemon_scenario *same; /* borrowed: an entry whose file did not change */
	bool failed;
};

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static bool is_scenario_file(const char *name)
{
	size_t len = strlen(name);

	if (name[0] == '.')
		return false;
	return (len > 5 && streq(name + len - 5, ".yaml")) ||
	       (len > 4 && streq(name + len - 4, ".yml"));
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct found *)a)->path, ((const struct found *)b)->path);
}

static void add_problems(struct reload_report *report, const struct diag_list *diags)
{
	for (size_t i = 0; i < diags->count; i++) {
		const struct diag *d = &diags->items[i];
		cJSON *p = cJSON_CreateObject();

		cJSON_AddStringToObject(p, "file", d->file ? d->file : "");
		cJSON_AddNumberToObject(p, "line", d->line);
		cJSON_AddNumberToObject(p, "column", d->column);
		cJSON_AddStringToObject(p, "message", d->message);
		cJSON_AddItemToArray(report->problems, p);
	}
}

static void add_problem(struct reload_report *report, const char *file, const char *message)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "file", file);
	cJSON_AddNumberToObject(p, "line", 0);
	cJSON_AddNumberToObject(p, "column", 0);
	cJSON_AddStringToObject(p, "message", message);
	cJSON_AddItemToArray(report->problems, p);
}

static int entry_by_path(const void *a, const void *b)
{
	return strcmp((*(struct daemon_scenario *const *)a)->path,
		      (*(struct daemon_scenario *const *)b)->path);
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static bool unchanged(const struct daemon_scenario *s, const struct stat *st)
{
	return !s->problem && s->stat_ino == (uint64_t)st->st_ino &&
	       s->stat_size == (int64_t)st->st_size && s->stat_mtime_ns == mtime_ns(st);
}

static void remember_stat(struct daemon_scenario *s, const struct stat *st)
{
	s->stat_ino = (uint64_t)st->st_ino;
	s->stat_size = (int64_t)st->st_size;
	s->stat_mtime_ns = mtime_ns(st);
}

/* Lists the folder's scenario files, sorted by path. A missing folder is
 * an empty one (the daemon then has nothing to run, and says so). */
static int scan(const char *dir, struct found **ret, size_t *ret_count,
		struct reload_report *report)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct found *files = NULL;
	size_t count = 0;
	struct dirent *de;

	*ret = NULL;
	*ret_count = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct found f = { 0 };

		if (!is_scenario_file(de->d_name))
			continue;
		if (count == CATALOG_MAX_FILES) {
			_cleanup_free_ char *msg = xasprintf(
				"the folder holds more than %d scenario files; the rest are ignored",
				CATALOG_MAX_FILES);

			add_problem(report, dir, msg);
			break;
		}
		f.path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(f.path, &f.st) < 0 || !S_ISREG(f.st.st_mode)) {
			add_problem(report, f.path, "not a regular file; ignored");
			free(f.path);
			continue;
		}
		files = xrealloc(files, (count + 1) * sizeof(*files));
		files[count++] = f;
	}
	if (count > 1)
		qsort(files, count, sizeof(*files), by_path);
	*ret = files;
	*ret_count = count;
	return 0;
}

/* Reads the files that changed; `index` is the current entries by path. */
static void load_changed(struct found *files, size_t count, struct daemon_scenario **index,
			 size_t index_count, struct reload_report *report)
{
	for (size_t i = 0; i < count; i++) {
		struct found *f = &files[i];
		struct daemon_scenario key = { .path = f->path }, *k = &key, **hit;
		struct diag_list diags;

		hit = index_count ? bsearch(&k, index, index_count, sizeof(*index), entry_by_path) :
				    NULL;
		if (hit && unchanged(*hit, &f->st)) {
			f->same = *hit;
			continue;
		}
		diag_list_init(&diags);
		if (scenario_load_file(f->path, &f->loaded, &diags) < 0) {
			f->failed = true;
			diag_list_sort(&diags);
			add_problems(report, &diags);
			if (hit) {
				free((*hit)->problem);
				(*hit)->problem =
					diags.count ? diag_format(&diags.items[0]) :
						      xasprintf("%s: cannot be loaded", f->path);
			}
		}
		diag_list_done(&diags);
	}
}

/* A name claimed by a file of this reload. */
struct claim {
	const char *name; /* borrowed */
	struct found *file; /* borrowed */
	int rank; /* 0: the file the name's current entry came from */
};

static int by_claim(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	return strcmp(x->file->path, y->file->path);
}

/* Two files defining one name: the one already running keeps it. */
static struct claim *claims_build(const struct catalog *cat, struct found *files, size_t count,
				  size_t *ret_count)
{
	struct claim *claims = xcalloc(count ? count : 1, sizeof(*claims));
	size_t n = 0;

	for (size_t i = 0; i < count; i++) {
		const char *name = files[i].same   ? files[i].same->name :
				   files[i].loaded ? files[i].loaded->name :
						     NULL;
		const struct daemon_scenario *current = name ? catalog_find(cat, name) : NULL;

		if (!name)
			continue;
		claims[n++] = (struct claim){
			.name = name,
			.file = &files[i],
			.rank = current && streq(current->path, files[i].path) ? 0 : 1,
		};
	}
	if (n > 1)
		qsort(claims, n, sizeof(*claims), by_claim);
	*ret_count = n;
	return claims;
}

static struct daemon_scenario *entry_new(struct daemon *d, struct scenario *loaded,
					 const struct found *f)
{
	struct daemon_scenario *s = xcalloc(1, sizeof(*s));
	struct store_scenario_state state;

	s->name = xstrdup(loaded->name);
	s->path = xstrdup(f->path);
	s->version = version_new(&d->catalog, loaded);
	s->enabled = true;
	if (store_scenario_get(d->engine->store, s->name, &state) == 0) {
		s->enabled = state.enabled;
		store_scenario_state_done(&state);
	}
	remember_stat(s, &f->st);
	return s;
}

/* The winner of each name becomes (or stays) its entry. */
static struct daemon_scenario *take_claim(struct daemon *d, struct claim *c,
					  struct reload_report *report)
{
	struct found *f = c->file;
	struct daemon_scenario *s;

	if (f->same) {
		report->unchanged++;
		return f->same;
	}
	s = catalog_find(&d->catalog, c->name);
	if (!s) {
		s = entry_new(d, TAKE_PTR(f->loaded), f);
		cJSON_AddItemToArray(report->added, cJSON_CreateString(s->name));
		scheduler_plan(d, s, false);
		return s;
	}
	if (s->version->scenario->source && f->loaded->source &&
	    streq(s->version->scenario->source, f->loaded->source) && streq(s->path, f->path)) {
		/* Touched, not changed. */
		scenario_free(TAKE_PTR(f->loaded));
		report->unchanged++;
	} else {
		scenario_version_unref(s->version);
		s->version = version_new(&d->catalog, TAKE_PTR(f->loaded));
		free(s->path);
		s->path = xstrdup(f->path);
		cJSON_AddItemToArray(report->changed, cJSON_CreateString(s->name));
		scheduler_plan(d, s, false);
	}
	free(s->problem);
	s->problem = NULL;
	remember_stat(s, &f->st);
	return s;
}

static bool path_failed(const struct found *files, size_t count, const char *path)
{
	struct found key = { .path = (char *)path };
	const struct found *hit = count ? bsearch(&key, files, count, sizeof(*files), by_path) :
					  NULL;

	return hit && hit->failed;
}

int catalog_reload(struct daemon *d, struct reload_report *report)
{
	struct catalog *cat = &d->catalog;
	_cleanup_free_ struct daemon_scenario **index = NULL;
	_cleanup_free_ struct claim *claims = NULL;
	struct daemon_scenario **next = NULL;
	struct found *files = NULL;
	size_t count = 0, nclaims = 0, nnext = 0;
	bool in_transaction;
	int r;

	r = scan(d->config->scenarios_dir, &files, &count, report);
	if (r < 0)
		return r;
	index = xcalloc(cat->count ? cat->count : 1, sizeof(*index));
	if (cat->count)
		memcpy(index, cat->items, cat->count * sizeof(*index));
	if (cat->count > 1)
		qsort(index, cat->count, sizeof(*index), entry_by_path);
	load_changed(files, count, index, cat->count, report);

	for (size_t i = 0; i < cat->count; i++)
		cat->items[i]->seen = false;
	/* Planning reads and writes a row per scenario: one commit for all of
	 * them keeps a start with thousands of scenarios quick. If the
	 * transaction cannot be had, each write commits on its own. */
	in_transaction = store_begin(d->engine->store) == 0;
	claims = claims_build(cat, files, count, &nclaims);
	next = xcalloc(nclaims + cat->count + 1, sizeof(*next));
	for (size_t i = 0; i < nclaims; i++) {
		struct claim *c = &claims[i];

		if (i > 0 && streq(claims[i - 1].name, c->name)) {
			_cleanup_free_ char *msg = xasprintf(
				"scenario '%s' is already defined by '%s'; scenario names must be "
				"unique (set 'scenario:' in one of the files)",
				c->name, claims[i - 1].file->path);

			add_problem(report, c->file->path, msg);
			continue;
		}
		next[nnext] = take_claim(d, c, report);
		next[nnext++]->seen = true;
	}
	/* What the folder no longer provides: kept when its file failed to
	 * load (the old version runs on), else removed. */
	for (size_t i = 0; i < cat->count; i++) {
		struct daemon_scenario *s = cat->items[i];

		if (s->seen)
			continue;
		if (path_failed(files, count, s->path)) {
			next[nnext++] = s;
			continue;
		}
		cJSON_AddItemToArray(report->removed, cJSON_CreateString(s->name));
		scheduler_unplan(d, s);
		scenario_entry_free(s);
	}
	for (size_t i = 0; i < count; i++) {
		scenario_free(files[i].loaded);
		free(files[i].path);
	}
	free(files);
	if (in_transaction && store_commit(d->engine->store) < 0)
		log_warning(DAEMON,
			    "Cannot commit the scenarios' plans; they are made again at the "
			    "next reload");
	if (nnext > 1)
		qsort(next, nnext, sizeof(*next), by_name);
	free(cat->items);
	cat->items = next;
	cat->count = nnext;
	cJSON_Delete(cat->problems);
	cat->problems = cJSON_Duplicate(report->problems, true);
	return 0;
}
