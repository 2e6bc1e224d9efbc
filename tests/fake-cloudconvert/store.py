"""Jobs, tasks and the engine that moves tasks through their states.

Tasks go waiting -> processing -> finished | error. A task starts when every
input task has finished (import/upload also needs its file); it fails with
INPUT_TASK_FAILED as soon as an input failed. Processing runs on a short-lived
thread per task that sleeps --processing-delay, then commits its outcome, so
clients see real intermediate states.

One re-entrant lock guards all state. The condition variable on it is
notified on every change, which is what the sync host's blocking GETs wait on.
Webhook events are emitted with that lock held, so they are queued in the
order things happened: job.created, then task.created of each task, then
task.finished or task.failed as tasks end, then job.finished or job.failed.
"""

import copy
import itertools
import re
import threading
import time
import traceback
from dataclasses import dataclass, field

import operations
from operations import InputFile, TaskFailed
from wire import ApiError, invalid_data, iso, looks_like_uuid, new_id

FINAL = ("finished", "error")
RETENTION = 24 * 3600  # jobs, tasks and files are deleted 24 h after they end
HOST_NAME = "fake-cloudconvert"
USER_ID = 1
TASK_NAME = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class Task:
    id: str
    name: str  # None for a standalone task
    job_id: str
    operation: str
    payload: dict
    input_ids: list
    ignore_error: bool
    created_at: float
    seq: int
    status: str = "waiting"
    code: str = None
    message: str = None
    credits: int = None
    engine: str = None
    engine_version: str = None
    result: dict = None
    started_at: float = None
    ended_at: float = None
    retry_of_task_id: str = None
    host_name: str = None
    storage: str = None
    files: list = field(default_factory=list)  # StoredFile outputs
    upload: InputFile = None  # import/upload: the received file
    form_parameters: dict = None  # import/upload: what the upload must send back
    fault: object = None  # a faults.Rule (fail_task / stall_task) or None
    generation: int = 0  # bumped on cancel/delete so a running worker discards its outcome


@dataclass
class Job:
    id: str
    tag: str
    webhook_url: str
    created_at: float
    seq: int
    task_ids: list = field(default_factory=list)
    status: str = "waiting"
    started_at: float = None
    ended_at: float = None


class Store:
    def __init__(self, *, clock, blobs, signer, faults, webhooks, api_base,
                 processing_delay=0.05, credits=10000, max_concurrent_jobs=0,
                 fetch_loopback=False):
        self.clock = clock
        self.blobs = blobs
        self.signer = signer
        self.faults = faults
        self.webhooks = webhooks
        self.api_base = api_base
        self.processing_delay = processing_delay
        self.initial_credits = credits
        self.max_concurrent_jobs = max_concurrent_jobs
        self.fetch_loopback = fetch_loopback
        self.user_created_at = clock.now()
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.closing = False
        self._reset_state()

    def _reset_state(self):
        self.jobs = {}
        self.tasks = {}
        self.credits = self.initial_credits
        self.numbers = itertools.count(1)

    def reset(self):
        with self.lock:
            for task in self.tasks.values():
                task.generation += 1
            self._reset_state()
            self.blobs.clear()
            self.changed.notify_all()

    def close(self):
        """Wake every blocked sync request so the process can exit promptly."""
        with self.lock:
            self.closing = True
            self.changed.notify_all()

    # --- jobs ---

    def create_job(self, body):
        """POST /v2/jobs: validate the whole graph, then create it atomically."""
        body = body if isinstance(body, dict) else {}
        specs = body.get("tasks")
        self._check_job(body, specs)
        with self.lock:
            self._check_limits()
            now = self.clock.now()
            job = Job(new_id(), body.get("tag"), body.get("webhook_url"), now,
                      next(self.numbers))
            ids = {name: new_id() for name in specs}
            for name, spec in specs.items():
                inputs = [ids[n] for n in _input_list(spec.get("input"))]
                task = self._new_task(ids[name], name, job, spec, inputs, now)
                job.task_ids.append(task.id)
            self.jobs[job.id] = job
            # The answer and job.created show the job as created (all tasks
            # waiting), as recorded; tasks start right after.
            created = self.job_json(job)
            self.webhooks.emit("job.created", created)
            for task_data in created["tasks"]:  # rendered as GET /v2/tasks/{id} does
                self.webhooks.emit("task.created", task_data)
            self._advance()
            return created

    def _check_job(self, body, specs):
        errors = {}
        if not isinstance(specs, dict) or not specs:
            raise invalid_data({"tasks": ["The tasks field is required."]})
        if body.get("tag") is not None and not isinstance(body.get("tag"), str):
            errors["tag"] = ["The tag must be a string."]
        hook = body.get("webhook_url")
        if hook is not None and not operations.is_http_url(hook):
            errors["webhook_url"] = ["The webhook url format is invalid."]
        for name, spec in specs.items():
            prefix = "tasks.%s." % name
            if not TASK_NAME.fullmatch(name):
                errors["tasks." + name] = ["The task name may only contain letters, numbers, "
                                           "dashes and underscores."]
            if not isinstance(spec, dict):
                errors["tasks." + name] = ["The task must be an object."]
                continue
            errors.update(operations.validate(spec.get("operation"), spec, prefix))
            names = _input_list(spec.get("input"))
            if names is None or any(n not in specs or n == name for n in names):
                errors[prefix + "input"] = ["Invalid input task."]
        if not errors:
            for name in _cycle(specs):
                errors["tasks.%s.input" % name] = ["Invalid input task."]
        if errors:
            raise invalid_data(errors)

    def _check_limits(self):
        if self.credits <= 0:
            raise ApiError(402, "Your account has run out of conversion minutes",
                           "CREDITS_EXCEEDED")
        if self.max_concurrent_jobs:
            active = sum(1 for j in self.jobs.values() if j.status not in FINAL)
            if active >= self.max_concurrent_jobs:
                raise ApiError(402, "You have started too many jobs at once", "CREDITS_EXCEEDED")

    def get_job(self, job_id):
        with self.lock:
            return self.job_json(self._job(job_id))

    def list_jobs(self, status=None, tag=None, include_tasks=False):
        with self.lock:
            jobs = sorted(self.jobs.values(), key=lambda j: -j.seq)
            return [self.job_json(j, include_tasks) for j in jobs
                    if (status is None or j.status == status) and (tag is None or j.tag == tag)]

    def delete_job(self, job_id):
        with self.lock:
            job = self._job(job_id)
            for task_id in list(job.task_ids):
                self._drop_task(self.tasks.get(task_id))
            del self.jobs[job.id]
            self.changed.notify_all()

    def wait_job(self, job_id, timeout):
        """Block until the job is finished/error or `timeout` passes; return it either way."""
        return self._wait(lambda: self._job(job_id), self.job_json, timeout)

    # --- tasks ---

    def create_task(self, operation, body):
        """POST /v2/{operation}: a standalone task; `input` holds task ids."""
        body = body if isinstance(body, dict) else {}
        spec = dict(body, operation=operation)
        errors = operations.validate(operation, spec)
        inputs = _input_list(body.get("input"))
        with self.lock:
            if operation not in operations.SOURCES and (
                    inputs is None or any(i not in self.tasks for i in inputs)):
                errors["input"] = ["Invalid input task."]
            if errors:
                raise invalid_data(errors)
            self._check_limits()
            task = self._new_task(new_id(), body.get("name"), None, spec, inputs or [],
                                  self.clock.now())
            created = self.task_json(task)
            self.webhooks.emit("task.created", created)
            self._advance()
            return created

    def get_task(self, task_id, include=()):
        with self.lock:
            return self.task_json(self._task(task_id), include)

    def list_tasks(self, job_id=None, status=None, operation=None, include=()):
        with self.lock:
            tasks = sorted(self.tasks.values(), key=lambda t: -t.seq)
            return [self.task_json(t, include) for t in tasks
                    if (job_id is None or t.job_id == job_id)
                    and (status is None or t.status == status)
                    and (operation is None or t.operation == operation)]

    def delete_task(self, task_id):
        with self.lock:
            self._drop_task(self._task(task_id))
            self._advance()

    def cancel_task(self, task_id):
        with self.lock:
            task = self._task(task_id)
            if task.status in FINAL:
                raise invalid_data({"status": ["Cannot change status: task already completed."]})
            task.generation += 1
            self._end(task, "error", "CANCELLED", "The task has been cancelled")
            self._advance()
            return self.task_json(task)

    def retry_task(self, task_id):
        """A new task with the old one's definition and retry_of_task_id set.

        In a job the new task joins the job, which runs again; the retried
        task no longer counts for the job's status. Task fault rules are
        matched afresh, so a `times: 1` failure lets the retry succeed.
        """
        with self.lock:
            old = self._task(task_id)
            if old.status not in FINAL:
                raise invalid_data({"status": ["Cannot retry: task is not completed yet."]})
            job = self.jobs.get(old.job_id)
            task = self._new_task(new_id(), old.name, job, dict(old.payload),
                                  list(old.input_ids), self.clock.now())
            task.retry_of_task_id = old.id
            if job:
                job.task_ids.append(task.id)
                job.ended_at = None
            created = self.task_json(task)
            self.webhooks.emit("task.created", created)
            self._advance()
            return created

    def wait_task(self, task_id, timeout):
        return self._wait(lambda: self._task(task_id), self.task_json, timeout)

    # --- storage callbacks ---

    def upload_parameters(self, task_id):
        """The form parameters an upload for this task must carry, or None."""
        with self.lock:
            task = self.tasks.get(task_id)
            return dict(task.form_parameters) if task and task.form_parameters else None

    def accept_upload(self, task_id, filename, data):
        """Take the file of an import/upload task. A repeated upload is accepted and
        ignored, as S3 would store it without CloudConvert noticing. False: no such task."""
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None or task.operation != "import/upload":
                return False
            if task.status == "waiting" and task.upload is None:
                task.upload = InputFile(filename, data)
                self._advance()
            return True

    def exported_file(self, task_id, filename):
        """(StoredFile, bytes) of an export/url task's file, or None."""
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None or task.operation != "export/url":
                return None
            for stored in task.files:
                if stored.filename == filename:
                    return stored, self.blobs.read(stored)
        return None

    # --- user ---

    def user(self):
        with self.lock:
            credits = self.credits
        return {
            "id": USER_ID,
            "username": "fake-user",
            "email": "fake-user@example.com",
            "created_at": iso(self.user_created_at),
            "credits": credits,
            "paying": False,
            "task_priority": None,
            "tasks_per_minute": None,
            "links": {"self": "%s/v2/users/%d" % (self.api_base, USER_ID)},
        }

    # --- phantom jobs (webhook bursts) ---

    def phantom_job(self, tag, filename, content):
        """A finished import/raw -> export/url job, as job.finished shows it, that exists
        only in a webhook body: it is not stored, so GET /v2/jobs/{id} and its download
        URL answer 404. Bursts need thousands of distinct jobs without running them."""
        now = self.clock.now()
        data = content.encode("utf-8")
        job = Job(new_id(), tag, None, now, 0, status="finished", started_at=now, ended_at=now)
        imported = self._phantom_task(job, "import-1", "import/raw",
                                      {"file": content, "filename": filename}, [], now)
        imported.result = {"files": [{"filename": filename, "size": len(data)}]}
        exported = self._phantom_task(job, "export-1", "export/url", {"input": ["import-1"]},
                                      [imported.id], now)
        exported.storage = "fake"
        exported.result = {"files": [{"filename": filename, "size": len(data),
                                      "url": self.signer.download_url(
                                          exported.id, filename, now + RETENTION, False)}]}
        return self.job_json(job, tasks=[imported, exported])

    def _phantom_task(self, job, name, operation, fields, input_ids, now):
        payload = dict({"operation": operation}, **fields)
        return Task(new_id(), name, job.id, operation, payload, input_ids, False, now, 0,
                    status="finished", credits=0, started_at=now, ended_at=now,
                    host_name=HOST_NAME)

    # --- retention ---

    def purge_expired(self):
        """Delete jobs and standalone tasks 24 h after they ended (fake clock)."""
        with self.lock:
            cutoff = self.clock.now() - RETENTION
            for job in [j for j in self.jobs.values() if j.ended_at and j.ended_at <= cutoff]:
                for task_id in job.task_ids:
                    self._drop_task(self.tasks.get(task_id))
                del self.jobs[job.id]
            for task in [t for t in self.tasks.values()
                         if t.job_id is None and t.ended_at and t.ended_at <= cutoff]:
                self._drop_task(task)

    # --- the engine (all called with the lock held) ---

    def _new_task(self, task_id, name, job, spec, input_ids, now):
        operation = spec.get("operation")
        payload = {"operation": operation}
        payload.update((k, v) for k, v in spec.items() if k != "operation")
        if "input" in payload:
            payload["input"] = _input_list(payload["input"])
        task = Task(task_id, name, job.id if job else None, operation, payload, input_ids,
                    bool(spec.get("ignore_error")), now, next(self.numbers))
        task.fault = self.faults.for_task(job.tag if job else None, name, operation)
        if operation == "import/upload":
            form = self.signer.upload_form(task.id, now)
            task.form_parameters = form["parameters"]
            task.result = {"form": form}
            task.message = "Waiting for file upload"
            task.storage = "fake"
        self.tasks[task.id] = task
        return task

    def _advance(self):
        """Start or fail every waiting task whose inputs have settled, then refresh jobs."""
        progressed = True
        while progressed:
            progressed = False
            for task in sorted(self.tasks.values(), key=lambda t: t.seq):
                if task.status != "waiting":
                    continue
                inputs = [self.tasks.get(i) for i in task.input_ids]
                if any(t is None or t.status == "error" for t in inputs):
                    self._end(task, "error", "INPUT_TASK_FAILED", "Input task has failed")
                    progressed = True
                elif all(t.status == "finished" for t in inputs):
                    if task.operation == "import/upload" and task.upload is None:
                        continue
                    self._start(task)
                    progressed = True
        self._refresh_jobs()
        self.changed.notify_all()

    def _start(self, task):
        now = self.clock.now()
        task.status = "processing"
        task.started_at = now
        task.host_name = HOST_NAME
        task.message = None
        task.result = None
        job = self.jobs.get(task.job_id)
        if job and job.started_at is None:
            job.started_at = now
        if task.fault is not None and task.fault.action == "stall_task":
            return  # never finishes: the "job that hangs" fault
        inputs = self._input_files(task)
        worker = threading.Thread(target=self._work, name="task-" + task.id[:8], daemon=True,
                                  args=(task.id, task.generation, task.operation,
                                        copy.deepcopy(task.payload), inputs, task.fault))
        worker.start()

    def _input_files(self, task):
        if task.operation == "import/upload":
            return [task.upload]
        files = []
        for input_id in task.input_ids:
            for stored in self.tasks[input_id].files:
                files.append(InputFile(stored.filename, self.blobs.read(stored)))
        return files

    def _work(self, task_id, generation, operation, payload, inputs, fault):
        """Worker thread: compute outside the lock, then commit unless the task moved on."""
        time.sleep(self.processing_delay)
        try:
            if fault is not None:
                raise TaskFailed(fault.spec.get("code", "TASK_FAILED"),
                                 fault.spec.get("message", "Task failed (injected fault)"))
            outcome, failure = operations.run(operation, payload, inputs,
                                              self.fetch_loopback), None
        except TaskFailed as err:
            outcome, failure = None, err
        except Exception:  # a bug in the fake: fail the task visibly instead of hanging it
            traceback.print_exc()
            outcome, failure = None, TaskFailed("INTERNAL_ERROR", "fake-cloudconvert bug, see "
                                                "its stderr")
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None or task.generation != generation or task.status != "processing":
                return
            if failure:
                self._end(task, "error", failure.code, failure.message)
            else:
                self._finish(task, outcome)
            self._advance()

    def _finish(self, task, outcome):
        now = self.clock.now()
        task.files = [self.blobs.put(task.id, i, f.filename, f.data)
                      for i, f in enumerate(outcome.files)]
        if task.operation == "export/url":
            inline = bool(task.payload.get("inline"))
            for stored in task.files:
                stored.url = self.signer.download_url(task.id, stored.filename,
                                                      now + 24 * 3600, inline)
            task.storage = "fake"
        task.result = dict(outcome.extra)
        if task.files or not outcome.extra:
            task.result["files"] = [_file_json(s) for s in task.files]
        if task.operation in operations.PROCESSING:
            task.credits = 1
            self.credits -= 1
            task.engine = task.payload.get("engine") or operations.DEFAULT_ENGINE[task.operation]
            task.engine_version = (task.payload.get("engine_version")
                                   or operations.DEFAULT_ENGINE_VERSION)
        else:
            task.credits = 0
        task.status = "finished"
        task.ended_at = now
        self.webhooks.emit("task.finished", self.task_json(task))

    def _end(self, task, status, code, message):
        task.status = status
        task.code = code
        task.message = message
        task.ended_at = self.clock.now()
        if task.operation == "import/upload":
            task.result = None
        self.webhooks.emit("task.failed", self.task_json(task))

    def _refresh_jobs(self):
        for job in self.jobs.values():
            if job.ended_at is not None:
                continue
            status = self._job_status(job)
            job.status = status
            if status in FINAL:
                job.ended_at = self.clock.now()
                event = "job.finished" if status == "finished" else "job.failed"
                self.webhooks.emit(event, self.job_json(job), job.webhook_url)

    def _job_status(self, job):
        retried = {t.retry_of_task_id for t in self.tasks.values() if t.retry_of_task_id}
        tasks = [self.tasks[i] for i in job.task_ids if i in self.tasks and i not in retried]
        if all(t.status in FINAL for t in tasks):
            failed = any(t.status == "error" and not t.ignore_error for t in tasks)
            return "error" if failed else "finished"
        if any(t.status != "waiting" for t in tasks):
            return "processing"
        return "waiting"

    def _drop_task(self, task):
        if task is None:
            return
        task.generation += 1
        self.tasks.pop(task.id, None)
        self.blobs.drop(task.id)
        job = self.jobs.get(task.job_id)
        if job and task.id in job.task_ids:
            job.task_ids.remove(task.id)

    def _wait(self, lookup, render, timeout):
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                item = lookup()
                remaining = deadline - time.monotonic()
                if item.status in FINAL or remaining <= 0 or self.closing:
                    return render(item)
                self.changed.wait(remaining)

    def _job(self, job_id):
        return self._lookup(self.jobs, job_id, "Job")

    def _task(self, task_id):
        return self._lookup(self.tasks, task_id, "Task")

    def _lookup(self, table, item_id, model):
        if not looks_like_uuid(item_id):
            # Recorded by a third-party client: a malformed id is a 500, not a 404.
            raise ApiError(500, "Server Error", "INTERNAL_ERROR")
        item = table.get(item_id)
        if item is None:
            raise ApiError(404, "No query results for model [%s] %s" % (model, item_id),
                           "NOT_FOUND")
        return item

    # --- JSON shapes (fixture key order) ---

    def job_json(self, job, include_tasks=True, task_include=(), tasks=None):
        """`tasks` (Task objects) replaces the job's own, for a job that is not stored."""
        data = {"id": job.id, "tag": job.tag, "status": job.status,
                "created_at": iso(job.created_at), "started_at": iso(job.started_at),
                "ended_at": iso(job.ended_at)}
        if include_tasks:
            if tasks is None:
                tasks = [self.tasks[i] for i in job.task_ids if i in self.tasks]
            data["tasks"] = [self.task_json(t, task_include) for t in tasks]
        data["links"] = {"self": "%s/v2/jobs/%s" % (self.api_base, job.id)}
        return data

    def task_json(self, task, include=()):
        data = {"id": task.id}
        if task.name is not None:
            data["name"] = task.name
        data.update(job_id=task.job_id, status=task.status, credits=task.credits,
                    code=task.code, message=task.message, percent=100,
                    operation=task.operation)
        if task.operation in operations.PROCESSING:
            data.update(engine=task.engine, engine_version=task.engine_version)
        if "payload" in include:
            data["payload"] = copy.deepcopy(task.payload)
        data["result"] = copy.deepcopy(task.result)
        data.update(created_at=iso(task.created_at), started_at=iso(task.started_at),
                    ended_at=iso(task.ended_at), retry_of_task_id=task.retry_of_task_id,
                    copy_of_task_id=None)
        if "retries" in include:
            data["retries"] = [self.task_json(t) for t in sorted(
                self.tasks.values(), key=lambda t: t.seq) if t.retry_of_task_id == task.id]
        data.update(user_id=USER_ID, priority=50, host_name=task.host_name,
                    storage=task.storage)
        if "depends_on_tasks" in include:
            data["depends_on_tasks"] = [self.task_json(self.tasks[i])
                                        for i in task.input_ids if i in self.tasks]
        data["depends_on_task_ids"] = list(task.input_ids)
        if "job" in include and task.job_id in self.jobs:
            data["job"] = self.job_json(self.jobs[task.job_id], include_tasks=False)
        data["links"] = {"self": "%s/v2/tasks/%s" % (self.api_base, task.id)}
        return data


def _file_json(stored):
    data = {"filename": stored.filename, "size": stored.size}
    if stored.url:
        data["url"] = stored.url
    return data


def _input_list(value):
    """`input` as a list of strings ([] when absent); None when it has the wrong type."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _cycle(specs):
    """Names of the tasks on an input cycle (the graph must be acyclic)."""
    state = {}
    path = []
    on_cycle = set()

    def visit(name):
        state[name] = "visiting"
        path.append(name)
        for dep in _input_list(specs[name].get("input")) or []:
            if state.get(dep) == "visiting":
                on_cycle.update(path[path.index(dep):])
            elif dep not in state:
                visit(dep)
        path.pop()
        state[name] = "done"

    for name in specs:
        if name not in state:
            visit(name)
    return sorted(on_cycle)
