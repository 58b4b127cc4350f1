"""Local mode (loopback, no ``--credentials``): stock boto3 signing with whatever keys its
environment holds (a developer's real AWS keys) is served, as LocalStack serves it; the
signature of such a key cannot be checked (its secret is the client's), the rest of the request
is. The local pair ``test``/``test`` is still verified, and with ``--credentials`` an unknown
key is refused (tests/e2e/test_credentials.py)."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.conftest import Server, module_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: localkeys
functions:
  echo:
    handler: handlers.echo
"""

server = module_server("localkeys", MANIFEST)


def random_keys() -> tuple[str, str]:
    """An access key and secret shaped as AWS's, never seen by skylet before."""
    key = "AKIA" + "".join(
        secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16)
    )
    return key, secrets.token_urlsafe(30)


def client(server: Server, service: str, key: str, secret: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 0}),
    )


def test_boto3_with_random_keys_reaches_every_service(server: Server) -> None:
    key, secret = random_keys()
    s3 = client(server, "s3", key, secret)
    s3.create_bucket(Bucket="local-keys")
    s3.put_object(Bucket="local-keys", Key="k", Body=b"hello")  # a streaming, checksummed body
    assert s3.get_object(Bucket="local-keys", Key="k")["Body"].read() == b"hello"
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "local-keys", "Key": "k"})
    assert httpx.get(url).content == b"hello"  # a presigned URL of the unknown key
    lam = client(server, "lambda", key, secret)
    answer = lam.invoke(FunctionName="echo", Payload=b'{"a": 1}')
    assert json.loads(answer["Payload"].read())["event"] == {"a": 1}
    sqs = client(server, "sqs", key, secret)
    queue = sqs.create_queue(QueueName="local-keys")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "m"
    caller = client(server, "sts", key, secret).get_caller_identity()
    assert caller["Arn"] == f"arn:aws:iam::{caller['Account']}:root"  # as the local pair
    # One owner, as one LocalStack account's keys are: another key sees and reads the bucket.
    other = client(server, "s3", *random_keys())
    assert other.get_object(Bucket="local-keys", Key="k")["Body"].read() == b"hello"
    assert client(server, "s3", "test", "test").head_bucket(Bucket="local-keys")


def test_the_local_pair_is_still_verified(server: Server) -> None:
    s3 = client(server, "s3", "test", "not-test")
    with pytest.raises(ClientError) as caught:
        s3.list_buckets()
    assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_what_can_be_checked_of_an_unknown_key_s_request_is(server: Server) -> None:
    key, secret = random_keys()
    lam = boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="ap-south-1",  # not the region skylet serves
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 0}),
    )
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="echo", Payload=b"{}")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
