"""S3's answers where ceph/s3-tests found skylet's differing, with stock boto3 (and raw httpx
where a client would not send it) against a real ``skylet up``."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.aws.test_s3_api import client, code
from tests.e2e.conftest import Server, module_server

pytestmark = pytest.mark.e2e

server = module_server(
    "s3fidelity", "service: s3fidelity\nfunctions: {}\n", "--credentials", "test:test",
    "--credentials", "other:secret",
)  # fmt: skip


@pytest.fixture
def s3(server: Server) -> Any:
    return client(server)


@pytest.fixture
def bucket(s3: Any, request: pytest.FixtureRequest) -> str:
    name = "f-" + hashlib.sha256(request.node.name.encode()).hexdigest()[:12]
    s3.create_bucket(Bucket=name)
    return name


def test_response_overrides_win_on_get_and_head_and_a_line_break_is_refused(
    s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ContentType="text/plain", CacheControl="a")
    params = {"ResponseContentType": "image/png", "ResponseCacheControl": "no-store"}
    got = s3.get_object(Bucket=bucket, Key="k", **params)
    assert (got["ContentType"], got["CacheControl"]) == ("image/png", "no-store")
    head = s3.head_object(Bucket=bucket, Key="k", **params)
    assert (head["ContentType"], head["CacheControl"]) == ("image/png", "no-store")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k", "ResponseContentType": "a\r\nb: c"}
    )
    refused = httpx.get(url)
    assert refused.status_code == 400
    assert b"InvalidArgument" in refused.content


def test_more_than_2_kb_of_user_metadata_is_refused(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="ok", Body=b"", Metadata={"m": "v" * 2000})
    with pytest.raises(ClientError) as error:
        s3.put_object(Bucket=bucket, Key="big", Body=b"", Metadata={"m": "v" * 2100})
    assert code(error) == "MetadataTooLarge"


def test_listing_edges_max_keys_zero_v1_prefix_and_owners(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a b/c", Body=b"")
    empty = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert empty["IsTruncated"] is False
    v1 = s3.list_objects(Bucket=bucket, Prefix="a b/", EncodingType="url")
    assert v1["Prefix"] == "a b/"  # v1's top-level Prefix is not encoded
    assert v1["Contents"][0]["Owner"]["DisplayName"] == "test"
    assert "Owner" not in s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    owned = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)
    assert owned["Contents"][0]["Owner"]["DisplayName"] == "test"
    versions = s3.list_object_versions(Bucket=bucket)
    assert [(v["Key"], v["VersionId"]) for v in versions["Versions"]] == [("a b/c", "null")]


def test_list_buckets_pages_and_filters(s3: Any, bucket: str) -> None:
    for suffix in ("1", "2", "3"):
        s3.create_bucket(Bucket=f"page-{suffix}")
    first = s3.list_buckets(MaxBuckets=2, Prefix="page-")
    assert [b["Name"] for b in first["Buckets"]] == ["page-1", "page-2"]
    rest = s3.list_buckets(
        MaxBuckets=2, Prefix="page-", ContinuationToken=first["ContinuationToken"]
    )
    assert [b["Name"] for b in rest["Buckets"]] == ["page-3"]


def test_conditional_writes_and_deletes(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"1", IfNoneMatch="*")["ETag"]
    with pytest.raises(ClientError) as error:
        s3.put_object(Bucket=bucket, Key="k", Body=b"2", IfNoneMatch="*")
    assert code(error) == "PreconditionFailed"
    with pytest.raises(ClientError) as error:
        s3.put_object(Bucket=bucket, Key="k", Body=b"2", IfMatch='"other"')
    assert code(error) == "PreconditionFailed"
    s3.put_object(Bucket=bucket, Key="k", Body=b"2", IfMatch=etag)
    with pytest.raises(ClientError) as error:
        s3.put_object(Bucket=bucket, Key="missing", Body=b"", IfMatch="*")
    assert code(error) == "NoSuchKey"
    with pytest.raises(ClientError) as error:
        s3.delete_object(Bucket=bucket, Key="k", IfMatch='"other"')
    assert code(error) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"2"


def test_copy_source_conditions(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"x")["ETag"]
    source = {"Bucket": bucket, "Key": "src"}
    with pytest.raises(ClientError) as error:
        s3.copy_object(Bucket=bucket, Key="d", CopySource=source, CopySourceIfMatch='"nope"')
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    with pytest.raises(ClientError) as error:
        s3.copy_object(Bucket=bucket, Key="d", CopySource=source, CopySourceIfNoneMatch=etag)
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    s3.copy_object(Bucket=bucket, Key="d", CopySource=source, CopySourceIfMatch=etag)


def test_upload_part_copy_part_numbers_and_a_repeated_completion(s3: Any, bucket: str) -> None:
    first = b"a" * (5 << 20)
    s3.put_object(Bucket=bucket, Key="src", Body=first + b"tail")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    source = {"Bucket": bucket, "Key": "src"}
    one = s3.upload_part_copy(
        Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, CopySource=source,
        CopySourceRange=f"bytes=0-{len(first) - 1}",
    )["CopyPartResult"]["ETag"]  # fmt: skip
    two = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=2, Body=b"end")["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": one}, {"PartNumber": 2, "ETag": two}]}
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload=parts
    )
    again = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload=parts
    )
    assert again["ETag"] == done["ETag"]
    assert s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)["Body"].read() == b"end"
    assert s3.head_object(Bucket=bucket, Key="mp", PartNumber=1)["PartsCount"] == 2
    assert s3.get_object(Bucket=bucket, Key="mp")["ContentLength"] == len(first) + 3
    with pytest.raises(ClientError) as error:
        s3.upload_part_copy(
            Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, CopySource=source,
            CopySourceRange="bytes=0-99999999",
        )  # fmt: skip
    assert code(error) in ("InvalidRange", "NoSuchUpload")


def test_flexible_checksums_are_checked_stored_and_answered(s3: Any, bucket: str) -> None:
    value = base64.b64encode(hashlib.sha256(b"data").digest()).decode()
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"data", ChecksumSHA256=value)
    assert put["ChecksumSHA256"] == value
    assert "ChecksumSHA256" not in s3.head_object(Bucket=bucket, Key="k")
    assert s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")["ChecksumSHA256"] == value
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    with pytest.raises(ClientError) as error:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", ChecksumSHA256=wrong)
    assert code(error) == "BadDigest"
    crc = s3.put_object(Bucket=bucket, Key="c", Body=b"data", ChecksumAlgorithm="CRC64NVME")
    assert crc["ChecksumCRC64NVME"]


def test_aws_chunked_is_not_kept_as_the_content_encoding(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"", ContentEncoding="gzip, aws-chunked")
    assert s3.head_object(Bucket=bucket, Key="k")["ContentEncoding"] == "gzip"
    s3.put_object(Bucket=bucket, Key="k", Body=b"", ContentEncoding="aws-chunked")
    assert "ContentEncoding" not in s3.head_object(Bucket=bucket, Key="k")


def test_canned_acls_grant_anonymous_and_other_keys_reads(
    s3: Any, server: Server, bucket: str
) -> None:
    other = client(server, key="other", secret="secret")
    s3.put_object(Bucket=bucket, Key="public.png", Body=b"img", ACL="public-read")
    s3.put_object(Bucket=bucket, Key="private", Body=b"no")
    assert httpx.get(f"{server.url}/{bucket}/public.png").content == b"img"
    assert httpx.get(f"{server.url}/{bucket}/private").status_code == 403
    with pytest.raises(ClientError) as error:
        other.get_object(Bucket=bucket, Key="private")
    assert code(error) == "AccessDenied"
    grants = s3.get_object_acl(Bucket=bucket, Key="public.png")["Grants"]
    assert {g["Permission"] for g in grants} == {"READ", "FULL_CONTROL"}
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    listed = httpx.get(f"{server.url}/{bucket}")
    assert listed.status_code == 200 and b"<Key>public.png</Key>" in listed.content
    s3.put_object_acl(Bucket=bucket, Key="private", ACL="authenticated-read")
    assert other.get_object(Bucket=bucket, Key="private")["Body"].read() == b"no"


def test_an_anonymous_sdk_request_gets_s3s_xml_answers(server: Server) -> None:
    sdk = {"amz-sdk-invocation-id": "1", "amz-sdk-request": "attempt=1"}
    missing = httpx.get(f"{server.url}/no-such-bucket-here/key", headers=sdk)
    assert missing.status_code == 404
    assert b"<Code>NoSuchBucket</Code>" in missing.content
    root = httpx.get(f"{server.url}/", headers=sdk)
    assert root.status_code == 403 and b"<Code>AccessDenied</Code>" in root.content
    plain = httpx.get(f"{server.url}/no-such-bucket-here/key")  # a browser: the route's 404
    assert plain.status_code == 404 and b"NoSuchBucket" not in plain.content
