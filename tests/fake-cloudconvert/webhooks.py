"""Account webhooks and signed event delivery (reference §3.6, §8).

Bodies are serialised once, PHP-style, when the event happens; the exact
bytes sent are the bytes signed, as CloudConvert does. Delivery runs on one
background thread so events of a job arrive in order (created before
finished) and a slow receiver never blocks the API.
"""

import hashlib
import hmac
import http.client
import itertools
import queue
import secrets
import string
import threading
import time
import urllib.parse

from wire import iso, iso_ms, new_id, php_json

EVENTS = ("job.created", "job.finished", "job.failed")
USER_AGENT = "fake-cloudconvert-webhooks/1"


def sign(body: bytes, secret: str) -> str:
    """CloudConvert-Signature: lowercase hex HMAC-SHA256 of the raw body bytes."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _new_secret():
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


class Webhooks:
    """The account's webhooks, the delivery queue and a record of every attempt."""

    def __init__(self, clock, api_base, job_secret, retries=3, retry_delay=0.2, timeout=5.0):
        self.clock = clock
        self.api_base = api_base
        self.job_secret = job_secret  # signs deliveries to a job's own webhook_url
        self.retries = retries
        self.retry_delay = retry_delay
        self.timeout = timeout
        self._lock = threading.Lock()
        self._hooks = {}  # id -> webhook dict (API shape)
        self._deliveries = []
        self._numbers = itertools.count(1)
        self._generation = 0  # bumped by reset so queued deliveries are dropped
        self._queue = queue.Queue()
        self._worker = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._worker.start()

    # --- management API ---

    def create(self, url, events):
        now = iso(self.clock.now())
        hook_id = new_id()
        hook = {
            "id": hook_id,
            "url": url,
            "events": list(events),
            "disabled": False,
            "failing": False,
            "signing_secret": _new_secret(),
            "created_at": now,
            "updated_at": now,
            "links": {"self": "%s/v2/webhooks/%s" % (self.api_base, hook_id)},
        }
        with self._lock:
            self._hooks[hook_id] = hook
            return dict(hook)

    def list(self, url_filter=None):
        with self._lock:
            hooks = [dict(h) for h in self._hooks.values()]
        if url_filter:
            hooks = [h for h in hooks if h["url"] == url_filter]
        return list(reversed(hooks))  # newest first, like the other lists

    def delete(self, hook_id):
        with self._lock:
            return self._hooks.pop(hook_id, None) is not None

    def reset(self):
        with self._lock:
            self._hooks.clear()
            self._deliveries = []
            self._generation += 1

    def deliveries(self):
        with self._lock:
            return [dict(d, attempts=list(d["attempts"])) for d in self._deliveries]

    # --- events ---

    def emit(self, event, job, job_webhook_url=None):
        """Queue `event` for every subscribed webhook, and for the job's own webhook_url.

        A job's webhook_url hears only job.finished and job.failed (docs).
        """
        body = php_json({"event": event, "job": job})
        targets = []
        with self._lock:
            for hook in self._hooks.values():
                if event in hook["events"] and not hook["disabled"]:
                    targets.append((hook["id"], hook["url"], hook["signing_secret"]))
            generation = self._generation
        if job_webhook_url and event != "job.created":
            targets.append((None, job_webhook_url, self.job_secret))
        for hook_id, url, secret in targets:
            self._queue.put((generation, hook_id, url, secret, event, job["id"], body))

    def close(self):
        self._queue.put(None)

    def _run(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            generation, hook_id, url, secret, event, job_id, body = item
            with self._lock:
                if generation != self._generation:
                    continue
            self._deliver(hook_id, url, secret, event, job_id, body)

    def _deliver(self, hook_id, url, secret, event, job_id, body):
        signature = sign(body, secret)
        record = {"seq": next(self._numbers), "event": event, "job_id": job_id,
                  "webhook_id": hook_id, "url": url, "signature": signature,
                  "body_size": len(body), "attempts": [], "outcome": None}
        with self._lock:
            self._deliveries.append(record)
        for attempt in range(1 + self.retries):
            if attempt:
                time.sleep(self.retry_delay * attempt)
            status, error = self._post(url, body, signature)
            with self._lock:
                record["attempts"].append({"time": iso_ms(time.time()), "status": status,
                                           "error": error})
            if status is not None and status < 500:
                break
        self._settle(record, hook_id, status)

    def _post(self, url, body, signature):
        """One attempt: (status, None) or (None, network error text).

        http.client rather than urllib: urllib rewrites header names to
        "Cloudconvert-signature" and honours http_proxy; receivers are local.
        """
        parts = urllib.parse.urlsplit(url)
        connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                            else http.client.HTTPConnection)
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        try:
            connection = connection_class(parts.hostname, parts.port, timeout=self.timeout)
            try:
                connection.request("POST", target, body=body, headers={
                    "Content-Type": "application/json",
                    "CloudConvert-Signature": signature,
                    "User-Agent": USER_AGENT,
                })
                response = connection.getresponse()
                response.read()
                return response.status, None
            finally:
                connection.close()
        except (OSError, http.client.HTTPException, ValueError) as err:
            return None, "%s: %s" % (type(err).__name__, err)

    def _settle(self, record, hook_id, status):
        """Record the outcome; 410 Gone disables the webhook, exhausted retries mark it failing."""
        with self._lock:
            hook = self._hooks.get(hook_id) if hook_id else None
            if status == 410:
                record["outcome"] = "gone"
                if hook:
                    hook["disabled"] = True
            elif status is not None and status < 400:
                record["outcome"] = "delivered"
                if hook:
                    hook["failing"] = False
            elif status is not None and status < 500:
                record["outcome"] = "rejected"
            else:
                record["outcome"] = "failed"
                if hook:
                    hook["failing"] = True
            if hook:
                hook["updated_at"] = iso(self.clock.now())
