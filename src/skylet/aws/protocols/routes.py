"""Which operation of a rest protocol (rest-json, rest-xml) a request is: the HTTP method and
the model's ``requestUri`` templates. Pure.

A template is a path with labels (``/2015-03-31/functions/{FunctionName}``; ``{Key+}`` is
greedy and takes slashes) and, after ``?``, query parameters the request must carry
(``/{Bucket}?list-type=2``, ``/{Bucket}/{Key+}?uploads``). When several templates match, the
one that asks most of the request wins: more required query parameters, then more literal
path characters, then fewer greedy labels (``GET /b?acl`` is GetBucketAcl, not ListObjects).
The input's required members bound to the query string or headers count as required too:
``PUT /b/k`` with ``x-amz-copy-source`` is CopyObject, with ``?partNumber&uploadId`` UploadPart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True, slots=True)
class Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    #: The labels in the order of the pattern's groups (the member's wire name, no ``+``).
    labels: tuple[str, ...]
    #: Query parameters the request must carry: name → required value, or None for any.
    query: Mapping[str, str | None]
    #: Headers the request must carry (lower case).
    headers: frozenset[str]
    #: (required query parameters and headers, literal path characters, -greedy labels).
    rank: tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Match:
    operation: str
    #: Label → its value, percent-decoded (a greedy label keeps its slashes).
    labels: Mapping[str, str]


def compile_route(
    operation: str,
    method: str,
    request_uri: str,
    *,
    query: Iterable[str] = (),
    headers: Iterable[str] = (),
) -> Route:
    """A route for one operation's ``http`` trait; ``query`` and ``headers`` name the required
    members bound there."""
    path, _, literal_query = request_uri.partition("?")
    parts: list[str] = []
    labels: list[str] = []
    literal = 0
    greedy = 0
    position = 0
    for found in _LABEL.finditer(path):
        text = path[position : found.start()]
        parts.append(re.escape(text))
        literal += len(text)
        name = found.group(1)
        if name.endswith("+"):
            greedy += 1
            parts.append("(.+)")
            labels.append(name[:-1])
        else:
            parts.append("([^/]+)")
            labels.append(name)
        position = found.end()
    tail = path[position:]
    parts.append(re.escape(tail))
    literal += len(tail)
    # A path that does not end in a greedy label matches with or without one trailing slash,
    # as the services answer (``/bucket/`` is the bucket).
    optional_slash = "" if path.endswith("+}") or path.endswith("/") else "/?"
    pattern = re.compile("^" + "".join(parts) + optional_slash + "$", re.DOTALL)
    required: dict[str, str | None] = {}
    for item in filter(None, literal_query.split("&")):
        name, equals, value = item.partition("=")
        required[name] = value if equals else None
    for name in query:
        required.setdefault(name, None)
    needed = frozenset(h.lower() for h in headers)
    rank = (len(required) + len(needed), literal, -greedy)
    return Route(operation, method.upper(), pattern, tuple(labels), required, needed, rank)


def match(
    routes: Iterable[Route],
    method: str,
    raw_path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
) -> Match | None:
    """The best route for the request, or None. ``raw_path`` is percent-encoded (labels are
    decoded after matching, so an encoded slash stays inside its label); ``query`` holds the
    query string's parameters, decoded; ``headers`` the request's, by lower-case name."""
    present = headers or {}
    method = method.upper()
    best: tuple[Route, re.Match[str]] | None = None
    for route in routes:
        if route.method != method or not _query_satisfied(route.query, query):
            continue
        if not all(name in present for name in route.headers):
            continue
        found = route.pattern.match(raw_path)
        if found is not None and (best is None or route.rank > best[0].rank):
            best = (route, found)
    if best is None:
        return None
    route, found = best
    return Match(
        route.operation, {n: unquote(v) for n, v in zip(route.labels, found.groups(), strict=True)}
    )


def _query_satisfied(required: Mapping[str, str | None], query: Mapping[str, str]) -> bool:
    for name, value in required.items():
        if name not in query or (value is not None and query[name] != value):
            return False
    return True
