"""The router: API Gateway's priority rules, parameters, conflicts."""

from __future__ import annotations

import pytest

from skylet.errors import ConfigError
from skylet.gateway.routing import ANY, DEFAULT_ROUTE, Route, RouteTable


def table(*routes: tuple[str, str, str]) -> RouteTable:
    return RouteTable(Route(method, path, fn, "http_api") for method, path, fn in routes)


def served_by(t: RouteTable, method: str, path: str) -> str | None:
    match = t.match(method, path)
    return None if match is None else match.route.function


def test_literal_beats_parameter_beats_greedy() -> None:
    t = table(
        ("GET", "/users/me", "literal"),
        ("GET", "/users/{id}", "param"),
        ("GET", "/users/{proxy+}", "greedy"),
    )
    assert served_by(t, "GET", "/users/me") == "literal"
    assert served_by(t, "GET", "/users/42") == "param"
    assert served_by(t, "GET", "/users/42/posts") == "greedy"
    assert served_by(t, "GET", "/users") is None  # a greedy parameter needs a segment


def test_the_first_differing_segment_decides() -> None:
    t = table(("GET", "/{a}/b", "param-first"), ("GET", "/a/{b}", "literal-first"))
    assert served_by(t, "GET", "/a/b") == "literal-first"
    assert served_by(t, "GET", "/x/b") == "param-first"


def test_an_exact_method_beats_any_and_methods_must_match() -> None:
    t = table(("ANY", "/items", "any"), ("POST", "/items", "post"))
    assert served_by(t, "POST", "/items") == "post"
    assert served_by(t, "DELETE", "/items") == "any"
    assert served_by(table(("GET", "/only-get", "g")), "POST", "/only-get") is None


@pytest.mark.parametrize(
    ("path", "raw", "decoded"),
    [
        pytest.param("/files/plain", {"name": "plain"}, {"name": "plain"}, id="plain values"),
        pytest.param(
            "/files/a%2Fb%20c",
            {"name": "a%2Fb%20c"},
            {"name": "a/b c"},
            id="an encoded slash stays in one segment",
        ),
        pytest.param(
            "/all/x/y%20z",
            {"rest": "x/y%20z"},
            {"rest": "x/y z"},
            id="a greedy value keeps its slashes",
        ),
        pytest.param(
            "/all/a%2Fb/c",
            {"rest": "a%2Fb/c"},
            {"rest": "a/b/c"},
            id="a greedy value decodes an encoded slash",
        ),
        pytest.param(
            "/lit%65ral/x",
            {"id": "x"},
            {"id": "x"},
            id="literal segments are compared decoded",
        ),
    ],
)
def test_parameters_are_kept_as_sent_and_decoded_on_demand(
    path: str, raw: dict[str, str], decoded: dict[str, str]
) -> None:
    t = table(
        ("GET", "/files/{name}", "one"),
        ("GET", "/all/{rest+}", "greedy"),
        ("GET", "/literal/{id}", "literal"),
    )
    match = t.match("GET", path)
    assert match is not None
    assert match.raw_path_parameters == raw
    assert match.path_parameters == decoded


def test_default_route_catches_what_nothing_else_matches() -> None:
    t = RouteTable(
        [
            Route("GET", "/a", "a", "http_api"),
            Route(ANY, DEFAULT_ROUTE, "fallback", "http_api"),
        ]
    )
    assert served_by(t, "GET", "/a") == "a"
    assert served_by(t, "PUT", "/anything/else") == "fallback"
    assert t.match("PUT", "/x").route.route_key == "$default"  # type: ignore[union-attr]


def test_routes_that_match_the_same_requests_conflict() -> None:
    with pytest.raises(ConfigError, match=r"GET /a/\{y\} \(second\).*GET /a/\{x\} \(first\)"):
        table(("GET", "/a/{x}", "first"), ("GET", "/a/{y}", "second"))
    # Different methods, or a literal beside a parameter, do not conflict.
    table(("GET", "/a/{x}", "first"), ("POST", "/a/{y}", "second"), ("GET", "/a/b", "third"))


def test_root_and_trailing_slashes() -> None:
    t = table(("GET", "/", "root"), ("GET", "/x", "x"))
    assert served_by(t, "GET", "/") == "root"
    assert served_by(t, "GET", "/x/") == "x"
