"""Scripted faults: rules that make the fake misbehave the way CloudConvert does.

Two kinds of rules share one format (README.md, "Fault injection"):

- request rules (method + path regex) replace or delay an HTTP answer:
  429, 402, 422, 5xx, a dropped connection, an expired download URL, or any
  scripted reply. `when: "after"` lets the request take effect first, which
  reproduces the ambiguous failure of node#60: the job exists, the client
  saw an error.
- task rules (operation / task name / job tag) change how a task ends: it
  fails with a given code and message, or never finishes.

Rules are tried in the order they were added; the first one that triggers wins.
"""

import itertools
import random
import re
import threading

from wire import ApiError, DROP, Reply, invalid_data

REQUEST_ACTIONS = ("pass", "rate_limit", "credits_exceeded", "too_many_jobs", "invalid_data",
                   "server_error", "respond", "drop", "expired")
TASK_ACTIONS = ("fail_task", "stall_task")

# Bodies a CDN in front of the API answers with; not JSON, on purpose.
_GATEWAY_PAGES = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}


class RuleError(ValueError):
    """A fault rule that cannot be understood; reported to whoever submitted it."""


class Rule:
    """One fault rule, with its own trigger counters and random stream."""

    def __init__(self, spec: dict, number: int):
        if not isinstance(spec, dict):
            raise RuleError("a rule must be a JSON object")
        self.spec = dict(spec)
        self.id = str(spec.get("id") or "rule-%d" % number)
        self.action = spec.get("action", "pass")
        if self.action not in REQUEST_ACTIONS + TASK_ACTIONS:
            raise RuleError("rule %s: unknown action %r" % (self.id, self.action))
        self.method = spec.get("method")
        self.path = _regex(spec, "path", self.id)
        self.task = _regex(spec, "task", self.id)
        self.operation = _regex(spec, "operation", self.id)
        self.tag = _regex(spec, "tag", self.id)
        self.when = spec.get("when", "before")
        if self.when not in ("before", "after"):
            raise RuleError("rule %s: `when` must be before or after" % self.id)
        times = spec.get("times", spec.get("count"))
        self.remaining = None if times is None else int(times)
        self.skip = int(spec.get("skip", 0))
        self.probability = spec.get("probability")
        self.random = random.Random(spec.get("seed", 0))
        self.delay = float(spec.get("delay", 0))
        self.seen = 0  # matching events, triggered or not
        self.triggered = 0

    @property
    def is_task_rule(self):
        return self.action in TASK_ACTIONS

    def matches_request(self, method, path):
        if self.is_task_rule:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return self.path is None or self.path.search(path) is not None

    def matches_task(self, tag, name, operation):
        if not self.is_task_rule:
            return False
        return (_full(self.task, name) and _full(self.operation, operation)
                and _full(self.tag, tag))

    def fire(self):
        """Count one matching event and decide whether the rule triggers on it.

        The random draw happens only for events past `skip` while the rule
        still has triggers left, so a seeded rule yields the same pattern
        for the same sequence of requests.
        """
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.probability is not None and self.random.random() >= float(self.probability):
            return False
        if self.remaining is not None:
            self.remaining -= 1
        self.triggered += 1
        return True

    def describe(self):
        described = dict(self.spec)
        described.update(id=self.id, seen=self.seen, triggered=self.triggered,
                         remaining=self.remaining)
        return described

    # --- what a triggered request rule answers ---

    def reply(self):
        """The reply replacing the real one; None for `pass` (only the delay applies)."""
        spec = self.spec
        if self.action == "pass":
            return None
        if self.action == "drop":
            return DROP
        if self.action == "rate_limit":
            retry_after = str(spec.get("retry_after", 1))
            return Reply(429, {"message": spec.get("message", "Too Many Attempts.")},
                         [("Retry-After", retry_after), ("X-Ratelimit-Remaining", "0")])
        if self.action == "credits_exceeded":
            return ApiError(402, spec.get("message", "Your account has run out of conversion "
                                                     "minutes"),
                            spec.get("code", "CREDITS_EXCEEDED")).reply()
        if self.action == "too_many_jobs":
            # Only the message is recorded (php#98); the code is a guess, kept
            # equal to the credits case so a client has to read the message.
            return ApiError(402, spec.get("message", "You have started too many jobs at once"),
                            spec.get("code", "CREDITS_EXCEEDED")).reply()
        if self.action == "invalid_data":
            errors = spec.get("errors", {"tasks": ["The tasks field is required."]})
            return invalid_data(errors, int(spec.get("status", 422))).reply()
        if self.action == "server_error":
            return _server_error(int(spec.get("status", 500)), spec)
        if self.action == "expired":
            return s3_error(403, "AccessDenied", "Request has expired")
        return _scripted(spec)


def _server_error(status, spec):
    if "body" in spec:
        return _scripted(dict(spec, status=status))
    if status in _GATEWAY_PAGES:
        title = _GATEWAY_PAGES[status]
        page = "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1>" \
               "</center>\r\n</body>\r\n</html>\r\n" % (title, title)
        return Reply(status, raw=page.encode("ascii"), content_type="text/html")
    return ApiError(status, "Server Error", "INTERNAL_ERROR").reply()


def _scripted(spec):
    """`respond`: any status, headers and body; a JSON body is encoded like the API's."""
    status = int(spec.get("status", 200))
    headers = [(str(k), str(v)) for k, v in (spec.get("headers") or {}).items()]
    body = spec.get("body")
    if isinstance(body, str):
        return Reply(status, headers=headers, raw=body.encode("utf-8"),
                     content_type=spec.get("content_type", "text/plain; charset=utf-8"))
    if status == 204 or (body is None and "body" not in spec):
        return Reply(status, headers=headers, raw=b"")
    return Reply(status, body, headers)


def s3_error(status, code, message):
    """An S3-style XML error, as the storage host answers."""
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
           '</Error>' % (code, message))
    return Reply(status, raw=xml.encode("utf-8"), content_type="application/xml")


def _regex(spec, key, rule_id):
    pattern = spec.get(key)
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as err:
        raise RuleError("rule %s: bad %s regex: %s" % (rule_id, key, err))


def _full(pattern, text):
    return pattern is None or pattern.fullmatch(text or "") is not None


class Faults:
    """The live rule set; thread-safe, shared by the HTTP layer and the task engine."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []
        self._numbers = itertools.count(1)

    def add(self, specs):
        """Add one rule or a list of them (all or none); returns the new rules' ids."""
        if isinstance(specs, dict) and "rules" in specs:
            specs = specs["rules"]
        if isinstance(specs, dict):
            specs = [specs]
        if not isinstance(specs, list):
            raise RuleError("expected a rule, a list of rules or {\"rules\": [...]}")
        with self._lock:
            rules = [Rule(spec, next(self._numbers)) for spec in specs]
            self._rules.extend(rules)
        return [rule.id for rule in rules]

    def clear(self):
        """Drop every rule; generated ids start again at rule-1."""
        with self._lock:
            self._rules = []
            self._numbers = itertools.count(1)

    def remove(self, rule_id):
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def describe(self):
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def for_request(self, method, path):
        """The request rule that triggers on this request, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.matches_request(method, path) and rule.fire():
                    return rule
        return None

    def for_task(self, tag, name, operation):
        """The task rule that triggers on a task being created, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.matches_task(tag, name, operation) and rule.fire():
                    return rule
        return None
