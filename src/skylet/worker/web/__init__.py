"""Cloud Functions and Knative style functions inside an instance, with werkzeug's objects, as
functions-framework gives them: the request (``wsgi``), what return values become
(``response``), CloudEvents (``cloudevent``), and Flask's request context for functions that
use Flask (``flask_bridge``).

- ``style: http``: ``handler(request)`` with a ``werkzeug.wrappers.Request``
  (:func:`request`); the return value is answered by Flask's rules (:func:`http_response`).
- ``style: cloudevent``: ``handler(event)`` with a ``cloudevents.http.CloudEvent``; a request
  that is no valid event is answered 400 without calling the function, a call that returns is
  answered ``200 OK`` (functions-framework's answer), whatever it returned.

A werkzeug HTTP exception the function raises (a missing ``args[...]`` key, ``get_json()`` on a
non-JSON request, ``abort``) is answered with its own status; any other exception is a function
error, which the platform answers with 500.

Importing this package imports werkzeug, so the zygote pays for it once, for every instance
(skylet.worker.zygote).
"""

from __future__ import annotations

from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.wrappers import Request

from skylet.worker.http_envelope import Answer
from skylet.worker.web.cloudevent import NotACloudEvent, from_request
from skylet.worker.web.response import (
    Response,
    exception_response,
    http_response,
    response_answer,
)
from skylet.worker.web.wsgi import request

__all__ = [
    "BadRequest",
    "HTTPException",
    "NotACloudEvent",
    "Request",
    "Response",
    "cloud_event_accepted",
    "exception_response",
    "from_request",
    "http_response",
    "request",
    "response_answer",
]


def cloud_event_accepted() -> Answer:
    """The answer to a CloudEvent the function took without raising."""
    return http_response("OK")
