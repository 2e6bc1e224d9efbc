/* SPDX-License-Identifier: MIT */
/*
 * What an instant trigger needs when a request arrives (http_front.c builds
 * it, hooks.c and cc_events.c use it): its kind and module, its limits,
 * and its verification with the secrets already read. Owned by its
 * daemon_scenario; secrets are wiped when it is freed.
 */
#pragma once

#include <stdint.h>

#include <cjson/cJSON.h>

#include "modules/webhooks/verify.h"

struct scenario_version;

enum route_kind {
	ROUTE_CUSTOM, /* webhooks.custom at /hooks/<scenario> */
	ROUTE_CLOUDCONVERT, /* cloudconvert.watch_job_events at /webhooks/<scenario>/<id> */
};

struct trigger_route {
	const struct scenario_version *version; /* the version it was built for (compared only) */
	enum route_kind kind;
	char *module_id; /* owned: the trigger's id */
	cJSON *constants; /* owned: the trigger's constant fields */
	struct webhooks_verify verify; /* custom: borrows from `constants` */
	char *hmac_key; /* owned, secret: custom verify.hmac, or CloudConvert's signing secret */
	char *basic_password; /* owned, secret */
	int64_t max_body; /* bytes */
	int64_t response_wait_ms; /* custom: then 202 */
	char *problem; /* owned: why it cannot take requests now; NULL */
};
