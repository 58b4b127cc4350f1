"""ListMultipartUploads, GetObjectAttributes, a part's checksum on GetObject, a re-sent part, and
keys that are not UTF-8: S3's answers with stock boto3 (raw HTTP where boto3 would not send
the request) against a real ``skylet up``."""

from __future__ import annotations

import base64
import hashlib
import http.client
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.aws.test_s3_api import client, code
from tests.aws.test_s3_auth import sign
from tests.e2e.conftest import Server, module_server

pytestmark = pytest.mark.e2e

server = module_server(
    "s3uploads", "service: s3uploads\nfunctions: {}\n", "--credentials", "test:test",
    "--credentials", "other:secret",
)  # fmt: skip

MB = 1024 * 1024
ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


@pytest.fixture
def s3(server: Server) -> Any:
    return client(server)


@pytest.fixture
def bucket(s3: Any, request: pytest.FixtureRequest) -> str:
    name = "u-" + hashlib.sha256(request.node.name.encode()).hexdigest()[:12]
    s3.create_bucket(Bucket=name)
    return name


def sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_list_multipart_uploads_pages_by_key_then_by_start_with_owners(
    s3: Any, server: Server, bucket: str
) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    first = s3.create_multipart_upload(Bucket=bucket, Key="dir/a b")["UploadId"]
    second = s3.create_multipart_upload(Bucket=bucket, Key="dir/a b")["UploadId"]
    theirs = client(server, "secret", "other")
    other = theirs.create_multipart_upload(Bucket=bucket, Key="top", ChecksumAlgorithm="SHA256")
    whole = s3.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in whole["Uploads"]] == [
        ("dir/a b", first),
        ("dir/a b", second),
        ("top", other["UploadId"]),
    ]
    assert whole["IsTruncated"] is False
    assert whole["MaxUploads"] == 1000
    top = whole["Uploads"][2]
    assert top["Initiator"]["DisplayName"] == top["Owner"]["DisplayName"] == "other"
    assert whole["Uploads"][0]["Owner"]["DisplayName"] == "test"
    assert (top["StorageClass"], top["ChecksumAlgorithm"]) == ("STANDARD", "SHA256")

    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1)
    assert page["IsTruncated"] is True
    assert (page["NextKeyMarker"], page["NextUploadIdMarker"]) == ("dir/a b", first)
    rest = s3.list_multipart_uploads(
        Bucket=bucket, KeyMarker=page["NextKeyMarker"], UploadIdMarker=page["NextUploadIdMarker"]
    )
    assert [u["UploadId"] for u in rest["Uploads"]] == [second, other["UploadId"]]
    after_key = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="dir/a b")
    assert [u["Key"] for u in after_key["Uploads"]] == ["top"]

    rolled = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/", EncodingType="url")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["dir/"]
    assert [u["Key"] for u in rolled["Uploads"]] == ["top"]
    encoded = s3.list_multipart_uploads(Bucket=bucket, Prefix="dir/", EncodingType="url")
    assert [u["Key"] for u in encoded["Uploads"]] == ["dir/a%20b"] * 2  # boto3 leaves them

    s3.abort_multipart_upload(Bucket=bucket, Key="dir/a b", UploadId=first)
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [
        second,
        other["UploadId"],
    ]
    anonymous = httpx.get(f"{server.url}/{bucket}?uploads", headers={"x-amz-date": "x"})
    assert anonymous.status_code == 200  # public-read-write lets anyone list them, as on S3
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    with pytest.raises(ClientError) as error:
        theirs.list_multipart_uploads(Bucket=bucket)
    assert code(error) == "AccessDenied"


def test_get_object_attributes_of_a_simple_object(s3: Any, server: Server, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"foo", ChecksumAlgorithm="SHA256")
    got = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=ALL)
    assert got["ETag"] == put["ETag"].strip('"')  # unquoted, as S3 writes it here
    assert (got["ObjectSize"], got["StorageClass"]) == (3, "STANDARD")
    assert got["Checksum"] == {"ChecksumSHA256": sha256(b"foo"), "ChecksumType": "FULL_OBJECT"}
    assert "ObjectParts" not in got
    assert got["LastModified"] == s3.head_object(Bucket=bucket, Key="k")["LastModified"]
    only = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert "ETag" not in only and "Checksum" not in only and only["ObjectSize"] == 3
    with pytest.raises(ClientError) as error:
        s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["Etag"])
    assert code(error) == "InvalidArgument"
    with pytest.raises(ClientError) as error:
        s3.get_object_attributes(Bucket=bucket, Key="missing", ObjectAttributes=ALL)
    assert code(error) == "NoSuchKey"
    with pytest.raises(ClientError) as error:  # who may not read it learns nothing more
        client(server, "secret", "other").get_object_attributes(
            Bucket=bucket, Key="k", ObjectAttributes=["Etag"]
        )
    assert code(error) == "AccessDenied"


def test_a_multipart_objects_parts_keep_their_checksums(s3: Any, bucket: str) -> None:
    bodies = [b"a" * (5 * MB), b"b" * (5 * MB), b"c" * 100]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")
    parts = []
    for number, body in enumerate(bodies, 1):
        sent = s3.upload_part(
            Bucket=bucket,
            Key="mp",
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm="SHA256",
        )
        parts.append(
            {"PartNumber": number, "ETag": sent["ETag"], "ChecksumSHA256": sent["ChecksumSHA256"]}
        )
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    got = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=ALL)
    assert got["Checksum"] == {
        "ChecksumSHA256": done["ChecksumSHA256"],
        "ChecksumType": "COMPOSITE",
    }
    listed = got["ObjectParts"]
    assert (listed["TotalPartsCount"], listed["IsTruncated"]) == (3, False)
    assert [(p["PartNumber"], p["Size"], p["ChecksumSHA256"]) for p in listed["Parts"]] == [
        (n, len(b), sha256(b)) for n, b in enumerate(bodies, 1)
    ]
    page = s3.get_object_attributes(
        Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=1, PartNumberMarker=1
    )["ObjectParts"]
    assert [p["PartNumber"] for p in page["Parts"]] == [2]
    assert (page["IsTruncated"], page["NextPartNumberMarker"], page["MaxParts"]) == (True, 2, 1)
    # boto3 asks for (and checks) the checksum of what a GET answers: here, the part's own.
    second = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2, ChecksumMode="ENABLED")
    assert (second["ChecksumSHA256"], second["ChecksumType"]) == (sha256(bodies[1]), "COMPOSITE")
    assert second["Body"].read() == bodies[1]


def test_a_multipart_object_without_checksums_answers_only_its_part_count(
    s3: Any, bucket: str
) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="plain")["UploadId"]
    parts = []
    for number, body in enumerate([b"x" * (5 * MB), b"y"], 1):
        sent = s3.upload_part(
            Bucket=bucket, Key="plain", UploadId=upload, PartNumber=number, Body=body
        )
        parts.append({"PartNumber": number, "ETag": sent["ETag"]})
    s3.complete_multipart_upload(
        Bucket=bucket, Key="plain", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    got = s3.get_object_attributes(Bucket=bucket, Key="plain", ObjectAttributes=ALL)
    # S3's general purpose buckets list parts only when they carry checksums.
    assert got["ObjectParts"] == {"TotalPartsCount": 2}
    assert "Checksum" not in got and got["ETag"].endswith("-2")


def test_a_part_sent_again_while_its_first_send_streams_is_replaced_by_the_later_finish(
    s3: Any, server: Server, bucket: str
) -> None:
    """S3 keeps, for a part number, the upload that completed last: here the first send,
    which started before the second and finished after it."""
    upload = s3.create_multipart_upload(Bucket=bucket, Key="resent")["UploadId"]
    first, second = b"A" * 64 * 1024, b"B" * 64 * 1024
    path = f"/{bucket}/resent?partNumber=1&uploadId={upload}"
    headers = {"x-amz-content-sha256": hashlib.sha256(first).hexdigest()}
    signed = sign(server, "PUT", path, headers, first)
    address = urlsplit(server.url)
    slow = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port)
    try:
        slow.putrequest("PUT", path, skip_accept_encoding=True)
        for name, value in signed.headers.items():  # Content-Length among them
            slow.putheader(name, value)
        slow.endheaders()
        slow.send(first[: len(first) // 2])
        later = s3.upload_part(
            Bucket=bucket, Key="resent", UploadId=upload, PartNumber=1, Body=second
        )
        slow.send(first[len(first) // 2 :])
        answer = slow.getresponse()
        assert answer.status == 200, answer.read()
        etag = answer.getheader("etag")
    finally:
        slow.close()
    assert etag == f'"{hashlib.md5(first).hexdigest()}"'
    listed = s3.list_parts(Bucket=bucket, Key="resent", UploadId=upload)["Parts"]
    assert [p["ETag"] for p in listed] == [etag]
    with pytest.raises(ClientError) as error:  # the earlier finish is gone
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="resent",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": later["ETag"]}]},
        )
    assert code(error) == "InvalidPart"
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="resent",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert s3.get_object(Bucket=bucket, Key="resent")["Body"].read() == first


def test_a_completion_that_lists_a_part_number_twice_is_refused(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="twice")["UploadId"]
    sent = s3.upload_part(Bucket=bucket, Key="twice", UploadId=upload, PartNumber=1, Body=b"x")
    part = {"PartNumber": 1, "ETag": sent["ETag"]}
    with pytest.raises(ClientError) as error:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="twice", UploadId=upload, MultipartUpload={"Parts": [part, part]}
        )
    assert code(error) == "InvalidPartOrder"


@pytest.mark.parametrize(
    "raw_key",
    [
        pytest.param("%AE%8A-", id="a lone Latin-1 byte"),
        pytest.param("ok/%C3", id="a UTF-8 sequence cut short"),
        pytest.param("%ED%A0%80", id="an encoded surrogate"),
    ],
)
def test_a_key_that_is_not_utf8_is_an_invalid_uri(
    server: Server, bucket: str, raw_key: str
) -> None:
    unsigned = {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
    signed = sign(server, "GET", f"/{bucket}/{raw_key}", unsigned, b"")
    got = httpx.get(f"{server.url}/{bucket}/{raw_key}", headers=dict(signed.headers))
    assert got.status_code == 400, got.text
    assert b"<Code>InvalidURI</Code>" in got.content
    assert b"Couldn't parse the specified URI." in got.content
