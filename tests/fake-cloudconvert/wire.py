"""Wire conventions of the CloudConvert API v2, shared by every part of the fake.

The encodings here are what a client actually parses, so they follow the
recorded traffic and the SDK fixtures (../../shared/reference/cloudconvert-api.md
§2), not Python's defaults.
"""

import datetime
import json
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field


# --- JSON encodings ----------------------------------------------------------


def php_json(obj) -> bytes:
    """Encode like PHP's json_encode() with default flags, as the main API host does.

    Compact, non-ASCII as \\uXXXX and every "/" escaped as "\\/". Replacing "/"
    after encoding is exact: JSON has no "/" outside string literals.
    Webhook signatures are computed over these bytes, so the form matters.
    """
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/").encode("ascii")


def node_json(obj) -> bytes:
    """Encode like the sync host (an Express service): compact, UTF-8, "/" not escaped."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --- time ----------------------------------------------------------------------


class Clock:
    """Wall clock with an adjustable offset.

    Export URL expiry and 24 h retention are defined against this clock so a
    test can jump a day ahead (POST /__admin/clock) instead of sleeping.
    """

    def __init__(self):
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._offset += seconds
            return time.time() + self._offset

    def reset(self):
        with self._lock:
            self._offset = 0.0


def iso(ts):
    """Format an epoch timestamp like the API: second precision, "+00:00" (None stays None)."""
    if ts is None:
        return None
    moment = datetime.datetime.fromtimestamp(int(ts), tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def iso_ms(ts):
    """Millisecond variant used by the fake's own records (journal, deliveries)."""
    moment = datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d+00:00" % (moment.microsecond // 1000)


def new_id() -> str:
    return str(uuid.uuid4())


def looks_like_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


# --- requests and replies --------------------------------------------------------


@dataclass
class Request:
    """One parsed HTTP request, as every layer of the fake sees it."""

    method: str
    raw_path: str  # path and query exactly as received
    path: str  # percent-decoded path without the query
    query: dict  # name -> last value (bracket names such as filter[status] kept as is)
    query_multi: dict  # name -> list of values, for the journal
    headers: dict  # name (as received) -> value
    body: bytes
    chunked: bool = False  # the body came with Transfer-Encoding: chunked
    api_key: str = None  # the accepted key, once authenticated
    rate_remaining: int = None  # X-Ratelimit-Remaining for this request

    def header(self, name, default=None):
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default

    def json(self):
        """The body as JSON, or None when it is empty or not JSON.

        Laravel treats an unparsable body as empty input, so callers validate
        the result rather than failing on a syntax error.
        """
        if not self.body:
            return None
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def includes(self) -> set:
        """The comma-separated include=... list as a set."""
        raw = self.query.get("include", "")
        return {part.strip() for part in raw.split(",") if part.strip()}


def parse_target(target: str):
    """Split a request target into (decoded path, last-value query, multi-value query)."""
    parts = urllib.parse.urlsplit(target)
    path = urllib.parse.unquote(parts.path)
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    multi = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    last = {name: values[-1] for name, values in multi.items()}
    return path, last, multi


@dataclass
class Reply:
    """A response before encoding: `obj` is JSON-encoded by the surface that answers.

    `raw` bypasses encoding (storage XML, file bytes, admin JSON lines).
    """

    status: int
    obj: object = None
    headers: list = field(default_factory=list)
    raw: bytes = None
    content_type: str = None


# Marker reply for "close the socket without answering" (fault injection).
DROP = Reply(status=0)


class ApiError(Exception):
    """An error the API reports in its usual body shape (§3.8)."""

    def __init__(self, status, message, code=None, errors=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.errors = errors
        self.headers = headers or []

    def body(self):
        body = {"message": self.message}
        if self.code is not None:
            body["code"] = self.code
        if self.errors is not None:
            body["errors"] = self.errors
        return body

    def reply(self):
        return Reply(self.status, self.body(), list(self.headers))


def invalid_data(errors, status=422):
    """The validation failure of §3.8: 422, INVALID_DATA and a field -> [messages] map."""
    return ApiError(status, "The given data was invalid.", "INVALID_DATA", errors)


# --- lists -------------------------------------------------------------------


def paginate(items, request: Request, path_url: str):
    """Slice `items` like Laravel's simple paginator (php__jobs.json shape).

    `links` keep the request's other query parameters (filters, per_page) so a
    client that follows `next` stays on the same filtered list.
    """
    per_page = _positive_int(request.query.get("per_page"), 100)
    page = _positive_int(request.query.get("page"), 1)
    start = (page - 1) * per_page
    chunk = items[start:start + per_page]
    has_more = len(items) > start + per_page
    kept = [(k, v) for k, v in request.query.items() if k != "page"]

    def page_url(number):
        return path_url + "?" + urllib.parse.urlencode(kept + [("page", str(number))])

    return {
        "data": chunk,
        "links": {
            "first": page_url(1),
            "last": None,
            "prev": page_url(page - 1) if page > 1 else None,
            "next": page_url(page + 1) if has_more else None,
        },
        "meta": {
            "current_page": page,
            "from": start + 1 if chunk else None,
            "path": path_url,
            "per_page": per_page,
            "to": start + len(chunk) if chunk else None,
        },
    }


def _positive_int(text, default):
    try:
        value = int(text)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default
