"""CloudEvents 1.0 over HTTP, as a broker reads and forwards them. Pure.

An event is kept as its JSON format document (``Event``, a plain dict): the attributes, and
``data`` (a JSON value) or ``data_base64``. That is what the store holds and what a Lambda
style function receives; ``to_binary`` and ``to_structured`` give the HTTP forms.

- Binary mode (a ``ce-specversion`` header): attributes from the ``ce-*`` headers
  (percent-decoded), ``datacontenttype`` from Content-Type, the body as ``data``: parsed when
  the content type is JSON (``application/json``, ``*+json``) or absent and the body parses,
  text for ``text/*``, ``data_base64`` otherwise.
- Structured mode (``application/cloudevents+json``): the document itself.
- Batched mode (``application/cloudevents-batch+json``) is refused: a broker takes one event
  a request.

The official SDK's ``from_http`` is not used here: it adds a ``time`` attribute to an event
that has none and re-encodes the data, and a broker forwards events as it received them.
``InvalidEvent`` says why a request is not an event (the ingress answers it with 400).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote

from skylet import fastjson

Event = dict[str, Any]

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
REQUIRED = ("specversion", "id", "source", "type")
_NAME = re.compile(r"^[a-z0-9]+$")
#: Characters a binary-mode header value carries as they are when it needs encoding at all.
_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')


class InvalidEvent(ValueError):
    """The request is not one valid CloudEvents 1.0 event; the message says why."""


def from_http(headers: Iterable[tuple[str, str]], body: bytes) -> Event:
    """The event an HTTP request carries. ``headers`` with lower-case names."""
    attributes: dict[str, Any] = {}
    content_type = ""
    binary = False
    for name, value in headers:
        if name.startswith("ce-"):
            key = name[3:]
            if key == "specversion":
                binary = True
            attributes.setdefault(key, unquote(value))
        elif name == "content-type" and not content_type:
            content_type = value
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == BATCH:
        raise InvalidEvent(
            "batched mode (application/cloudevents-batch+json) is not accepted: "
            "send one event per request, in binary or structured mode"
        )
    if binary:
        attributes.pop("datacontenttype", None)  # binary mode carries it as Content-Type
        event: Event = attributes
        if content_type:
            event["datacontenttype"] = content_type
        if body:
            _binary_data(event, mime, body)
    elif mime == STRUCTURED or (not attributes and mime in ("application/json", "")):
        event = _structured(body, mime)
    else:
        raise InvalidEvent(
            "no CloudEvent: the request has no ce-specversion header (binary mode) and is not "
            f"{STRUCTURED} (structured mode)"
        )
    validate(event)
    return event


def _structured(body: bytes, mime: str) -> Event:
    try:
        document = fastjson.loads(body)
    except ValueError as error:
        raise InvalidEvent(f"the structured CloudEvent is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise InvalidEvent("the structured CloudEvent is not a JSON object")
    if mime != STRUCTURED and "specversion" not in document:
        raise InvalidEvent(
            "no CloudEvent: the request has no ce-specversion header (binary mode) and is not "
            f"{STRUCTURED} (structured mode)"
        )
    if "data_base64" in document:
        if "data" in document:
            raise InvalidEvent("the structured CloudEvent has both data and data_base64")
        encoded = document["data_base64"]
        if not isinstance(encoded, str):
            raise InvalidEvent("data_base64 is not a string")
        try:
            base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise InvalidEvent(f"data_base64 is not base64: {error}") from None
    return document


def _binary_data(event: Event, mime: str, body: bytes) -> None:
    if not mime or mime == "application/json" or mime.endswith("+json"):
        try:
            event["data"] = fastjson.loads(body)
            return
        except ValueError:
            if mime:
                raise InvalidEvent(f"the data is declared {mime} but is not JSON") from None
    elif mime.startswith("text/"):
        try:
            event["data"] = body.decode()
            return
        except UnicodeDecodeError:
            pass
    event["data_base64"] = base64.b64encode(body).decode()


def validate(event: Mapping[str, Any]) -> None:
    """Raise ``InvalidEvent`` unless ``event`` is a CloudEvents 1.0 event (JSON format)."""
    missing = [name for name in REQUIRED if name not in event]
    if missing:
        raise InvalidEvent(f"missing required CloudEvent attributes: {', '.join(missing)}")
    bad = [n for n in REQUIRED if not isinstance(event[n], str) or not event[n]]
    if bad:
        raise InvalidEvent(f"CloudEvent attributes must be non-empty strings: {', '.join(bad)}")
    if event["specversion"] != "1.0":
        raise InvalidEvent(f"unsupported specversion {event['specversion']!r} (allowed: 1.0)")
    for name, value in event.items():
        if name in ("data", "data_base64"):
            continue
        if not _NAME.match(name):
            raise InvalidEvent(
                f"{name!r} is not a CloudEvent attribute name (lower-case letters and digits)"
            )
        if value is None or isinstance(value, dict | list | float):
            raise InvalidEvent(f"attribute {name!r} must be a string, an integer or a boolean")


def attributes(event: Mapping[str, Any]) -> dict[str, Any]:
    """The context attributes and extensions, without the data."""
    return {k: v for k, v in event.items() if k != "data" and k != "data_base64"}


def attribute_text(value: Any) -> str:
    """An attribute's canonical string form (booleans as ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def data_bytes(event: Mapping[str, Any]) -> bytes:
    """The event's data as an HTTP body in binary mode."""
    if "data_base64" in event:
        return base64.b64decode(event["data_base64"])
    if "data" not in event:
        return b""
    data = event["data"]
    mime = str(event.get("datacontenttype", "")).split(";", 1)[0].strip().lower()
    json_type = not mime or mime == "application/json" or mime.endswith("+json")
    if isinstance(data, str) and not json_type:
        return data.encode()
    return fastjson.dumps(data)


def to_binary(event: Mapping[str, Any]) -> tuple[list[tuple[str, str]], bytes]:
    """Binary mode: ``ce-*`` headers (percent-encoded), Content-Type, the data as the body."""
    headers: list[tuple[str, str]] = []
    for name, value in event.items():
        if name in ("data", "data_base64"):
            continue
        if name == "datacontenttype":
            headers.append(("content-type", attribute_text(value)))
        else:
            headers.append((f"ce-{name}", _header_value(attribute_text(value))))
    body = data_bytes(event)
    if body and "datacontenttype" not in event and "data" in event:
        headers.append(("content-type", "application/json"))
    return headers, body


def _header_value(text: str) -> str:
    """A ``ce-*`` header value. Only a value an HTTP header cannot carry (control characters,
    non-ASCII) is percent-encoded (space, ``"`` and ``%`` with it, as the binding says): the
    official Python SDK and functions-framework read header values without decoding them, so
    a printable value goes as it is."""
    if text.isascii() and text.isprintable():
        return text
    return quote(text, safe=_SAFE)


def to_structured(event: Mapping[str, Any]) -> bytes:
    return fastjson.dumps(dict(event))


def from_response(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> Event | None:
    """A subscriber's reply event: a 200 answer carrying a CloudEvent (binary or structured);
    None for any other answer, as Knative's data plane treats it (202 is never a reply)."""
    if status != 200:
        return None
    pairs = [(name.lower(), value) for name, value in headers]
    if not any(
        name == "ce-specversion"
        or (name == "content-type" and value.lower().startswith(STRUCTURED))
        for name, value in pairs
    ):
        return None
    return from_http(pairs, body)
