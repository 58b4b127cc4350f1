"""CORS for HTTP routes, as the Serverless Framework configures API Gateway with ``cors``. Pure.

- A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) on a path that has a CORS
  route is answered by the gateway, without invoking a function: 200 with
  Access-Control-Allow-Origin/-Headers/-Methods, and -Allow-Credentials and -Max-Age when set.
- Other responses of a CORS route get Access-Control-Allow-Origin (and -Allow-Credentials)
  unless the function set them itself, as the Serverless Framework's REST API integration adds.
- With several allowed origins, the request's Origin is echoed when it is one of them (and
  ``Vary: Origin`` is added); ``*`` allows any origin.
"""

from __future__ import annotations

from collections.abc import Sequence

from skylet.gateway.routing import ANY, Route
from skylet.manifest.http_events import HTTP_METHODS, CorsConfig


def allowed_origin(cors: CorsConfig, origin: str | None) -> str | None:
    if "*" in cors.origins:
        return "*"
    if origin is not None and origin in cors.origins:
        return origin
    return None


def preflight(routes: Sequence[Route], origin: str | None) -> list[tuple[str, str]] | None:
    """The headers of a preflight answer for the routes of one path; None: not a CORS path."""
    with_cors = [r for r in routes if r.cors is not None]
    if not with_cors:
        return None
    cors = with_cors[0].cors
    assert cors is not None
    methods: list[str] = []
    for route in with_cors:
        assert route.cors is not None
        wanted = route.cors.methods or ((route.method,) if route.method != ANY else HTTP_METHODS)
        methods.extend(m for m in (*wanted, "OPTIONS") if m not in methods)
    headers = [
        ("Access-Control-Allow-Origin", allowed_origin(cors, origin) or cors.origins[0]),
        ("Access-Control-Allow-Headers", ",".join(cors.headers)),
        ("Access-Control-Allow-Methods", ",".join(methods)),
    ]
    if cors.allow_credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if cors.max_age_s is not None:
        headers.append(("Access-Control-Max-Age", str(cors.max_age_s)))
    if cors.cache_control is not None:
        headers.append(("Cache-Control", cors.cache_control))
    if "*" not in cors.origins:
        headers.append(("Vary", "Origin"))
    return headers


def response_headers(
    cors: CorsConfig, origin: str | None, present: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The CORS headers to add to a function's response (none it already set)."""
    names = {name.lower() for name, _ in present}
    added: list[tuple[str, str]] = []
    value = allowed_origin(cors, origin)
    if value is not None and "access-control-allow-origin" not in names:
        added.append(("Access-Control-Allow-Origin", value))
        if value != "*" and "vary" not in names:
            added.append(("Vary", "Origin"))
    if cors.allow_credentials and "access-control-allow-credentials" not in names:
        added.append(("Access-Control-Allow-Credentials", "true"))
    return added
