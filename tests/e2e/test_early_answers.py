"""Answers given before the request's body is read, for every API ``skylet up`` serves: a
client that sent ``Expect: 100-continue`` and got an answer instead of ``100 Continue`` never
sends its body, so the connection must close after that answer (or the next request on it would
be read as the body). Raw sockets send the next request on the same connection; boto3 uploads
with its own 100-continue. skylet.gateway.http1.limits draws the rules."""

from __future__ import annotations

import contextlib
import io
import json
import socket
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.conftest import Server, module_server
from tests.e2e.test_http_connections import Reader, request

pytestmark = pytest.mark.e2e

MANIFEST = """
service: early
functions:
  echo:
    handler: web_handlers.echo_event
    events:
      - http_api: {method: POST, path: /echo}
  shaped:
    handler: web_handlers.shaped
    events:
      - http: {method: GET, path: /rest/shape, cors: true}
"""

server = module_server("early", MANIFEST)

#: An unsigned request that speaks S3: S3 answers it (here, NoSuchBucket).
UNSIGNED = "X-Amz-Content-Sha256: UNSIGNED-PAYLOAD"
#: Requests answered before their body is read: (what, method, path, extra headers, status).
EARLY = [
    ("s3_no_such_bucket", "PUT", "/no-such-bucket/key", f"{UNSIGNED}\r\n", 404),
    ("invoke_validation", "POST", "/2015-03-31/functions/bad%20name!/invocations", "", 400),
    ("invoke_bad_header", "POST", "/2015-03-31/functions/echo/invocations",
     "X-Amz-Invocation-Type: Sometimes\r\n", 400),
    ("admin", "POST", "/_skylet/no-such-thing", "", 404),
    ("route_404", "POST", "/no/such/route", "", 404),
    ("options", "OPTIONS", "/rest/shape", "Origin: https://a.example\r\n"
     "Access-Control-Request-Method: GET\r\n", 200),
]  # fmt: skip


def connect(server: Server) -> tuple[socket.socket, Reader]:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock, Reader(sock)


def head(method: str, path: str, length: int, extra: str = "") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {length}\r\n"
        f"Content-Type: application/octet-stream\r\n{extra}\r\n"
    ).encode()


@pytest.mark.parametrize(("method", "path", "extra", "status"), [e[1:] for e in EARLY],
                         ids=[e[0] for e in EARLY])  # fmt: skip
def test_an_answer_before_an_uninvited_body_closes_the_connection(
    server: Server, method: str, path: str, extra: str, status: int
) -> None:
    sock, reader = connect(server)
    with sock:
        sock.sendall(head(method, path, 5000, extra + "Expect: 100-continue\r\n"))
        answer, headers, _ = reader.response()
        assert answer == status
        assert headers.get("connection") == "close"
        # The next request on the connection is not read as the body: the server has closed.
        with contextlib.suppress(OSError):  # already reset: as good
            sock.sendall(request("GET", "/health"))
        assert _ended(reader)


@pytest.mark.parametrize(("method", "path", "extra", "status"), [e[1:] for e in EARLY],
                         ids=[e[0] for e in EARLY])  # fmt: skip
def test_a_body_that_arrived_with_its_head_is_dropped_and_the_connection_goes_on(
    server: Server, method: str, path: str, extra: str, status: int
) -> None:
    sock, reader = connect(server)
    with sock:
        sock.sendall(head(method, path, 300, extra + "Expect: 100-continue\r\n") + b"x" * 300)
        assert reader.response()[0] == status
        sock.sendall(request("GET", "/health"))
        answer, _, body = reader.response()
        assert (answer, json.loads(body)["status"]) == (200, "ok")


def test_the_rest_of_a_small_body_being_sent_is_discarded_and_the_connection_goes_on(
    server: Server,
) -> None:
    sock, reader = connect(server)
    with sock:
        sock.sendall(head("POST", "/no/such/route", 20_000) + b"a" * 1000)
        answer, headers, _ = reader.response()
        assert answer == 404
        assert headers.get("connection") != "close"
        sock.sendall(b"b" * 19_000 + request("GET", "/health"))
        assert reader.response()[0] == 200


def test_a_large_body_being_sent_after_an_answer_closes_the_connection(server: Server) -> None:
    sock, reader = connect(server)
    with sock:
        sock.sendall(head("POST", "/no/such/route", 50_000_000) + b"a" * 1000)
        answer, headers, _ = reader.response()
        assert (answer, headers.get("connection")) == (404, "close")
        sock.shutdown(socket.SHUT_WR)
        assert _ended(reader)


def test_boto3_uploading_to_a_missing_bucket_gets_the_error_and_its_next_call_works(
    server: Server,
) -> None:
    s3: Any = boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            retries={"max_attempts": 0}, s3={"addressing_style": "path"}, read_timeout=10
        ),
    )
    s3.create_bucket(Bucket="there")
    for _ in range(3):
        # A file-like body: botocore sends Expect: 100-continue and waits for the answer.
        with pytest.raises(ClientError) as error:
            s3.put_object(Bucket="not-there", Key="k", Body=io.BytesIO(b"z" * 100_000))
        assert error.value.response["Error"]["Code"] == "NoSuchBucket"
        s3.put_object(Bucket="there", Key="k", Body=io.BytesIO(b"y" * 100_000))
        assert s3.get_object(Bucket="there", Key="k")["Body"].read() == b"y" * 100_000


def _ended(reader: Reader) -> bool:
    """Whether the server ended the connection: end of stream, or a reset."""
    try:
        return reader.closed()
    except ConnectionResetError:
        return True
