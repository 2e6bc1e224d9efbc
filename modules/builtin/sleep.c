/* SPDX-License-Identifier: MIT */
/*
 * builtin.sleep: waits on a uv timer embedded in the run's state, so the
 * loop keeps serving every other run meanwhile. The run ends from the
 * timer's close callback, after which nothing of the state is touched again
 * (libuv: the owner is freed from the last close callback). cancel() stops
 * the timer early and the run ends with ExecutionInterrupted.
 */
#include <errno.h>
#include <stdlib.h>

#include "modules/builtin/internal.h"
#include "util/units.h"
#include "util/xalloc.h"

const struct module_field sleep_fields[] = {
	{ .name = "duration",
	  .type = FIELD_DURATION,
	  .required = true,
	  .summary = "how long to wait, at most 5m (a number is seconds)" },
	{ .name = NULL },
};

struct sleep_state {
	uv_timer_t timer; /* embedded; the state is freed from its close callback */
	struct module_run *run; /* borrowed; the run outlives the state */
	bool cancelled; /* cancel() was called before the timer fired */
};

/*
 * Reads a duration the way scenario files write it ("30s", "250ms") or, as
 * Fusion's Sleep field takes it, a number of seconds. Returns 0, -EINVAL
 * when it is neither, -ERANGE when it is longer than SLEEP_MAX_MS.
 */
static int parse_duration(const cJSON *value, int64_t *ret_ms)
{
	int64_t ms;

	if (cJSON_IsNumber(value)) {
		if (!(value->valuedouble >= 0)) /* negative or NaN */
			return -EINVAL;
		if (value->valuedouble > SLEEP_MAX_MS / 1000)
			return -ERANGE;
		ms = (int64_t)(value->valuedouble * 1000);
	} else if (cJSON_IsString(value)) {
		if (units_parse_duration(value->valuestring, &ms) < 0)
			return -EINVAL;
		if (ms > SLEEP_MAX_MS)
			return -ERANGE;
	} else {
		return -EINVAL;
	}
	*ret_ms = ms;
	return 0;
}

int sleep_with_validate(const cJSON *constant_with, module_report_fn *report, void *ctx)
{
	const cJSON *duration = cJSON_GetObjectItemCaseSensitive(constant_with, "duration");
	int64_t ms;

	/* A value that is no duration at all is the loader's (generic) report. */
	if (duration && parse_duration(duration, &ms) == -ERANGE) {
		report(ctx, "duration", "builtin.sleep waits at most 5m");
		return 1;
	}
	return 0;
}

static void on_timer_closed(uv_handle_t *handle)
{
	struct sleep_state *state = container_of(handle, struct sleep_state, timer);
	struct module_run *run = state->run;

	if (state->cancelled)
		module_run_fail(run, ERROR_EXECUTION_INTERRUPTED,
				"builtin.sleep was interrupted before its time was up");
	else
		module_run_emit(run, cJSON_CreateObject());
	run->priv = NULL;
	free(state);
	module_run_finish(run);
}

static void on_timer(uv_timer_t *timer)
{
	uv_close((uv_handle_t *)timer, on_timer_closed);
}

int sleep_run_start(struct module_run *run)
{
	const cJSON *duration = module_input(run, "duration");
	struct sleep_state *state;
	int64_t ms;
	int r;

	r = parse_duration(duration, &ms);
	if (r == -ERANGE)
		return module_run_fail(run, ERROR_DATA, "builtin.sleep waits at most 5m");
	if (r < 0)
		return module_run_fail(run, ERROR_DATA,
				       "duration must be a duration such as '30s' or '3m'");

	state = xcalloc(1, sizeof(*state));
	state->run = run;
	r = uv_timer_init(run->env->loop, &state->timer);
	if (r < 0) {
		free(state);
		return module_run_fail(run, ERROR_UNEXPECTED, "Cannot start a timer: %s",
				       uv_strerror(r));
	}
	/* Cannot fail on an initialised timer with a callback. */
	uv_timer_start(&state->timer, on_timer, (uint64_t)ms, 0);
	run->priv = state;
	return MODULE_PENDING;
}

void sleep_run_cancel(struct module_run *run)
{
	struct sleep_state *state = run->priv;

	/* After the timer fired the run is already ending; nothing to stop. */
	if (!state || uv_is_closing((uv_handle_t *)&state->timer))
		return;
	state->cancelled = true;
	uv_timer_stop(&state->timer);
	uv_close((uv_handle_t *)&state->timer, on_timer_closed);
}
