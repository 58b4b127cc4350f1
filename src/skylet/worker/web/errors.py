"""HTTP errors a Cloud Functions style function can raise or meet, answered as Flask answers.

``HTTPException`` (code, description) ← ``BadRequest`` (400) ← ``BadRequestKeyError`` (also a
``KeyError``: a missing ``request.args[...]`` key), and ``UnsupportedMediaType`` (415). Raised
out of a function, they become their error page, not a function error; werkzeug's own
exceptions (``flask.abort``) are recognised by shape and answered the same way.
"""

from __future__ import annotations

import html
from http import HTTPStatus
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skylet.worker.web.response import Response


class HTTPException(Exception):
    code = 500
    description = "The server encountered an internal error."

    def __init__(self, description: str | None = None) -> None:
        if description is not None:
            self.description = description
        super().__init__(self.description)

    @property
    def name(self) -> str:
        return HTTPStatus(self.code).phrase

    def get_response(self) -> Response:
        from skylet.worker.web.response import Response

        return Response(error_page(self.code, self.description), self.code)

    def __str__(self) -> str:
        return f"{self.code} {self.name}: {self.description}"


class BadRequest(HTTPException):
    code = 400
    description = "The browser (or proxy) sent a request that this server could not understand."


class BadRequestKeyError(BadRequest, KeyError):
    """A key missing from ``args``, ``form``, ``files``, ``headers``: 400 when uncaught."""

    def __init__(self, key: str) -> None:
        super().__init__(f"The request has no {key!r}.")
        self.key = key

    def __str__(self) -> str:
        return BadRequest.__str__(self)


class UnsupportedMediaType(HTTPException):
    code = 415
    description = "The server does not support the media type transmitted in the request."


def error_page(code: int, description: str) -> str:
    """An HTML error page in the shape werkzeug gives its errors."""
    title = f"{code} {html.escape(HTTPStatus(code).phrase)}"
    text = html.escape(description).replace("\n", "<br>\n")
    return (
        f"<!doctype html>\n<html lang=en>\n<title>{title}</title>\n"
        f"<h1>{html.escape(HTTPStatus(code).phrase)}</h1>\n<p>{text}</p>\n"
    )
