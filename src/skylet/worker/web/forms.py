"""Form bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data``, parsed into
``form`` and ``files`` as werkzeug does. Like werkzeug, a malformed body gives empty ones rather
than an error; multipart parsing is python-multipart's."""

from __future__ import annotations

from urllib.parse import parse_qsl

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from skylet.worker.web.datastructures import FileStorage, Headers, MultiDict, file_storage

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
FORM_TYPES = (URLENCODED, MULTIPART)


def parse(content_type: str | None, body: bytes) -> tuple[MultiDict, MultiDict]:
    """``(form, files)`` of a request body; both empty unless it is a form."""
    mimetype, options = parse_options_header(content_type or "")
    if mimetype == URLENCODED.encode():
        text = body.decode("utf-8", "replace")
        return MultiDict(parse_qsl(text, keep_blank_values=True)), MultiDict()
    boundary = options.get(b"boundary")
    if mimetype == MULTIPART.encode() and boundary:
        try:
            return _multipart(boundary, body)
        except (FormParserError, ValueError):
            pass
    return MultiDict(), MultiDict()


class _Part:
    __slots__ = ("chunks", "header_name", "header_value", "headers")

    def __init__(self) -> None:
        self.headers = Headers()
        self.header_name = b""
        self.header_value = b""
        self.chunks: list[bytes] = []


def _multipart(boundary: bytes, body: bytes) -> tuple[MultiDict, MultiDict]:
    parts: list[_Part] = []

    def begin() -> None:
        parts.append(_Part())

    def header_field(data: bytes, start: int, end: int) -> None:
        parts[-1].header_name += data[start:end]

    def header_value(data: bytes, start: int, end: int) -> None:
        parts[-1].header_value += data[start:end]

    def header_end() -> None:
        part = parts[-1]
        # Browsers send names and file names as raw UTF-8 inside the quotes.
        name = part.header_name.decode("latin-1")
        part.headers.add(name, part.header_value.decode("utf-8", "replace"))
        part.header_name = part.header_value = b""

    def data(data: bytes, start: int, end: int) -> None:
        parts[-1].chunks.append(data[start:end])

    ended: list[bool] = []
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": begin,
            "on_header_field": header_field,
            "on_header_value": header_value,
            "on_header_end": header_end,
            "on_part_data": data,
            "on_end": lambda: ended.append(True),
        },
    )
    parser.write(body)
    parser.finalize()
    if not ended:
        raise ValueError("the multipart body has no closing boundary")
    form: list[tuple[str, str]] = []
    files: list[tuple[str, FileStorage]] = []
    for part in parts:
        disposition = str(part.headers.get("content-disposition", ""))
        # parse_options_header takes latin-1 text; UTF-8 names round-trip through it as bytes.
        _, options = parse_options_header(disposition.encode("utf-8").decode("latin-1"))
        name = options.get(b"name")
        if name is None:
            continue
        field = name.decode("utf-8", "replace")
        content = b"".join(part.chunks)
        if b"filename" in options:
            filename = options[b"filename"].decode("utf-8", "replace")
            files.append((field, file_storage(content, filename, field, part.headers)))
        else:
            form.append((field, content.decode(_charset(part.headers), "replace")))
    return MultiDict(form), MultiDict(files)


def _charset(headers: Headers) -> str:
    _, options = parse_options_header(str(headers.get("content-type", "")))
    charset = options.get(b"charset", b"utf-8").decode("latin-1")
    try:
        "".encode(charset)
    except LookupError:
        return "utf-8"
    return charset
