/* SPDX-License-Identifier: MIT */
/*
 * The webhooks app, Fusion's Webhooks: a custom webhook (an instant trigger
 * the daemon's HTTP front feeds, POST /hooks/<scenario>) and the webhook
 * response that answers its caller. The table is listed in
 * modules/registry.c; custom.c and respond.c hold the modules.
 */
#include "modules/webhooks/internal.h"

const struct module_desc webhooks_modules[] = {
	{
		.app = "webhooks",
		.name = "custom",
		.summary = "Custom webhook: a run per HTTP request to /hooks/<scenario>",
		.kind = MODULE_TRIGGER_INSTANT,
		.fields = webhooks_custom_fields,
		.validate = webhooks_custom_validate,
		.start = webhooks_custom_start,
		.safe_to_repeat = module_repeat_always,
	},
	{
		.app = "webhooks",
		.name = "respond",
		.summary = "Webhook response: status, headers and body for the caller",
		.kind = MODULE_ACTION,
		.fields = webhooks_respond_fields,
		.validate = webhooks_respond_validate,
		.start = webhooks_respond_start,
		/* A second answer finds no caller waiting: nothing happens twice. */
		.safe_to_repeat = module_repeat_always,
	},
	{ .name = NULL },
};
