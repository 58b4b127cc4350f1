"""SQS in the query protocol, as SDKs from before SQS moved to json speak it: a boto3 client
made from the model with its query names (what botocore shipped until 2023), and requests
written out as AWS's query API reference shows them."""

from __future__ import annotations

import copy
import json
import re
from typing import Any
from urllib.parse import urlencode

import boto3
import botocore.session
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.loaders import Loader

from skylet.aws.protocols.models import _merge, combined
from skylet.aws.sqs.wire_names import OVERLAY, QUERY_OVERLAY
from tests.aws.sqs.served import SqsServer, module_server

pytestmark = pytest.mark.e2e

server = module_server("sqs-query")


@pytest.fixture(scope="module")
def query_sqs(server: SqsServer, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """boto3's SQS client speaking query: today's model with the query names merged in."""
    model = copy.deepcopy(Loader().load_service_model("sqs", "service-2"))
    _merge(model, combined(OVERLAY, QUERY_OVERLAY))
    model["metadata"].update(protocol="query", protocols=["query"])
    data = tmp_path_factory.mktemp("models")
    target = data / "sqs" / "2012-11-05"
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.Session()
    session.get_component("data_loader").search_paths.insert(0, str(data))
    return boto3.Session(botocore_session=session).client(
        "sqs",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}),
    )


def signed_form(server: SqsServer, params: dict[str, str]) -> httpx.Response:
    """A query request as a hand-written client sends it, signed for SQS."""
    body = urlencode(params)
    request = AWSRequest(
        "POST",
        server.url + "/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    SigV4Auth(Credentials("test", "test"), "sqs", "us-east-1").add_auth(request)
    return httpx.post(server.url + "/", content=body, headers=dict(request.headers.items()))


def test_a_query_client_creates_sends_receives_and_deletes(query_sqs: Any) -> None:
    url = query_sqs.create_queue(
        QueueName="old-sdk", Attributes={"VisibilityTimeout": "40"}, tags={"era": "query"}
    )["QueueUrl"]
    sent = query_sqs.send_message(
        QueueUrl=url,
        MessageBody="from the past",
        MessageAttributes={"Foo": {"DataType": "String", "StringValue": "Bar"}},
    )
    assert sent["MD5OfMessageAttributes"] == "ae7155c6026991b6d54b11589678bf9c"
    batch = query_sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "a", "MessageBody": "one"}, {"Id": "b", "MessageBody": "\x01"}],
    )
    assert [e["Id"] for e in batch["Successful"]] == ["a"]
    assert [(f["Id"], f["Code"]) for f in batch["Failed"]] == [("b", "InvalidMessageContents")]

    received = query_sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]

    first = next(m for m in received if m["Body"] == "from the past")
    assert first["MessageAttributes"] == {"Foo": {"DataType": "String", "StringValue": "Bar"}}
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    deleted = query_sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)
        ],
    )
    assert len(deleted["Successful"]) == 2
    attributes = query_sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "40"
    assert query_sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"era": "query"}
    assert url in query_sqs.list_queues(QueueNamePrefix="old-")["QueueUrls"]


def test_a_query_client_gets_sqss_legacy_error_codes(query_sqs: Any) -> None:
    with pytest.raises(query_sqs.exceptions.QueueDoesNotExist) as raised:
        query_sqs.get_queue_url(QueueName="never-made")
    assert raised.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    query_sqs.create_queue(QueueName="legacy-exists", Attributes={"DelaySeconds": "1"})
    with pytest.raises(query_sqs.exceptions.QueueNameExists) as raised:
        query_sqs.create_queue(QueueName="legacy-exists", Attributes={"DelaySeconds": "2"})
    assert raised.value.response["Error"]["Code"] == "QueueAlreadyExists"


def test_the_query_api_references_requests_are_answered_in_its_xml(server: SqsServer) -> None:
    created = signed_form(
        server,
        {
            "Action": "CreateQueue",
            "QueueName": "by-hand",
            "Attribute.1.Name": "DelaySeconds",
            "Attribute.1.Value": "0",
            "Version": "2012-11-05",
        },
    )
    assert created.status_code == 200, created.text
    assert "<CreateQueueResponse" in created.text
    url = re.search(r"<QueueUrl>([^<]+)</QueueUrl>", created.text)
    assert url is not None and url.group(1).endswith("/000000000000/by-hand")
    sent = signed_form(
        server,
        {
            "Action": "SendMessageBatch",
            "QueueUrl": url.group(1),
            "SendMessageBatchRequestEntry.1.Id": "first",
            "SendMessageBatchRequestEntry.1.MessageBody": "one",
            "SendMessageBatchRequestEntry.1.MessageAttribute.1.Name": "Foo",
            "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType": "String",
            "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue": "Bar",
            "Version": "2012-11-05",
        },
    )
    assert sent.status_code == 200, sent.text
    assert "<SendMessageBatchResultEntry><Id>first</Id>" in sent.text
    assert (
        "<MD5OfMessageAttributes>ae7155c6026991b6d54b11589678bf9c</MD5OfMessageAttributes>"
        in sent.text
    )
    received = signed_form(
        server,
        {
            "Action": "ReceiveMessage",
            "QueueUrl": url.group(1),
            "AttributeName.1": "All",
            "MessageAttributeName.1": "All",
            "Version": "2012-11-05",
        },
    )
    assert "<Message><MessageId>" in received.text
    assert (
        "<MessageAttribute><Name>Foo</Name><Value><StringValue>Bar</StringValue>" in received.text
    )
    missing = signed_form(server, {"Action": "GetQueueUrl", "QueueName": "no-such-queue"})
    assert missing.status_code == 400
    assert "<Code>AWS.SimpleQueueService.NonExistentQueue</Code>" in missing.text
    assert "<Type>Sender</Type>" in missing.text


def test_the_query_names_are_not_read_from_json_requests(server: SqsServer) -> None:
    sqs = server.client()
    url = sqs.create_queue(QueueName="json-after-query")["QueueUrl"]
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="x",
        MessageAttributes={"Foo": {"DataType": "String", "StringValue": "Bar"}},
    )
    assert sent["MD5OfMessageAttributes"] == "ae7155c6026991b6d54b11589678bf9c"
