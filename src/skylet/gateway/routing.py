"""The router: (method, path) → the function route that serves it. Pure.

API Gateway's rules, which skylet follows for both REST APIs (``http`` events) and HTTP APIs
(``httpApi``):
- a literal segment beats a ``{param}`` segment, which beats a greedy ``{proxy+}``; the first
  segment that differs decides;
- for one path, a route with the exact method beats an ``ANY`` route;
- an HTTP API's ``$default`` route (``method: '*'`` and ``path: '*'``) catches what nothing else
  matches.
Two routes that match exactly the same requests are a manifest error naming both functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote

from skylet.errors import ConfigError
from skylet.manifest.http_events import CorsConfig

Kind = Literal["rest", "http_api", "function"]
"""``rest``: payload format 1.0; ``http_api``: 2.0; ``function``: a Cloud Functions/Knative
style function, which gets the HTTP request itself."""

ANY = "ANY"
DEFAULT_ROUTE = "$default"
#: How many (method, path) answers a table remembers before it starts over.
MATCHES_KEPT = 4096


@dataclass(frozen=True, slots=True)
class Route:
    method: str  # "GET", ..., or ANY
    path: str  # "/users/{id}", "/files/{proxy+}", "/" or DEFAULT_ROUTE
    function: str
    kind: Kind
    cors: CorsConfig | None = None
    #: For ``function`` routes: the path prefix the function does not see (``/name`` when the
    #: route was made for a function without routes of its own).
    strip_prefix: str = ""
    segments: tuple[str, ...] = field(init=False, compare=False)
    #: ``GET /users/{id}``, or ``$default``, as API Gateway names a route.
    route_key: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        default = self.path == DEFAULT_ROUTE
        segments = () if default else tuple(s for s in self.path.split("/") if s)
        object.__setattr__(self, "segments", segments)
        key = self.path if default else f"{self.method} {self.path}"
        object.__setattr__(self, "route_key", key)

    def shape(self) -> tuple[str, tuple[str, ...]]:
        """What decides which requests match: method and segments with parameter names erased."""
        erased = tuple(
            "{+}" if s.endswith("+}") else "{}" if s.startswith("{") else s for s in self.segments
        )
        return self.method, erased if self.path != DEFAULT_ROUTE else ("$default",)


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """A route and the parameter values a path gave it. Shared by the requests for the same
    path (:meth:`RouteTable.match` remembers it): read-only."""

    route: Route
    #: Parameter values as sent, percent-encoded: what payload format 1.0 passes.
    raw_path_parameters: dict[str, str] = field(default_factory=dict)
    #: Parameter values percent-decoded: what payload format 2.0 passes.
    path_parameters: dict[str, str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        decoded = {name: unquote(value) for name, value in self.raw_path_parameters.items()}
        object.__setattr__(self, "path_parameters", decoded)


@dataclass(frozen=True, slots=True)
class _Scored:
    rank: tuple[int, ...]
    match: RouteMatch


class RouteTable:
    def __init__(self, routes: Iterable[Route] = ()) -> None:
        self.routes = tuple(routes)
        seen: dict[tuple[str, tuple[str, ...]], Route] = {}
        for route in self.routes:
            other = seen.setdefault(route.shape(), route)
            if other is not route:
                raise ConfigError(
                    f"route conflict: {route.route_key} ({route.function}) and "
                    f"{other.route_key} ({other.function}) match the same requests"
                )
        self._seen: dict[tuple[str, str], RouteMatch | None] = {}
        self._defaults = [r for r in self.routes if r.path == DEFAULT_ROUTE]
        self._routes = [r for r in self.routes if r.path != DEFAULT_ROUTE]

    def __bool__(self) -> bool:
        return bool(self.routes)

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        """The route serving ``method raw_path``. The path is split as sent, so ``a%2Fb`` stays
        one segment; literal segments are compared decoded; parameter values are kept as sent
        (:attr:`RouteMatch.path_parameters` decodes them). Answers are remembered: a table
        never changes (a reload builds a new one), and most requests repeat a few paths."""
        key = (method, raw_path)
        try:
            return self._seen[key]
        except KeyError:
            pass
        match = self._match(method, raw_path)
        if len(self._seen) >= MATCHES_KEPT:
            self._seen.clear()
        self._seen[key] = match
        return match

    def _match(self, method: str, raw_path: str) -> RouteMatch | None:
        segments = _segments(raw_path)
        best: _Scored | None = None
        for route in self._routes:
            if route.method not in (method, ANY):
                continue
            scored = _score(route, segments)
            if scored is not None and (best is None or scored.rank > best.rank):
                best = scored
        if best is not None:
            return best.match
        for route in self._defaults:
            return RouteMatch(route)
        return None

    def methods_for(self, raw_path: str) -> list[Route]:
        """Every route whose path matches ``raw_path``, whatever its method (CORS preflight)."""
        segments = _segments(raw_path)
        return [r for r in self._routes if _score(r, segments) is not None]


def _segments(raw_path: str) -> list[tuple[str, str]]:
    """Each non-empty segment of ``raw_path``: (as sent, decoded)."""
    return [(s, unquote(s)) for s in raw_path.split("/") if s]


def _score(route: Route, segments: list[tuple[str, str]]) -> _Scored | None:
    """How specific a match is (higher wins), or None when ``route`` does not match."""
    template = route.segments
    params: dict[str, str] = {}
    rank: list[int] = []
    for index, part in enumerate(template):
        if part.endswith("+}"):
            rest = segments[index:]
            if not rest:
                return None  # a greedy parameter needs at least one segment
            params[part[1:-2]] = "/".join(raw for raw, _ in rest)
            rank.append(1)
            break
        if index >= len(segments):
            return None
        if part.startswith("{"):
            params[part[1:-1]] = segments[index][0]
            rank.append(2)
        elif part == segments[index][1]:
            rank.append(3)
        else:
            return None
    else:
        if len(template) != len(segments):
            return None
    rank.append(1 if route.method != ANY else 0)
    return _Scored(tuple(rank), RouteMatch(route, params))
