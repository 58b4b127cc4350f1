"""A Lambda control-plane request, decoded as rest-json carries it: the URI's labels, the
query string, the JSON body; and the checks of its paging parameters."""

from __future__ import annotations

import json
from typing import Any, NamedTuple
from urllib.parse import parse_qs

from skylet.asgi import BodyTooLarge, Receive, Scope, read_body
from skylet.aws.lambda_names import constraint_error
from skylet.errors import InvalidRequestContent, RequestTooLarge

MAX_BODY_BYTES = 1 << 20
DEFAULT_MAX_ITEMS = 50
MAX_ITEMS = 10_000

#: A status and the JSON document to answer (``None``: no body, as DeleteAlias's 204).
Answer = tuple[int, dict[str, Any] | None]


class Request(NamedTuple):
    """One control-plane request, decoded: the URI's labels, the query (one value a name),
    the JSON body (``{}`` when there is none)."""

    labels: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any]


async def read_request(scope: Scope, receive: Receive, labels: dict[str, str]) -> Request:
    return Request(labels, _query(scope), await _body(scope, receive))


def max_items_of(request: Request) -> int:
    raw = request.query.get("MaxItems")
    if raw is None:
        return DEFAULT_MAX_ITEMS
    if not raw.lstrip("-").isdigit():
        raise InvalidRequestContent(f"MaxItems: {raw!r} is not an integer")
    value = int(raw)
    if value < 1:
        raise constraint_error("maxItems", raw, "Member must have value greater than or equal to 1")
    if value > MAX_ITEMS:
        raise constraint_error(
            "maxItems", raw, f"Member must have value less than or equal to {MAX_ITEMS}"
        )
    return value


def _query(scope: Scope) -> dict[str, str]:
    raw: bytes = scope.get("query_string", b"")
    if not raw:
        return {}
    return {k: v[0] for k, v in parse_qs(raw.decode("latin-1"), keep_blank_values=True).items()}


async def _body(scope: Scope, receive: Receive) -> dict[str, Any]:
    try:
        raw = await read_body(scope, receive, MAX_BODY_BYTES)
    except BodyTooLarge as exc:
        raise RequestTooLarge(
            f"Request must be smaller than {MAX_BODY_BYTES} bytes (got {exc.size})"
        ) from None
    if not raw.strip():
        return {}
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise InvalidRequestContent(f"Could not parse request body into json: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidRequestContent("Could not parse request body into json: not an object")
    return document
