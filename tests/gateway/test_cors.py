"""CORS as the Serverless Framework configures it: preflight answers and response headers."""

from __future__ import annotations

from typing import Any

import pytest

from skylet.gateway import cors
from skylet.gateway.routing import Route
from skylet.manifest.http_events import DEFAULT_CORS_HEADERS, CorsConfig


def settings(**fields: Any) -> CorsConfig:
    """A CorsConfig from skylet.yaml's field names."""
    return CorsConfig.model_validate(fields)


def route(method: str, cors_config: CorsConfig | None = None, **fields: Any) -> Route:
    if cors_config is None and fields:
        cors_config = settings(**fields)
    return Route(method, "/items", "fn", "rest", cors_config)


DEFAULT = settings()


def allow(headers: list[tuple[str, str]] | None, name: str) -> str | None:
    assert headers is not None
    return dict(headers).get(name)


@pytest.mark.parametrize(
    ("routes", "methods"),
    [
        pytest.param([route("GET", DEFAULT)], "OPTIONS,GET", id="cors true starts with OPTIONS"),
        pytest.param(
            [route("POST", methods=("GET", "PUT"))],
            "GET,PUT,OPTIONS,POST",
            id="explicit methods still get OPTIONS and the route's own method",
        ),
        pytest.param(
            [route("PUT", methods=("PUT", "OPTIONS"))],
            "PUT,OPTIONS",
            id="explicit methods that already name both are kept as given",
        ),
        pytest.param(
            [route("ANY", DEFAULT)],
            "OPTIONS,DELETE,GET,HEAD,PATCH,POST,PUT",
            id="ANY becomes every method",
        ),
        pytest.param(
            [route("GET", DEFAULT), route("POST", DEFAULT)],
            "OPTIONS,POST,GET",
            id="routes on one path are merged with the later one's first",
        ),
        pytest.param(
            [Route("DELETE", "/items", "other", "rest"), route("GET", DEFAULT)],
            "OPTIONS,GET",
            id="a route without cors adds nothing",
        ),
    ],
)
def test_allow_methods_follow_the_serverless_framework(routes: list[Route], methods: str) -> None:
    assert allow(cors.preflight(routes, None), "Access-Control-Allow-Methods") == methods


def test_a_path_without_cors_routes_gets_no_preflight_answer() -> None:
    assert cors.preflight([Route("GET", "/items", "fn", "rest")], "https://a.com") is None
    assert cors.preflight([], None) is None


@pytest.mark.parametrize(
    ("origins", "origin", "allowed"),
    [
        pytest.param(("*",), "https://a.com", "*", id="a sole star allows any origin as star"),
        pytest.param(("*",), None, "*", id="a sole star without an Origin"),
        pytest.param(
            ("https://a.com", "https://b.com"),
            "https://b.com",
            "https://b.com",
            id="a listed origin is echoed",
        ),
        pytest.param(
            ("https://a.com", "https://b.com"),
            "https://evil.com",
            "https://a.com",
            id="an unlisted origin gets the first one",
        ),
        pytest.param(
            ("https://a.com", "https://b.com"),
            None,
            "https://a.com",
            id="no Origin gets the first one",
        ),
        pytest.param(
            ("https://*.x.com",),
            "https://app.x.com",
            "https://app.x.com",
            id="a wildcard origin matches a subdomain",
        ),
        pytest.param(
            ("https://*.x.com",),
            "https://a.b.x.com",
            "https://a.b.x.com",
            id="a wildcard spans dots",
        ),
        pytest.param(
            ("https://*.x.com",),
            "https://x.com",
            "https://*.x.com",
            id="a wildcard needs at least one character",
        ),
        pytest.param(
            ("https://*.x.com",),
            "https://appxxcom",
            "https://*.x.com",
            id="dots are literal",
        ),
        pytest.param(
            ("https://*.x.com",),
            "https://app.x.com.evil.net",
            "https://*.x.com",
            id="the whole origin must match",
        ),
    ],
)
def test_allowed_origin_echoes_a_match_or_sends_the_first(
    origins: tuple[str, ...], origin: str | None, allowed: str
) -> None:
    assert cors.allowed_origin(origins, origin) == allowed
    headers = cors.preflight([route("GET", origins=origins)], origin)
    assert allow(headers, "Access-Control-Allow-Origin") == allowed


def test_a_preflight_answer_has_every_header_and_no_vary() -> None:
    config = settings(
        origins=("https://a.com", "https://b.com"),
        headers=("Content-Type", "X-Token"),
        allow_credentials=True,
        max_age_s=600,
        cache_control="max-age=600, s-maxage=600",
    )
    assert cors.preflight([route("GET", config)], "https://b.com") == [
        ("Content-Type", "application/json"),
        ("Access-Control-Allow-Origin", "https://b.com"),
        ("Access-Control-Allow-Headers", "Content-Type,X-Token"),
        ("Access-Control-Allow-Methods", "OPTIONS,GET"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Max-Age", "600"),
        ("Cache-Control", "max-age=600, s-maxage=600"),
    ]


def test_merging_unions_lists_ors_credentials_and_keeps_the_last_max_age() -> None:
    first = route(
        "GET", origins=("https://a.com",), headers=("X-One",), max_age_s=60, cache_control="c1"
    )
    second = route("POST", origins=("https://b.com",), headers=("X-Two",), allow_credentials=True)
    third = route("PUT", origins=("https://a.com",), headers=("X-One",), max_age_s=30)
    merged = cors.merge([first, second, third])
    assert merged == cors.PathCors(
        origins=("https://a.com", "https://b.com"),
        headers=("X-One", "X-Two"),
        methods=("OPTIONS", "PUT", "POST", "GET"),
        allow_credentials=True,
        max_age_s=30,
        cache_control="c1",
    )


def test_the_default_headers_are_the_serverless_frameworks() -> None:
    headers = cors.preflight([route("GET", DEFAULT)], None)
    assert allow(headers, "Access-Control-Allow-Headers") == ",".join(DEFAULT_CORS_HEADERS)
    assert allow(headers, "Access-Control-Allow-Credentials") is None
    assert allow(headers, "Access-Control-Max-Age") is None


@pytest.mark.parametrize(
    ("config", "origin", "present", "added"),
    [
        pytest.param(
            DEFAULT,
            "https://a.com",
            [],
            [("Access-Control-Allow-Origin", "*")],
            id="a cors true route's response gets the star",
        ),
        pytest.param(
            settings(origins=("https://*.x.com",), allow_credentials=True),
            "https://app.x.com",
            [],
            [
                ("Access-Control-Allow-Origin", "https://app.x.com"),
                ("Access-Control-Allow-Credentials", "true"),
            ],
            id="a matching origin is echoed, with credentials, and no Vary",
        ),
        pytest.param(
            settings(origins=("https://a.com", "https://b.com")),
            "https://evil.com",
            [],
            [("Access-Control-Allow-Origin", "https://a.com")],
            id="an unlisted origin gets the first one",
        ),
        pytest.param(
            settings(allow_credentials=True),
            "https://a.com",
            [
                ("access-control-allow-origin", "https://mine.com"),
                ("Access-Control-Allow-Credentials", "false"),
            ],
            [],
            id="the function's own headers are kept",
        ),
    ],
)
def test_responses_of_cors_routes_get_the_origin_unless_the_function_set_it(
    config: CorsConfig,
    origin: str | None,
    present: list[tuple[str, str]],
    added: list[tuple[str, str]],
) -> None:
    assert cors.response_headers(config, origin, present) == added
