"""What a Cloud Functions style function's return value becomes, by the rules of Flask's
``make_response`` for a view's return value, as werkzeug ``Response`` objects; for functions
that do not use Flask (those that do get Flask's own, ``flask_bridge``).

Accepted: ``str``, ``bytes`` or an iterator of them (a ``text/html; charset=utf-8`` response),
``dict`` or ``list`` (JSON as ``flask.jsonify`` writes it), a werkzeug ``Response`` (Flask's and
``skylet.Response`` are), or a ``(body, status)``, ``(body, headers)`` or ``(body, status,
headers)`` tuple of those. ``None`` and anything else raise ``TypeError``, as Flask does: the
invocation is a function error.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from werkzeug import wrappers
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date

from skylet.worker.http_envelope import Answer

JSON_TYPE = "application/json"


class Response(wrappers.Response):
    """werkzeug's response with Flask's default type, HTML, as ``flask.Response`` has it: the
    response of a returned string, and ``skylet.Response``."""

    default_mimetype = "text/html"


def http_response(result: Any) -> Answer:
    """The response (status, headers, body) for what an HTTP function returned."""
    status: Any = None
    headers: Any = None
    if isinstance(result, tuple):
        if len(result) == 3:
            result, status, headers = result
        elif len(result) == 2:
            result, second = result
            if isinstance(second, Headers | Mapping | tuple | list):
                headers = second
            else:
                status = second
        else:
            raise TypeError(
                "The view function did not return a valid response tuple. The tuple must have "
                "the form (body, status, headers), (body, status), or (body, headers)."
            )
    if result is None:
        raise TypeError(
            "The view function did not return a valid response. The function either returned "
            "None or ended without a return statement."
        )
    if isinstance(result, bytearray):
        result = bytes(result)
    response: wrappers.Response
    if isinstance(result, str | bytes | Iterator):
        # As Flask: a new response takes the status and headers in its constructor.
        response = Response(result, status, headers)
    else:
        response = _response_object(result)
        if isinstance(status, str | bytes | bytearray):
            response.status = status if isinstance(status, str) else status.decode()
        elif status is not None:
            response.status_code = status
        if headers:
            response.headers.update(headers)
    if response.status_code == 0:  # werkzeug's code for a status that is text alone
        raise ValueError(f"{response.status!r} is not an HTTP status")
    return response_answer(response)


def _response_object(result: Any) -> wrappers.Response:
    if isinstance(result, dict | list):
        return Response(jsonify_text(result), mimetype=JSON_TYPE)
    if isinstance(result, wrappers.Response) or _is_a(
        result, "werkzeug.wrappers.response", "Response"
    ):
        # skylet's werkzeug's, or that of the werkzeug the function brings (its requirements).
        response: wrappers.Response = result
        return response
    raise TypeError(
        "The view function did not return a valid response. The return type must be a "
        "string, dict, list, tuple with headers or status, Response instance, but it was a "
        f"{type(result).__name__}."
    )


def response_answer(response: wrappers.Response) -> Answer:
    """(status, headers, body) of a werkzeug response, which is closed afterwards (running what
    it was given to ``call_on_close``)."""
    try:
        body = response.get_data()
        # The gateway frames the body itself; a length the function set could only disagree.
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return response.status_code, headers, body
    finally:
        response.close()


def exception_response(exc: BaseException) -> Answer | None:
    """The response of a werkzeug HTTP exception (a missing ``request.args[...]`` key,
    ``get_json()`` on a request that is not JSON, ``abort(404)``, Flask's ``abort``), or None
    when ``exc`` is not one (or makes no response)."""
    if not isinstance(exc, HTTPException) and not _is_a(
        exc, "werkzeug.exceptions", "HTTPException"
    ):
        return None
    try:
        return response_answer(exc.get_response())  # type: ignore[attr-defined]
    except Exception:
        return None


def jsonify_text(value: Any) -> str:
    """JSON as ``flask.jsonify`` writes it outside debug mode: compact, sorted keys, ASCII,
    a trailing newline, and dates, decimals, UUIDs and dataclasses converted."""
    return json.dumps(value, default=_json_default, separators=(",", ":"), sort_keys=True) + "\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return http_date(value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _is_a(value: object, module: str, name: str) -> bool:
    """Whether ``value`` is an instance of werkzeug's ``module.name`` from any copy of
    werkzeug: the runtime's, or the function's own (skylet.worker.imports keeps them apart)."""
    return any(c.__module__ == module and c.__name__ == name for c in type(value).__mro__)
