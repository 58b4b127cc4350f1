"""HTTP functions end to end: API Gateway events and response mapping, CORS, limits, and Cloud
Functions / CloudEvent style functions, through a real ``skylet up`` and real HTTP clients."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import time

import httpx
import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent

from tests.e2e.conftest import (
    SKYLET,
    Server,
    declare_requirements,
    free_port,
    module_server,
)

pytestmark = pytest.mark.e2e

MANIFEST = """
service: web
stage: test
functions:
  echo:
    handler: web_handlers.echo_event
    events:
      - http_api:
          method: GET
          path: "/v2/users/{id}"
      - http_api:
          method: POST
          path: /v2/items
      - http:
          method: GET
          path: "/v1/users/{id}"
      - http:
          method: ANY
          path: "/v1/files/{proxy+}"
  shaped:
    handler: web_handlers.shaped
    timeout_s: 1
    events:
      - http_api:
          method: GET
          path: /shape
      - http:
          method: GET
          path: /rest/shape
          cors: true
  cf:
    handler: web_handlers.cf_echo
    style: http
  forms:
    handler: web_handlers.cf_forms
    style: http
    events:
      - http_api:
          method: ANY
          path: /forms
  cfasync:
    handler: web_handlers.cf_async
    style: http
  ce:
    handler: web_handlers.cf_event
    style: cloudevent
  ff:
    handler: ff_handlers.ff_http
    code: ff
    style: http
  flaskish:
    handler: ff_handlers.ff_flask
    code: ff
    style: http
  ffevent:
    handler: ff_handlers.ff_event
    code: ff
    style: cloudevent
"""


# The functions-framework functions declare it (ff/requirements.txt), as on Cloud Functions.
server = module_server(
    "web", MANIFEST, prepare=lambda d: declare_requirements(d, "ff", "functions-framework")
)


def test_http_api_event_has_every_field_api_gateway_sends(server: Server) -> None:
    response = httpx.get(
        f"{server.url}/v2/users/42?a=1&a=2&b=x%20y",
        headers=[("X-Dup", "1"), ("X-Dup", "2"), ("Cookie", "c1=v1; c2=v2"), ("User-Agent", "t/1")],
    )
    assert response.status_code == 200
    assert response.headers["apigw-requestid"]
    event = response.json()
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /v2/users/{id}"
    assert event["rawPath"] == "/v2/users/42"
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-dup"] == "1,2"
    assert event["headers"]["user-agent"] == "t/1"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["pathParameters"] == {"id": "42"}
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    assert "stageVariables" not in event
    assert "x-forwarded-for" not in event["headers"]  # only REST APIs add forwarding headers
    context = event["requestContext"]
    assert context["http"] == {
        "method": "GET",
        "path": "/v2/users/42",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "t/1",
    }
    assert context["routeKey"] == "GET /v2/users/{id}"
    assert context["stage"] == "$default"
    assert context["accountId"] == "000000000000"
    assert context["domainName"] == f"{context['apiId']}.execute-api.us-east-1.amazonaws.com"
    assert context["domainPrefix"] == context["apiId"]
    assert context["requestId"] == response.headers["apigw-requestid"]
    assert abs(context["timeEpoch"] / 1000 - time.time()) < 60
    assert context["time"].endswith(" +0000")


def test_http_api_paths_and_parameters_arrive_decoded(server: Server) -> None:
    event = httpx.get(f"{server.url}/v2/users/a%20b%2Fc").json()
    assert event["rawPath"] == "/v2/users/a b/c"
    assert event["requestContext"]["http"]["path"] == "/v2/users/a b/c"
    assert event["pathParameters"] == {"id": "a b/c"}


def test_http_api_bodies_are_text_or_base64_by_content_type(server: Server) -> None:
    text = httpx.post(f"{server.url}/v2/items", json={"k": "v"}).json()
    assert (text["body"], text["isBase64Encoded"]) == ('{"k":"v"}', False)
    raw = b"\x00\xffbinary"
    binary = httpx.post(
        f"{server.url}/v2/items", content=raw, headers={"content-type": "application/octet-stream"}
    ).json()
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == raw
    form = httpx.post(f"{server.url}/v2/items", data={"a": "1"}).json()
    assert (form["body"], form["isBase64Encoded"]) == (base64.b64encode(b"a=1").decode(), True)
    problem = httpx.post(
        f"{server.url}/v2/items",
        content=b"{}",
        headers={"content-type": "application/problem+json"},
    ).json()
    assert (problem["body"], problem["isBase64Encoded"]) == ("e30=", True)


def test_rest_api_event_has_multi_value_fields_and_the_stage(server: Server) -> None:
    response = httpx.get(
        f"{server.url}/v1/users/7?x=1&x=2", headers=[("X-Dup", "1"), ("X-Dup", "2")]
    )
    event = response.json()
    assert response.headers["x-amzn-requestid"] == event["requestContext"]["requestId"]
    assert response.headers["x-amz-apigw-id"] == event["requestContext"]["extendedRequestId"]
    assert event["resource"] == "/v1/users/{id}"
    assert event["path"] == "/v1/users/7"
    assert event["httpMethod"] == "GET"
    assert event["queryStringParameters"] == {"x": "2"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["multiValueHeaders"]["x-dup"] == ["1", "2"]
    assert event["headers"]["x-dup"] == "2"
    headers = event["headers"]
    assert "content-length" not in {name.lower() for name in headers}
    assert "connection" not in {name.lower() for name in headers}
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Forwarded-Port"] == str(server.port)
    assert headers["X-Forwarded-Proto"] == "http"
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", headers["X-Amzn-Trace-Id"])
    assert event["pathParameters"] == {"id": "7"}
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "test"
    assert context["path"] == "/test/v1/users/7"
    assert context["resourcePath"] == "/v1/users/{id}"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["cognitoIdentityId"] is None
    assert "apiKey" not in context["identity"] and "apiKeyId" not in context["identity"]
    assert context["domainName"] == f"127.0.0.1:{server.port}"
    assert re.fullmatch(r"[0-9a-f]{6}", context["deploymentId"])
    assert isinstance(context["requestTimeEpoch"], int)
    again = httpx.get(f"{server.url}/v1/users/8").json()["requestContext"]
    assert again["deploymentId"] == context["deploymentId"]
    assert again["extendedRequestId"] != context["extendedRequestId"]


def test_rest_api_paths_and_parameters_stay_percent_encoded(server: Server) -> None:
    event = httpx.get(f"{server.url}/v1/users/a%20b%2Fc").json()
    assert event["path"] == "/v1/users/a%20b%2Fc"
    assert event["requestContext"]["path"] == "/test/v1/users/a%20b%2Fc"
    assert event["pathParameters"] == {"id": "a%20b%2Fc"}


def test_a_rest_api_also_answers_at_its_aws_url_which_starts_with_the_stage(
    server: Server,
) -> None:
    event = httpx.get(f"{server.url}/test/v1/users/7").json()
    assert event["path"] == "/v1/users/7"  # as on AWS's execute-api domain
    assert event["resource"] == "/v1/users/{id}"
    assert event["requestContext"]["path"] == "/test/v1/users/7"
    assert event["pathParameters"] == {"id": "7"}
    preflight = httpx.options(f"{server.url}/test/rest/shape", headers={"Origin": "http://a.test"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-methods"] == "OPTIONS,GET"
    # An HTTP API's stage is $default: its routes have no such second address.
    assert httpx.get(f"{server.url}/test/v2/users/7").status_code == 404


def test_greedy_path_parameters_keep_slashes_and_stay_encoded_in_1_0(server: Server) -> None:
    event = httpx.delete(f"{server.url}/v1/files/a/b%20c/d.txt").json()
    assert event["pathParameters"] == {"proxy": "a/b%20c/d.txt"}
    assert event["httpMethod"] == "DELETE"


@pytest.mark.parametrize(
    ("kind", "status", "content_type", "body"),
    [
        ("plain", 200, "application/json", b'{"hello": "world"}'),
        ("string", 200, "application/json", b'"just a string"'),
        ("binary", 200, "image/png", b"\x89PNG\x00\xff"),
        ("default", 200, "text/plain; charset=utf-8", b"ok"),
        ("malformed", 500, "application/json", b'{"message":"Internal Server Error"}'),
        ("raise", 500, "application/json", b'{"message":"Internal Server Error"}'),
        ("slow", 503, "application/json", b'{"message":"Service Unavailable"}'),
        ("unusual", 202, "text/plain; charset=utf-8", b"odd"),
        ("unsendable", 500, "application/json", b'{"message":"Internal Server Error"}'),
        ("unserialisable", 500, "application/json", b'{"message":"Internal Server Error"}'),
    ],
)
def test_http_api_responses_map_as_api_gateway_maps_them(
    server: Server, kind: str, status: int, content_type: str, body: bytes
) -> None:
    response = httpx.get(f"{server.url}/shape?kind={kind}", timeout=30)
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    assert response.content == body
    assert response.headers["apigw-requestid"]
    assert "x-amzn-errortype" not in response.headers


@pytest.mark.parametrize("path", ["/shape", "/rest/shape"])
def test_a_204_or_304_reaches_the_client_without_a_body_on_a_kept_alive_connection(
    server: Server, path: str
) -> None:
    # Pipelined on one connection: a stray body would be read as the next response's start.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        for status in (204, 304):
            s.sendall(
                f"GET {path}?kind=nocontent&status={status} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            )
        s.sendall(f"GET {path}?kind=default HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received = b""
        while not received.endswith(b"\r\n\r\nok"):
            chunk = s.recv(65536)
            assert chunk, received
            received += chunk
    heads = received.split(b"\r\n\r\n")
    assert heads[0].startswith(b"HTTP/1.1 204 ")
    assert heads[1].startswith(b"HTTP/1.1 304 ")
    assert heads[2].startswith(b"HTTP/1.1 200 ")
    for head in heads[:2]:
        assert b"content-length" not in head.lower()
    assert heads[3] == b"ok"


def test_a_1xx_status_from_the_function_is_a_malformed_response(server: Server) -> None:
    assert httpx.get(f"{server.url}/shape?kind=interim").status_code == 500
    assert httpx.get(f"{server.url}/rest/shape?kind=interim").status_code == 502


def test_a_result_is_read_as_api_gateway_reads_lambdas_json(server: Server) -> None:
    # A Decimal status and a tuple of cookies are what json.dumps makes an int and a list.
    response = httpx.get(f"{server.url}/shape?kind=unusual")
    assert response.headers.get_list("set-cookie") == ["t=1"]


def test_the_lambda_request_id_is_a_uuid_of_its_own(server: Server) -> None:
    response = httpx.get(f"{server.url}/shape?kind=ids")
    lambda_id = response.text
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", lambda_id)
    assert lambda_id != response.headers["apigw-requestid"]
    rest = httpx.get(f"{server.url}/rest/shape?kind=ids")
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", rest.text)
    assert rest.text != rest.headers["x-amzn-requestid"]


def test_multi_value_headers_and_cookies_become_repeated_headers(server: Server) -> None:
    response = httpx.get(f"{server.url}/shape?kind=multi")
    assert response.status_code == 201
    assert response.headers["x-one"] == "1"
    assert response.headers.get_list("x-many") == ["a", "b"]
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2; Path=/"]
    assert response.text == "made"


@pytest.mark.parametrize(
    ("kind", "status", "content_type", "body", "error_type"),
    [
        ("default", 200, "application/json", b"ok", None),
        ("plain", 502, "application/json", b'{"message": "Internal server error"}', "Internal"),
        ("malformed", 502, "application/json", b'{"message": "Internal server error"}', "Internal"),
        ("raise", 502, "application/json", b'{"message": "Internal server error"}', "Internal"),
        ("slow", 504, "application/json", b'{"message": "Endpoint request timed out"}', None),
    ],
)
def test_rest_api_responses_and_errors_use_the_rest_api_forms(
    server: Server, kind: str, status: int, content_type: str, body: bytes, error_type: str | None
) -> None:
    response = httpx.get(f"{server.url}/rest/shape?kind={kind}", timeout=30)
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    assert response.content == body
    assert response.headers["x-amzn-requestid"]
    assert response.headers["x-amz-apigw-id"]
    assert "apigw-requestid" not in response.headers
    if error_type is None:
        assert "x-amzn-errortype" not in response.headers
    else:
        assert response.headers["x-amzn-errortype"] == f"{error_type}ServerErrorException"


def test_unknown_routes_get_api_gateways_not_found(server: Server) -> None:
    response = httpx.get(f"{server.url}/no/such/route")
    assert response.status_code == 404
    assert response.content == b'{"message":"Not Found"}'
    assert response.headers["apigw-requestid"]
    assert "x-amzn-errortype" not in response.headers
    assert httpx.post(f"{server.url}/v2/users/1").status_code == 404  # wrong method


def test_cors_preflight_is_answered_and_responses_carry_the_origin(server: Server) -> None:
    preflight = httpx.options(
        f"{server.url}/rest/shape",
        headers={"Origin": "http://app.test", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-methods"] == "OPTIONS,GET"
    assert "Content-Type" in preflight.headers["access-control-allow-headers"]
    assert "vary" not in preflight.headers
    # Any OPTIONS on the path is the preflight, with or without Access-Control-Request-Method.
    bare = httpx.options(f"{server.url}/rest/shape")
    assert bare.status_code == 200
    assert bare.headers["access-control-allow-methods"] == "OPTIONS,GET"
    response = httpx.get(f"{server.url}/rest/shape", headers={"Origin": "http://app.test"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "vary" not in response.headers
    # A route without cors: no preflight answer of its own
    assert "access-control-allow-origin" not in httpx.get(f"{server.url}/shape").headers


def test_a_body_over_6_mb_is_refused_with_413(server: Server) -> None:
    response = httpx.post(f"{server.url}/v2/items", content=b"x" * (6 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}
    assert response.headers["apigw-requestid"]
    # A Cloud Functions style route has no API Gateway around it: no API request id either.
    direct = httpx.post(f"{server.url}/cf/upload", content=b"x" * (6 * 1024 * 1024 + 1))
    assert direct.status_code == 413
    assert "apigw-requestid" not in direct.headers


def test_half_sent_bodies_and_slow_clients_do_not_block_others(server: Server) -> None:
    host, port = "127.0.0.1", server.port
    stalled = []
    for _ in range(5):
        s = socket.create_connection((host, port))
        s.sendall(b"POST /v2/items HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial")
        stalled.append(s)
    # While five clients hold half-sent bodies, others are served at once.
    for _ in range(3):
        assert httpx.post(f"{server.url}/v2/items", json={}, timeout=5).status_code == 200
    for s in stalled:
        s.close()  # abrupt disconnects
    time.sleep(0.2)
    assert httpx.post(f"{server.url}/v2/items", json={}, timeout=5).status_code == 200
    pools = httpx.get(f"{server.url}/_skylet/functions").json()
    echo = next(f for f in pools if f["name"] == "echo")
    assert echo["instances"] <= 2  # nothing was started for the stalled requests


def test_cloud_functions_style_gets_a_request_object(server: Server) -> None:
    response = httpx.post(
        f"{server.url}/cf/sub/path?q=1&q=2",
        json={"n": 1},
        headers={"X-Custom": "yes", "Cookie": "session=abc"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    got = response.json()
    assert got["method"] == "POST"
    assert got["path"] == "/sub/path"
    assert got["args"] == {"q": ["1", "2"]}
    assert got["json"] == {"n": 1}
    assert got["header"] == "yes"
    assert got["cookies"] == {"session": "abc"}
    assert got["url"].endswith("/sub/path?q=1&q=2")
    form = httpx.post(f"{server.url}/cf", data={"a": "1", "b": "two"}).json()
    assert form["form"] == {"a": "1", "b": "two"}
    assert form["path"] == "/"


@pytest.mark.parametrize(
    ("form", "status", "content_type", "body", "header"),
    [
        ("str", 200, "text/html; charset=utf-8", b"<p>hi</p>", None),
        ("bytes", 200, "text/html; charset=utf-8", b"\x00\x01", None),
        ("list", 200, "application/json", b"[1,2]\n", None),
        ("status", 201, "text/html; charset=utf-8", b"created", None),
        ("headers", 200, "text/html; charset=utf-8", b"with headers", ("x-extra", "yes")),
        ("all", 418, "text/html; charset=utf-8", b"teapot", ("x-pot", "tea")),
    ],
)
def test_cloud_functions_return_forms_follow_flask(
    server: Server,
    form: str,
    status: int,
    content_type: str,
    body: bytes,
    header: tuple[str, str] | None,
) -> None:
    response = httpx.get(f"{server.url}/forms?form={form}")
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    assert response.content == body
    if header is not None:
        assert response.headers[header[0]] == header[1]


def test_cloud_functions_errors_answer_500_and_bad_json_400(server: Server) -> None:
    assert httpx.get(f"{server.url}/forms?form=none").status_code == 500
    assert httpx.get(f"{server.url}/forms?form=raise").status_code == 500
    bad = httpx.post(
        f"{server.url}/forms?form=json-strict",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert bad.status_code == 400
    not_json = httpx.post(f"{server.url}/forms?form=json-strict", content=b"x")
    assert not_json.status_code == 415
    assert httpx.get(f"{server.url}/cfasync").text == "async ok"


def _ce_log(server: Server, event_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in httpx.get(f"{server.url}/_skylet/functions/ce/logs").text.splitlines():
            record = json.loads(line)
            text = record.get("message") or record.get("text") or ""
            if event_id in text:
                found, _ = json.JSONDecoder().raw_decode(text[text.index("{") :])
                return dict(found)
        time.sleep(0.05)
    raise AssertionError(f"event {event_id} not in the function's log")


def test_cloudevent_functions_take_binary_and_structured_mode(server: Server) -> None:
    event = CloudEvent({"type": "com.example.made", "source": "/tests", "id": "bin-1"}, {"n": 1})
    headers, body = to_binary(event)
    response = httpx.post(f"{server.url}/ce", headers=headers, content=body)
    assert response.status_code == 200
    assert _ce_log(server, "bin-1") == {
        "id": "bin-1",
        "type": "com.example.made",
        "source": "/tests",
        "data": {"n": 1},
    }
    event = CloudEvent({"type": "com.example.s", "source": "/tests", "id": "str-1"}, "text")
    headers, body = to_structured(event)
    assert httpx.post(f"{server.url}/ce", headers=headers, content=body).status_code == 200
    assert _ce_log(server, "str-1")["data"] == "text"


def test_a_request_that_is_not_a_cloudevent_is_refused_with_400(server: Server) -> None:
    response = httpx.post(f"{server.url}/ce", json={"just": "json"})
    assert response.status_code == 400
    assert "missing required CloudEvent attributes" in response.text


def test_up_prints_routes_and_one_line_per_request(server: Server) -> None:
    httpx.get(f"{server.url}/v2/users/99?line=1")
    deadline = time.monotonic() + 10
    while "/v2/users/99?line=1" not in (output := server.output()):
        assert time.monotonic() < deadline, output
        time.sleep(0.02)
    assert "/v2/users/{id}" in output
    assert "API Gateway HTTP API (2.0)" in output
    lines = [line for line in output.splitlines() if "/v2/users/99?line=1" in line]
    assert lines and " 200 " in lines[0] and ("warm" in lines[0] or "cold" in lines[0])


def test_serve_function_runs_one_function_as_a_standalone_service(server: Server) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [SKYLET, "serve-function", str(server.directory), "cf", "--host", "127.0.0.1"],
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{url}/health")
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        assert health.status_code == 200
        got = httpx.get(f"{url}/deep/path?x=1").json()
        assert (got["path"], got["args"]) == ("/deep/path", {"x": ["1"]})
        # Only that function: the others' routes are not served here.
        assert httpx.get(f"{url}/v2/users/1").json()["path"] == "/v2/users/1"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert b"GET     /deep/path?x=1 200" in out


def test_functions_written_for_functions_framework_run_unchanged(server: Server) -> None:
    pytest.importorskip("functions_framework", reason="functions-framework is not installed")
    assert httpx.get(f"{server.url}/ff?name=g").json() == {"decorated": True, "name": "g"}
    event = CloudEvent({"type": "t", "source": "/s", "id": "ff-1"}, {"x": 1})
    headers, body = to_binary(event)
    assert httpx.post(f"{server.url}/ffevent", headers=headers, content=body).status_code == 200


def test_functions_using_flask_get_its_request_context_as_under_functions_framework(
    server: Server,
) -> None:
    pytest.importorskip("functions_framework", reason="functions-framework is not installed")
    response = httpx.post(
        f"{server.url}/flaskish/sub?a=1&a=2",
        json={"x": 1},
        headers={"X-Thing": "t"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "same": True,
        "method": "POST",
        "path": "/sub",
        "full_path": "/sub?a=1&a=2",
        "url": f"http://127.0.0.1:{server.port}/sub?a=1&a=2",
        "host": f"127.0.0.1:{server.port}",
        "remote_addr": "127.0.0.1",
        "args": {"a": ["1", "2"]},
        "header": "t",
        "json": {"x": 1},
        "form": {},
    }
    form = httpx.post(f"{server.url}/flaskish", data={"f": "v"}).json()
    assert form["form"] == {"f": "v"}
    assert form["json"] is None
    made = httpx.get(f"{server.url}/flaskish?kind=make")
    assert (made.status_code, made.text, made.headers["x-made"]) == (201, "made", "yes")
    assert made.headers["set-cookie"].startswith("c=1;")
    assert httpx.get(f"{server.url}/flaskish?kind=abort").status_code == 404
    assert httpx.get(f"{server.url}/flaskish?kind=none").status_code == 500
