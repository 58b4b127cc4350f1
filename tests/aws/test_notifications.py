"""S3 notifications end to end: a PUT through the S3 API → the subscribed function, with AWS's
record, through the durable queue; and a kill -9 right after a successful PUT loses nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from tests.e2e.conftest import Server, project_dir, start_server, stop_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: notes
functions:
  created:
    handler: s3_handlers.record
    events:
      - s3:
          bucket: uploads
          event: s3:ObjectCreated:*
          rules:
            - prefix: in/
            - suffix: .txt
  removed:
    handler: s3_handlers.record
    events:
      - s3:
          bucket: uploads
          event: s3:ObjectRemoved:*
  gcs:
    handler: s3_handlers.process_file
    style: background
    events:
      - s3:
          bucket: photos
          event: s3:ObjectCreated:*
resources:
  Thumbnails:
    type: AWS::S3::Bucket
    properties:
      BucketName: thumbnails
  Archive:
    type: AWS::S3::Bucket
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return project_dir(tmp_path, MANIFEST)


@pytest.fixture
def server(project: Path) -> Iterator[Server]:
    running = start_server(project, "--no-reload")
    yield running
    stop_server(running)


def s3_client(server: Server) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, s3={"addressing_style": "path"}),
    )


def records(server: Server, function: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{server.url}/_skylet/functions/{function}/logs")
    found = []
    for line in response.text.splitlines():
        text = json.loads(line)["text"]
        for row in text.splitlines():
            if "S3RECORD " in row:
                found.append(json.loads(row.split("S3RECORD ", 1)[1]))
    return found


def wait_records(server: Server, function: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while len(found := records(server, function)) < count:
        assert time.monotonic() < deadline, f"{function} got {found}"
        time.sleep(0.05)
    return found


def test_buckets_of_events_and_declared_resources_exist_at_start(server: Server) -> None:
    """As CloudFormation creates them: a declared bucket by its BucketName, one without a name
    under a name derived from the stack (service-stage) and its logical id."""
    names = {b["Name"] for b in s3_client(server).list_buckets()["Buckets"]}
    assert {"uploads", "photos", "thumbnails", "notes-dev-archive"} <= names


def test_a_put_notifies_with_the_s3_record_and_rules_filter_keys(server: Server) -> None:
    s3 = s3_client(server)
    s3.put_object(Bucket="uploads", Key="in/ignored.png", Body=b"x")  # suffix does not match
    s3.put_object(Bucket="uploads", Key="other/ignored.txt", Body=b"x")  # prefix does not
    put = s3.put_object(Bucket="uploads", Key="in/hello world+1.txt", Body=b"hello")
    (record,) = wait_records(server, "created", 1)
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["eventTime"].endswith("Z")
    assert record["userIdentity"]["principalId"]
    assert record["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert set(record["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    s3_part = record["s3"]
    assert s3_part["s3SchemaVersion"] == "1.0"
    assert s3_part["configurationId"] == "created-s3-1"
    assert s3_part["bucket"]["name"] == "uploads"
    assert s3_part["bucket"]["arn"] == "arn:aws:s3:::uploads"
    assert s3_part["bucket"]["ownerIdentity"]["principalId"]
    obj = s3_part["object"]
    assert obj["key"] == "in/hello+world%2B1.txt"  # URL-encoded as S3 encodes it
    assert obj["size"] == 5
    assert f'"{obj["eTag"]}"' == put["ETag"]
    assert obj["sequencer"]
    time.sleep(0.3)
    assert len(records(server, "created")) == 1  # the filtered-out keys invoked nothing


def test_deletes_copies_and_multipart_uploads_notify_their_event_names(server: Server) -> None:
    s3 = s3_client(server)
    s3.put_object(Bucket="uploads", Key="in/a.txt", Body=b"a")
    s3.copy_object(Bucket="uploads", Key="in/b.txt", CopySource="uploads/in/a.txt")
    uid = s3.create_multipart_upload(Bucket="uploads", Key="in/c.txt")["UploadId"]
    etag = s3.upload_part(Bucket="uploads", Key="in/c.txt", UploadId=uid, PartNumber=1, Body=b"c")
    s3.complete_multipart_upload(
        Bucket="uploads",
        Key="in/c.txt",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag["ETag"]}]},
    )
    s3.delete_object(Bucket="uploads", Key="in/a.txt")
    created = wait_records(server, "created", 3)
    assert sorted(r["eventName"] for r in created) == [
        "ObjectCreated:CompleteMultipartUpload",
        "ObjectCreated:Copy",
        "ObjectCreated:Put",
    ]
    (removed,) = wait_records(server, "removed", 1)
    assert removed["eventName"] == "ObjectRemoved:Delete"
    assert removed["s3"]["object"]["key"] == "in/a.txt"
    assert "size" not in removed["s3"]["object"]


def test_kill_9_right_after_a_successful_put_loses_no_notification(project: Path) -> None:
    (project / "skylet.yaml").write_text(
        MANIFEST.replace("s3_handlers.record", "s3_handlers.remember", 1)
    )
    # remember() appends to a file beside the code, which the test reads: no sandbox, whose
    # view of the code is read-only.
    server = start_server(project, "--no-reload", "--no-sandbox")
    try:
        s3 = s3_client(server)
        for n in range(30):
            s3.put_object(Bucket="uploads", Key=f"in/{n}.txt", Body=b"x")
        server.proc.send_signal(signal.SIGKILL)  # right after the last 200
        server.proc.wait()
    finally:
        stop_server(server)
    again = start_server(project, "--no-reload", "--no-sandbox")
    log = project / "notified.log"
    try:
        deadline = time.monotonic() + 30
        keys: set[str] = set()
        while len(keys) < 30:
            assert time.monotonic() < deadline, sorted(keys)
            keys = set(log.read_text().split()) if log.exists() else set()
            time.sleep(0.1)
        assert keys == {f"in/{n}.txt" for n in range(30)}
    finally:
        stop_server(again)


def test_a_background_function_gets_the_cloud_storage_object(server: Server) -> None:
    s3 = s3_client(server)
    s3.put_object(Bucket="photos", Key="cats/tom.jpg", Body=b"meow", ContentType="image/jpeg")
    deadline = time.monotonic() + 20
    while True:
        text = httpx.get(f"{server.url}/_skylet/functions/gcs/logs").text
        if "GCSEVENT " in text:
            break
        assert time.monotonic() < deadline, text
        time.sleep(0.05)
    line = next(json.loads(entry)["text"] for entry in text.splitlines() if "GCSEVENT " in entry)
    event = json.loads(line.split("GCSEVENT ", 1)[1].splitlines()[0])
    data = event["data"]
    assert (data["bucket"], data["name"]) == ("photos", "cats/tom.jpg")
    assert data["kind"] == "storage#object"
    assert data["metageneration"] == "1"
    assert data["contentType"] == "image/jpeg"
    assert data["size"] == "4"
    assert data["md5Hash"] == base64.b64encode(hashlib.md5(b"meow").digest()).decode()
    assert data["timeCreated"].endswith("Z") and data["updated"] == data["timeCreated"]
    assert data["id"] == f"photos/cats/tom.jpg/{data['generation']}"
    assert event["event_type"] == "google.storage.object.finalize"
    assert event["resource"] == {
        "service": "storage.googleapis.com",
        "name": "projects/_/buckets/photos/objects/cats/tom.jpg",
        "type": "storage#object",
    }
