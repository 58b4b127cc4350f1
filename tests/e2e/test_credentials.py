"""``skylet up --host 0.0.0.0 --credentials K:S``: every API but the function routes and
``/health`` requires SigV4 with the configured key (stock boto3 with right, wrong and no
credentials; the admin API; the CLI, which signs with botocore's signer), and functions sign
with it themselves. The refusal to listen on a public address without credentials is
tests/e2e/test_cli.py's."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from skylet.function_keys import credentials_for, platform_secret
from tests.e2e.conftest import SKYLET, Server, cli, free_port, module_server

pytestmark = pytest.mark.e2e

KEY, SECRET = "AKIDCREDENTIALS", "credentials-secret"
MANIFEST = """
service: credentials
functions:
  echo:
    handler: handlers.echo
    events:
      - http_api: GET /open
  whoami:
    handler: aws_handlers.who_am_i
    timeout_s: 30
  relay:
    handler: aws_handlers.invoke_other
    timeout_s: 30
  admin:
    handler: attacks.admin
    timeout_s: 30
  changer:
    handler: aws_handlers.change_another
    timeout_s: 30
"""

server = module_server(
    "credentials", MANIFEST, "--host", "0.0.0.0", "--credentials", f"{KEY}:{SECRET}"
)


def client(server: Server, service: str, **settings: Any) -> Any:
    given: dict[str, Any] = {
        "region_name": "us-east-1",
        "aws_access_key_id": KEY,
        "aws_secret_access_key": SECRET,
        **settings,
    }
    config = given.pop("config", Config()).merge(Config(retries={"max_attempts": 0}))
    return boto3.client(service, endpoint_url=server.url, config=config, **given)


@pytest.fixture(scope="module")
def lam(server: Server) -> Iterator[Any]:
    made = client(server, "lambda")
    yield made
    made.close()


def refused(call: Any, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]


def test_the_configured_key_invokes(lam: Any) -> None:
    answer = lam.invoke(FunctionName="echo", Payload=b'{"a": 1}')
    assert json.loads(answer["Payload"].read())["event"] == {"a": 1}


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        pytest.param({"aws_secret_access_key": "wrong"}, "InvalidSignatureException", id="wrong"),
        pytest.param(
            {"aws_access_key_id": "test", "aws_secret_access_key": "test"},
            "UnrecognizedClientException",
            id="the local pair, now that keys are configured",
        ),
        pytest.param(
            {"config": Config(signature_version=UNSIGNED)},
            "MissingAuthenticationTokenException",
            id="unsigned",
        ),
        pytest.param({"region_name": "eu-west-1"}, "InvalidSignatureException", id="wrong region"),
    ],
)
def test_the_invoke_api_refuses_what_lambda_refuses(
    server: Server, settings: dict[str, Any], code: str
) -> None:
    other = client(server, "lambda", **settings)
    try:
        assert refused(other.invoke, FunctionName="echo", Payload=b"{}") == (403, code)
        assert refused(other.list_functions) == (403, code)
    finally:
        other.close()


def test_an_unsigned_invoke_gets_lambda_s_answer_on_the_wire(server: Server) -> None:
    answer = httpx.post(f"{server.url}/2015-03-31/functions/echo/invocations", content=b"{}")
    assert answer.status_code == 403
    assert answer.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert answer.json()["message"] == "Missing Authentication Token"


def signed_get(
    server: Server, path: str, service: str = "skylet", method: str = "GET"
) -> httpx.Response:
    url = f"{server.url}{path}"
    request = AWSRequest(method, url)
    SigV4Auth(Credentials(KEY, SECRET), service, "us-east-1").add_auth(request)
    return httpx.request(method, url, headers=dict(request.headers.items()))


def test_the_admin_api_requires_a_signature_for_the_service_skylet(server: Server) -> None:
    unsigned = httpx.get(f"{server.url}/_skylet/functions")
    assert unsigned.status_code == 403
    assert unsigned.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert httpx.delete(f"{server.url}/_skylet/functions/echo/instances").status_code == 403
    listed = signed_get(server, "/_skylet/functions")
    assert listed.status_code == 200, listed.text
    assert {fn["name"] for fn in listed.json()} == {"echo", "whoami", "relay", "admin", "changer"}
    # A signature for another service does not open it: the scope sends it to that service.
    assert signed_get(server, "/_skylet/functions", "lambda").status_code != 200


def test_function_routes_and_health_stay_open(server: Server) -> None:
    assert httpx.get(f"{server.url}/open").status_code == 200
    assert httpx.get(f"{server.url}/health").json()["status"] == "ok"


def test_sts_names_the_configured_key_as_the_caller(server: Server) -> None:
    identity = client(server, "sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::000000000000:user/{KEY}"
    assert identity["Account"] == "000000000000"
    assert identity["UserId"].startswith("AIDA") and len(identity["UserId"]) == 21


def test_functions_sign_with_credentials_of_their_own(lam: Any) -> None:
    whoami = lam.invoke(FunctionName="whoami", Payload=b"{}")
    assert "FunctionError" not in whoami, whoami["Payload"].read()
    arn = json.loads(whoami["Payload"].read())["Arn"]
    assert arn == "arn:aws:sts::000000000000:assumed-role/skylet-function/whoami"
    relayed = lam.invoke(FunctionName="relay", Payload=b'{"name": "echo"}')
    assert "FunctionError" not in relayed, relayed["Payload"].read()
    assert json.loads(json.loads(relayed["Payload"].read()))["event"] == {"from": "in"}


def _admin(lam: Any, event: dict[str, str]) -> dict[str, Any]:
    answer = lam.invoke(FunctionName="admin", Payload=json.dumps(event).encode())
    assert "FunctionError" not in answer, answer["Payload"].read()
    got: dict[str, Any] = json.loads(answer["Payload"].read())
    return got


def test_a_function_holds_no_key_that_retires_another_functions_instances(
    server: Server, lam: Any
) -> None:
    echoed = json.loads(lam.invoke(FunctionName="echo", Payload=b"{}")["Payload"].read())
    assert echoed["env"]["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert echoed["env"]["AWS_SESSION_TOKEN"].startswith("skylet1.")
    assert KEY not in json.dumps(echoed) and SECRET not in json.dumps(echoed)
    retire = {"method": "DELETE", "path": "functions/echo/instances"}
    own = _admin(lam, {**retire, "sign": "own"})
    assert own["status"] == 403 and own["type"] == "AccessDeniedException", own
    for sign in ("local", "none"):
        assert _admin(lam, {**retire, "sign": sign})["status"] == 403
    run = _admin(lam, {"method": "GET", "path": "functions", "sign": "own"})
    assert run["status"] == 403, run
    deleted = signed_get(server, "/_skylet/functions/echo/instances", method="DELETE")
    assert deleted.status_code == 200 and deleted.json()["retired"] >= 1


def test_a_function_reads_the_lambda_control_plane_and_changes_nothing_there(lam: Any) -> None:
    answer = lam.invoke(FunctionName="changer", Payload=b'{"name": "echo"}')
    assert "FunctionError" not in answer, answer["Payload"].read()
    got = json.loads(answer["Payload"].read())
    assert got == {"read": "echo", "change": "AccessDeniedException"}


def test_a_function_s_credentials_sign_s3_requests_and_presigned_urls(server: Server) -> None:
    own = credentials_for(platform_secret({KEY: SECRET}), "whoami")
    s3 = client(
        server,
        "s3",
        aws_access_key_id=own.access_key_id,
        aws_secret_access_key=own.secret_access_key,
        aws_session_token=own.session_token,
    )
    s3.create_bucket(Bucket="made-by-a-function")
    s3.put_object(Bucket="made-by-a-function", Key="k", Body=b"by the role")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "made-by-a-function", "Key": "k"}, ExpiresIn=60
    )
    assert "x-amz-security-token=" in url and "AWSAccessKeyId=" in url  # boto3's SigV2
    assert httpx.get(url).content == b"by the role"
    v4 = client(
        server,
        "s3",
        aws_access_key_id=own.access_key_id,
        aws_secret_access_key=own.secret_access_key,
        aws_session_token=own.session_token,
        config=Config(signature_version="s3v4"),
    )
    url = v4.generate_presigned_url(
        "get_object", Params={"Bucket": "made-by-a-function", "Key": "k"}, ExpiresIn=60
    )
    assert "X-Amz-Security-Token=" in url
    assert httpx.get(url).content == b"by the role"
    assert (
        httpx.get(
            url.replace("X-Amz-Security-Token=skylet1.", "X-Amz-Security-Token=x")
        ).status_code
        == 400
    )
    # The account's key owns what the function made, as an account owns what its roles make.
    platform = client(server, "s3")
    assert (
        platform.get_object(Bucket="made-by-a-function", Key="k")["Body"].read() == b"by the role"
    )


def test_a_forged_session_token_is_refused(server: Server) -> None:
    token = "skylet1.d2hvYW1p.0123456789abcdef0123456789abcdef"  # "whoami", a made-up MAC
    forged = client(server, "sts", aws_session_token=token)
    status, code = refused(forged.get_caller_identity)
    assert (status, code) == (403, "InvalidClientTokenId")


# -- the CLI signs with botocore's signer ------------------------------------------------------

UNSET = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "SKYLET_CREDENTIALS": ""}


def test_the_cli_invokes_with_credentials_and_is_refused_without(server: Server) -> None:
    args = ["invoke", "echo", "--endpoint-url", server.url, "-d", '{"cli": true}']
    signed = cli(*args, "--credentials", f"{KEY}:{SECRET}", env=UNSET)
    assert signed.returncode == 0, signed.stderr
    assert json.loads(signed.stdout)["event"] == {"cli": True}
    from_env = cli(*args, env={**UNSET, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET})
    assert from_env.returncode == 0, from_env.stderr
    queued = cli(*args, "--async", env={**UNSET, "SKYLET_CREDENTIALS": f"{KEY}:{SECRET} x:y"})
    assert queued.returncode == 0, queued.stderr
    unsigned = cli(*args, env=UNSET)
    assert unsigned.returncode == 1
    assert "MissingAuthenticationTokenException" in unsigned.stderr
    assert "--credentials ACCESS_KEY:SECRET" in unsigned.stderr
    wrong = cli(*args, "--credentials", f"{KEY}:nope", env=UNSET)
    assert wrong.returncode == 1 and "InvalidSignatureException" in wrong.stderr


def test_the_cli_reads_logs_and_records_with_credentials(server: Server) -> None:
    creds = ["--endpoint-url", server.url, "--credentials", f"{KEY}:{SECRET}"]
    assert cli("invoke", "echo", *creds, "-d", '{"logged": 1}', env=UNSET).returncode == 0
    logs = cli("logs", "echo", "--json", *creds, env=UNSET)
    assert logs.returncode == 0, logs.stderr
    assert any("START RequestId" in json.loads(line)["text"] for line in logs.stdout.splitlines())
    # A query the signature covers: spaces, braces, quotes and a plus, encoded once.
    pattern = '{ $.x = "a+b c" }'
    filtered = cli("logs", "echo", "--since", "1h", "--filter", '?START ?"a+b"', *creds, env=UNSET)
    assert filtered.returncode == 0, filtered.stderr
    assert "START RequestId" in filtered.stdout and "REPORT" not in filtered.stdout
    json_filter = cli("logs", "echo", "--filter", pattern, *creds, env=UNSET)
    assert json_filter.returncode == 0, json_filter.stderr
    records = cli("invocations", "echo", "--json", *creds, env=UNSET)
    assert records.returncode == 0, records.stderr
    refused_logs = cli("logs", "echo", "--endpoint-url", server.url, env=UNSET)
    assert refused_logs.returncode == 1
    assert "MissingAuthenticationTokenException" in refused_logs.stderr


def test_the_cli_s_queues_and_topics_sign_with_credentials(server: Server) -> None:
    creds = ["--endpoint-url", server.url, "--credentials", f"{KEY}:{SECRET}"]
    client(server, "sqs").create_queue(QueueName="cli-signed")
    client(server, "sns").create_topic(Name="cli-signed")
    sent = cli("queue", "send", "cli-signed", "hello", *creds, env=UNSET)
    assert sent.returncode == 0, sent.stderr
    got = cli("queue", "receive", "cli-signed", "--json", "--delete", *creds, env=UNSET)
    assert got.returncode == 0, got.stderr
    assert [m["Body"] for m in json.loads(got.stdout)] == ["hello"]
    pair = {**UNSET, "SKYLET_CREDENTIALS": f"{KEY}:{SECRET}"}
    listed = cli("queue", "ls", "--json", "--endpoint-url", server.url, env=pair)
    assert listed.returncode == 0, listed.stderr
    published = cli("topic", "publish", "cli-signed", "m", *creds, env=UNSET)
    assert published.returncode == 0, published.stderr
    from_env = {**UNSET, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET}
    topics = cli("topic", "ls", "--json", "--endpoint-url", server.url, env=from_env)
    assert topics.returncode == 0, topics.stderr
    for args in (["queue", "ls"], ["topic", "ls"]):
        refused = cli(*args, "--endpoint-url", server.url, env=UNSET)
        assert refused.returncode == 1, refused.stdout
        assert "MissingAuthentication" in refused.stderr, refused.stderr
        assert "--credentials ACCESS_KEY:SECRET" in refused.stderr


def test_the_cli_s_buckets_sign_with_credentials(server: Server) -> None:
    creds = ["--endpoint-url", server.url, "--credentials", f"{KEY}:{SECRET}"]
    assert cli("bucket", "mb", "s3://signed-bucket", *creds, env=UNSET).returncode == 0
    listed = cli("bucket", "ls", "--json", *creds, env=UNSET)
    assert listed.returncode == 0, listed.stderr
    assert {"Name": "signed-bucket"} in json.loads(listed.stdout)
    local_pair = cli("bucket", "ls", "--endpoint-url", server.url, env=UNSET)
    assert local_pair.returncode == 1  # boto3 signs with test/test, which is not configured
    assert "InvalidAccessKeyId" in local_pair.stderr


def test_serve_function_on_every_address_with_credentials_keeps_its_apis_signed(
    server: Server,
) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            SKYLET,
            "serve-function",
            str(server.directory),
            "echo",
            "--credentials",
            f"{KEY}:{SECRET}",
        ],
        env={**os.environ, "PORT": str(port), "SKYLET_CREDENTIALS": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert httpx.get(f"{url}/health").status_code == 200
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        assert httpx.get(f"{url}/open").status_code == 200  # the function's own route, open
        invoke = f"{url}/2015-03-31/functions/echo/invocations"
        unsigned = httpx.post(invoke, content=b"{}")
        assert unsigned.status_code == 403
        assert unsigned.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
        standalone = boto3.client(
            "lambda",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
        )
        answer = standalone.invoke(FunctionName="echo", Payload=b'{"alone": 1}')
        assert json.loads(answer["Payload"].read())["event"] == {"alone": 1}
        standalone.close()
    finally:
        proc.terminate()
        proc.wait(30)
