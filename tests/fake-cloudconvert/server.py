#!/usr/bin/env python3
"""A fake CloudConvert API v2 server for tests (Python 3 standard library only).

One process and one port serve four surfaces, told apart by path prefix:

    /v2/...          the REST host   (base_url = http://127.0.0.1:PORT)
    /sync/v2/...     the sync host   (sync_url = http://127.0.0.1:PORT/sync)
    /storage/...     upload form target and presigned export downloads
    /__admin/...     test control: faults, journal, reset, clock, webhook delivery
                     (never faulted)

Once it listens it prints exactly one line to stdout,
"LISTENING http://127.0.0.1:PORT", and exits 0 on SIGTERM or SIGINT.
README.md in this folder is the user manual.
"""

import argparse
import base64
import hashlib
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from api import Api, SyncApi, resolve  # noqa: E402
from faults import Faults, RuleError  # noqa: E402
from journal import Journal  # noqa: E402
from storage import Blobs, Signer, StorageSurface  # noqa: E402
from store import Store  # noqa: E402
from webhook_admin import WebhookAdmin  # noqa: E402
from webhooks import Webhooks  # noqa: E402
from wire import (ApiError, Clock, DROP, Reply, Request, iso, node_json,  # noqa: E402
                  parse_target, php_json)


class RateLimiter:
    """X-Ratelimit-* bookkeeping per API key over fixed 60 s windows (limit 500, recorded).

    Only with --enforce-rate-limit does running out answer 429; otherwise the
    headers just count down, so a polling test never trips over it by accident.
    """

    WINDOW = 60.0

    def __init__(self, limit, enforce):
        self.limit = limit
        self.enforce = enforce
        self._lock = threading.Lock()
        self._windows = {}  # key -> (window start, count)

    def hit(self, key):
        """Count one request: (allowed, remaining, seconds until the window resets)."""
        now = time.monotonic()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self.WINDOW:
                start, count = now, 0
            count += 1
            self._windows[key] = (start, count)
        allowed = count <= self.limit or not self.enforce
        return allowed, max(0, self.limit - count), max(1, int(self.WINDOW - (now - start)))

    def reset(self):
        with self._lock:
            self._windows.clear()


class App:
    """Everything one server instance holds; the request handler calls `serve`."""

    def __init__(self, options, base_url):
        self.options = options
        self.base_url = base_url
        self.api_keys = set(options.api_key or ["test-key"])
        self.clock = Clock()
        self.faults = Faults()
        self.journal = Journal(options.journal)
        self.webhooks = Webhooks(self.clock, base_url, options.job_webhook_secret,
                                 journal=self.journal, retries=options.webhook_retries,
                                 retry_delay=options.webhook_retry_delay,
                                 timeout=options.webhook_timeout,
                                 task_events=not options.no_task_events)
        signer = Signer(base_url + "/storage")
        self.store = Store(clock=self.clock, blobs=Blobs(options.state_dir), signer=signer,
                           faults=self.faults, webhooks=self.webhooks, api_base=base_url,
                           processing_delay=options.processing_delay, credits=options.credits,
                           max_concurrent_jobs=options.max_concurrent_jobs,
                           fetch_loopback=options.fetch_loopback)
        self.api = Api(self.store, self.webhooks, base_url)
        self.sync = SyncApi(self.store, options.sync_timeout)
        self.storage = StorageSurface(self.store, signer, self.clock)
        self.webhook_admin = WebhookAdmin(self.webhooks, self.store)
        self.limiter = RateLimiter(options.rate_limit, options.enforce_rate_limit)
        if options.faults:
            with open(options.faults, encoding="utf-8") as source:
                self.faults.add(json.load(source))

    def close(self):
        self.store.close()
        self.webhooks.close()
        self.journal.close()

    # --- one request ---

    def serve(self, request):
        """(surface, reply, fault rule id) for a request; the reply may be DROP."""
        surface = surface_of(request.path)
        if surface == "admin":
            return surface, self.admin(request), None
        rule = self.faults.for_request(request.method, request.path)
        reply = None
        if rule and rule.when == "before":
            time.sleep(rule.delay)
            reply = rule.reply()
        if reply is None:
            reply = self._route(surface, request)
        if rule and rule.when == "after":
            time.sleep(rule.delay)
            reply = rule.reply() or reply
        return surface, reply, rule.id if rule else None

    def _route(self, surface, request):
        try:
            if surface == "storage":
                return self.storage.handle(request)
            if surface == "other":
                raise ApiError(404, "The route %s could not be found." % request.path.lstrip("/"))
            return self._api_route(surface, request)
        except ApiError as err:
            return err.reply()
        except Exception:  # a bug in the fake: say so loudly, keep serving
            traceback.print_exc()
            return ApiError(500, "Server Error (fake-cloudconvert bug, see its stderr)",
                            "INTERNAL_ERROR").reply()

    def _api_route(self, surface, request):
        handler_set = self.api if surface == "api" else self.sync
        path = request.path[len("/sync"):] if surface == "sync" else request.path
        route, args = resolve(handler_set.routes, request.method, path)
        if route.auth:
            self._authenticate(request, surface)
        self.store.purge_expired()
        return route.handler(request, *args)

    def _authenticate(self, request, surface):
        scheme, _, key = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or key.strip() not in self.api_keys:
            raise ApiError(401, "Unauthenticated.")
        request.api_key = key.strip()
        if surface == "api":
            allowed, remaining, reset_in = self.limiter.hit(request.api_key)
            request.rate_remaining = remaining
            if not allowed:
                raise ApiError(429, "Too Many Attempts.", headers=[("Retry-After", str(reset_in))])

    # --- encoding per surface ---

    def encode(self, surface, request, reply):
        """(status, headers, body bytes) for a reply as this surface writes it."""
        headers = list(reply.headers)
        body = reply.raw
        content_type = reply.content_type
        if body is None and reply.status != 204:
            if surface == "sync":
                body = node_json(reply.obj)
                content_type = content_type or "application/json; charset=utf-8"
                headers.append(("ETag", etag(body)))
            elif surface == "admin":
                body = json.dumps(reply.obj, indent=1).encode("utf-8") + b"\n"
                content_type = content_type or "application/json"
            else:
                body = php_json(reply.obj)
                content_type = content_type or "application/json"
        if surface == "api":
            names = {name.lower() for name, _ in headers}
            remaining = request.rate_remaining
            if "x-ratelimit-limit" not in names:
                headers.append(("X-Ratelimit-Limit", str(self.limiter.limit)))
            if "x-ratelimit-remaining" not in names:
                headers.append(("X-Ratelimit-Remaining", str(
                    self.limiter.limit if remaining is None else remaining)))
        if content_type:
            headers.append(("Content-Type", content_type))
        return reply.status, headers, body or b""

    # --- admin ---

    def admin(self, request):
        """/__admin endpoints (README.md, "Admin endpoints"). Plain JSON, no auth."""
        method, path = request.method, request.path.rstrip("/")
        try:
            if path == "/__admin/info" and method == "GET":
                return Reply(200, self.info())
            if path == "/__admin/journal" and method == "GET":
                since = int(request.query.get("since", "0") or 0)
                lines = "".join(self.journal.lines(since, request.query.get("surface")))
                return Reply(200, raw=lines.encode("utf-8"), content_type="application/x-ndjson")
            if path == "/__admin/journal" and method == "DELETE":
                self.journal.clear()
                return Reply(204)
            if path == "/__admin/faults" and method == "GET":
                return Reply(200, {"rules": self.faults.describe()})
            if path == "/__admin/faults" and method == "POST":
                return Reply(201, {"ids": self.faults.add(_json_body(request))})
            if path == "/__admin/faults" and method == "DELETE":
                self.faults.clear()
                return Reply(204)
            if path.startswith("/__admin/faults/") and method == "DELETE":
                found = self.faults.remove(path[len("/__admin/faults/"):])
                return Reply(204) if found else Reply(404, {"error": "no such rule"})
            if path == "/__admin/clock" and method == "POST":
                advance = float((_json_body(request) or {}).get("advance", 0))
                return Reply(200, {"now": iso(self.clock.advance(advance))})
            if path == "/__admin/reset" and method == "POST":
                self.reset()
                return Reply(204)
            reply = self.webhook_admin.handle(method, path, request)
            if reply is not None:
                return reply
        except (RuleError, ValueError, TypeError, AttributeError) as err:
            return Reply(400, {"error": str(err)})
        return Reply(404, {"error": "unknown admin endpoint %s %s" % (method, path)})

    def info(self):
        return {"base_url": self.base_url, "sync_url": self.base_url + "/sync",
                "storage_url": self.base_url + "/storage", "api_keys": sorted(self.api_keys)}

    def reset(self):
        """Back to a fresh process: no jobs, tasks, webhooks, faults or journal; real time."""
        self.faults.clear()
        self.store.reset()
        self.webhooks.reset()
        self.journal.clear()
        self.clock.reset()
        self.limiter.reset()


def _json_body(request):
    if not request.body:
        return None
    return json.loads(request.body.decode("utf-8"))


def surface_of(path):
    if path == "/__admin" or path.startswith("/__admin/"):
        return "admin"
    if path == "/v2" or path.startswith("/v2/"):
        return "api"
    if path.startswith("/sync/v2/") or path == "/sync/v2":
        return "sync"
    if path.startswith("/storage/"):
        return "storage"
    return "other"


def etag(body):
    """An Express-style weak ETag, as the sync host sends."""
    digest = base64.b64encode(hashlib.sha1(body).digest()).decode("ascii")[:27]
    return 'W/"%x-%s"' % (len(body), digest)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients reuse connections
    timeout = 120  # seconds a connection may sit idle or stall mid-request
    server_version = "fake-cloudconvert/1"
    sys_version = ""

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _handle(self):
        app = self.server.app
        started = time.monotonic()
        request = self._read_request()
        surface, reply, fault_id = app.serve(request)
        status, headers, body = (None, [], b"") if reply is DROP else \
            app.encode(surface, request, reply)
        # Journal before answering: once a client holds its answer, the entry exists.
        if surface != "admin":
            app.journal.record(request, surface, status, fault_id, started)
        if reply is DROP:
            self._drop()
        else:
            self._send(status, headers, body)

    def _read_request(self):
        headers = {}
        for name, value in self.headers.items():
            headers[name] = headers[name] + ", " + value if name in headers else value
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        if chunked:
            body = self._read_chunked()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path, query, multi = parse_target(self.path)
        return Request(self.command, self.path, path, query, multi, headers, body, chunked)

    def _read_chunked(self):
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 204 and status >= 200:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status != 204:
            self.wfile.write(body)

    def _drop(self):
        """Close the socket without a byte of response: the client sees an empty reply."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if self.server.app.options.verbose:
            sys.stderr.write("fake-cloudconvert: %s\n" % (fmt % args))


def parse_options(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: let the OS choose (default)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback)")
    parser.add_argument("--journal", help="append every request as a JSON line to this file")
    parser.add_argument("--faults", help="JSON file of fault rules active from the start")
    parser.add_argument("--state-dir", help="keep file bytes under DIR/files instead of memory")
    parser.add_argument("--api-key", action="append",
                        help="accepted bearer key (repeatable; default: test-key)")
    parser.add_argument("--processing-delay", type=float, default=0.05,
                        help="seconds each task spends processing (default 0.05)")
    parser.add_argument("--sync-timeout", type=float, default=10.0,
                        help="longest a sync-host GET blocks before answering as is (default 10)")
    parser.add_argument("--webhook-retries", type=int, default=3)
    parser.add_argument("--webhook-retry-delay", type=float, default=0.2,
                        help="base delay between webhook attempts, multiplied by the attempt")
    parser.add_argument("--webhook-timeout", type=float, default=5.0)
    parser.add_argument("--job-webhook-secret", default="test-webhook-secret",
                        help="signs deliveries to a job's own webhook_url")
    parser.add_argument("--no-task-events", action="store_true",
                        help="POST /v2/webhooks accepts only the reference's job.* events")
    parser.add_argument("--credits", type=int, default=10000,
                        help="the account's credits; at 0 job creation answers 402")
    parser.add_argument("--max-concurrent-jobs", type=int, default=0,
                        help="unfinished jobs allowed before 402 'too many jobs' (0: no limit)")
    parser.add_argument("--rate-limit", type=int, default=500, help="X-Ratelimit-Limit value")
    parser.add_argument("--enforce-rate-limit", action="store_true",
                        help="answer 429 once a key used up --rate-limit requests in 60 s")
    parser.add_argument("--fetch-loopback", action="store_true",
                        help="import/url really fetches 127.0.0.1/localhost URLs")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    return parser.parse_args(argv)


def main(argv=None):
    options = parse_options(argv)
    server = ThreadingHTTPServer((options.host, options.port), Handler)
    server.daemon_threads = True
    host = options.host if options.host not in ("0.0.0.0", "::") else "127.0.0.1"
    base_url = "http://%s:%d" % (host, server.server_address[1])
    try:
        server.app = App(options, base_url)
    except (OSError, ValueError, RuleError) as err:
        sys.stderr.write("fake-cloudconvert: %s\n" % err)
        server.server_close()
        return 2

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # Short poll intervals keep SIGTERM-to-exit well under a second.
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                               name="http", daemon=True)
    serving.start()
    print("LISTENING " + base_url, flush=True)
    while not stop.wait(0.1):
        pass
    server.app.close()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
