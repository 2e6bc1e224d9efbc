"""Test controls of webhook delivery: /__admin/webhooks/... (README.md, "Admin endpoints").

A daemon test needs to hold deliveries back (the daemon is "down"), let
them go, wait until they are all answered, hear an event again (duplicate
deliveries must be harmless) and hammer the receiver. The deliveries
themselves are in the journal (surface "webhook") and in
/__admin/webhook-deliveries.
"""

import json

from webhooks import BURST_MAX_CONCURRENCY, EVENTS, TASK_EVENTS, AdminError
from wire import ApiError, Reply

DEFAULT_WAIT = 10.0  # seconds /wait and /pause block at most, unless told
DEFAULT_BURST_CONCURRENCY = 16
BURSTS = "/__admin/webhooks/bursts/"


class WebhookAdmin:
    def __init__(self, webhooks, store):
        self.webhooks = webhooks
        self.store = store
        self.routes = {
            ("GET", "/__admin/webhooks"): self.state,
            ("GET", "/__admin/webhook-deliveries"): self.deliveries,
            ("POST", "/__admin/webhooks/pause"): self.pause,
            ("POST", "/__admin/webhooks/resume"): self.resume,
            ("POST", "/__admin/webhooks/wait"): self.wait,
            ("POST", "/__admin/webhooks/redeliver"): self.redeliver,
            ("POST", "/__admin/webhooks/burst"): self.burst,
        }

    def handle(self, method, path, request):
        """The reply for one of our endpoints, or None when the path is not ours."""
        try:
            if method == "GET" and path.startswith(BURSTS):
                return self.burst_report(path[len(BURSTS):])
            handler = self.routes.get((method, path))
            return handler(_body(request)) if handler else None
        except AdminError as err:
            return Reply(err.status, {"error": str(err)})

    def state(self, body):
        return Reply(200, self.webhooks.state())

    def deliveries(self, body):
        return Reply(200, {"deliveries": self.webhooks.deliveries()})

    def pause(self, body):
        return Reply(200, self.webhooks.pause(_seconds(body, "timeout", DEFAULT_WAIT)))

    def resume(self, body):
        return Reply(200, self.webhooks.resume())

    def wait(self, body):
        """200 once nothing is queued, retrying or under way; 408 after `timeout`."""
        idle, state = self.webhooks.wait_idle(_seconds(body, "timeout", DEFAULT_WAIT))
        return Reply(200 if idle else 408, state)

    def redeliver(self, body):
        """{"webhook_id", "event", "job_id" | "task_id"}: the job or task as it is now;
        {"delivery": seq}: the very bytes of an earlier delivery, to the same target."""
        if "delivery" in body:
            return Reply(202, {"delivery": self.webhooks.replay(_integer(body, "delivery"))})
        event = body.get("event")
        if event not in EVENTS + TASK_EVENTS:
            raise AdminError(400, "event must be one of %s" % ", ".join(EVENTS + TASK_EVENTS))
        subject = self._subject(event, body)
        delivery = self.webhooks.redeliver(body.get("webhook_id"), event, subject)
        return Reply(202, {"delivery": delivery})

    def _subject(self, event, body):
        """The job (with its tasks) or the task an event is about, as the API shows it."""
        kind = event.split(".")[0]
        key = kind + "_id"
        if not isinstance(body.get(key), str):
            raise AdminError(400, "%s needs %s" % (event, key))
        try:
            if kind == "job":
                return self.store.get_job(body[key])
            return self.store.get_task(body[key])
        except ApiError as err:
            raise AdminError(404, err.message)

    def burst(self, body):
        """Start a burst; with "wait" (default) answer 200 with its report once every
        delivery settled, else 202 at once (follow it at /__admin/webhooks/bursts/{id})."""
        count = _integer(body, "count")
        concurrency = _integer(body, "concurrency", DEFAULT_BURST_CONCURRENCY)
        if count < 1 or not 1 <= concurrency <= BURST_MAX_CONCURRENCY:
            raise AdminError(400, "count must be >= 1 and concurrency 1..%d"
                             % BURST_MAX_CONCURRENCY)
        run = self.webhooks.start_burst(body.get("webhook_id"), count, concurrency,
                                        self._phantom_job)
        if not body.get("wait", True):
            return Reply(202, run.report())
        run.done.wait()
        return Reply(200, run.report())

    def burst_report(self, burst_id):
        try:
            number = int(burst_id)
        except ValueError:
            raise AdminError(404, "no burst %r" % burst_id)
        return Reply(200, self.webhooks.burst(number).report())

    def _phantom_job(self, burst, k):
        name = "burst-%d-%d" % (burst, k + 1)
        return self.store.phantom_job(name, name + ".txt", "%s\n" % name)


def _body(request):
    if not request.body:
        return {}
    body = json.loads(request.body.decode("utf-8"))  # ValueError: the caller answers 400
    if not isinstance(body, dict):
        raise AdminError(400, "the body must be a JSON object")
    return body


def _integer(body, key, default=None):
    value = body.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise AdminError(400, "%s must be an integer" % key)
    return value


def _seconds(body, key, default):
    value = body.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise AdminError(400, "%s must be a number of seconds" % key)
    return float(value)
