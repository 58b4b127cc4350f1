"""Cloud Functions style functions (``style: http``) in real instances through the invoker: the
request object, forms and files, Flask's return forms, JSON semantics, errors, async handlers
and functions written for functions-framework."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import pytest

from skylet.errors import InvalidRequestContent
from skylet.invoker.invoker import Invoker
from tests.runtime_fixtures import FUNCTIONS, fn, requirements_dir, running
from tests.worker.http_client import REMOTE, answer, envelope

pytestmark = pytest.mark.anyio

HANDLERS = [
    "echo",
    "forms",
    "binary",
    "returns",
    "json_modes",
    "raises",
    "missing_arg",
    "async_echo",
    "async_raises",
    "aborts",
]


@pytest.fixture(scope="module")
async def invoker() -> AsyncIterator[Invoker]:
    # Those two import werkzeug themselves: they declare it, as on Cloud Functions.
    own = {"returns", "aborts"}
    functions = [
        fn(name, f"http_handlers.{name}", style="http")
        if name not in own
        else fn(
            name, f"http_handlers.{name}", style="http", extra_path=(requirements_dir("werkzeug"),)
        )
        for name in HANDLERS
    ]
    async with running(functions) as invoker:
        yield invoker


async def test_the_request_object_offers_werkzeugs_request_attributes(invoker: Invoker) -> None:
    payload = envelope(
        "POST",
        "http://fn.example:8080/a%20b/c%2Fd?n=1&n=x&n=3&empty=&sp=a+b",
        headers=[
            ("X-Custom", "one"),
            ("x-custom", "two"),
            ("Cookie", 'session=abc; quoted="a b"'),
            ("User-Agent", "tests/1.0"),
            ("X-Forwarded-For", "198.51.100.1, 10.0.0.1"),
        ],
        json={"k": ["v", 1]},
    )
    status, headers, body = answer(await invoker.invoke("echo", payload))
    assert status == 200
    assert headers["content-type"] == ["application/json"]
    got = json.loads(body)
    assert got["method"] == "POST"
    assert got["path"] == "/a b/c/d"
    assert got["full_path"] == "/a b/c/d?n=1&n=x&n=3&empty=&sp=a+b"
    # werkzeug's URLs quote the decoded path again: a sent %2F comes back as "/".
    assert got["url"] == "http://fn.example:8080/a%20b/c/d?n=1&n=x&n=3&empty=&sp=a+b"
    assert got["base_url"] == "http://fn.example:8080/a%20b/c/d"
    assert got["url_root"] == got["host_url"] == "http://fn.example:8080/"
    assert (got["host"], got["scheme"], got["is_secure"]) == ("fn.example:8080", "http", False)
    assert got["remote_addr"] == REMOTE
    assert got["access_route"] == ["198.51.100.1", "10.0.0.1"]
    assert got["query_string"] == "n=1&n=x&n=3&empty=&sp=a+b"
    assert got["args"] == {"n": ["1", "x", "3"], "empty": [""], "sp": ["a b"]}
    assert got["args_first"] == {"n": "1", "empty": "", "sp": "a b"}
    assert (got["n_as_int"], got["n_list_int"]) == (1, [1, 3])
    # One header of the values joined, as a WSGI server (gunicorn, werkzeug's) presents them.
    assert ["X-Custom", "one,two"] in got["headers"]
    assert (got["header_get"], got["header_list"], got["has_custom"]) == (
        "one,two",
        ["one,two"],
        True,
    )
    assert (got["content_type"], got["mimetype"]) == ("application/json", "application/json")
    assert got["content_length"] == len(b'{"k":["v",1]}')
    assert got["user_agent"] == "tests/1.0"
    assert got["cookies"] == {"session": "abc", "quoted": "a b"}
    assert (got["data"], got["is_json"], got["json"]) == ('{"k":["v",1]}', True, {"k": ["v", 1]})
    environ = got["environ"]
    assert (environ["REQUEST_METHOD"], environ["QUERY_STRING"]) == ("POST", got["query_string"])
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("fn.example", "8080")
    assert environ["HTTP_X_CUSTOM"] == "one,two"
    assert environ["CONTENT_TYPE"] == "application/json"


async def test_the_root_path_is_part_of_the_url_not_of_the_path(invoker: Invoker) -> None:
    payload = envelope("GET", "https://fn.example/inner?q=1", root_path="/fn/echo")
    got = json.loads(answer(await invoker.invoke("echo", payload))[2])
    assert (got["path"], got["script_root"]) == ("/inner", "/fn/echo")
    assert got["url"] == "https://fn.example/fn/echo/inner?q=1"
    assert got["url_root"] == "https://fn.example/fn/echo/"
    assert got["is_secure"] is True
    assert got["environ"]["SERVER_PORT"] == "443"
    assert got["content_length"] is None and got["json"] is None


async def test_an_urlencoded_form_fills_form_and_values(invoker: Invoker) -> None:
    payload = envelope("POST", "http://h/f?q=from-query", data={"a": ["1", "2"], "b": "é ✓"})
    got = json.loads(answer(await invoker.invoke("forms", payload))[2])
    assert got["form"] == {"a": ["1", "2"], "b": ["é ✓"]}
    assert got["values"] == {"q": ["from-query"], "a": ["1", "2"], "b": ["é ✓"]}
    assert got["files"] == {}
    assert got["data"] == ""  # as werkzeug: a form's body is read into form, not data


async def test_a_multipart_form_gives_fields_and_binary_files(invoker: Invoker) -> None:
    raw = bytes(range(256)) + b"\r\n--not-the-boundary\r\n"
    payload = envelope(
        "POST",
        "http://h/upload",
        data={"title": "Résumé", "tags": ["a", "b"]},
        files=[
            ("doc", ("résumé.bin", raw, "application/octet-stream")),
            ("doc", ("notes.txt", b"hello\n", "text/plain")),
        ],
    )
    got = json.loads(answer(await invoker.invoke("forms", payload))[2])
    assert got["form"] == {"title": ["Résumé"], "tags": ["a", "b"]}
    first, second = got["files"]["doc"]
    assert (first["filename"], first["content_type"]) == ("résumé.bin", "application/octet-stream")
    assert base64.b64decode(first["base64"]) == raw
    assert (second["filename"], second["size"]) == ("notes.txt", 6)
    assert got["data"] == ""


async def test_a_binary_body_crosses_both_ways_unchanged(invoker: Invoker) -> None:
    raw = bytes(range(256)) * 64 + b"\n\r\n"
    payload = envelope("PUT", "http://h/bin", content=raw, headers={"content-type": "image/png"})
    status, headers, body = answer(await invoker.invoke("binary", payload))
    assert (status, headers["content-type"], body) == (200, ["application/octet-stream"], raw[::-1])


RETURN_FORMS = [
    ("str", 200, "text/html; charset=utf-8", b"<p>hello</p>"),
    ("unicode", 200, "text/html; charset=utf-8", "héllo ✓".encode()),
    ("bytes", 200, "text/html; charset=utf-8", b"\x00\xffraw"),
    ("list", 200, "application/json", b'[1,"two",null]\n'),
    ("status", 201, "text/html; charset=utf-8", b"made"),
    ("status_text", 202, "text/html; charset=utf-8", b"made"),
    ("headers", 200, "text/html; charset=utf-8", b"with headers"),
    ("header_list", 200, "text/html; charset=utf-8", b"listed"),
    ("all", 418, "text/x-tea", b'{"pot":"tea"}\n'),
    ("generator", 200, "text/html; charset=utf-8", b"abc"),
    ("response", 404, "text/plain; charset=utf-8", b"plain text"),
    ("response_tuple", 203, "text/html; charset=utf-8", b"base"),
    ("werkzeug", 202, "text/plain; charset=utf-8", b"from werkzeug"),
]


@pytest.mark.parametrize(
    ("form", "status", "content_type", "body"), RETURN_FORMS, ids=[r[0] for r in RETURN_FORMS]
)
async def test_return_values_follow_flasks_rules(
    invoker: Invoker, form: str, status: int, content_type: str, body: bytes
) -> None:
    if form == "werkzeug":
        pytest.importorskip("werkzeug", reason="werkzeug is not installed")
    result = await invoker.invoke("returns", envelope("GET", f"http://h/?form={form}"))
    got_status, headers, got_body = answer(result)
    assert (got_status, headers["content-type"], got_body) == (status, [content_type], body)
    assert "content-length" not in headers


async def test_headers_from_return_values_and_response_objects_arrive(invoker: Invoker) -> None:
    async def headers_of(form: str) -> dict[str, list[str]]:
        return answer(await invoker.invoke("returns", envelope("GET", f"http://h/?form={form}")))[1]

    assert (await headers_of("headers"))["x-many"] == ["a", "b"]
    assert (await headers_of("headers"))["x-one"] == ["1"]
    assert (await headers_of("header_list"))["x-listed"] == ["yes"]
    assert (await headers_of("all"))["x-pot"] == ["tea"]
    own = await headers_of("response")
    assert own["x-own"] == ["yes"]
    (cookie,) = own["set-cookie"]
    assert cookie.startswith('session="a b"; Expires=') and cookie.endswith(
        " GMT; Max-Age=60; HttpOnly; Path=/; SameSite=Lax"
    )
    combined = await headers_of("response_tuple")
    assert (combined["x-base"], combined["x-extra"]) == (["1"], ["2"])


async def test_a_dict_is_jsonified_as_flask_does(invoker: Invoker) -> None:
    body = answer(await invoker.invoke("returns", envelope("GET", "http://h/?form=dict")))[2]
    assert body == (
        b'{"a":"\\u00e9","amount":"1.50","b":1,"id":"12345678-1234-5678-1234-567812345678",'
        b'"point":{"x":1,"y":2},"when":"Tue, 02 Jan 2024 03:04:05 GMT"}\n'
    )


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ("none", "The function either returned None or ended without a return statement."),
        ("int", "but it was a int."),
        ("four", "The tuple must have the form (body, status, headers)"),
        ("not_json", "Object of type set is not JSON serializable"),
    ],
)
async def test_an_invalid_return_value_is_a_function_error(
    invoker: Invoker, form: str, message: str
) -> None:
    result = await invoker.invoke("returns", envelope("GET", f"http://h/?form={form}"))
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == "TypeError"
    assert message in error["errorMessage"]


@pytest.mark.parametrize(
    ("mode", "content_type", "body", "status", "expected"),
    [
        ("strict", "application/json", b'{"a": 1}', 200, {"json": {"a": 1}}),
        ("strict", "application/vnd.api+json", b"[1]", 200, {"json": [1]}),
        ("strict", "text/plain", b'{"a": 1}', 415, None),
        ("strict", None, b"", 415, None),
        ("strict", "application/json", b"{nope", 400, None),
        ("strict", "application/json", b"", 400, None),
        ("property", "text/plain", b"1", 415, None),
        ("property", "application/json", b"2", 200, {"json": 2}),
        ("silent", "text/plain", b'{"a": 1}', 200, {"json": None}),
        ("silent", "application/json", b"{nope", 200, {"json": None}),
        ("force", "text/plain", b'{"a": 1}', 200, {"json": {"a": 1}}),
        ("force", "text/plain", b"{nope", 400, None),
    ],
    ids=[
        "json_parses",
        "plus_json_parses",
        "text_is_415",
        "no_type_is_415",
        "bad_json_is_400",
        "empty_json_is_400",
        "property_text_is_415",
        "property_parses",
        "silent_text_is_none",
        "silent_bad_json_is_none",
        "force_ignores_type",
        "force_bad_json_is_400",
    ],
)
async def test_get_json_follows_flask(
    invoker: Invoker,
    mode: str,
    content_type: str | None,
    body: bytes,
    status: int,
    expected: object,
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    payload = envelope("POST", f"http://h/?mode={mode}", content=body, headers=headers)
    got_status, got_headers, got_body = answer(await invoker.invoke("json_modes", payload))
    assert got_status == status
    if expected is not None:
        assert json.loads(got_body) == expected
    else:
        assert got_headers["content-type"] == ["text/html; charset=utf-8"]
        assert f"<title>{status} " in got_body.decode()


async def test_an_exception_is_a_function_error_logged_with_its_traceback(
    invoker: Invoker,
) -> None:
    before = json.loads(answer(await invoker.invoke("echo", envelope("GET", "http://h/")))[2])
    result = await invoker.invoke("raises", envelope("GET", "http://h/p"), request_id="r-raise")
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "cf boom on /p")
    assert error["requestId"] == "r-raise"
    assert error["stackTrace"][0].startswith(f'  File "{FUNCTIONS}/http_handlers.py", line ')
    assert "[ERROR] ValueError: cf boom on /p" in result.log
    assert "Traceback (most recent call last):" in result.log
    # The instance that raised lives on, as Flask's worker does.
    again = await invoker.invoke("raises", envelope("GET", "http://h/q"))
    assert not again.cold
    after = json.loads(answer(await invoker.invoke("echo", envelope("GET", "http://h/")))[2])
    assert after["instance"] == before["instance"]


async def test_a_missing_args_key_is_answered_400_not_a_function_error(invoker: Invoker) -> None:
    status, _, body = answer(await invoker.invoke("missing_arg", envelope("GET", "http://h/")))
    assert status == 400
    assert "<title>400 Bad Request</title>" in body.decode()


async def test_werkzeugs_abort_is_answered_with_its_status(invoker: Invoker) -> None:
    pytest.importorskip("werkzeug", reason="werkzeug is not installed")
    payload = envelope("GET", "http://h/?code=404")
    status, headers, body = answer(await invoker.invoke("aborts", payload))
    assert (status, headers["content-type"]) == (404, ["text/html; charset=utf-8"])
    assert b"nothing here" in body
    payload = envelope("GET", "http://h/?code=403")
    assert answer(await invoker.invoke("aborts", payload))[0] == 403


async def test_async_handlers_are_awaited(invoker: Invoker) -> None:
    payload = envelope("POST", "http://h/", json={"x": 1})
    got = json.loads(answer(await invoker.invoke("async_echo", payload))[2])
    assert got == {"method": "POST", "json": {"x": 1}, "loop": "running"}
    result = await invoker.invoke("async_raises", envelope("GET", "http://h/"))
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorType"] == "KeyError"


async def test_a_payload_that_is_not_an_http_envelope_is_refused(invoker: Invoker) -> None:
    with pytest.raises(InvalidRequestContent, match="Not an HTTP request envelope"):
        await invoker.invoke("echo", b'{"plain": "lambda event"}')


async def test_handler_loading_errors_keep_lambdas_error_types() -> None:
    async with running([fn("gone", "http_handlers.missing", style="http")]) as invoker:
        result = await invoker.invoke("gone", envelope("GET", "http://h/"))
    error = json.loads(result.payload)
    assert result.function_error == "Unhandled"
    assert error["errorType"] == "Runtime.HandlerNotFound"
    assert error["errorMessage"] == "Handler 'missing' missing on module 'http_handlers'"


async def test_a_functions_framework_http_function_runs_unchanged() -> None:
    pytest.importorskip(
        "functions_framework",
        reason="functions-framework is not installed (pip install -e '.[test]')",
    )
    deps = (requirements_dir("functions-framework"),)
    config = fn("ff", "ff_handlers.hello_http", style="http", timeout_s=30.0, extra_path=deps)
    async with running([config]) as invoker:
        by_arg = await invoker.invoke("ff", envelope("GET", "http://h/?name=skylet"))
        by_json = await invoker.invoke("ff", envelope("POST", "http://h/", json={"name": "json"}))
    status, headers, body = answer(by_arg)
    assert (status, headers["x-framework"]) == (200, ["functions-framework"])
    assert json.loads(body) == {"message": "Hello, skylet!"}
    assert json.loads(answer(by_json)[2]) == {"message": "Hello, json!"}
