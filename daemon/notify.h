/* SPDX-License-Identifier: MIT */
/*
 * The daemon's side of the sd_notify protocol: readiness, reload and stop
 * notifications and watchdog keep-alives sent to the service manager, and
 * the watchdog interval it asked for. A no-op outside systemd.
 */
#pragma once

#include <stdint.h>

/** Sends `state` (newline-separated "KEY=VALUE" assignments, e.g.
 * "READY=1\nSTATUS=Running") to $NOTIFY_SOCKET. Returns 0 when sent or when
 * $NOTIFY_SOCKET is unset, -EINVAL for an empty state or a malformed
 * $NOTIFY_SOCKET (-ENAMETOOLONG for a path too long for an AF_UNIX address),
 * another negative errno when sending failed (-ENOENT, -ECONNREFUSED: nobody
 * listens). Never blocks for long: the manager reads its socket promptly. */
int notify_send(const char *state);

/** notify_send() with a printf-style format; the same returns. */
int notify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Sets *ret_usec to the watchdog interval the manager expects keep-alives
 * within (WATCHDOG_USEC), when that is meant for this process ($WATCHDOG_PID
 * unset or our pid); send "WATCHDOG=1" every half of it. Returns 0 then,
 * -ENODATA when no watchdog is asked of this process, -EINVAL or -ERANGE
 * when the variables are malformed. *ret_usec is set on success only. */
int notify_watchdog_usec(uint64_t *ret_usec);
