/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front of a scenariod built without libmicrohttpd (the `webhooks`
 * feature disabled): --listen is refused with a message saying why, and no
 * run has an HTTP caller to answer.
 */
#include "daemon/daemon.h"

#include <errno.h>

#include "modules/module.h"
#include "util/xalloc.h"

const struct webhook_host hooks_host = { 0 };

int http_front_start(struct daemon *d, char **reterr_msg)
{
	if (!d->config->listen)
		return 0;
	*reterr_msg = xstrdup("--listen: this scenariod was built without libmicrohttpd (meson "
			      "option webhooks), so it cannot serve HTTP");
	return -EINVAL;
}

void http_front_stop(struct daemon *d)
{
	(void)d;
}

unsigned http_front_port(const struct daemon *d)
{
	(void)d;
	return 0;
}
