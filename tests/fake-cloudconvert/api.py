"""Routes of the REST host (/v2/...) and of the sync host (/sync/v2/...).

Handlers take a wire.Request and return a wire.Reply whose `obj` the
serving surface encodes (PHP-style on the REST host, Express-style on the
sync host). API errors are raised as wire.ApiError.
"""

import re

import operations
from wire import ApiError, Reply, invalid_data, looks_like_uuid, paginate


class Route:
    def __init__(self, method, pattern, handler, auth=True):
        self.method = method
        self.pattern = re.compile(pattern)
        self.handler = handler
        self.auth = auth


def resolve(routes, method, path):
    """(route, path arguments) for a request; 405 or 404 ApiError when nothing fits."""
    allowed = []
    for route in routes:
        match = route.pattern.fullmatch(path)
        if match:
            if route.method == method:
                return route, match.groups()
            allowed.append(route.method)
    if allowed:
        raise ApiError(405, "The %s method is not supported for this route. Supported methods: "
                       "%s." % (method, ", ".join(allowed)), headers=[("Allow", ", ".join(allowed))])
    raise ApiError(404, "The route %s could not be found." % path.lstrip("/"))


_ID = r"([^/]+)"
_OPERATIONS = "|".join(re.escape(op) for op in operations.SUPPORTED + operations.UNSUPPORTED)


class Api:
    """The REST host's endpoints (reference §4)."""

    def __init__(self, store, webhooks, api_base):
        self.store = store
        self.webhooks = webhooks
        self.api_base = api_base
        self.routes = [
            Route("POST", r"/v2/jobs", self.create_job),
            Route("GET", r"/v2/jobs", self.list_jobs),
            Route("GET", r"/v2/jobs/" + _ID, self.get_job),
            Route("DELETE", r"/v2/jobs/" + _ID, self.delete_job),
            Route("GET", r"/v2/tasks", self.list_tasks),
            Route("GET", r"/v2/tasks/" + _ID, self.get_task),
            Route("DELETE", r"/v2/tasks/" + _ID, self.delete_task),
            Route("POST", r"/v2/tasks/%s/cancel" % _ID, self.cancel_task),
            Route("POST", r"/v2/tasks/%s/retry" % _ID, self.retry_task),
            Route("GET", r"/v2/operations", self.list_operations, auth=False),
            Route("GET", r"/v2/convert/formats", self.list_formats, auth=False),
            Route("POST", r"/v2/(%s)" % _OPERATIONS, self.create_task),
            Route("GET", r"/v2/users/me", self.get_user),
            Route("POST", r"/v2/webhooks", self.create_webhook),
            Route("GET", r"/v2/users/me/webhooks", self.list_webhooks),
            Route("DELETE", r"/v2/webhooks/" + _ID, self.delete_webhook),
        ]

    # --- jobs ---

    def create_job(self, request):
        return Reply(201, {"data": self.store.create_job(request.json())})

    def list_jobs(self, request):
        jobs = self.store.list_jobs(status=request.query.get("filter[status]"),
                                    tag=request.query.get("filter[tag]"),
                                    include_tasks="tasks" in request.includes())
        return Reply(200, paginate(jobs, request, self.api_base + "/v2/jobs"))

    def get_job(self, request, job_id):
        return Reply(200, {"data": self.store.get_job(job_id)})

    def delete_job(self, request, job_id):
        self.store.delete_job(job_id)
        return Reply(204)

    # --- tasks ---

    def create_task(self, request, operation):
        return Reply(201, {"data": self.store.create_task(operation, request.json())})

    def list_tasks(self, request):
        query = request.query
        tasks = self.store.list_tasks(job_id=query.get("filter[job_id]"),
                                      status=query.get("filter[status]"),
                                      operation=query.get("filter[operation]"),
                                      include=request.includes())
        return Reply(200, paginate(tasks, request, self.api_base + "/v2/tasks"))

    def get_task(self, request, task_id):
        return Reply(200, {"data": self.store.get_task(task_id, request.includes())})

    def delete_task(self, request, task_id):
        self.store.delete_task(task_id)
        return Reply(204)

    def cancel_task(self, request, task_id):
        return Reply(200, {"data": self.store.cancel_task(task_id)})

    def retry_task(self, request, task_id):
        return Reply(201, {"data": self.store.retry_task(task_id)})

    # --- operations ---

    def list_operations(self, request, only=None):
        """Catalogue rows matching every filter[...]; alternative engines only on request."""
        query = request.query
        wanted = {key: query.get("filter[%s]" % key) for key in
                  ("operation", "input_format", "output_format", "engine")}
        if only:
            wanted["operation"] = only
        version = query.get("filter[engine_version]")
        alternatives = query.get("alternatives") in ("true", "1")
        include = request.includes()
        rows = []
        for row in operations.catalogue():
            if any(value is not None and row[key] != value for key, value in wanted.items()):
                continue
            if version and not any(v["version"] == version for v in row["_engine_versions"]):
                continue
            if row["_alternative"] and not alternatives:
                continue
            rows.append(_public_row(row, include))
        return Reply(200, {"data": rows})

    def list_formats(self, request):
        return self.list_operations(request, only="convert")

    # --- user and webhooks ---

    def get_user(self, request):
        return Reply(200, {"data": self.store.user()})

    def create_webhook(self, request):
        body = request.json()
        body = body if isinstance(body, dict) else {}
        errors = _webhook_errors(body, self.webhooks.accepted_events())
        if errors:
            raise invalid_data(errors)
        return Reply(201, {"data": self.webhooks.create(body["url"], body["events"])})

    def list_webhooks(self, request):
        hooks = self.webhooks.list(request.query.get("filter[url]"))
        return Reply(200, paginate(hooks, request, self.api_base + "/v2/users/me/webhooks"))

    def delete_webhook(self, request, hook_id):
        if not looks_like_uuid(hook_id):
            # As for jobs and tasks: the live API answers a malformed id with a 500.
            raise ApiError(500, "Server Error", "INTERNAL_ERROR")
        if not self.webhooks.delete(hook_id):
            raise ApiError(404, "No query results for model [Webhook] %s" % hook_id,
                           "NOT_FOUND")
        return Reply(204)


def _webhook_errors(body, accepted):
    """Laravel-style field errors of a POST /v2/webhooks body: `url` an http(s) URL,
    `events` a non-empty array of accepted events (a bad item is named by its index)."""
    errors = {}
    url = body.get("url")
    if url is None or url == "":
        errors["url"] = ["The url field is required."]
    elif not operations.is_http_url(url):
        errors["url"] = ["The url format is invalid."]
    events = body.get("events")
    if events is None or events == [] or events == "":
        errors["events"] = ["The events field is required."]
    elif not isinstance(events, list):
        errors["events"] = ["The events must be an array."]
    else:
        for index, event in enumerate(events):
            if event not in accepted:
                errors["events.%d" % index] = ["The selected events.%d is invalid." % index]
    return errors


def _public_row(row, include):
    public = {k: v for k, v in row.items() if not k.startswith("_")}
    if "options" in include:
        public["options"] = row["_options"]
    if "engine_versions" in include:
        public["engine_versions"] = row["_engine_versions"]
    return public


class SyncApi:
    """The sync host: the same objects, answered once they reach a final state."""

    def __init__(self, store, timeout):
        self.store = store
        self.timeout = timeout
        self.routes = [
            Route("GET", r"/v2/jobs/" + _ID, self.get_job),
            Route("GET", r"/v2/tasks/" + _ID, self.get_task),
            Route("POST", r"/v2/jobs", self.create_job),
        ]

    def get_job(self, request, job_id):
        return Reply(200, {"data": self.store.wait_job(job_id, self.timeout)})

    def get_task(self, request, task_id):
        return Reply(200, {"data": self.store.wait_task(task_id, self.timeout)})

    def create_job(self, request):
        """Create, wait, answer the job; with "redirect": true, 302 to the first export file."""
        body = request.json()
        created = self.store.create_job(body)
        job = self.store.wait_job(created["id"], self.timeout)
        if isinstance(body, dict) and body.get("redirect"):
            for task in job["tasks"]:
                files = (task.get("result") or {}).get("files") or []
                if task["operation"] == "export/url" and files and files[0].get("url"):
                    return Reply(302, raw=b"", headers=[("Location", files[0]["url"])])
        return Reply(201, {"data": job})
