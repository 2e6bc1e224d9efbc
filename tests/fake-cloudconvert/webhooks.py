"""Account webhooks and signed event delivery (reference §3.6, §8).

Bodies are serialised once, PHP-style, when the event happens; the exact
bytes sent are the bytes signed, as CloudConvert does.

Each target (an account webhook, or a job's own webhook_url) has its own
delivery lane: one thread that sends that target's deliveries one after
the other, retries included. So a target hears the events of a job in the
order they happened (job.created, its tasks' events, job.finished or
job.failed), a dead receiver delays only itself, and a slow receiver never
blocks the API.

Every attempt is journaled (surface "webhook") so a test sees exactly what
was sent and how it was answered.
"""

import collections
import hashlib
import hmac
import http.client
import itertools
import json
import secrets
import string
import threading
import time
import urllib.parse

from wire import iso, iso_ms, new_id, php_json

# The events of the reference (§3.6, §8).
EVENTS = ("job.created", "job.finished", "job.failed")
# An extension for the daemon's New Job Event trigger, which Fusion offers
# for individual tasks too; the reference lists no task events for webhooks.
TASK_EVENTS = ("task.created", "task.finished", "task.failed")
# A job's own webhook_url hears only these (docs).
JOB_URL_EVENTS = ("job.finished", "job.failed")
USER_AGENT = "fake-cloudconvert-webhooks/1"
BURST_MAX_CONCURRENCY = 64


class AdminError(Exception):
    """A refused admin request: answered `status` {"error": message}."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def sign(body: bytes, secret: str) -> str:
    """CloudConvert-Signature: lowercase hex HMAC-SHA256 of the raw body bytes."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def event_body(event, subject):
    """The bytes of a delivery: {"event", "job": …} or {"event", "task": …}, PHP-style."""
    return php_json({"event": event, event.split(".")[0]: subject})


def _new_secret():
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


def _outcome(status):
    """What a final answer means (§8): 410 disables, other 4xx are not retried."""
    if status == 410:
        return "gone"
    if status is not None and status < 400:
        return "delivered"
    if status is not None and status < 500:
        return "rejected"
    return "failed"


def _retryable(status):
    """Network errors, timeouts and HTTP >= 500 are retried (§8)."""
    return status is None or status >= 500


class Delivery:
    """One body for one target, with every attempt made to deliver it."""

    def __init__(self, seq, target, event, job_id, task_id, body, kind, generation, burst=None):
        self.seq = seq
        self.webhook_id, self.url, secret = target  # webhook_id None: a job's webhook_url
        self.event = event
        self.job_id = job_id
        self.task_id = task_id
        self.body = body
        self.signature = sign(body, secret)
        self.kind = kind  # "event", "redelivery" or "burst"
        self.generation = generation  # deliveries of before a reset are dropped
        self.burst = burst
        self.attempts = []  # [{time, status, error}]
        self.outcome = None  # delivered | rejected | gone | failed | skipped; None: not settled

    @property
    def lane(self):
        return self.webhook_id or "url:" + self.url

    @property
    def final_status(self):
        """The last answer as a report key: "200", "error" (no HTTP answer) or "skipped"
        (given up unanswered: the webhook was deleted or disabled meanwhile)."""
        if not self.attempts or self.outcome == "skipped":
            return "skipped"
        status = self.attempts[-1]["status"]
        return "error" if status is None else str(status)

    def headers(self):
        """The headers of every attempt (http.client adds only Accept-Encoding: identity)."""
        parts = urllib.parse.urlsplit(self.url)
        return {"Host": parts.netloc, "Content-Type": "application/json",
                "Content-Length": str(len(self.body)), "CloudConvert-Signature": self.signature,
                "User-Agent": USER_AGENT}

    def describe(self):
        return {"seq": self.seq, "kind": self.kind, "event": self.event, "job_id": self.job_id,
                "task_id": self.task_id, "webhook_id": self.webhook_id, "url": self.url,
                "signature": self.signature, "body_size": len(self.body), "burst": self.burst,
                "attempts": [dict(a) for a in self.attempts], "outcome": self.outcome}

    def journal_entry(self, attempt, started, duration, status, error, outcome):
        """One attempt as a journal line; request-entry keys kept so journal readers cope."""
        return {
            "seq": None, "time": iso_ms(started), "surface": "webhook", "method": "POST",
            "url": self.url, "path": urllib.parse.urlsplit(self.url).path or "/",
            "delivery": self.seq, "kind": self.kind, "burst": self.burst,
            "webhook_id": self.webhook_id, "event": self.event, "job_id": self.job_id,
            "task_id": self.task_id, "attempt": attempt, "headers": self.headers(),
            "has_authorization": False, "signature": self.signature,
            "body": json.loads(self.body), "body_size": len(self.body),
            "body_sha256": hashlib.sha256(self.body).hexdigest(),
            "status": status, "error": error, "outcome": outcome, "fault": None,
            "duration_ms": int(duration * 1000),
        }


class Webhooks:
    """The account's webhooks, the delivery lanes and a record of every delivery."""

    def __init__(self, clock, api_base, job_secret, journal=None, retries=3, retry_delay=0.2,
                 timeout=5.0, task_events=True):
        self.clock = clock
        self.api_base = api_base
        self.job_secret = job_secret  # signs deliveries to a job's own webhook_url
        self.journal = journal
        self.retries = retries
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.task_events = task_events  # False: only the reference's job events are accepted
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # pause, lanes and counters changed
        self._stop = threading.Event()  # set by close(): sleeping retries give up at once
        self._hooks = {}  # id -> webhook dict (API shape)
        self._deliveries = []
        self._by_seq = {}
        self._numbers = itertools.count(1)
        self._bursts = itertools.count(1)
        self._burst_runs = {}  # id -> Burst
        self._generation = 0  # bumped by reset so queued and running deliveries are dropped
        self._lanes = {}  # lane key -> deque of Delivery; one thread serves each lane
        self._paused = False
        self._pending = 0  # deliveries queued or being attempted (this generation)
        self._in_flight = 0  # HTTP attempts under way

    # --- management API ---

    def accepted_events(self):
        return EVENTS + (TASK_EVENTS if self.task_events else ())

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
        """False for an unknown id. Its queued deliveries are then skipped."""
        with self._lock:
            return self._hooks.pop(hook_id, None) is not None

    def reset(self):
        with self._lock:
            self._hooks.clear()
            self._deliveries = []
            self._by_seq = {}
            self._burst_runs = {}
            self._lanes = {}
            self._pending = 0
            self._paused = False
            self._generation += 1
            self._changed.notify_all()

    def close(self):
        with self._lock:
            self._stop.set()
            self._changed.notify_all()

    def deliveries(self):
        with self._lock:
            return [d.describe() for d in self._deliveries]

    # --- events ---

    def emit(self, event, subject, job_webhook_url=None):
        """Queue `event` about a job or task for every subscribed webhook, and for the
        job's own webhook_url. Called with the store's lock held, so the queues get
        events in the order they happened."""
        with self._lock:
            targets = [(h["id"], h["url"], h["signing_secret"]) for h in self._hooks.values()
                       if event in h["events"] and not h["disabled"]]
            if job_webhook_url and event in JOB_URL_EVENTS:
                targets.append((None, job_webhook_url, self.job_secret))
            if not targets:
                return
            body = event_body(event, subject)
            job_id, task_id = _subject_ids(event, subject)
            for target in targets:
                self._enqueue(self._new_delivery(target, event, job_id, task_id, body, "event"))

    def redeliver(self, hook_id, event, subject):
        """Queue `event` about `subject` (as it is now) for one webhook, subscribed or not."""
        with self._lock:
            target = self._target(hook_id)
            job_id, task_id = _subject_ids(event, subject)
            delivery = self._new_delivery(target, event, job_id, task_id,
                                          event_body(event, subject), "redelivery")
            self._enqueue(delivery)
            return delivery.describe()

    def replay(self, seq):
        """Queue the very bytes of an earlier delivery again, to the same target."""
        with self._lock:
            old = self._by_seq.get(seq)
            if old is None:
                raise AdminError(404, "no delivery %r" % seq)
            target = self._target(old.webhook_id) if old.webhook_id else \
                (None, old.url, self.job_secret)
            delivery = self._new_delivery(target, old.event, old.job_id, old.task_id, old.body,
                                          "redelivery")
            self._enqueue(delivery)
            return delivery.describe()

    def _target(self, hook_id):
        """(id, url, secret) of a webhook that may receive deliveries (lock held)."""
        hook = self._hooks.get(hook_id)
        if hook is None:
            raise AdminError(404, "no webhook %r" % hook_id)
        if hook["disabled"]:
            raise AdminError(409, "webhook %s is disabled (it answered 410 Gone)" % hook_id)
        return hook["id"], hook["url"], hook["signing_secret"]

    def _new_delivery(self, target, event, job_id, task_id, body, kind, burst=None):
        """A numbered delivery, kept for /__admin/webhook-deliveries (lock held)."""
        delivery = Delivery(next(self._numbers), target, event, job_id, task_id, body, kind,
                            self._generation, burst)
        self._deliveries.append(delivery)
        self._by_seq[delivery.seq] = delivery
        self._pending += 1
        return delivery

    def _enqueue(self, delivery):
        """Append to the target's lane, starting the lane's thread if it has none (lock held)."""
        lane = self._lanes.get(delivery.lane)
        if lane is None:
            lane = self._lanes[delivery.lane] = collections.deque()
            threading.Thread(target=self._serve_lane, args=(delivery.lane, lane),
                             name="webhook-lane", daemon=True).start()
        lane.append(delivery)

    def _serve_lane(self, key, lane):
        """Deliver a lane's deliveries in order; the thread ends when the lane is empty."""
        while True:
            with self._lock:
                if not lane or self._lanes.get(key) is not lane or self._stop.is_set():
                    if self._lanes.get(key) is lane:
                        del self._lanes[key]
                    return
                delivery = lane.popleft()
            self._deliver(delivery)
            self._settled(delivery)

    def _settled(self, delivery):
        with self._lock:
            if delivery.generation == self._generation:
                self._pending -= 1
            self._changed.notify_all()

    # --- one delivery ---

    def _deliver(self, delivery):
        """Attempt until answered for good: 1 + `retries` attempts, k × `retry_delay` apart."""
        for attempt in range(1, self.retries + 2):
            if attempt > 1 and self._stop.wait(self.retry_delay * (attempt - 1)):
                return
            if not self._begin_attempt(delivery):
                return
            started, clock = time.time(), time.monotonic()
            status, error = self._post(delivery)
            retry = _retryable(status) and attempt <= self.retries
            self._end_attempt(delivery, attempt, started, time.monotonic() - clock, status,
                              error, retry)
            if not retry:
                return

    def _begin_attempt(self, delivery):
        """Wait while paused; False when the delivery must not be attempted (any more)."""
        with self._lock:
            while (self._paused and not self._stop.is_set()
                   and delivery.generation == self._generation):
                self._changed.wait()
            if self._stop.is_set() or delivery.generation != self._generation:
                return False
            if delivery.webhook_id is not None:
                hook = self._hooks.get(delivery.webhook_id)
                if hook is None or hook["disabled"]:  # deleted, or gone (410) meanwhile
                    delivery.outcome = "skipped"
                    return False
            self._in_flight += 1
            return True

    def _end_attempt(self, delivery, attempt, started, duration, status, error, retry):
        """Record the attempt (journal too) and, on the last one, settle the webhook."""
        outcome = "retry" if retry else _outcome(status)
        with self._lock:
            self._in_flight -= 1
            self._changed.notify_all()
            if delivery.generation != self._generation:
                return  # reset meanwhile: its journal is already emptied
            delivery.attempts.append({"time": iso_ms(started), "status": status, "error": error})
            if not retry:
                delivery.outcome = outcome
                self._settle_hook(delivery.webhook_id, outcome)
            # Under our lock, so a reset cannot slip in between the check and the write.
            if self.journal:
                self.journal.append(delivery.journal_entry(attempt, started, duration, status,
                                                           error, outcome))

    def _settle_hook(self, hook_id, outcome):
        """410 Gone disables the webhook; exhausted retries mark it failing (lock held)."""
        hook = self._hooks.get(hook_id) if hook_id else None
        if hook is None:
            return
        if outcome == "gone":
            hook["disabled"] = True
        elif outcome == "delivered":
            hook["failing"] = False
        elif outcome == "failed":
            hook["failing"] = True
        hook["updated_at"] = iso(self.clock.now())

    def _post(self, delivery):
        """One attempt: (status, None) or (None, network error text).

        http.client rather than urllib: urllib rewrites header names to
        "Cloudconvert-signature" and honours http_proxy; receivers are local.
        """
        parts = urllib.parse.urlsplit(delivery.url)
        connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                            else http.client.HTTPConnection)
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        try:
            connection = connection_class(parts.hostname, parts.port, timeout=self.timeout)
            try:
                connection.request("POST", target, body=delivery.body,
                                   headers=delivery.headers())
                response = connection.getresponse()
                response.read()
                return response.status, None
            finally:
                connection.close()
        except (OSError, http.client.HTTPException, ValueError) as err:
            return None, "%s: %s" % (type(err).__name__, err)

    # --- test controls (/__admin/webhooks/...) ---

    def state(self):
        with self._lock:
            return self._state()

    def _state(self):
        return {"paused": self._paused, "pending": self._pending, "in_flight": self._in_flight,
                "webhooks": [dict(h) for h in reversed(list(self._hooks.values()))]}

    def pause(self, timeout):
        """Stop starting attempts; answer once the attempts under way have ended (or after
        `timeout`), so nothing reaches a receiver after the caller got the answer."""
        with self._lock:
            self._paused = True
            self._changed.wait_for(lambda: self._in_flight == 0, timeout)
            return self._state()

    def resume(self):
        with self._lock:
            self._paused = False
            self._changed.notify_all()
            return self._state()

    def wait_idle(self, timeout):
        """(idle, state): idle once no delivery is queued, retrying or under way."""
        with self._lock:
            idle = self._changed.wait_for(lambda: self._pending == 0, timeout)
            return idle, self._state()

    def start_burst(self, hook_id, count, concurrency, make_job):
        """Send `count` job.finished deliveries of distinct phantom jobs to one webhook,
        `concurrency` at a time, each with the usual retries. Returns the running Burst.

        Outside the lanes (the point is to be concurrent), but paused like them.
        `make_job(burst id, k)` renders the k-th job (0-based).
        """
        with self._lock:
            target = self._target(hook_id)
            run = Burst(next(self._bursts), hook_id, count, min(concurrency, count),
                        self._generation)
            self._burst_runs[run.id] = run
        for _ in range(run.concurrency):
            threading.Thread(target=self._burst_worker, args=(run, target, make_job),
                             name="webhook-burst", daemon=True).start()
        return run

    def burst(self, burst_id):
        with self._lock:
            run = self._burst_runs.get(burst_id)
        if run is None:
            raise AdminError(404, "no burst %r" % burst_id)
        return run

    def _burst_worker(self, run, target, make_job):
        try:
            while not self._stop.is_set():
                k = run.next_index()
                if k is None:
                    return
                job = make_job(run.id, k)
                with self._lock:
                    if run.generation != self._generation:
                        return  # reset meanwhile
                    delivery = self._new_delivery(target, "job.finished", job["id"], None,
                                                  event_body("job.finished", job), "burst",
                                                  run.id)
                self._deliver(delivery)
                self._settled(delivery)
                run.sent[k] = delivery
        finally:
            run.worker_done()


class Burst:
    """One POST /__admin/webhooks/burst: its workers share a cursor over 0..count-1."""

    def __init__(self, burst_id, webhook_id, count, concurrency, generation):
        self.id = burst_id
        self.webhook_id = webhook_id
        self.count = count
        self.concurrency = concurrency
        self.generation = generation
        self.sent = [None] * count  # k -> settled Delivery
        self.done = threading.Event()
        self._cursor = itertools.count()
        self._lock = threading.Lock()
        self._running = concurrency
        self._started = time.monotonic()
        self._ended = None

    def next_index(self):
        k = next(self._cursor)  # itertools.count is atomic under the GIL
        return k if k < self.count else None

    def worker_done(self):
        with self._lock:
            self._running -= 1
            if self._running == 0:
                self._ended = time.monotonic()
                self.done.set()

    def report(self):
        """What came back so far: final statuses, outcomes and every attempt's status."""
        deliveries = [d for d in self.sent if d is not None]
        statuses = collections.Counter(d.final_status for d in deliveries)
        outcomes = collections.Counter(d.outcome or "skipped" for d in deliveries)
        attempts = collections.Counter("error" if a["status"] is None else str(a["status"])
                                       for d in deliveries for a in d.attempts)
        with self._lock:
            ended = self._ended or time.monotonic()
        return {
            "burst": self.id, "webhook_id": self.webhook_id, "count": self.count,
            "concurrency": self.concurrency, "done": self.done.is_set(),
            "sent": len(deliveries), "duration_ms": int((ended - self._started) * 1000),
            "statuses": dict(sorted(statuses.items())),
            "outcomes": dict(sorted(outcomes.items())),
            "attempts": sum(attempts.values()), "attempt_statuses": dict(sorted(attempts.items())),
            "job_ids": [d.job_id for d in deliveries],
        }


def _subject_ids(event, subject):
    """(job_id, task_id) of an event's job or task."""
    if event.startswith("task."):
        return subject.get("job_id"), subject["id"]
    return subject["id"], None
