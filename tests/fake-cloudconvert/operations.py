"""Task operations: what each one requires, and what it deterministically produces.

Nothing here converts anything for real. Every output is a pure function of
the task's payload and its input files, so a test written in any language
can compute the exact bytes it should download. README.md states the rules;
keep the two in step.
"""

import base64
import binascii
import bz2
import gzip
import hashlib
import io
import mimetypes
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field

IMPORTS = ("import/url", "import/upload", "import/base64", "import/raw")
PROCESSING = ("convert", "optimize", "merge", "archive", "capture-website", "command",
              "thumbnail", "metadata", "metadata/write", "watermark")
EXPORTS = ("export/url",)
SUPPORTED = IMPORTS + PROCESSING + EXPORTS

# Real operations the fake refuses with a clear validation error: they need
# credentials for third-party storage that a test cannot provide.
UNSUPPORTED = ("import/s3", "import/azure/blob", "import/google-cloud-storage",
               "import/openstack", "import/sftp", "export/s3", "export/azure/blob",
               "export/google-cloud-storage", "export/openstack", "export/sftp")

# Operations that take no `input`.
SOURCES = IMPORTS + ("capture-website",)

ARCHIVE_FORMATS = ("zip", "rar", "7z", "tar", "tar.gz", "tar.bz2")
CAPTURE_FORMATS = ("pdf", "png", "jpg")
THUMBNAIL_FORMATS = ("png", "jpg", "webp")
OPTIMIZE_PROFILES = ("web", "print", "archive", "mrc", "max")
COMMAND_ENGINES = ("ffmpeg", "imagemagick", "graphicsmagick")

# Engine a finished processing task reports when the payload names none.
DEFAULT_ENGINE = {"archive": "archivetool", "capture-website": "chrome", "merge": "qpdf",
                  "thumbnail": "imagemagick", "metadata": "exiftool",
                  "metadata/write": "exiftool", "watermark": "imagemagick",
                  "optimize": "pdftools", "convert": "fake", "command": "ffmpeg"}
DEFAULT_ENGINE_VERSION = "1.0.0"


class TaskFailed(Exception):
    """The task ends with status error and this code/message (not an HTTP error)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class InputFile:
    filename: str
    data: bytes


@dataclass
class Outcome:
    files: list  # of InputFile (the outputs)
    extra: dict = field(default_factory=dict)  # other keys of `result`


# --- validation ------------------------------------------------------------------


def validate(operation, payload, prefix=""):
    """Field errors for a task definition, keyed like the API (`tasks.NAME.field`).

    Only what the reference marks as required is checked; unknown options
    pass through, as conversion-specific options do on the real API.
    """
    errors = {}

    def fail(name, message):
        errors.setdefault(prefix + name, []).append(message)

    def require(name):
        value = payload.get(name)
        if value is None or value == "" or value == []:
            fail(name, "The %s field is required." % name.replace("_", " "))
            return False
        return True

    def one_of(name, allowed):
        if require(name) and payload.get(name) not in allowed:
            fail(name, "The selected %s is invalid." % name.replace("_", " "))

    if operation in UNSUPPORTED:
        fail("operation", "The fake CloudConvert server does not support %s." % operation)
        return errors
    if operation not in SUPPORTED:
        fail("operation", "The selected operation is invalid." if operation
             else "The operation field is required.")
        return errors
    if operation not in SOURCES:
        require("input")
    if operation in ("import/url", "capture-website"):
        if require("url") and not is_http_url(payload.get("url")):
            fail("url", "The url format is invalid.")
    if operation in ("import/base64", "import/raw"):
        require("filename")
        if require("file") and operation == "import/base64":
            if _b64decode(payload.get("file")) is None:
                fail("file", "The file must be a valid base64 string.")
    if operation == "convert":
        require("output_format")
    if operation == "merge":
        one_of("output_format", ("pdf",))
    if operation == "archive":
        one_of("output_format", ARCHIVE_FORMATS)
    if operation == "capture-website":
        one_of("output_format", CAPTURE_FORMATS)
    if operation == "thumbnail":
        one_of("output_format", THUMBNAIL_FORMATS)
    if operation == "optimize" and payload.get("profile") is not None:
        one_of("profile", OPTIMIZE_PROFILES)
    if operation == "command":
        one_of("engine", COMMAND_ENGINES)
        require("command")
    if operation == "metadata/write":
        require("metadata")
    return errors


def is_http_url(value):
    if not isinstance(value, str):
        return False
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _b64decode(value):
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


# --- deterministic processing ------------------------------------------------------


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def header(*words) -> bytes:
    """The first line of every fake output: "FAKECC word word ...\\n" in UTF-8."""
    return ("FAKECC " + " ".join(str(w) for w in words) + "\n").encode("utf-8")


def stem(filename: str) -> str:
    """The name without its last extension ("a.tar.gz" -> "a.tar", ".rc" -> ".rc")."""
    dot = filename.rfind(".")
    return filename[:dot] if dot > 0 else filename


def output_name(payload, default, index=1):
    """The `filename` option wins; "%d" in it becomes the 1-based output index."""
    chosen = payload.get("filename")
    if not chosen:
        return default
    return chosen.replace("%d", str(index)) if "%d" in chosen else chosen


def run(operation, payload, inputs, fetch_loopback=False):
    """Produce a finished task's outputs. Raises TaskFailed for task-level errors."""
    if operation == "import/url":
        return _import_url(payload, fetch_loopback)
    if operation not in SOURCES and not inputs:
        # Possible when the input task produced no files (e.g. a metadata task).
        raise TaskFailed("NO_INPUT_FILES", "The input tasks did not produce any files.")
    return _HANDLERS[operation](payload, inputs)


def _import_url(payload, fetch_loopback):
    url = payload["url"]
    name = payload.get("filename") or _url_filename(url)
    host = urllib.parse.urlsplit(url).hostname or ""
    if fetch_loopback and host in ("127.0.0.1", "localhost", "::1"):
        return Outcome([InputFile(name, _fetch(url, payload.get("headers") or {}))])
    return Outcome([InputFile(name, header("import/url", url))])


def _fetch(url, headers):
    request = urllib.request.Request(url, headers={str(k): str(v) for k, v in headers.items()})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    try:
        with opener.open(request, timeout=10) as response:
            return response.read()
    except urllib.error.HTTPError as err:
        raise TaskFailed("IMPORT_FAILED", "Could not download %s: HTTP %d" % (url, err.code))
    except (urllib.error.URLError, OSError) as err:
        raise TaskFailed("IMPORT_FAILED", "Could not download %s: %s" % (url, err))


def _url_filename(url):
    segment = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
    return segment or "file"


def _import_upload(_payload, inputs):
    return Outcome(list(inputs))  # the uploaded file, as stored by the storage surface


def _import_base64(payload, _inputs):
    return Outcome([InputFile(payload["filename"], _b64decode(payload["file"]))])


def _import_raw(payload, _inputs):
    return Outcome([InputFile(payload["filename"], str(payload["file"]).encode("utf-8"))])


def _per_file(make_header, make_name):
    """An operation that maps each input file to one output: header line + input bytes."""

    def handler(payload, inputs):
        outputs = []
        for index, item in enumerate(inputs, 1):
            data = make_header(payload, item) + item.data
            name = output_name(payload, make_name(payload, item), index)
            outputs.append(InputFile(name, data))
        return Outcome(outputs)

    return handler


_convert = _per_file(
    lambda p, f: header("convert", p["output_format"], sha256_hex(f.data)),
    lambda p, f: stem(f.filename) + "." + p["output_format"])
_optimize = _per_file(
    lambda p, f: header("optimize", p.get("profile") or "web", sha256_hex(f.data)),
    lambda p, f: f.filename)
_thumbnail = _per_file(
    lambda p, f: header("thumbnail", p["output_format"], sha256_hex(f.data)),
    lambda p, f: stem(f.filename) + "." + p["output_format"])
_watermark = _per_file(
    lambda p, f: header("watermark", sha256_hex(f.data)), lambda p, f: f.filename)
_metadata_write = _per_file(
    lambda p, f: header("metadata/write", sha256_hex(f.data)), lambda p, f: f.filename)
_command_files = _per_file(
    lambda p, f: header("command", p["command"], sha256_hex(f.data)), lambda p, f: f.filename)


def _command(payload, inputs):
    outcome = _command_files(payload, inputs)
    if payload.get("capture_output"):
        # The live result key for captured output is not recorded; "output" is a guess.
        outcome.extra["output"] = header("command", payload["command"],
                                         payload.get("arguments") or "").decode("utf-8")
    return outcome


def _merge(payload, inputs):
    body = [header("merge", "pdf", len(inputs))]
    for item in inputs:
        body.append(header("file", item.filename, len(item.data), sha256_hex(item.data)))
        body.append(item.data)
    name = output_name(payload, stem(_first_name(inputs)) + ".pdf")
    return Outcome([InputFile(name, b"".join(body))])


def _archive(payload, inputs):
    fmt = payload["output_format"]
    entries = _unique_names(inputs)
    name = output_name(payload, stem(_first_name(inputs)) + "." + fmt)
    return Outcome([InputFile(name, pack(fmt, entries))])


def pack(fmt, entries):
    """Archive bytes: real zip/tar/tar.gz/tar.bz2; rar and 7z cannot be written by the
    standard library, so they get a documented placeholder in the merge layout."""
    if fmt == "zip":
        return _zip(entries)
    if fmt == "tar":
        return _tar(entries)
    if fmt == "tar.gz":
        return gzip.compress(_tar(entries), mtime=0)
    if fmt == "tar.bz2":
        return bz2.compress(_tar(entries))
    body = [header("archive", fmt, len(entries))]
    for item in entries:
        body.append(header("file", item.filename, len(item.data), sha256_hex(item.data)))
        body.append(item.data)
    return b"".join(body)


def _zip(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in entries:
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, item.data)
    return buffer.getvalue()


def _tar(entries):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for item in entries:
            info = tarfile.TarInfo(item.filename)
            info.size = len(item.data)
            info.mtime = 0
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(item.data))
    return buffer.getvalue()


def _unique_names(inputs):
    """Archive entry names must differ: a repeated name gets "-2", "-3"... before its extension."""
    seen = {}
    entries = []
    for item in inputs:
        name = item.filename
        count = seen.get(name, 0) + 1
        seen[name] = count
        if count > 1:
            dot = name.rfind(".")
            name = (name[:dot] + "-%d" % count + name[dot:]) if dot > 0 \
                else "%s-%d" % (name, count)
        entries.append(InputFile(name, item.data))
    return entries


def _capture_website(payload, _inputs):
    url = payload["url"]
    fmt = payload["output_format"]
    host = urllib.parse.urlsplit(url).hostname or "website"
    name = output_name(payload, host + "." + fmt)
    return Outcome([InputFile(name, header("capture-website", fmt, sha256_hex(url.encode())) +
                              url.encode("utf-8") + b"\n")])


def _metadata(_payload, inputs):
    item = inputs[0]
    return Outcome([], {"metadata": {
        "FileName": item.filename,
        "FileSize": len(item.data),
        "MIMEType": mime_type(item.filename),
        "SHA256": sha256_hex(item.data),
    }})


def _export_url(payload, inputs):
    if payload.get("archive_multiple_files") and len(inputs) > 1:
        return Outcome([InputFile("archive.zip", _zip(_unique_names(inputs)))])
    return Outcome(list(inputs))


def _first_name(inputs):
    return inputs[0].filename if inputs else "file"


def mime_type(filename):
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed or "application/octet-stream"


_HANDLERS = {
    "import/upload": _import_upload,
    "import/base64": _import_base64, "import/raw": _import_raw,
    "convert": _convert, "optimize": _optimize, "merge": _merge, "archive": _archive,
    "capture-website": _capture_website, "command": _command, "thumbnail": _thumbnail,
    "metadata": _metadata, "metadata/write": _metadata_write, "watermark": _watermark,
    "export/url": _export_url,
}


# --- GET /v2/operations catalogue ---------------------------------------------------

# (input_format, output formats, default engine, alternative engine or None)
_CONVERSIONS = [
    ("docx", ("pdf", "odt", "txt", "html", "png", "jpg"), "office", "libreoffice"),
    ("doc", ("pdf", "docx", "odt", "txt"), "office", "libreoffice"),
    ("odt", ("pdf", "docx", "txt"), "libreoffice", None),
    ("xlsx", ("pdf", "csv", "ods"), "office", "libreoffice"),
    ("csv", ("xlsx", "pdf"), "libreoffice", None),
    ("pptx", ("pdf", "png", "jpg"), "office", "libreoffice"),
    ("txt", ("pdf", "docx", "html"), "libreoffice", None),
    ("md", ("pdf", "html", "docx"), "pandoc", None),
    ("html", ("pdf", "png", "jpg", "docx"), "chrome", "wkhtml"),
    ("pdf", ("docx", "txt", "html", "png", "jpg", "pdf"), "poppler", "pdftron"),
    ("png", ("jpg", "webp", "gif", "pdf", "ico"), "imagemagick", "graphicsmagick"),
    ("jpg", ("png", "webp", "gif", "pdf"), "imagemagick", "graphicsmagick"),
    ("webp", ("png", "jpg", "gif"), "imagemagick", None),
    ("gif", ("png", "jpg", "mp4", "webp"), "imagemagick", None),
    ("mp4", ("webm", "gif", "mp3", "mov", "avi"), "ffmpeg", None),
    ("mov", ("mp4", "gif"), "ffmpeg", None),
    ("mp3", ("wav", "ogg", "m4a", "flac"), "ffmpeg", None),
    ("wav", ("mp3", "ogg", "flac"), "ffmpeg", None),
]

_COMMON_OPTIONS = [
    {"name": "filename", "type": "string", "default": None, "possible_values": None},
    {"name": "timeout", "type": "integer", "default": None, "possible_values": None},
]

_OPTIONS = {
    "convert": _COMMON_OPTIONS + [
        {"name": "pages", "type": "string", "default": None, "possible_values": None}],
    "optimize": _COMMON_OPTIONS + [
        {"name": "profile", "type": "enum", "default": "web",
         "possible_values": list(OPTIMIZE_PROFILES)}],
    "merge": _COMMON_OPTIONS,
    "archive": _COMMON_OPTIONS,
    "capture-website": _COMMON_OPTIONS + [
        {"name": "wait_until", "type": "enum", "default": "load",
         "possible_values": ["load", "domcontentloaded", "networkidle0", "networkidle2"]}],
    "thumbnail": _COMMON_OPTIONS + [
        {"name": "width", "type": "integer", "default": None, "possible_values": None},
        {"name": "height", "type": "integer", "default": None, "possible_values": None},
        {"name": "fit", "type": "enum", "default": "max",
         "possible_values": ["max", "crop", "scale"]}],
}


def catalogue():
    """Every (operation, formats, engine) row the fake advertises, alternatives included.

    Rows carry an `_alternative` flag that the API layer strips: alternative
    engines are listed only with alternatives=true.
    """
    rows = []
    for source, targets, engine, alternative in _CONVERSIONS:
        for target in targets:
            rows.append(_row("convert", source, target, engine, False))
            if alternative:
                rows.append(_row("convert", source, target, alternative, True))
    for fmt in ("pdf", "png", "jpg"):
        rows.append(_row("optimize", fmt, fmt, "pdftools" if fmt == "pdf" else "imagemagick",
                         False))
    for source in ("pdf", "docx", "png", "jpg"):
        rows.append(_row("merge", source, "pdf", "qpdf", False))
    for fmt in ARCHIVE_FORMATS:
        rows.append(_row("archive", "any", fmt, "archivetool", False))
    for fmt in CAPTURE_FORMATS:
        rows.append(_row("capture-website", "website", fmt, "chrome", False))
    for source in ("pdf", "png", "jpg", "mp4", "docx"):
        for fmt in THUMBNAIL_FORMATS:
            rows.append(_row("thumbnail", source, fmt, "imagemagick", False))
    return rows


def _row(operation, input_format, output_format, engine, alternative):
    return {
        "operation": operation,
        "input_format": input_format,
        "output_format": output_format,
        "engine": engine,
        "credits": 1,
        "deprecated": False,
        "experimental": False,
        "meta": {},
        "_alternative": alternative,
        "_options": _OPTIONS.get(operation, _COMMON_OPTIONS),
        "_engine_versions": [{"version": DEFAULT_ENGINE_VERSION, "default": True,
                              "latest": True, "deprecated": False, "experimental": False}],
    }
