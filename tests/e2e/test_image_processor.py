"""The seed's image processor (examples/image-processor), run as its README says on a real
``skylet up``: POST /upload gives a presigned URL, a PUT of a real image through it makes three
thumbnails (their pixel sizes and Content-Type checked) and a notification that notify logs
(SNS's event, validated against Powertools' SnsModel); a corrupt upload ends in the DLQ with
its error, and the uploads beside it are all processed. Upload, processing and notification are
one trace, as a real OTLP receiver sees it."""

from __future__ import annotations

import io
import json
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aws_lambda_powertools.utilities.parser.models import S3Model, SnsModel
from PIL import Image

from skylet.config import HOST_RUNTIME
from tests.e2e.conftest import Server, cli, start_server, stop_server
from tests.otlp_receiver import OtlpReceiver

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).parents[2] / "examples" / "image-processor"
BUCKET = "image-processor-dev"
DLQ = "image-process-dlq-dev"
TOPIC = "arn:aws:sns:us-east-1:000000000000:ImageProcessingComplete-dev"
SIZES = {"small": 150, "medium": 300, "large": 600}
T = TypeVar("T")


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, receiver: OtlpReceiver) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("image-processor") / "image-processor"
    shutil.copytree(EXAMPLE, directory, ignore=shutil.ignore_patterns(".skylet", "__pycache__"))
    # The example names python3.11; here it runs on the interpreter the tests run on.
    manifest = directory / "serverless.yml"
    manifest.write_text(manifest.read_text().replace("python3.11", HOST_RUNTIME))
    running = start_server(directory, "--no-reload", "--otlp-endpoint", receiver.url)
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def s3(server: Server) -> Iterator[Any]:
    client = server.client("s3")
    yield client
    client.close()


@pytest.fixture(scope="module")
def sqs(server: Server) -> Iterator[Any]:
    client = server.client("sqs")
    yield client
    client.close()


def _image(size: tuple[int, int], image_format: str) -> bytes:
    """A picture with some detail (a gradient), so the encoders and Lanczos have work."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    image.save(out, image_format)
    return out.getvalue()


def _upload(
    server: Server, file_name: str, file_type: str, body: bytes, traceparent: str | None = None
) -> str:
    """POST /upload, then PUT the file through the presigned URL, as the README's curl does;
    the object's key. ``traceparent``: both requests carry it, as a traced client's would."""
    traced = {"traceparent": traceparent} if traceparent else {}
    answer = httpx.post(
        f"{server.url}/upload",
        json={"file_name": file_name, "file_type": file_type},
        headers=traced,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == "*"
    document = answer.json()
    key = document["key"]
    assert key == f"uploads/{document['file_id']}/{file_name}"
    url = urlsplit(document["upload_url"])
    assert url.path == f"/{BUCKET}/{key}"
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["900"]  # valid 15 minutes
    assert query["X-Amz-SignedHeaders"] == ["content-type;host"]
    put = httpx.put(
        document["upload_url"], content=body, headers={"Content-Type": file_type, **traced}
    )
    assert put.status_code == 200, put.text
    return str(key)


def _until(probe: Callable[[], T | None], what: str, timeout_s: float = 60) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout_s:g} s")
        time.sleep(0.1)


def _thumbnails(s3: Any, key: str) -> dict[str, tuple[tuple[int, int], str]]:
    """Each size's thumbnail of ``key``: its pixel size and Content-Type, once all three exist."""

    def probe() -> dict[str, tuple[tuple[int, int], str]] | None:
        found = {}
        for name in SIZES:
            try:
                got = s3.get_object(Bucket=BUCKET, Key=f"thumbnails/{name}/{key}")
            except s3.exceptions.NoSuchKey:
                return None
            found[name] = (Image.open(io.BytesIO(got["Body"].read())).size, got["ContentType"])
        return found

    return _until(probe, f"thumbnails of {key}")


def _notifications(server: Server) -> list[dict[str, Any]]:
    """The SNS events notify logged, read with `skylet logs notify` as the README says."""
    result = cli("logs", "notify", "--endpoint-url", server.url)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def _notification_of(server: Server, key: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        for event in _notifications(server):
            message = json.loads(event["Records"][0]["Sns"]["Message"])
            if message["key"] == key:
                return event
        return None

    return _until(probe, f"notification of {key}")


def test_skylet_up_lists_the_dlq_and_the_topic_beside_the_functions(server: Server) -> None:
    rows = {tuple(re.split(r"\s{2,}", line.strip())) for line in server.output().splitlines()}
    dlq_url = f"{server.url}/000000000000/{DLQ}"
    assert (DLQ, dlq_url, "serverless-image-processor-dev-process onFailure") in rows
    notify = "lambda serverless-image-processor-dev-notify"
    assert ("ImageProcessingComplete-dev", notify, TOPIC) in rows


@pytest.mark.parametrize(
    ("file_name", "file_type", "image_format", "size", "expected"),
    [
        pytest.param(
            "landscape.png",
            "image/png",
            "PNG",
            (1200, 800),
            {"small": (150, 100), "medium": (300, 200), "large": (600, 400)},
            id="a png",
        ),
        pytest.param(
            "portrait.jpg",
            "image/jpeg",
            "JPEG",
            (900, 1350),
            {"small": (100, 150), "medium": (200, 300), "large": (400, 600)},
            id="a jpeg",
        ),
    ],
)
def test_an_upload_makes_three_thumbnails_and_a_notification(
    server: Server,
    s3: Any,
    file_name: str,
    file_type: str,
    image_format: str,
    size: tuple[int, int],
    expected: dict[str, tuple[int, int]],
) -> None:
    key = _upload(server, file_name, file_type, _image(size, image_format))
    thumbnails = _thumbnails(s3, key)
    assert thumbnails == {name: (expected[name], file_type) for name in SIZES}

    event = _notification_of(server, key)
    (record,) = SnsModel.model_validate(event).Records
    assert str(record.Sns.TopicArn) == TOPIC
    assert record.Sns.Subject == "Image processed"
    assert json.loads(record.Sns.Message) == {
        "bucket": BUCKET,
        "key": key,
        "thumbnails": {
            name: {"key": f"thumbnails/{name}/{key}", "width": w, "height": h}
            for name, (w, h) in expected.items()
        },
    }


def test_the_presigned_url_holds_its_content_type_and_a_bad_request_is_a_400(
    server: Server,
) -> None:
    answer = httpx.post(
        f"{server.url}/upload", json={"file_name": "a.png", "file_type": "image/png"}
    )
    put = httpx.put(answer.json()["upload_url"], content=b"x", headers={"Content-Type": "a/b"})
    assert put.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in put.content
    refused = httpx.post(f"{server.url}/upload", content=b"not json")
    assert refused.status_code == 400
    assert refused.json() == {"error": "Invalid request: the body is not JSON"}


def test_a_corrupt_upload_ends_in_the_dlq_with_its_error_and_nothing_else_is_lost(
    server: Server, s3: Any, sqs: Any
) -> None:
    good = [(f"photo-{i}.png", "image/png", _image((640, 480), "PNG")) for i in range(4)]
    corrupt = ("corrupt.png", "image/png", b"these bytes are not an image")
    with ThreadPoolExecutor(5) as pool:
        keys = list(pool.map(lambda upload: _upload(server, *upload), [*good, corrupt]))
    *good_keys, corrupt_key = keys

    queue = sqs.get_queue_url(QueueName=DLQ)["QueueUrl"]
    answer = _until(
        lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5).get("Messages"),
        "message in the DLQ",
    )
    (message,) = answer
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["functionArn"].endswith(
        ":function:serverless-image-processor-dev-process:$LATEST"
    )
    assert record["responseContext"]["functionError"] == "Unhandled"
    error = record["responsePayload"]
    assert error["errorType"] == "NotAnImage"
    assert error["errorMessage"] == f"s3://{BUCKET}/{corrupt_key} is not an image"
    (s3_record,) = S3Model.model_validate(record["requestPayload"]).Records
    assert s3_record.s3.object.key == corrupt_key

    for key in good_keys:
        assert set(_thumbnails(s3, key)) == set(SIZES)
        _notification_of(server, key)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="thumbnails/")
    assert not [o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith(corrupt_key)]
    # One failure, one dead letter: the queue is empty now.
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)


def test_a_browsers_preflight_of_the_upload_api_is_answered_as_cors_true_does(
    server: Server,
) -> None:
    headers = {
        "Origin": "http://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    answer = httpx.options(f"{server.url}/upload", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "POST" in answer.headers["access-control-allow-methods"].split(",")
    assert "Content-Type" in answer.headers["access-control-allow-headers"].split(",")


def test_upload_process_and_notify_are_one_trace(
    server: Server, s3: Any, receiver: OtlpReceiver
) -> None:
    trace_id, client_span = secrets.token_hex(16), secrets.token_hex(8)
    traceparent = f"00-{trace_id}-{client_span}-01"
    key = _upload(server, "traced.png", "image/png", _image((400, 300), "PNG"), traceparent)
    _thumbnails(s3, key)
    _notification_of(server, key)
    name = "serverless-image-processor-dev-"

    def chain(spans: list[Any]) -> bool:
        names = {s.name for s in spans if s.trace_id == trace_id}
        return {name + "upload", name + "process", name + "notify"} <= names

    spans = [s for s in receiver.wait_for(chain) if s.trace_id == trace_id]
    by_name = {s.name: s for s in spans if s.name.startswith(name)}
    upload, process, notify = (by_name[name + f] for f in ("upload", "process", "notify"))
    # The client's span is the parent of both of its requests' work.
    assert upload.parent_span_id == client_span
    assert upload.attributes["faas.trigger"] == "http"
    assert process.parent_span_id == client_span  # the S3 notification of its PUT
    # process published through boto3, which sent its _X_AMZN_TRACE_ID on.
    assert notify.parent_span_id == process.span_id
    assert process.status_code == notify.status_code == 0
