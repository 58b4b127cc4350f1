"""The werkzeug request Cloud Functions style functions receive, built from the envelope (pure)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.exceptions import BadRequest, BadRequestKeyError, UnsupportedMediaType
from werkzeug.wrappers import Request

from skylet.worker import web
from skylet.worker.http_envelope import decode_request, encode_request


def make(
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
    method: str = "POST",
    query: str = "",
    host: str = "h",
    scheme: str = "http",
    path: str = "/p",
    raw_path: str = "/p",
) -> Request:
    payload = encode_request(
        method=method,
        path=path,
        raw_path=raw_path,
        query=query,
        headers=headers or [],
        remote_addr="10.0.0.1",
        scheme=scheme,
        host=host,
        body=body,
    )
    return web.request(decode_request(payload))


def json_request(body: bytes, content_type: str | None = "application/json") -> Request:
    return make(body, [] if content_type is None else [("content-type", content_type)])


def test_the_request_is_werkzeugs() -> None:
    request = make()
    assert type(request) is Request
    assert (request.method, request.path, request.remote_addr) == ("POST", "/p", "10.0.0.1")


def test_json_loads_once_and_caches_by_silence() -> None:
    request = json_request(b'{"a": 1}')
    first = request.get_json()
    assert first == {"a": 1} and request.get_json() is first and request.json is first
    assert request.get_json(silent=True) is first


def test_a_failed_strict_parse_does_not_poison_the_silent_one() -> None:
    request = json_request(b"{bad")
    with pytest.raises(BadRequest, match="Failed to decode JSON object"):
        request.get_json()
    assert request.get_json(silent=True) is None
    with pytest.raises(BadRequest):
        request.get_json()


def test_json_errors_are_http_errors_with_flasks_codes() -> None:
    with pytest.raises(UnsupportedMediaType) as unsupported:
        json_request(b"{}", "text/plain").get_json()
    assert unsupported.value.code == 415
    with pytest.raises(BadRequest) as bad:
        json_request(b"\xff").get_json()
    assert bad.value.code == 400
    assert json_request(b"[1]", None).get_json(force=True) == [1]
    assert json_request(b"[1]", None).get_json(force=True, cache=False) == [1]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], None),
        ([("content-length", "12")], 12),
        ([("content-length", "x")], 0),
        ([("content-length", "3"), ("transfer-encoding", "chunked")], None),
    ],
    ids=["absent", "given", "invalid", "chunked"],
)
def test_content_length_is_the_header_as_werkzeug_reads_it(
    headers: list[tuple[str, str]], expected: int | None
) -> None:
    assert make(b"abc", headers).content_length == expected


@pytest.mark.parametrize(
    "headers",
    [[], [("content-length", "1")], [("transfer-encoding", "chunked")]],
    ids=["no_length", "a_shorter_length", "chunked"],
)
def test_the_whole_body_is_read_whatever_the_length_header_says(
    headers: list[tuple[str, str]],
) -> None:
    assert make(b"abc", headers).get_data() == b"abc"


def test_a_form_body_is_read_into_form_unless_read_as_data_first() -> None:
    headers = [("content-type", "application/x-www-form-urlencoded")]
    form = make(b"a=1&a=2&b=", headers)
    assert form.data == b""  # as in werkzeug: a form's body goes to form, not data
    assert form.form.to_dict(flat=False) == {"a": ["1", "2"], "b": [""]}
    read_first = make(b"a=1&a=2&b=", headers)
    assert read_first.get_data() == b"a=1&a=2&b="
    assert read_first.form.to_dict() == {"a": "1", "b": ""}
    assert make(b"raw").data == b"raw"
    assert make(b"\xff").get_data(as_text=True) == "\ufffd"


def test_values_combine_args_and_form_except_for_get() -> None:
    headers = [("content-type", "application/x-www-form-urlencoded")]
    post = make(b"f=1", headers, method="POST", query="q=1")
    assert post.values.to_dict() == {"q": "1", "f": "1"}
    get = make(b"f=1", headers, method="get", query="q=1")
    assert get.method == "GET"
    assert get.values.to_dict() == {"q": "1"}


@pytest.fixture
def closes() -> Iterator[Callable[[Request], None]]:
    """Closes the requests it is given at the end of the test, as the instance closes each
    (their uploaded files are temporary files)."""
    requests: list[Request] = []
    yield requests.append
    for request in requests:
        request.close()


def multipart(*parts: bytes, boundary: bytes = b"B0UND") -> Request:
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    body += b"--" + boundary + b"--\r\n"
    content_type = f"multipart/form-data; boundary={boundary.decode()}"
    return make(body, [("content-type", content_type)])


def test_multipart_fields_are_text_and_files_keep_their_names_and_headers(
    closes: Callable[[Request], None],
) -> None:
    request = multipart(
        b'Content-Disposition: form-data; name="title"\r\n\r\n\xc3\xa9t\xc3\xa9',
        b'Content-Disposition: form-data; name="up"; filename="\xe2\x9c\x93.txt"\r\n'
        b"Content-Type: text/plain\r\nX-Extra: 1\r\n\r\nline\r\nline",
        b'Content-Disposition: form-data; name="empty"; filename=""\r\n\r\n',
    )
    closes(request)
    assert request.form.to_dict() == {"title": "été"}
    upload = request.files["up"]
    assert (upload.filename, upload.name, upload.mimetype) == ("✓.txt", "up", "text/plain")
    assert upload.headers["x-extra"] == "1"
    assert upload.read() == b"line\r\nline"
    empty = request.files["empty"]
    assert not empty and empty.read() == b""
    assert list(request.files) == ["up", "empty"]


def test_a_file_can_be_saved_to_a_path(tmp_path: Path, closes: Callable[[Request], None]) -> None:
    request = multipart(b'Content-Disposition: form-data; name="f"; filename="a"\r\n\r\n\x00\x01')
    closes(request)
    target = tmp_path / "saved"
    request.files["f"].save(target)
    assert target.read_bytes() == b"\x00\x01"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\n\r\n"),
        ("multipart/form-data; boundary=B", b"--B\r\nContent-Disposition: form-data; name=a\r\n"),
        ("multipart/form-data; boundary=B", b"garbage"),
        ("application/json", b'{"a": 1}'),
        (None, b"a=1"),
    ],
    ids=["no_boundary", "truncated", "garbage", "not_a_form", "no_content_type"],
)
def test_a_body_that_is_not_a_readable_form_gives_empty_form_and_files(
    content_type: str | None, body: bytes
) -> None:
    request = make(body, [] if content_type is None else [("content-type", content_type)])
    assert (len(request.form), len(request.files)) == (0, 0)


def test_cookies_parse_leniently_across_headers() -> None:
    request = make(headers=[("cookie", 'a=1; bad; b="x \\"y\\""'), ("cookie", "c=3; =skip")])
    assert request.cookies.to_dict() == {"a": "1", "bad": "", "b": 'x "y"', "c": "3"}


def test_repeated_headers_are_one_of_the_values_joined_as_wsgi_servers_join_them() -> None:
    request = make(headers=[("x-a", "1"), ("X-A", "2"), ("content-type", "text/plain")])
    assert request.headers.getlist("X-A") == ["1,2"]
    assert ("X-A", "1,2") in list(request.headers)
    assert ("Content-Type", "text/plain") in list(request.headers)
    assert "x-a" in request.headers and request.headers["x-A"] == "1,2"


def test_environ_has_cgi_keys_and_wsgi_strings() -> None:
    request = make(
        method="GET",
        path="/é",
        raw_path="/%C3%A9",
        headers=[("content-length", "0"), ("x-a", "1")],
        host="[::1]",
    )
    environ = request.environ
    assert environ["PATH_INFO"] == "/Ã©"  # UTF-8 bytes as latin-1 characters, as WSGI has it
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("[::1]", "80")
    assert (environ["CONTENT_LENGTH"], environ["HTTP_X_A"]) == ("0", "1")
    assert environ["RAW_URI"] == "/%C3%A9"
    assert environ["wsgi.input"].read() == b""
    assert (request.path, request.host, request.url) == ("/é", "[::1]", "http://[::1]/é")


def test_an_invoke_api_query_that_is_not_latin_1_is_read_as_utf_8() -> None:
    assert make(query="q=✓").args["q"] == "✓"


def test_args_give_first_values_and_convert_with_type() -> None:
    values = make(query="n=1&n=x&m=2").args
    assert (values["n"], values.get("n", type=int), values.get("absent", 7)) == ("1", 1, 7)
    assert values.get("n", default=0, type=float) == 1.0
    assert make(query="n=x").args.get("n", default=-1, type=int) == -1
    assert values.getlist("n", type=int) == [1]
    assert (list(values), len(values), "m" in values) == (["n", "m"], 2, True)
    assert list(values.items(multi=True)) == [("n", "1"), ("n", "x"), ("m", "2")]
    # What json.dumps(request.args) gives in Flask: the first values.
    assert json.dumps(values) == '{"n": "1", "m": "2"}'
    with pytest.raises(TypeError, match="immutable"):
        values["n"] = "2"
    with pytest.raises(BadRequestKeyError) as missing:
        values["absent"]
    assert isinstance(missing.value, KeyError) and missing.value.code == 400


def test_the_zygote_imports_werkzeug_but_not_flask() -> None:
    code = (
        "import sys, skylet.worker.zygote, skylet\n"
        "skylet.Response\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'werkzeug'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert result.stdout == b"['werkzeug']\n"


def test_a_request_imports_nothing_the_zygote_has_not() -> None:
    """What a request, its form, JSON, cookies, errors and responses need is imported once, by
    the zygote, not by every instance on its first request."""
    code = """
import sys
import skylet.worker.zygote
from skylet.worker import web
from skylet.worker.http_envelope import EnvelopeRequest

before = set(sys.modules)
multipart = (
    b'--b\\r\\nContent-Disposition: form-data; name="f"; filename="f.txt"\\r\\n'
    b"Content-Type: text/plain\\r\\n\\r\\nx\\r\\n--b--\\r\\n"
)
for content_type, body in [
    ("multipart/form-data; boundary=b", multipart),
    ("application/x-www-form-urlencoded", b"a=1"),
    ("application/json", b"[1]"),
]:
    headers = (("content-type", content_type), ("cookie", "c=1"), ("user-agent", "u"))
    envelope = EnvelopeRequest("POST", "/p", "/p", "q=1", headers, "", "http", "h", body)
    request = web.request(envelope)
    _ = request.files, request.form, request.values, request.cookies, request.url
    _ = request.get_json(silent=True), request.user_agent.string, request.access_route
    try:
        request.args["missing"]
    except KeyError as error:
        web.exception_response(error)
    web.http_response(({"a": 1}, 201, {"X": "1"}))
    web.http_response(web.Response("x", mimetype="text/plain"))
print(sorted(set(sys.modules) - before))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert result.stdout == b"[]\n", result.stdout.decode()
