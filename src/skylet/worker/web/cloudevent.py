"""The CloudEvent in an HTTP request, for ``style: cloudevent`` functions (CloudEvents 1.0 HTTP
protocol binding), as a ``cloudevents.http.CloudEvent``.

- Binary mode (a ``ce-specversion`` header): attributes from the ``ce-*`` headers,
  ``datacontenttype`` from Content-Type, data from the body: parsed when JSON, ``str`` for text
  types, ``bytes`` otherwise, ``None`` when empty.
- Structured mode (otherwise; ``application/cloudevents+json``, or, as the CloudEvents SDK and
  functions-framework accept, any JSON object body): attributes and ``data`` or
  ``data_base64`` (→ bytes) from the JSON document.

``specversion`` must be ``1.0`` and ``id``, ``source`` and ``type`` non-empty strings; a request
that is no such event raises :class:`NotACloudEvent`, which the instance answers with 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

# Imported with this module, so in the zygote: ~11 ms that every instance of a CloudEvent
# function would otherwise pay on its first event (docs/runtime.md).
from cloudevents.http import CloudEvent

from skylet.worker.http_envelope import EnvelopeRequest

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
_REQUIRED = ("specversion", "id", "source", "type")


class NotACloudEvent(ValueError):
    """The request is not a valid CloudEvents 1.0 event."""


def from_request(request: EnvelopeRequest) -> CloudEvent:
    headers: dict[str, str] = {}
    for name, value in request.headers:
        headers.setdefault(name.lower(), value)
    content_type = headers.get("content-type", "")
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == BATCH:
        raise NotACloudEvent("batched CloudEvents are not supported: send one event a request")
    if "ce-specversion" in headers:
        attributes: dict[str, Any] = {k[3:]: v for k, v in headers.items() if k.startswith("ce-")}
        if content_type:
            attributes["datacontenttype"] = content_type
        data = _binary_data(mime, request.body)
    else:
        attributes, data = _structured(mime, request.body)
    _validate(attributes)
    return CloudEvent(attributes, data)


def _structured(mime: str, body: bytes) -> tuple[dict[str, Any], Any]:
    try:
        document = json.loads(body)
    except ValueError as error:
        if mime == STRUCTURED:
            raise NotACloudEvent(f"the structured CloudEvent is not JSON: {error}") from None
        raise NotACloudEvent(
            "no CloudEvent: the request has no ce-specversion header (binary mode) and its body "
            "is not a JSON event (structured mode, application/cloudevents+json)"
        ) from None
    if not isinstance(document, dict):
        raise NotACloudEvent("the structured CloudEvent is not a JSON object")
    attributes = {k: v for k, v in document.items() if k not in ("data", "data_base64")}
    if "data_base64" not in document:
        return attributes, document.get("data")
    if "data" in document:
        raise NotACloudEvent("the structured CloudEvent has both data and data_base64")
    encoded = document["data_base64"]
    if not isinstance(encoded, str):
        raise NotACloudEvent("data_base64 is not a string")
    try:
        return attributes, base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise NotACloudEvent(f"data_base64 is not base64: {error}") from None


def _validate(attributes: dict[str, Any]) -> None:
    missing = [name for name in _REQUIRED if name not in attributes]
    if missing:
        raise NotACloudEvent(f"missing required CloudEvent attributes: {', '.join(missing)}")
    bad = [n for n in _REQUIRED if not isinstance(attributes[n], str) or not attributes[n]]
    if bad:
        raise NotACloudEvent(f"CloudEvent attributes must be non-empty strings: {', '.join(bad)}")
    if attributes["specversion"] != "1.0":
        raise NotACloudEvent(f"unsupported specversion {attributes['specversion']!r} (1.0 only)")


def _binary_data(mime: str, body: bytes) -> Any:
    """JSON when declared JSON or undeclared, if it parses (else the bytes, as the SDK gives
    them), text for text types, bytes otherwise."""
    if not body:
        return None
    if not mime or mime == "application/json" or mime.endswith("+json"):
        try:
            return json.loads(body)
        except ValueError:
            return body
    if mime.startswith("text/") or mime == "application/xml" or mime.endswith("+xml"):
        try:
            return body.decode()
        except UnicodeDecodeError:
            return body
    return body
