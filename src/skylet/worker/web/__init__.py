"""Cloud Functions and Knative style functions inside an instance, without Flask: the request
object (``request``), what return values become (``response``), CloudEvents (``cloudevent``).

- ``style: http``: ``handler(request)`` with a werkzeug-like :class:`Request`; the return value
  is answered by Flask's rules (:func:`http_response`).
- ``style: cloudevent``: ``handler(event)`` with a ``cloudevents.http.CloudEvent``; a request
  that is no valid event is answered 400 without calling the function, a call that returns is
  answered ``200 OK`` (functions-framework's answer), whatever it returned.

An HTTP exception the function raises (a missing ``args[...]`` key, ``get_json()`` on a non-JSON
request, werkzeug's ``abort``) is answered with its own status; any other exception is a function
error, which the platform answers with 500.
"""

from __future__ import annotations

from skylet.worker.http_envelope import Answer
from skylet.worker.web.cloudevent import NotACloudEvent, from_request
from skylet.worker.web.datastructures import FileStorage, Headers, MultiDict
from skylet.worker.web.errors import (
    BadRequest,
    BadRequestKeyError,
    HTTPException,
    UnsupportedMediaType,
)
from skylet.worker.web.request import Request
from skylet.worker.web.response import Response, http_response, response_answer

__all__ = [
    "BadRequest",
    "BadRequestKeyError",
    "FileStorage",
    "HTTPException",
    "Headers",
    "MultiDict",
    "NotACloudEvent",
    "Request",
    "Response",
    "UnsupportedMediaType",
    "cloud_event_accepted",
    "exception_response",
    "from_request",
    "http_response",
    "response_answer",
]


def cloud_event_accepted() -> Answer:
    """The answer to a CloudEvent the function took without raising."""
    return http_response("OK")


def exception_response(exc: BaseException) -> Answer | None:
    """The response of an HTTP exception (ours, or werkzeug's such as ``flask.abort``'s), or
    None when ``exc`` is a plain error."""
    code = getattr(exc, "code", None)
    get_response = getattr(exc, "get_response", None)
    if not isinstance(code, int) or not callable(get_response):
        return None
    try:
        return response_answer(get_response())
    except Exception:
        return None
