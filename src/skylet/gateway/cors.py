"""CORS for HTTP routes, as the Serverless Framework configures a REST API with ``cors``. Pure.

- Every ``OPTIONS`` request on a path that has a CORS route is answered by the gateway (the
  Serverless Framework adds a MOCK ``OPTIONS`` method to the path), without invoking a function:
  200 with Access-Control-Allow-Origin/-Headers/-Methods, and -Allow-Credentials, -Max-Age and
  Cache-Control when set.
- Allow-Methods is, per route, the configured ``methods`` (none by default), then ``OPTIONS`` and
  the route's own method where missing: ``OPTIONS,GET`` for ``cors: true``. The CORS routes of
  one path are merged in manifest order as the framework merges them: methods, headers and
  origins as ordered unions with the later route's first, credentials when any route allows
  them, the last ``maxAge``/``cacheControl`` set. ``ANY`` is sent as
  ``DELETE,GET,HEAD,PATCH,POST,PUT``.
- Allow-Origin: a sole ``*`` is sent as is; otherwise the request's Origin when it matches an
  allowed origin (where ``*`` matches one or more characters), else the first allowed origin.
  No ``Vary`` header, as API Gateway sends none.
- Other responses of a CORS route get Access-Control-Allow-Origin (and -Allow-Credentials)
  unless the function set them. AWS leaves that to the function for Lambda proxy routes; skylet
  adds them so a function written for ``cors: true`` works in a browser without more code.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from skylet.gateway.routing import ANY, Route
from skylet.manifest.http_events import CorsConfig

#: What the Serverless Framework puts in Allow-Methods in place of ``ANY``.
ANY_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


@dataclass(frozen=True, slots=True)
class PathCors:
    """The CORS configuration of one path: its CORS routes' configurations merged."""

    origins: tuple[str, ...]
    headers: tuple[str, ...]
    methods: tuple[str, ...]
    allow_credentials: bool
    max_age_s: int | None
    cache_control: str | None


def route_methods(route: Route, config: CorsConfig) -> tuple[str, ...]:
    """One route's Allow-Methods before merging: ``methods``, then OPTIONS and its own method."""
    return _union(config.methods, ("OPTIONS", route.method))


def _union(first: Iterable[str], then: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *then)))


def merge(routes: Sequence[Route]) -> PathCors | None:
    """The merged configuration of the CORS routes among ``routes`` (one path's, in manifest
    order); None when none of them has CORS."""
    merged: PathCors | None = None
    for route in routes:
        config = route.cors
        if config is None:
            continue
        methods = route_methods(route, config)
        if merged is None:
            merged = PathCors(
                config.origins,
                config.headers,
                methods,
                config.allow_credentials,
                config.max_age_s or None,
                config.cache_control or None,
            )
            continue
        merged = PathCors(
            _union(config.origins, merged.origins),
            _union(config.headers, merged.headers),
            _union(methods, merged.methods),
            merged.allow_credentials or config.allow_credentials,
            config.max_age_s or merged.max_age_s,
            config.cache_control or merged.cache_control,
        )
    return merged


@functools.lru_cache(maxsize=256)
def _pattern(allowed: str) -> re.Pattern[str]:
    """``https://*.x.com`` → a pattern where ``*`` is one or more characters, the rest literal."""
    return re.compile(".+".join(re.escape(part) for part in allowed.split("*")))


def allowed_origin(origins: Sequence[str], origin: str | None) -> str:
    """The Access-Control-Allow-Origin value for a request from ``origin``."""
    if tuple(origins) == ("*",):
        return "*"
    if origin and any(_pattern(o).fullmatch(origin) for o in origins):
        return origin
    return origins[0] if origins else "*"


def preflight(routes: Sequence[Route], origin: str | None) -> list[tuple[str, str]] | None:
    """The headers of the answer to an OPTIONS request, given the routes of its path; None when
    the path has no CORS route (the request then goes to routing like any other)."""
    config = merge(routes)
    if config is None:
        return None
    methods: list[str] = []
    for method in config.methods:
        methods.extend(ANY_METHODS if method == ANY else (method,))
    headers = [
        ("Content-Type", "application/json"),
        ("Access-Control-Allow-Origin", allowed_origin(config.origins, origin)),
        ("Access-Control-Allow-Headers", ",".join(config.headers)),
        ("Access-Control-Allow-Methods", ",".join(methods)),
    ]
    if config.allow_credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if config.max_age_s is not None:
        headers.append(("Access-Control-Max-Age", str(config.max_age_s)))
    if config.cache_control is not None:
        headers.append(("Cache-Control", config.cache_control))
    return headers


def response_headers(
    config: CorsConfig, origin: str | None, present: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The CORS headers to add to a CORS route's response (none the response already has)."""
    names = {name.lower() for name, _ in present}
    added: list[tuple[str, str]] = []
    if "access-control-allow-origin" not in names:
        added.append(("Access-Control-Allow-Origin", allowed_origin(config.origins, origin)))
    if config.allow_credentials and "access-control-allow-credentials" not in names:
        added.append(("Access-Control-Allow-Credentials", "true"))
    return added
