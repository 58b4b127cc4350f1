"""The request object of Cloud Functions style functions and its containers (pure)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from skylet.worker.http_envelope import decode_request, encode_request
from skylet.worker.web import (
    BadRequest,
    BadRequestKeyError,
    Headers,
    MultiDict,
    Request,
    UnsupportedMediaType,
)
from skylet.worker.web.forms import parse


def make(
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
    method: str = "POST",
    query: str = "",
    host: str = "h",
    scheme: str = "http",
) -> Request:
    payload = encode_request(
        method=method,
        path="/p",
        raw_path="/p",
        query=query,
        headers=headers or [],
        remote_addr="10.0.0.1",
        scheme=scheme,
        host=host,
        body=body,
    )
    return Request(decode_request(payload))


def json_request(body: bytes, content_type: str | None = "application/json") -> Request:
    return make(body, [] if content_type is None else [("content-type", content_type)])


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
        ([("content-length", "x")], None),
        ([("content-length", "3"), ("transfer-encoding", "chunked")], None),
    ],
    ids=["absent", "given", "invalid", "chunked"],
)
def test_content_length_is_the_header_as_werkzeug_reads_it(
    headers: list[tuple[str, str]], expected: int | None
) -> None:
    assert make(b"abc", headers).content_length == expected


def test_form_bodies_are_not_data_but_get_data_keeps_them() -> None:
    form = make(b"a=1&a=2&b=", [("content-type", "application/x-www-form-urlencoded")])
    assert form.form.to_dict(flat=False) == {"a": ["1", "2"], "b": [""]}
    assert form.data == b""
    assert form.get_data() == b"a=1&a=2&b="
    assert form.get_data(parse_form_data=True) == b""
    assert make(b"raw").data == b"raw"
    assert make(b"\xff").get_data(as_text=True) == "\ufffd"


def test_values_combine_args_and_form_except_for_get() -> None:
    headers = [("content-type", "application/x-www-form-urlencoded")]
    post = make(b"f=1", headers, method="POST", query="q=1")
    assert post.values.to_dict() == {"q": "1", "f": "1"}
    get = make(b"f=1", headers, method="get", query="q=1")
    assert get.method == "GET"
    assert get.values.to_dict() == {"q": "1"}


def multipart(*parts: bytes, boundary: bytes = b"B0UND") -> Request:
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    body += b"--" + boundary + b"--\r\n"
    content_type = f"multipart/form-data; boundary={boundary.decode()}"
    return make(body, [("content-type", content_type)])


def test_multipart_fields_honour_a_part_charset_and_files_keep_their_headers() -> None:
    request = multipart(
        b'Content-Disposition: form-data; name="latin"\r\n'
        b"Content-Type: text/plain; charset=latin-1\r\n\r\n\xe9t\xe9",
        b'Content-Disposition: form-data; name="up"; filename="\xe2\x9c\x93.txt"\r\n'
        b"Content-Type: text/plain\r\nX-Extra: 1\r\n\r\nline\r\nline",
        b'Content-Disposition: form-data; name="empty"; filename=""\r\n\r\n',
        b"Content-Disposition: form-data\r\n\r\nnameless, dropped",
    )
    assert request.form.to_dict() == {"latin": "été"}
    upload = request.files["up"]
    assert (upload.filename, upload.name, upload.mimetype) == ("✓.txt", "up", "text/plain")
    assert upload.headers["x-extra"] == "1"
    assert upload.read() == b"line\r\nline"
    empty = request.files["empty"]
    assert not empty and empty.read() == b""
    assert list(request.files) == ["up", "empty"]


def test_a_file_can_be_saved_to_a_path(tmp_path: Path) -> None:
    request = multipart(b'Content-Disposition: form-data; name="f"; filename="a"\r\n\r\n\x00\x01')
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
    form, files = parse(content_type, body)
    assert (form, files) == (MultiDict(), MultiDict())


def test_cookies_parse_leniently_across_headers() -> None:
    request = make(headers=[("cookie", 'a=1; bad; b="x \\"y\\""'), ("cookie", "c=3; =skip")])
    assert request.cookies.to_dict() == {"a": "1", "b": 'x "y"', "c": "3"}


def test_environ_has_cgi_keys_and_wsgi_strings() -> None:
    payload = encode_request(
        method="GET",
        path="/é",
        raw_path="/%C3%A9",
        query="",
        headers=[("content-length", "0"), ("x-a", "1")],
        remote_addr="::1",
        scheme="http",
        host="[::1]",
        body=b"",
    )
    environ = Request(decode_request(payload)).environ
    assert environ["PATH_INFO"] == "/Ã©"  # UTF-8 bytes as latin-1 characters, as WSGI has it
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("[::1]", "80")
    assert (environ["CONTENT_LENGTH"], environ["HTTP_X_A"]) == ("0", "1")
    assert environ["wsgi.input"].read() == b""


def test_a_multidict_gives_first_values_and_converts_with_type() -> None:
    values = MultiDict([("n", "1"), ("n", "x"), ("m", "2")])
    assert (values["n"], values.get("n", type=int), values.get("absent", 7)) == ("1", 1, 7)
    assert values.get("n", default=0, type=float) == 1.0
    assert MultiDict([("n", "x")]).get("n", default=-1, type=int) == -1
    assert values.getlist("n", type=int) == [1]
    assert (list(values), len(values), "m" in values) == (["n", "m"], 2, True)
    assert values.items(multi=True) == [("n", "1"), ("n", "x"), ("m", "2")]
    assert values == {"n": "1", "m": "2"}
    # A dict of first values, as werkzeug's: what json.dumps(request.args) gives in Flask.
    assert json.dumps(values) == '{"n": "1", "m": "2"}'
    with pytest.raises(TypeError, match="read-only"):
        values["n"] = "2"
    with pytest.raises(BadRequestKeyError) as missing:
        values["absent"]
    assert isinstance(missing.value, KeyError) and missing.value.code == 400


def test_headers_are_case_insensitive_iterate_in_pairs_and_can_change() -> None:
    headers = Headers([("Set-Cookie", "a"), ("set-cookie", "b"), ("X-One", "1")])
    assert headers.getlist("SET-COOKIE") == ["a", "b"]
    assert list(headers) == [("Set-Cookie", "a"), ("set-cookie", "b"), ("X-One", "1")]
    headers["x-one"] = 2
    headers.update({"Set-Cookie": ["c", "d"]})
    assert headers.items() == [("x-one", "2"), ("Set-Cookie", "c"), ("Set-Cookie", "d")]
    del headers["X-ONE"]
    assert "x-one" not in headers and len(headers) == 2
    with pytest.raises(KeyError):
        del headers["x-one"]


def test_the_worker_imports_neither_flask_nor_werkzeug() -> None:
    code = (
        "import sys, skylet.worker.zygote, skylet\n"
        "skylet.Response\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert result.stdout == b"[]\n"
