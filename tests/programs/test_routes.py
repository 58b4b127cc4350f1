"""Which Knative Service a request names: by Host header, or by path prefix."""

from __future__ import annotations

import pytest

from skylet.programs.routes import find

NAMES = {"hello", "shop"}


def scope(path: str, host: str = "127.0.0.1:9000") -> dict[str, object]:
    return {"path": path, "headers": [(b"host", host.encode())]}


@pytest.mark.parametrize(
    ("request_scope", "expected"),
    [
        pytest.param(
            scope("/x", "hello.default.example.com"), ("hello", "/x"), id="knative's default domain"
        ),
        pytest.param(
            scope("/", "shop.prod.example.com:80"), ("shop", "/"), id="any namespace, any port"
        ),
        pytest.param(
            scope("/a", "hello.default.svc.cluster.local"),
            ("hello", "/a"),
            id="the cluster-local name",
        ),
        pytest.param(
            scope("/", "HELLO.localhost:9000"), ("hello", "/"), id="name.localhost, any case"
        ),
        pytest.param(
            scope("/_skylet/services/hello/a/b"),
            ("hello", "/a/b"),
            id="the path prefix is taken off",
        ),
        pytest.param(
            scope("/_skylet/services/hello"), ("hello", "/"), id="the prefix alone is the root"
        ),
        pytest.param(
            scope("/_skylet/services/nope/a"), None, id="an unknown name under the prefix is none"
        ),
        pytest.param(scope("/x", "other.default.example.com"), None, id="an unknown host is none"),
        pytest.param(
            scope("/x", "hello.example.com"), None, id="a host without a namespace is none"
        ),
        pytest.param(scope("/x"), None, id="a plain request is none"),
    ],
)
def test_find(request_scope: dict[str, object], expected: tuple[str, str] | None) -> None:
    assert find(request_scope, NAMES) == expected
