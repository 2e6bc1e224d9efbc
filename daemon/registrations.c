/* SPDX-License-Identifier: MIT */
/*
 * The CloudConvert webhooks behind New Job Event triggers (issue: "the
 * daemon registers and removes its webhooks itself"). For every enabled
 * scenario whose first module is cloudconvert.watch_job_events, when
 * scenariod has --public-url and the trigger's connection has no
 * webhook_signing_secret of its own (a webhook registered by hand), the
 * daemon keeps one webhook at PUBLIC_URL/webhooks/<scenario>/<module-id>
 * for the trigger's events:
 *
 *   - a registration whose URL, events and connection are unchanged, and
 *     whose secret file is there, is kept across restarts and reloads;
 *   - otherwise it is registered (modules/cloudconvert/webhook_admin.c,
 *     which first removes any webhook at that URL) and the old one, if it
 *     was elsewhere, deleted;
 *   - a scenario removed or disabled has its webhook deleted.
 *
 * The store keeps the registration without its secret; the signing secret
 * CloudConvert returns is written to STATE_DIR/webhooks/<scenario>--<id>
 * (0600 in a 0700 folder) and held in memory, never logged. A registration
 * that fails is tried again with backoff (5 s, 30 s, 2 min, 10 min, then
 * every 30 min), and `scenarioctl status` shows why it failed.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/cloudconvert/cloudconvert.h"
#include "modules/connection.h"
#include "modules/registry.h"
#include "scenarios/engine.h"
#include "scenarios/scenario.h"
#include "store/store.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define SECRET_MAX 1024

static const int64_t backoff_ms[] = { 5000, 30000, 120000, 600000, 1800000 };

enum reg_op {
	REG_CREATE,
	REG_DELETE,
};

/* One registration or deletion in flight, as a module run. */
struct registration {
	struct daemon *d; /* borrowed */
	struct registration *next;
	char *scenario; /* owned */
	char *module_id; /* owned */
	char *connection; /* owned */
	char *url; /* owned */
	cJSON *events; /* owned */
	char *remote_id; /* owned: REG_DELETE's */
	enum reg_op op;
	int attempts;
	struct runner_env_hold *hold; /* owned while the run is in flight */
	struct module_run run;
	uv_timer_t retry;
	bool running;
	bool cancelled;
};

struct registrations {
	struct registration *list;
};

static void wipe_free(char *secret)
{
	if (secret) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
}

static char *secret_path(struct daemon *d, const char *scenario, const char *module_id)
{
	return xasprintf("%s/webhooks/%s--%s", d->config->state_dir, scenario, module_id);
}

static char *read_secret(const char *path)
{
	char *buf = xmalloc(SECRET_MAX + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0) {
		free(buf);
		return NULL;
	}
	n = read(fd, buf, SECRET_MAX);
	close(fd);
	if (n <= 0) {
		explicit_bzero(buf, SECRET_MAX + 1);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Written whole or not at all: a temporary file renamed into place. */
static int write_secret(struct daemon *d, const char *path, const char *secret)
{
	_cleanup_free_ char *dir = xasprintf("%s/webhooks", d->config->state_dir);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
	size_t len = strlen(secret);
	int fd, r = 0;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, secret, len) != (ssize_t)len || fsync(fd) < 0)
		r = -EIO;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static struct registration *find(struct daemon *d, const char *scenario)
{
	for (struct registration *r = d->registrations ? d->registrations->list : NULL; r;
	     r = r->next)
		if (streq(r->scenario, scenario) && !r->cancelled)
			return r;
	return NULL;
}

static void on_closed(uv_handle_t *handle)
{
	struct registration *reg = container_of((uv_timer_t *)handle, struct registration, retry);

	free(reg->scenario);
	free(reg->module_id);
	free(reg->connection);
	free(reg->url);
	cJSON_Delete(reg->events);
	free(reg->remote_id);
	free(reg);
}

static void reg_free(struct registration *reg)
{
	struct registrations *regs = reg->d->registrations;

	for (struct registration **p = &regs->list; *p; p = &(*p)->next)
		if (*p == reg) {
			*p = reg->next;
			break;
		}
	reg->hold = runner_env_release(reg->hold);
	uv_close((uv_handle_t *)&reg->retry, on_closed);
}

static void set_problem(struct daemon *d, const char *scenario, const char *problem)
{
	struct daemon_scenario *s = catalog_find(&d->catalog, scenario);

	if (!s)
		return;
	free(s->webhook_problem);
	s->webhook_problem = problem ? xstrdup(problem) : NULL;
	/* The route reads the secret and the problem again. */
	trigger_route_free(TAKE_PTR(s->route));
}

static void start_attempt(struct registration *reg);

static void on_retry(uv_timer_t *timer)
{
	start_attempt(container_of(timer, struct registration, retry));
}

static void record_failure(struct registration *reg, const char *message)
{
	struct daemon *d = reg->d;
	int64_t delay = backoff_ms[reg->attempts - 1 < (int)ELEMENTSOF(backoff_ms) ?
					   reg->attempts - 1 :
					   (int)ELEMENTSOF(backoff_ms) - 1];
	_cleanup_free_ char *problem = xasprintf("registering the webhook failed: %s", message);
	struct store_webhook w = {
		.connection = reg->connection,
		.url = reg->url,
		.events = reg->events,
		.status = "failing",
		.error = problem,
		.updated_at = time_now_ms(),
	};

	log_warning(DAEMON, "Webhook of '%s' %s failed (attempt %d): %s; trying again in %lld s",
		    reg->scenario, reg->op == REG_CREATE ? "registration" : "deletion",
		    reg->attempts, message, (long long)(delay / 1000));
	if (reg->op == REG_CREATE) {
		store_webhook_set(d->engine->store, reg->scenario, reg->module_id, &w);
		set_problem(d, reg->scenario, problem);
	}
	uv_timer_start(&reg->retry, on_retry, (uint64_t)delay, 0);
}

static void created(struct registration *reg, const cJSON *webhook)
{
	struct daemon *d = reg->d;
	const char *id = json_get_string(webhook, "id");
	const char *secret = json_get_string(webhook, "signing_secret");
	_cleanup_free_ char *path = secret_path(d, reg->scenario, reg->module_id);
	struct store_webhook w = {
		.connection = reg->connection,
		.url = reg->url,
		.events = reg->events,
		.remote_id = (char *)id,
		.status = "registered",
		.updated_at = time_now_ms(),
	};
	struct daemon_scenario *s = catalog_find(&d->catalog, reg->scenario);
	int r;

	if (!id || !secret) {
		record_failure(reg, "CloudConvert's answer had no webhook id or secret");
		return;
	}
	r = write_secret(d, path, secret);
	if (r < 0) {
		_cleanup_free_ char *why =
			xasprintf("cannot keep its signing secret in '%s': %s", path, strerror(-r));

		record_failure(reg, why);
		return;
	}
	store_webhook_set(d->engine->store, reg->scenario, reg->module_id, &w);
	if (s) {
		wipe_free(s->webhook_secret);
		s->webhook_secret = xstrdup(secret);
	}
	set_problem(d, reg->scenario, NULL);
	log_notice(DAEMON, "Webhook of '%s' registered: id=%s url=%s", reg->scenario, id, reg->url);
	reg_free(reg);
}

static void on_run_done(struct module_run *run)
{
	struct registration *reg = container_of(run, struct registration, run);
	const cJSON *output = cJSON_GetArrayItem(run->outputs, 0);

	reg->running = false;
	reg->hold = runner_env_release(reg->hold);
	if (reg->cancelled) {
		/* Stopping: what happened is found out at the next start. */
	} else if (run->failed && !(reg->op == REG_DELETE && run->error.type == ERROR_DATA)) {
		record_failure(reg, run->error.message ? run->error.message : "unknown error");
	} else if (reg->op == REG_CREATE) {
		created(reg, output);
	} else {
		/* Deleted (a DataError is the 404 of one already gone). */
		log_info(DAEMON, "Webhook %s of '%s' deleted", reg->remote_id, reg->scenario);
		reg_free(reg);
	}
	cJSON_Delete(run->outputs);
	cJSON_Delete(run->log);
	module_error_done(&run->error);
	/* A webhook's secret is only in the creation's answer: wiped with it. */
	run->outputs = run->log = NULL;
	if (reg->cancelled && !uv_is_closing((uv_handle_t *)&reg->retry))
		reg_free(reg);
}

static void start_attempt(struct registration *reg)
{
	struct daemon *d = reg->d;
	int r;

	reg->attempts++;
	reg->hold = runner_env_hold(d->runner);
	reg->run = (struct module_run){
		.env = runner_env_hold_env(reg->hold),
		.desc = registry_find("cloudconvert.watch_job_events"),
		.connection = runner_env_hold_connection(reg->hold, reg->connection),
		.scenario = reg->scenario,
		.module_id = reg->module_id,
		.done = on_run_done,
	};
	reg->running = true;
	r = reg->op == REG_CREATE ? cc_webhook_register_start(&reg->run, reg->url, reg->events) :
				    cc_webhook_delete_start(&reg->run, reg->remote_id);
	if (r == MODULE_PENDING)
		return;
	/* It failed before it started (a connection without a key…). */
	on_run_done(&reg->run);
}

static struct registration *reg_new(struct daemon *d, enum reg_op op, const char *scenario,
				    const char *module_id)
{
	struct registration *reg = xcalloc(1, sizeof(*reg));

	if (!d->registrations)
		d->registrations = xcalloc(1, sizeof(*d->registrations));
	reg->d = d;
	reg->op = op;
	reg->scenario = xstrdup(scenario);
	reg->module_id = xstrdup(module_id);
	uv_timer_init(&d->engine->loop, &reg->retry);
	reg->next = d->registrations->list;
	d->registrations->list = reg;
	return reg;
}

static void delete_remote(struct daemon *d, const char *scenario, const char *module_id,
			  const char *connection, const char *remote_id)
{
	struct registration *reg = reg_new(d, REG_DELETE, scenario, module_id);

	reg->connection = xstrdup(connection);
	reg->remote_id = xstrdup(remote_id);
	start_attempt(reg);
}

/* What the trigger of `s` should have: NULL when no webhook at all. */
static bool wanted(struct daemon *d, struct daemon_scenario *s, const struct flow_node **ret)
{
	const struct flow_node *node = s->version->scenario->flow.nodes[0];
	const struct connection *conn;

	*ret = node;
	if (!s->enabled || !d->config->public_url || !node->desc ||
	    !streq(node->module_name, "cloudconvert.watch_job_events") || !node->connection)
		return false;
	conn = runner_connection(d->runner, node->connection);
	/* A signing secret in the connection means a webhook registered by
	 * hand: the daemon leaves the account alone. */
	return !conn || !conn->webhook_signing_secret;
}

static void forget_stored(struct daemon *d, const char *scenario, const char *module_id)
{
	_cleanup_free_ char *path = secret_path(d, scenario, module_id);

	store_webhook_delete(d->engine->store, scenario, module_id);
	unlink(path);
}

static void sync_one(struct daemon *d, struct daemon_scenario *s)
{
	const struct flow_node *node;
	_cleanup_json_ cJSON *constants = NULL;
	_cleanup_free_ char *url = NULL, *path = NULL;
	struct store_webhook stored = { 0 };
	bool have = false, want;
	const cJSON *events;
	struct registration *reg;

	if (find(d, s->name))
		return; /* one thing at a time; it syncs again when done */
	want = wanted(d, s, &node);
	have = store_webhook_get(d->engine->store, s->name, node->id, &stored) == 0;
	if (!want) {
		if (have && stored.remote_id)
			delete_remote(d, s->name, node->id, stored.connection, stored.remote_id);
		if (have)
			forget_stored(d, s->name, node->id);
		store_webhook_done(&stored);
		return;
	}
	constants = scenario_node_constants(node);
	events = cJSON_GetObjectItemCaseSensitive(constants, "events");
	url = xasprintf("%s/webhooks/%s/%s", d->config->public_url, s->name, node->id);
	path = secret_path(d, s->name, node->id);
	if (have && stored.remote_id && streq(stored.url, url) &&
	    streq(stored.connection, node->connection) &&
	    cJSON_Compare(stored.events, events, true)) {
		char *secret = read_secret(path);

		if (secret) {
			wipe_free(s->webhook_secret);
			s->webhook_secret = secret;
			set_problem(d, s->name, NULL);
			store_webhook_done(&stored);
			return;
		}
	}
	/* A webhook elsewhere (another URL or account) is not ours any more. */
	if (have && stored.remote_id && !streq(stored.url, url))
		delete_remote(d, s->name, node->id, stored.connection, stored.remote_id);
	store_webhook_done(&stored);
	reg = reg_new(d, REG_CREATE, s->name, node->id);
	reg->connection = xstrdup(node->connection);
	reg->url = TAKE_PTR(url);
	reg->events = cJSON_Duplicate(events, true);
	start_attempt(reg);
}

void registrations_sync(struct daemon *d, struct daemon_scenario *s)
{
	if (s) {
		sync_one(d, s);
		return;
	}
	for (size_t i = 0; i < d->catalog.count; i++)
		sync_one(d, d->catalog.items[i]);
}

void registrations_forget(struct daemon *d, const char *scenario)
{
	_cleanup_json_ cJSON *list = NULL;
	const cJSON *item;

	if (store_webhook_list(d->engine->store, &list) < 0)
		return;
	cJSON_ArrayForEach(item, list) {
		const char *module_id = json_get_string(item, "module_id");
		const char *remote_id = json_get_string(item, "remote_id");

		if (!streq_ptr(json_get_string(item, "scenario"), scenario) || !module_id)
			continue;
		if (remote_id)
			delete_remote(d, scenario, module_id, json_get_string(item, "connection"),
				      remote_id);
		forget_stored(d, scenario, module_id);
	}
}

void registrations_stop(struct daemon *d)
{
	struct registrations *regs = d->registrations;

	if (!regs)
		return;
	while (regs->list) {
		struct registration *reg = regs->list;

		regs->list = reg->next;
		reg->next = NULL;
		uv_timer_stop(&reg->retry);
		if (reg->running) {
			/* Its run ends on its own; on_run_done frees it. */
			reg->cancelled = true;
			if (reg->run.desc && reg->run.desc->cancel && reg->run.priv)
				reg->run.desc->cancel(&reg->run);
			continue;
		}
		reg->hold = runner_env_release(reg->hold);
		uv_close((uv_handle_t *)&reg->retry, on_closed);
	}
}
