"""The journal: one JSON line per request the fake received or webhook attempt it made.

Tests assert what the client actually sent (headers, bodies, multipart field
order, whether it leaked the API key to storage), so every request except
the admin ones is recorded, secrets redacted. Webhook delivery attempts go
to the same journal (surface "webhook", see webhooks.py), so one ordered
record shows both directions of the conversation.
"""

import hashlib
import itertools
import json
import threading
import time

import formdata
from wire import iso_ms

# Headers whose values are secrets: recorded redacted, their presence kept.
_SECRET_HEADERS = ("authorization", "cookie", "proxy-authorization")
_TEXT_LIMIT = 64 * 1024


def redact_headers(headers: dict):
    redacted = {}
    for name, value in headers.items():
        if name.lower() in _SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = (scheme + " <redacted>") if scheme else "<redacted>"
        redacted[name] = value
    return redacted


def describe_body(request):
    """The journal's view of a body: parsed JSON, a multipart summary, or size and digest."""
    body = request.body
    if not body:
        return {"body": None}
    content_type = request.header("Content-Type", "")
    boundary = formdata.boundary_of(content_type)
    if boundary:
        return {"body": None, "multipart": _describe_form(body, boundary)}
    summary = {"body": None, "body_size": len(body),
               "body_sha256": hashlib.sha256(body).hexdigest()}
    try:
        summary["body"] = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        if len(body) <= _TEXT_LIMIT:
            summary["body_text"] = body.decode("utf-8", errors="replace")
    return summary


def _describe_form(body, boundary):
    try:
        parts = formdata.parse(body, boundary)
    except formdata.FormError as err:
        return {"error": str(err), "size": len(body)}
    fields = [part.name for part in parts]
    values = {part.name: part.text() for part in parts if part.filename is None}
    files = [{"field": part.name, "filename": part.filename,
              "content_type": part.content_type, "size": len(part.data),
              "sha256": hashlib.sha256(part.data).hexdigest()}
             for part in parts if part.filename is not None]
    return {"fields": fields, "values": values, "files": files}


class Journal:
    """Thread-safe list of entries, mirrored line by line to an optional file."""

    def __init__(self, path=None):
        self._lock = threading.Lock()
        self._entries = []  # (seq, surface, JSON line)
        self._numbers = itertools.count(1)
        self._path = path
        self._file = open(path, "w", encoding="utf-8") if path else None

    def record(self, request, surface, status, fault_id, started):
        entry = {
            "seq": None,
            "time": iso_ms(time.time()),
            "surface": surface,
            "method": request.method,
            "path": request.path,
            "raw_path": request.raw_path,
            "query": {k: v[0] if len(v) == 1 else v for k, v in request.query_multi.items()},
            "headers": redact_headers(request.headers),
            "has_authorization": request.header("Authorization") is not None,
        }
        entry.update(describe_body(request))
        entry.update(status=status, fault=fault_id,
                     duration_ms=int((time.monotonic() - started) * 1000))
        self.append(entry)

    def append(self, entry):
        """Number an entry (its "seq" key is overwritten) and keep it, on disk too.

        Kept as its JSON line, which is what readers get: a webhook burst writes
        tens of thousands of entries, and parsed bodies would cost ten times the
        memory."""
        with self._lock:
            entry["seq"] = next(self._numbers)
            line = json.dumps(entry, ensure_ascii=False) + "\n"
            self._entries.append((entry["seq"], entry["surface"], line))
            if self._file:
                self._file.write(line)
                self._file.flush()

    def lines(self, since=0, surface=None):
        """JSON lines of the entries after `since`, of one surface or all."""
        with self._lock:
            return [line for seq, kind, line in self._entries
                    if seq > since and (surface is None or kind == surface)]

    def entries(self, since=0, surface=None):
        return [json.loads(line) for line in self.lines(since, surface)]

    def clear(self):
        with self._lock:
            self._entries = []
            if self._file:
                self._file.seek(0)
                self._file.truncate()

    def close(self):
        with self._lock:
            if self._file:
                self._file.close()
                self._file = None
