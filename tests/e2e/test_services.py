"""The service layer on a real ``skylet up`` without credentials (loopback): STS for boto3 and
the AWS CLI, an unserved service named, and each refusal of the router and the verifier in the
format of the API it reached (Lambda's JSON, S3's XML, the query protocol's), never a 500, with
the kept connection sound after each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.aws.served import KeepAlive
from tests.e2e.conftest import Server, module_server

pytestmark = pytest.mark.e2e

AWS_CLI = Path(sys.executable).parent / "aws"
MANIFEST = """
service: services
functions:
  echo:
    handler: handlers.echo
"""

server = module_server("services", MANIFEST)

LOCAL = ("test", "test")


def client(server: Server, service: str, **settings: Any) -> Any:
    given: dict[str, Any] = {
        "region_name": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
        **settings,
    }
    config = given.pop("config", Config()).merge(
        Config(retries={"max_attempts": 0}, s3={"addressing_style": "path"})
    )
    return boto3.client(service, endpoint_url=server.url, config=config, **given)


def test_sts_answers_boto3_signed_and_unsigned_locally(server: Server) -> None:
    identity = client(server, "sts").get_caller_identity()
    assert (identity["Account"], identity["Arn"], identity["UserId"]) == (
        "000000000000",
        "arn:aws:iam::000000000000:root",
        "000000000000",
    )
    unsigned = client(server, "sts", config=Config(signature_version=UNSIGNED))
    assert unsigned.get_caller_identity()["Account"] == "000000000000"


def test_the_aws_cli_gets_the_caller_identity(server: Server) -> None:
    if not AWS_CLI.exists():
        pytest.skip("the AWS CLI is not installed (pip install awscli)")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    done = subprocess.run(
        [str(AWS_CLI), "sts", "get-caller-identity", "--endpoint-url", server.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Account"] == "000000000000"


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        pytest.param("ecs", "list_clusters", "NotImplemented", id="ecs (json)"),
        pytest.param(
            "elasticache", "describe_cache_clusters", "NotImplemented", id="elasticache (query)"
        ),
        pytest.param("route53", "list_hosted_zones", "NotImplemented", id="route53 (rest-xml)"),
    ],
)
def test_a_service_skylet_does_not_serve_is_an_error_boto3_reads_naming_it(
    server: Server, service: str, call: str, code: str
) -> None:
    with pytest.raises(ClientError) as caught:
        getattr(client(server, service), call)()
    error = caught.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (501, code)
    assert f"'{service}'" in error["Error"]["Message"]


def test_a_local_server_still_takes_unsigned_invocations(server: Server) -> None:
    answer = httpx.post(f"{server.url}/2015-03-31/functions/echo/invocations", content=b"{}")
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        pytest.param({"aws_secret_access_key": "wrong"}, "InvalidSignatureException", id="wrong"),
        pytest.param({"region_name": "eu-north-1"}, "InvalidSignatureException", id="region"),
    ],
)
def test_a_signed_request_is_verified_against_the_local_pair(
    server: Server, settings: dict[str, Any], code: str
) -> None:
    with pytest.raises(ClientError) as caught:
        client(server, "lambda", **settings).invoke(FunctionName="echo", Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == code


# -- each refusal on one kept connection, then a good request on it ----------------------------

INVOKE = "/2015-03-31/functions/echo/invocations"


def lambda_sign(region: str = "us-east-1", secret: str = "test") -> tuple[str, str, str, str]:
    return ("lambda", region, "test", secret)


@pytest.mark.parametrize(
    ("method", "path", "body", "sign", "status", "code"),
    [
        pytest.param(
            "POST",
            INVOKE,
            b"{}",
            lambda_sign(secret="x"),
            403,
            "InvalidSignatureException",
            id="wrong signature",
        ),
        pytest.param(
            "POST",
            INVOKE,
            b"{}",
            lambda_sign("ap-east-1"),
            403,
            "InvalidSignatureException",
            id="wrong region",
        ),
        pytest.param(
            "POST",
            INVOKE,
            b"{",
            lambda_sign(),
            400,
            "InvalidRequestContentException",
            id="a payload that is not JSON",
        ),
        pytest.param(
            "GET",
            "/2015-03-31/functions/echo/policy",
            b"",
            lambda_sign(),
            501,
            "NotImplementedException",
            id="an operation skylet lacks",
        ),
        pytest.param(
            "POST",
            "/2015-03-31/functions/no-such/invocations",
            b"{}",
            lambda_sign(),
            404,
            "ResourceNotFoundException",
            id="an unknown function",
        ),
    ],
)
def test_each_lambda_refusal_is_lambda_s_json_and_the_connection_stays_sound(
    server: Server,
    method: str,
    path: str,
    body: bytes,
    sign: tuple[str, str, str, str],
    status: int,
    code: str,
) -> None:
    kept = KeepAlive(server.url)
    try:
        answer = kept.send(method, path, body, sign=sign)
        assert answer.status == status, answer.body
        assert answer.headers["x-amzn-errortype"] == code
        assert "message" in answer.json()
        good = kept.send("POST", INVOKE, b'{"again": 1}', sign=lambda_sign())
        assert good.status == 200 and good.json()["event"] == {"again": 1}
    finally:
        kept.close()


def s3_sign(region: str = "us-east-1", secret: str = "test") -> tuple[str, str, str, str]:
    return ("s3", region, "test", secret)


SHA_EMPTY = {
    "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}


@pytest.mark.parametrize(
    ("sign", "status", "code"),
    [
        pytest.param(s3_sign(secret="x"), 403, "SignatureDoesNotMatch", id="wrong signature"),
        pytest.param(s3_sign("ap-east-1"), 400, "AuthorizationHeaderMalformed", id="wrong region"),
    ],
)
def test_each_s3_refusal_is_s3_s_xml_and_the_connection_stays_sound(
    server: Server, sign: tuple[str, str, str, str], status: int, code: str
) -> None:
    client(server, "s3").create_bucket(Bucket="kept-bucket")
    kept = KeepAlive(server.url)
    try:
        answer = kept.send("GET", "/kept-bucket", headers=SHA_EMPTY, sign=sign)
        assert answer.status == status, answer.body
        assert f"<Code>{code}</Code>".encode() in answer.body
        if code == "AuthorizationHeaderMalformed":
            # botocore's S3 clients sign again for the region the error names.
            assert answer.headers["x-amz-bucket-region"] == "us-east-1"
            assert b"<Region>us-east-1</Region>" in answer.body
        good = kept.send("GET", "/kept-bucket", headers=SHA_EMPTY, sign=s3_sign())
        assert good.status == 200 and b"<ListBucketResult" in good.body
    finally:
        kept.close()


def test_an_s3_client_of_another_region_signs_again_for_the_served_one(server: Server) -> None:
    elsewhere = client(server, "s3", region_name="eu-west-3")
    client(server, "s3").create_bucket(Bucket="redirected-bucket")
    # Its first request has no body: an upload refused before its body is read (Expect:
    # 100-continue) leaves the connection to the HTTP server's rule for early answers.
    assert elsewhere.list_objects_v2(Bucket="redirected-bucket")["KeyCount"] == 0
    elsewhere.put_object(Bucket="redirected-bucket", Key="k", Body=b"moved")
    assert elsewhere.get_object(Bucket="redirected-bucket", Key="k")["Body"].read() == b"moved"
    assert "redirected-bucket" in {b["Name"] for b in elsewhere.list_buckets()["Buckets"]}


QUERY = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def test_an_unsigned_form_no_service_takes_is_the_route_404_it_was(server: Server) -> None:
    kept = KeepAlive(server.url)
    try:
        answer = kept.send("POST", "/", b"Action=NoSuchThing&x=1", QUERY)
        assert answer.status == 404, answer.body
        good = kept.send("POST", "/", b"Action=GetCallerIdentity&Version=2011-06-15", QUERY)
        assert good.status == 200 and b"<GetCallerIdentityResult>" in good.body
    finally:
        kept.close()


STS = ("sts", "us-east-1", "test", "test")
CALLER = b"Action=GetCallerIdentity&Version=2011-06-15"


@pytest.mark.parametrize(
    ("body", "sign", "status", "code"),
    [
        pytest.param(b"Action=Bogus&Version=2011-06-15", STS, 400, "InvalidAction", id="action"),
        pytest.param(CALLER + b"&%zz", STS, 400, "MalformedQueryString", id="malformed form"),
        pytest.param(
            CALLER, ("sts", "us-east-1", "test", "x"), 403, "SignatureDoesNotMatch", id="signature"
        ),
        pytest.param(
            CALLER, ("sts", "eu-west-2", "test", "test"), 403, "SignatureDoesNotMatch", id="region"
        ),
    ],
)
def test_each_sts_refusal_is_the_query_protocol_s_error_and_the_connection_stays_sound(
    server: Server, body: bytes, sign: tuple[str, str, str, str], status: int, code: str
) -> None:
    kept = KeepAlive(server.url)
    try:
        answer = kept.send("POST", "/", body, QUERY, sign=sign)
        assert answer.status == status, answer.body
        assert (
            answer.body.startswith(b"<ErrorResponse")
            and f"<Code>{code}</Code>".encode() in answer.body
        )
        if code == "InvalidAction":
            assert b"Bogus" in answer.body
        good = kept.send("POST", "/", CALLER, QUERY, sign=STS)
        assert good.status == 200 and b"<Account>000000000000</Account>" in good.body
    finally:
        kept.close()
