"""A strict multipart/form-data parser that keeps the parts in the order sent.

The cgi module is deprecated (and gone in Python 3.13), and the email
package rewrites line endings; the upload check needs the exact file bytes
and the field order (the file must be the last field), so parse by hand.
"""

from dataclasses import dataclass


class FormError(ValueError):
    """The body is not well-formed multipart/form-data."""


@dataclass
class Part:
    name: str
    filename: str  # None for a plain field
    content_type: str
    data: bytes

    def text(self):
        return self.data.decode("utf-8", errors="replace")


def boundary_of(content_type: str):
    """The boundary parameter of a multipart/form-data Content-Type, or None."""
    if not content_type:
        return None
    kind, _, params = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        return None
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"')
    return None


def parse(body: bytes, boundary: str):
    """Split `body` into Parts. Raises FormError on anything malformed."""
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    # The first delimiter has no CRLF before it; add one so every part splits alike.
    chunks = (b"\r\n" + body).split(delimiter)
    if len(chunks) < 3:
        raise FormError("no multipart parts delimited by the boundary")
    if not chunks[-1].startswith(b"--"):
        raise FormError("missing closing boundary")
    parts = []
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n"):
            raise FormError("boundary not followed by CRLF")
        head, separator, data = chunk[2:].partition(b"\r\n\r\n")
        if not separator:
            raise FormError("part without a blank line after its headers")
        parts.append(_part(head, data))
    return parts


def _part(head: bytes, data: bytes):
    headers = {}
    for line in head.decode("utf-8", errors="replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    disposition = headers.get("content-disposition", "")
    params = _disposition_params(disposition)
    if not disposition.lower().startswith("form-data") or "name" not in params:
        raise FormError("part without Content-Disposition: form-data; name=...")
    return Part(params["name"], params.get("filename"), headers.get("content-type"), data)


def _disposition_params(value: str):
    """Parameters of a Content-Disposition value; quoted strings may contain ';'."""
    params = {}
    i = value.find(";")
    while 0 <= i < len(value):
        i += 1
        while i < len(value) and value[i] in " \t":
            i += 1
        eq = value.find("=", i)
        if eq < 0:
            break
        key = value[i:eq].strip().lower()
        i = eq + 1
        if i < len(value) and value[i] == '"':
            chars = []
            i += 1
            while i < len(value) and value[i] != '"':
                if value[i] == "\\" and i + 1 < len(value):
                    i += 1
                chars.append(value[i])
                i += 1
            params[key] = "".join(chars)
            i = value.find(";", i)
        else:
            end = value.find(";", i)
            params[key] = value[i:end if end >= 0 else len(value)].strip()
            i = end
    return params
