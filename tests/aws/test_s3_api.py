"""The S3 API of ``skylet up`` with a stock boto3 client and plain HTTP for presigned URLs."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from skylet.aws import sigv4
from tests.e2e.conftest import Server, module_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: blobs
functions:
  noop:
    handler: handlers.echo
    events:
      - s3:
          bucket: declared-bucket
          event: s3:ObjectCreated:*
"""


server = module_server("blobs", MANIFEST, "--public-bucket", "open-bucket")


def client(server: Server, secret: str = "test", key: str = "test") -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 0}, s3={"addressing_style": "path"}),
    )


@pytest.fixture
def s3(server: Server) -> Any:
    return client(server)


@pytest.fixture
def bucket(s3: Any, request: pytest.FixtureRequest) -> str:
    name = "b-" + hashlib.sha256(request.node.name.encode()).hexdigest()[:12]
    s3.create_bucket(Bucket=name)
    return name


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_buckets_are_created_listed_checked_and_deleted(s3: Any) -> None:
    s3.create_bucket(Bucket="life-cycle")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "life-cycle" in names
    assert "declared-bucket" in names  # named by an s3 event in the manifest
    s3.head_bucket(Bucket="life-cycle")
    s3.create_bucket(Bucket="life-cycle")  # your own again: 200, as S3 answers in us-east-1
    with pytest.raises(ClientError) as error:
        s3.create_bucket(Bucket="life-cycle", ACL="public-read")  # not with another ACL
    assert code(error) == "BucketAlreadyExists"
    s3.put_object(Bucket="life-cycle", Key="k", Body=b"x")
    with pytest.raises(ClientError) as error:
        s3.delete_bucket(Bucket="life-cycle")
    assert code(error) == "BucketNotEmpty"
    s3.delete_object(Bucket="life-cycle", Key="k")
    s3.delete_bucket(Bucket="life-cycle")
    with pytest.raises(ClientError) as error:
        s3.head_bucket(Bucket="life-cycle")
    assert error.value.response["Error"]["Code"] == "404"
    with pytest.raises(ClientError) as error:
        s3.create_bucket(Bucket="Bad_Name")
    assert code(error) == "InvalidBucketName"


def test_objects_round_trip_with_type_metadata_and_md5_etag(s3: Any, bucket: str) -> None:
    body = b"hello, skylet"
    put = s3.put_object(
        Bucket=bucket,
        Key="dir/hello.txt",
        Body=body,
        ContentType="text/plain",
        Metadata={"owner": "ana"},
        CacheControl="max-age=60",
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="dir/hello.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "ana"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ETag"] == put["ETag"]
    head = s3.head_object(Bucket=bucket, Key="dir/hello.txt")
    assert head["ContentLength"] == len(body)
    with pytest.raises(ClientError) as error:
        s3.get_object(Bucket=bucket, Key="missing")
    assert code(error) == "NoSuchKey"
    with pytest.raises(ClientError) as error:
        s3.get_object(Bucket="no-such-bucket", Key="k")
    assert code(error) == "NoSuchBucket"
    s3.delete_object(Bucket=bucket, Key="dir/hello.txt")
    s3.delete_object(Bucket=bucket, Key="dir/hello.txt")  # deleting nothing is not an error
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="dir/hello.txt")


@pytest.mark.parametrize(
    "key", ["a b", "ünï/cödé", "plus+sign", "100%", "/lead", "trail/", "a%2Fb"]
)
def test_awkward_keys_round_trip_and_do_not_collide(s3: Any, bucket: str, key: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    s3.put_object(Bucket=bucket, Key="a/b", Body=b"slash")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    listed = s3.list_objects_v2(Bucket=bucket)
    assert key in [o["Key"] for o in listed["Contents"]]


def test_ranges(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    part = s3.get_object(Bucket=bucket, Key="digits", Range="bytes=2-4")
    assert part["Body"].read() == b"234"
    assert part["ContentRange"] == "bytes 2-4/10"
    assert s3.get_object(Bucket=bucket, Key="digits", Range="bytes=-3")["Body"].read() == b"789"
    assert s3.get_object(Bucket=bucket, Key="digits", Range="bytes=7-")["Body"].read() == b"789"
    with pytest.raises(ClientError) as error:
        s3.get_object(Bucket=bucket, Key="digits", Range="bytes=20-30")
    assert code(error) == "InvalidRange"


def test_copy_keeps_or_replaces_metadata(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"data", Metadata={"a": "1"}, ContentType="x/y")
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "src"})
    copied = s3.head_object(Bucket=bucket, Key="copy")
    assert (copied["Metadata"], copied["ContentType"]) == ({"a": "1"}, "x/y")
    s3.copy_object(
        Bucket=bucket,
        Key="replaced",
        CopySource=f"{bucket}/src",
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="text/plain",
    )
    replaced = s3.get_object(Bucket=bucket, Key="replaced")
    assert replaced["Metadata"] == {"b": "2"}
    assert replaced["Body"].read() == b"data"


def test_list_objects_v2_prefix_delimiter_pages_and_start_after(s3: Any, bucket: str) -> None:
    keys = ["a/1", "a/2", "a/b/3", "b/4", "c", "d"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["c", "d"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "b/"]
    under = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in under["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in under["CommonPrefixes"]] == ["a/b/"]
    seen: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}
    ):
        assert page["KeyCount"] <= 2
        seen += [o["Key"] for o in page.get("Contents", [])]
    assert seen == keys
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="b/4")
    assert [o["Key"] for o in after["Contents"]] == ["c", "d"]
    v1 = s3.list_objects(Bucket=bucket, Prefix="a/")
    assert [o["Key"] for o in v1["Contents"]] == ["a/1", "a/2", "a/b/3"]


def test_delete_objects_reports_each_key_unless_quiet(s3: Any, bucket: str) -> None:
    for key in ("x", "y"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    done = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "x"}, {"Key": "zz"}]})
    assert sorted(d["Key"] for d in done["Deleted"]) == ["x", "zz"]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "y"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_multipart_upload_joins_parts_with_the_multipart_etag(s3: Any, bucket: str) -> None:
    first, second = b"a" * (5 * 1024 * 1024), b"tail"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big", ContentType="app/x")
    uid = upload["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=1, Body=first)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=2, Body=second)["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="big", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, len(first)), (2, len(second))]
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    digests = hashlib.md5(hashlib.md5(first).digest() + hashlib.md5(second).digest()).hexdigest()
    assert done["ETag"] == f'"{digests}-2"'
    got = s3.get_object(Bucket=bucket, Key="big")
    assert got["ContentLength"] == len(first) + len(second)
    assert got["ContentType"] == "app/x"
    assert hashlib.md5(got["Body"].read()).hexdigest() == hashlib.md5(first + second).hexdigest()


def test_multipart_refuses_small_parts_and_can_be_aborted(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"s")["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=2, Body=b"t")["ETag"]
    with pytest.raises(ClientError) as error:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="k",
            UploadId=uid,
            MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]
            },
        )
    assert code(error) == "EntityTooSmall"
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=uid)
    with pytest.raises(ClientError) as error:
        s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)
    assert code(error) == "NoSuchUpload"


def test_signatures_are_checked(server: Server, bucket: str) -> None:
    with pytest.raises(ClientError) as error:
        client(server, secret="wrong").list_objects_v2(Bucket=bucket)
    assert code(error) == "SignatureDoesNotMatch"
    # Local mode: any other access key is accepted (its secret is unknown: docs/services.md).
    assert client(server, key="nobody", secret="x").list_objects_v2(Bucket=bucket)["Name"] == bucket
    anonymous = httpx.get(f"{server.url}/{bucket}/anything")
    assert anonymous.status_code == 403
    assert b"<Code>AccessDenied</Code>" in anonymous.content


def test_presigned_get_and_put_work_and_tampering_or_expiry_is_refused(
    s3: Any, server: Server, bucket: str
) -> None:
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "up.bin"}, ExpiresIn=60
    )
    assert httpx.put(put_url, content=b"uploaded").status_code == 200
    # The seed's upload API: a URL for one content type and metadata, which botocore carries
    # in the query; the uploader sends the Content-Type (signed), not the metadata.
    typed_url = s3.generate_presigned_url(
        "put_object",
        Params={
            "Bucket": bucket,
            "Key": "typed.jpg",
            "ContentType": "image/jpeg",
            "Metadata": {"owner": "ann"},
        },
        ExpiresIn=60,
    )
    assert "content-type=image%2Fjpeg" in typed_url
    typed = httpx.put(typed_url, content=b"jpg", headers={"Content-Type": "image/jpeg"})
    assert typed.status_code == 200, typed.text
    head = s3.head_object(Bucket=bucket, Key="typed.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert head["Metadata"] == {"owner": "ann"}
    wrong = httpx.put(typed_url, content=b"png", headers={"Content-Type": "image/png"})
    assert wrong.status_code == 403
    assert b"SignatureDoesNotMatch" in wrong.content
    v4 = boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    get_v4 = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "up.bin"})
    assert "X-Amz-Signature=" in get_v4
    assert httpx.get(get_v4).content == b"uploaded"
    assert httpx.get(get_v4.replace("up.bin", "up.bim")).status_code == 403
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "up.bin"}, ExpiresIn=60
    )
    assert httpx.get(get_url).content == b"uploaded"
    tampered = get_url.replace("up.bin", "other.bin")
    refused = httpx.get(tampered)
    assert refused.status_code == 403
    assert b"SignatureDoesNotMatch" in refused.content
    path = f"/{bucket}/up.bin"
    expired = sigv4.presign(
        access_key="test",
        secret="test",
        region="us-east-1",
        method="GET",
        host=f"127.0.0.1:{server.port}",
        raw_path=path,
        expires_s=60,
        now=time.time() - 3600,
    )
    response = httpx.get(f"{server.url}{expired}")
    assert response.status_code == 403
    assert b"Request has expired" in response.content
    fresh = sigv4.presign(
        access_key="test",
        secret="test",
        region="us-east-1",
        method="GET",
        host=f"127.0.0.1:{server.port}",
        raw_path=path,
    )
    assert httpx.get(f"{server.url}{fresh}").content == b"uploaded"


def test_public_buckets_are_readable_without_signing(s3: Any, server: Server) -> None:
    s3.put_object(Bucket="open-bucket", Key="page.html", Body=b"<p>hi</p>")
    assert httpx.get(f"{server.url}/open-bucket/page.html").content == b"<p>hi</p>"
    assert httpx.put(f"{server.url}/open-bucket/page.html", content=b"x").status_code == 403


def test_a_large_object_streams_through_without_being_held_in_memory(
    s3: Any, server: Server, bucket: str
) -> None:
    size = 160 * 1024 * 1024
    chunk = bytes(range(256)) * 4096  # 1 MiB

    def body() -> Iterator[bytes]:
        for _ in range(size // len(chunk)):
            yield chunk

    def kb(field: str) -> int:
        status = Path(f"/proc/{server.proc.pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith(field)).split()[1])

    # Against the peak the process had already reached, so the platform's own size (which grows
    # with every service it serves) does not decide the test: only the transfer's growth does.
    before_kb = kb("VmHWM")
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "large"}, ExpiresIn=300
    )
    assert httpx.put(url, content=body(), timeout=120).status_code == 200
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "large"}, ExpiresIn=300
    )
    received = 0
    with httpx.stream("GET", get_url, timeout=120) as response:
        for piece in response.iter_bytes():
            received += len(piece)
    assert received == size
    grown_kb = kb("VmHWM") - before_kb
    assert grown_kb * 1024 < size / 4, f"skylet up's peak grew by {grown_kb} kB in the transfer"


def test_a_bucket_made_here_is_known_at_once_to_unsigned_requests(s3: Any, server: Server) -> None:
    before = httpx.get(f"{server.url}/made-just-now/key")
    assert before.status_code == 404 and b"NoSuchBucket" not in before.content  # no route here
    s3.create_bucket(Bucket="made-just-now")  # within the second the first answer is kept
    after = httpx.get(f"{server.url}/made-just-now/key")
    assert after.status_code == 403 and b"<Code>AccessDenied</Code>" in after.content
    s3.delete_bucket(Bucket="made-just-now")
    assert httpx.get(f"{server.url}/made-just-now/key").status_code == 404


def test_query_parameters_s3_does_not_know_are_ignored(
    s3: Any, server: Server, bucket: str
) -> None:
    def cache_buster(request: Any, **_: Any) -> None:
        request.url += ("&" if "?" in request.url else "?") + "v=2"

    busted = client(server)
    busted.meta.events.register("before-sign.s3.PutObject", cache_buster)
    busted.meta.events.register("before-sign.s3.GetObject", cache_buster)
    busted.put_object(Bucket=bucket, Key="styles.css", Body=b"p{}")  # signed with ?v=2
    assert busted.get_object(Bucket=bucket, Key="styles.css")["Body"].read() == b"p{}"
    s3.put_object(Bucket="open-bucket", Key="logo.svg", Body=b"<svg/>")
    assert httpx.get(f"{server.url}/open-bucket/logo.svg?v=3").content == b"<svg/>"
    # A subresource S3 knows but skylet does not implement is still refused, not ignored.
    with pytest.raises(ClientError) as error:
        s3.get_bucket_versioning(Bucket=bucket)
    assert code(error) == "NotImplemented"
