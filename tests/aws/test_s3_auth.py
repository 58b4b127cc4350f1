"""What a signature covers, on the wire against ``skylet up``: every ``x-amz-*`` header,
SigV2 URLs for buckets, header bytes as sent."""

from __future__ import annotations

from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.aws.test_s3_api import client
from tests.e2e.conftest import Server, module_server

pytestmark = pytest.mark.e2e

server = module_server("s3auth", "service: s3auth\nfunctions: {}\n")


@pytest.fixture
def s3(server: Server) -> Any:
    return client(server)


@pytest.fixture
def bucket(s3: Any) -> str:
    s3.create_bucket(Bucket="auth-bucket")
    return "auth-bucket"


def v4(server: Server) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def test_a_presigned_upload_url_cannot_be_turned_into_a_copy_by_an_unsigned_header(
    s3: Any, server: Server, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="private.txt", Body=b"secret")
    url = v4(server).generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "upload.txt"}, ExpiresIn=60
    )
    copied = httpx.put(url, headers={"x-amz-copy-source": f"/{bucket}/private.txt"})
    assert copied.status_code == 403, copied.text
    assert b"<HeadersNotSigned>x-amz-copy-source</HeadersNotSigned>" in copied.content
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="upload.txt")
    assert httpx.put(url, content=b"mine").status_code == 200
