"""The storage host: S3-style upload forms, presigned download URLs and their checks.

It behaves like the S3 bucket behind storage.cloudconvert.com (reference §3.4,
§6, §10): no API key, the form's fields verbatim with the file last, and
presigned GET URLs that expire. It is stricter than S3 in two ways that
catch client bugs: any Authorization header is refused (a client must not
leak the API key to storage) and fields after the file are refused.
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import threading
import urllib.parse
from dataclasses import dataclass

import formdata
from faults import s3_error
from operations import mime_type
from wire import Reply, iso, php_json

UPLOAD_TTL = 6 * 3600  # the policy's expiration in the recorded forms
DOWNLOAD_TTL = 24 * 3600  # export URLs expire 24 h after the task ended
ACCESS_KEY = "fake-cloudconvert"

_LEAKED_KEY = ("Unsupported Authorization Type: requests to storage URLs are presigned and "
               "must not carry an Authorization header (do not send the API key here)")


@dataclass
class StoredFile:
    """One file a task holds; the bytes live in Blobs under `key`."""

    filename: str
    size: int
    sha256: str
    md5: str
    key: str
    url: str = None  # export/url tasks only


class Blobs:
    """File bytes, in memory or under --state-dir (one folder per task)."""

    def __init__(self, state_dir=None):
        self._dir = os.path.join(state_dir, "files") if state_dir else None
        self._memory = {}
        self._lock = threading.Lock()
        if self._dir:
            os.makedirs(self._dir, exist_ok=True)

    def put(self, task_id, index, filename, data) -> StoredFile:
        key = "%s/%d" % (task_id, index)
        if self._dir:
            os.makedirs(os.path.join(self._dir, task_id), exist_ok=True)
            with open(os.path.join(self._dir, key), "wb") as out:
                out.write(data)
        else:
            with self._lock:
                self._memory[key] = data
        return StoredFile(filename, len(data), hashlib.sha256(data).hexdigest(),
                          hashlib.md5(data).hexdigest(), key)

    def read(self, stored: StoredFile) -> bytes:
        if self._dir:
            with open(os.path.join(self._dir, stored.key), "rb") as source:
                return source.read()
        with self._lock:
            return self._memory[stored.key]

    def drop(self, task_id):
        if self._dir:
            shutil.rmtree(os.path.join(self._dir, task_id), ignore_errors=True)
        else:
            with self._lock:
                for key in [k for k in self._memory if k.startswith(task_id + "/")]:
                    del self._memory[key]

    def clear(self):
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            os.makedirs(self._dir, exist_ok=True)
        else:
            with self._lock:
                self._memory.clear()


class Signer:
    """Makes and checks upload policies and download signatures with a per-process secret."""

    def __init__(self, storage_base):
        self.storage_base = storage_base
        self._secret = secrets.token_bytes(32)

    def _mac(self, text):
        return hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256)

    def upload_form(self, task_id, now):
        """The S3 POST form of a waiting import/upload task, in the recorded field order."""
        stamp = iso(now)
        amz_date = stamp[:19].replace("-", "").replace(":", "") + "Z"
        credential = "%s/%s/local/s3/aws4_request" % (ACCESS_KEY, amz_date[:8])
        expiration = iso(now + UPLOAD_TTL)[:19] + "Z"
        policy = base64.b64encode(php_json({"expiration": expiration, "conditions": [
            {"acl": "private"}, {"bucket": "tasks"}, ["starts-with", "$key", task_id + "/"],
            {"success_action_status": "201"}, {"X-Amz-Date": amz_date},
            {"X-Amz-Credential": credential}, {"X-Amz-Algorithm": "AWS4-HMAC-SHA256"},
        ]})).decode("ascii")
        return {
            "url": self.storage_base + "/tasks",
            "parameters": {
                "acl": "private",
                "key": task_id + "/${filename}",
                "success_action_status": "201",
                "X-Amz-Credential": credential,
                "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                "X-Amz-Date": amz_date,
                "Policy": policy,
                "X-Amz-Signature": self._mac(policy).hexdigest(),
            },
        }

    def policy_expiration(self, policy):
        """The expiration of a policy this signer issued, or None if it was not ours."""
        try:
            return str(json.loads(base64.b64decode(policy))["expiration"])
        except (ValueError, KeyError, TypeError):
            return None

    def download_url(self, task_id, filename, expires, inline):
        disposition = content_disposition("inline" if inline else "attachment", filename)
        query = urllib.parse.urlencode([
            ("AWSAccessKeyId", ACCESS_KEY),
            ("Expires", str(int(expires))),
            ("Signature", self._download_signature(task_id, filename, int(expires))),
            ("response-content-disposition", disposition),
            ("response-content-type", mime_type(filename)),
        ], quote_via=urllib.parse.quote)
        return "%s/tasks/%s/%s?%s" % (self.storage_base, task_id,
                                      urllib.parse.quote(filename, safe=""), query)

    def _download_signature(self, task_id, filename, expires):
        digest = self._mac("%s/%s\n%d" % (task_id, filename, expires)).digest()
        return base64.b64encode(digest).decode("ascii")

    def download_signature_ok(self, task_id, filename, expires, signature):
        expected = self._download_signature(task_id, filename, expires)
        return hmac.compare_digest(expected, signature)

    def upload_signature_ok(self, policy, signature):
        return hmac.compare_digest(self._mac(policy).hexdigest(), signature or "")


class StorageSurface:
    """HTTP handlers for POST /storage/tasks (upload) and GET /storage/tasks/{task}/{file}."""

    def __init__(self, store, signer, clock):
        self.store = store
        self.signer = signer
        self.clock = clock

    def handle(self, request):
        if request.header("Authorization") is not None:
            return s3_error(400, "InvalidArgument", _LEAKED_KEY)
        parts = request.path.split("/")  # "", "storage", "tasks", task, file
        if request.method == "POST" and request.path.rstrip("/") == "/storage/tasks":
            return self._upload(request)
        if request.method == "GET" and len(parts) == 5 and parts[2] == "tasks":
            return self._download(request, parts[3], parts[4])
        if parts[:3] == ["", "storage", "tasks"]:
            return s3_error(405, "MethodNotAllowed",
                            "The specified method is not allowed against this resource.")
        return s3_error(404, "NoSuchKey", "The specified key does not exist.")

    # --- upload ---

    def _upload(self, request):
        if request.chunked:
            return s3_error(411, "MissingContentLength",
                            "You must provide the Content-Length HTTP header.")
        boundary = formdata.boundary_of(request.header("Content-Type", ""))
        if not boundary:
            return s3_error(412, "PreconditionFailed",
                            "Bucket POST must be of the enclosure-type multipart/form-data")
        try:
            parts = formdata.parse(request.body, boundary)
        except formdata.FormError as err:
            return s3_error(400, "MalformedPOSTRequest", "The body of your POST request is not "
                            "well-formed multipart/form-data (%s)." % err)
        problem = self._form_problem(parts)
        if problem:
            return problem
        fields = {part.name: part.text() for part in parts[:-1]}
        file_part = parts[-1]
        task_id, _, name = fields["key"].partition("/")
        filename = name.replace("${filename}", file_part.filename)
        if not filename or "/" in filename:
            return s3_error(400, "InvalidArgument", "The key must be \"{task id}/{file name}\"; "
                            "got %r." % fields["key"])
        if not self.store.accept_upload(task_id, filename, file_part.data):
            return s3_error(404, "NoSuchUpload", "The task of this upload form does not exist "
                            "(deleted, or never an import/upload task).")
        return self._upload_created(task_id, filename, file_part.data)

    def _form_problem(self, parts):
        """The S3 error for a form that S3 (or this stricter fake) would refuse, else None."""
        files = [p for p in parts if p.filename is not None]
        if len(files) != 1 or parts[-1].name != "file":
            if files and parts[-1].filename is None:
                return s3_error(400, "InvalidArgument", "The file must be the last field of the "
                                "form: S3 ignores every field after it.")
            return s3_error(400, "InvalidArgument",
                            "POST requires exactly one file upload per request, in a field "
                            "named \"file\".")
        if not parts[-1].filename:
            return s3_error(400, "InvalidArgument", "The file part needs a filename: it "
                            "replaces ${filename} in the key.")
        fields = {p.name: p.text() for p in parts[:-1]}
        policy = fields.get("Policy")
        if not policy or not self.signer.upload_signature_ok(policy,
                                                             fields.get("X-Amz-Signature")):
            return s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated "
                            "does not match the signature you provided (send every form "
                            "parameter verbatim).")
        expected = self.store.upload_parameters(fields.get("key", "").split("/", 1)[0])
        if expected is None:
            return s3_error(404, "NoSuchUpload", "The task of this upload form does not exist.")
        if (self.signer.policy_expiration(policy) or "") < iso(self.clock.now())[:19] + "Z":
            return s3_error(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        # The policy pins every field but `key`, which only has to start with
        # "{task id}/" (S3 starts-with); the fake issues "{task id}/${filename}".
        prefix = expected["key"].split("/", 1)[0] + "/"
        missing = [n for n, v in expected.items()
                   if (n != "key" and fields.get(n) != v)
                   or (n == "key" and not fields.get(n, "").startswith(prefix))]
        if missing:
            return s3_error(403, "AccessDenied", "Invalid according to Policy: Policy Condition "
                            "failed: %s (send the form parameters unchanged)" % ", ".join(missing))
        extra = [n for n in fields if n not in expected]
        if extra:
            return s3_error(403, "AccessDenied", "Invalid according to Policy: Extra input "
                            "fields: %s" % ", ".join(extra))
        return None

    def _upload_created(self, task_id, filename, data):
        key = "%s/%s" % (task_id, filename)
        location = "%s/tasks/%s/%s" % (self.signer.storage_base, task_id,
                                       urllib.parse.quote(filename, safe=""))
        etag = '"%s"' % hashlib.md5(data).hexdigest()
        xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>%s</Location>'
               '<Bucket>tasks</Bucket><Key>%s</Key><ETag>%s</ETag></PostResponse>'
               % (_xml_escape(location), _xml_escape(key), _xml_escape(etag)))
        return Reply(201, raw=xml.encode("utf-8"), content_type="application/xml",
                     headers=[("Location", location), ("ETag", etag)])

    # --- download ---

    def _download(self, request, task_id, filename):
        query = request.query
        if not all(k in query for k in ("AWSAccessKeyId", "Expires", "Signature")):
            return s3_error(403, "AccessDenied", "Query-string authentication requires the "
                            "Signature, Expires and AWSAccessKeyId parameters")
        try:
            expires = int(query["Expires"])
        except ValueError:
            return s3_error(403, "AccessDenied", "Invalid date (should be seconds since epoch)")
        if not self.signer.download_signature_ok(task_id, filename, expires, query["Signature"]):
            return s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated "
                            "does not match the signature you provided.")
        if expires < self.clock.now():
            return s3_error(403, "AccessDenied", "Request has expired")
        found = self.store.exported_file(task_id, filename)
        if found is None:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.")
        stored, data = found
        disposition = query.get("response-content-disposition") or \
            content_disposition("attachment", filename)
        if not disposition.isascii():  # a header must stay ASCII; S3 would refuse it too
            disposition = content_disposition("attachment", filename)
        headers = [
            ("Content-Disposition", disposition),
            ("ETag", '"%s"' % stored.md5),
        ]
        content_type = query.get("response-content-type") or mime_type(filename)
        return Reply(200, raw=data, headers=headers,
                     content_type=content_type if content_type.isascii() else mime_type(filename))


def content_disposition(kind, filename):
    """`kind; filename="..."`, plus RFC 6266 filename* when the name is not plain ASCII."""
    plain = filename.replace("\\", "_").replace('"', "_")
    if plain.isascii():
        return '%s; filename="%s"' % (kind, plain)
    fallback = plain.encode("ascii", "replace").decode("ascii").replace("?", "_")
    return "%s; filename=\"%s\"; filename*=UTF-8''%s" % (
        kind, fallback, urllib.parse.quote(filename, safe=""))


def _xml_escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))
