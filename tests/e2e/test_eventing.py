"""Knative Eventing on a real ``skylet up``: the seed's eventing.yaml loads as it is; the
official cloudevents SDK posts events to a broker in binary and structured modes; triggers
filter them (filter.attributes, the filters dialects) and deliver them to functions of each
style; replies go back into the broker; failures are retried per the delivery spec and end in
the dead-letter sink with Knative's error extensions; invalid events are refused with 400."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, S3RecordModel
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent

from tests.e2e.conftest import Server, project_dir, start_server, stop_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: shop
functions:
  order-consumer:
    handler: eventing_handlers.lambda_record
  payment-consumer:
    handler: eventing_handlers.cloudevent_record
    style: cloudevent
  knative-http:
    handler: eventing_handlers.knative_http
    style: http
  refusing:
    handler: eventing_handlers.refusing
    style: http
  dead-letters:
    handler: eventing_handlers.lambda_record
  failing:
    handler: eventing_handlers.failing
    events:
      - cloudevent:
          attributes: {type: test.fail}
          delivery: {retry: 2, backoff_policy: linear, backoff_delay: PT0.05S,
                     dead_letter_sink: dead-letters}
"""
SEED = Path(__file__).parent / "data" / "eventing.yaml"
EXTRA = """
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: prefixed}
spec:
  broker: default
  filters:
    - prefix: {type: com.acme.}
    - not: {exact: {source: /ignored}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: knative-http}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: asks}
spec:
  filter: {attributes: {type: ask}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: knative-http}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: answers}
spec:
  filter: {attributes: {type: answer}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: payment-consumer}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: lambda-answers}
spec:
  filter: {attributes: {type: lambda.answer}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: payment-consumer}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: refused}
spec:
  filters: [{exact: {type: test.refuse}}]
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: refusing}
  delivery:
    retry: 5
    backoffDelay: PT0.05S
    deadLetterSink:
      ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: dead-letters}
---
apiVersion: sources.knative.dev/v1
kind: PingSource
metadata: {name: heartbeat}
spec:
  schedule: "0 0 1 1 *"
  contentType: application/json
  data: '{"message": "Hello world!"}'
  sink:
    ref: {apiVersion: eventing.knative.dev/v1, kind: Broker, name: default}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: pings}
spec:
  filter: {attributes: {type: dev.knative.sources.ping}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: order-consumer}
---
apiVersion: sources.knative.dev/v1
kind: PingSource
metadata: {name: direct}
spec:
  schedule: "0 0 1 1 *"
  data: plain words
  sink:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: dead-letters}
---
apiVersion: sources.knative.dev/v1alpha1
kind: AwsS3Source
metadata: {name: uploads}
spec:
  arn: arn:aws:s3:::uploads
  sink:
    ref: {apiVersion: eventing.knative.dev/v1, kind: Broker, name: default}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: from-aws}
spec:
  filters:
    - any: [{prefix: {type: aws.s3.ObjectCreated}}, {exact: {type: OrderPlaced}}]
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: order-consumer}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = project_dir(tmp_path_factory.mktemp("eventing"), MANIFEST)
    (directory / "eventing.yaml").write_text(SEED.read_text())  # the seed's, as it is
    extra = directory / "more-triggers.yaml"
    extra.write_text(EXTRA)
    running = start_server(directory, "--no-reload", "--knative", str(extra))
    yield running
    stop_server(running)


def post(server: Server, event: CloudEvent, *, structured: bool = False) -> httpx.Response:
    headers, body = to_structured(event) if structured else to_binary(event)
    return httpx.post(f"{server.url}/_skylet/brokers/default", headers=headers, content=body)


def event(kind: str, data: Any = None, **attributes: str) -> CloudEvent:
    return CloudEvent(
        {"type": kind, "source": attributes.pop("source", "/tests"), **attributes}, data
    )


def by_id(events: list[dict[str, Any]], key: str, wanted: str) -> list[dict[str, Any]]:
    return [e for e in events if _get(e, key) == wanted]


def _get(document: dict[str, Any], key: str) -> Any:
    for part in key.split("."):
        document = document.get(part, {}) if isinstance(document, dict) else {}
    return document


def wait_for(
    server: Server, function: str, key: str, wanted: str, count: int = 1, timeout_s: float = 20
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        found = by_id(server.printed_events(function, 0), key, wanted)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_the_seeds_triggers_deliver_a_binary_event_to_a_lambda_style_function(server: Server):
    sent = event("com.example.order.created", {"order_id": "ORD-001", "amount": 99.99})
    response = post(server, sent)
    assert response.status_code == 202, response.text
    (got,) = wait_for(server, "order-consumer", "id", sent["id"])
    assert got["specversion"] == "1.0"
    assert got["type"] == "com.example.order.created"
    assert got["source"] == "/tests"
    assert got["data"] == {"order_id": "ORD-001", "amount": 99.99}
    assert "knativearrivaltime" in got and "knativebrokerttl" not in got


def test_a_structured_event_reaches_a_cloud_functions_style_function(server: Server):
    sent = event("com.example.payment.completed", {"payment": 7}, subject="p-7")
    assert post(server, sent, structured=True).status_code == 202
    (got,) = wait_for(server, "payment-consumer", "attributes.id", sent["id"])
    assert got["attributes"]["type"] == "com.example.payment.completed"
    assert got["attributes"]["subject"] == "p-7"
    assert got["data"] == {"payment": 7}


def test_the_namespaced_ingress_path_is_the_same_broker(server: Server):
    headers, body = to_binary(event("com.example.order.created", {"n": 1}))
    response = httpx.post(
        f"{server.url}/_skylet/brokers/default/default", headers=headers, content=body
    )
    assert response.status_code == 202


@pytest.mark.parametrize(
    ("headers", "body", "reason"),
    [
        ({"ce-specversion": "1.0", "ce-source": "/s", "ce-type": "t"}, b"", "id"),
        ({"ce-specversion": "1.0", "ce-id": "1", "ce-type": "t"}, b"", "source"),
        (
            {"ce-specversion": "0.3", "ce-id": "1", "ce-source": "/s", "ce-type": "t"},
            b"",
            "specversion",
        ),
        (
            {"content-type": "application/cloudevents+json"},
            json.dumps({"specversion": "1.0", "id": "1", "source": "/s"}).encode(),
            "type",
        ),
        ({"content-type": "application/cloudevents+json"}, b"{not json", "not JSON"),
        ({"content-type": "application/cloudevents-batch+json"}, b"[]", "batched"),
        ({"content-type": "text/plain"}, b"hello", "no CloudEvent"),
    ],
    ids=[
        "missing id",
        "missing source",
        "bad specversion",
        "structured without type",
        "structured not json",
        "batched mode",
        "no event at all",
    ],
)
def test_an_invalid_event_is_refused_with_400_and_the_reason(
    server: Server, headers: dict[str, str], body: bytes, reason: str
):
    response = httpx.post(f"{server.url}/_skylet/brokers/default", headers=headers, content=body)
    assert response.status_code == 400
    assert reason in response.text


def test_an_unknown_broker_is_404_and_other_methods_405(server: Server):
    headers, body = to_binary(event("x"))
    missing = httpx.post(f"{server.url}/_skylet/brokers/nope", headers=headers, content=body)
    assert missing.status_code == 404
    assert httpx.get(f"{server.url}/_skylet/brokers/default").status_code == 405


def test_the_filters_dialects_select_by_prefix_and_not(server: Server):
    chosen = event("com.acme.shipped", b"boxed", datacontenttype="text/plain")
    ignored = event("com.acme.shipped", "boxed", source="/ignored")
    other = event("org.other.shipped")
    for sent in (chosen, ignored, other):
        assert post(server, sent).status_code == 202
    (got,) = wait_for(server, "knative-http", "headers.ce-id", chosen["id"])
    assert got["headers"]["ce-type"] == "com.acme.shipped"
    assert got["headers"]["prefer"] == "reply"
    assert got["body"] == "boxed"
    time.sleep(0.5)
    events = server.printed_events("knative-http", 0)
    assert not by_id(events, "headers.ce-id", ignored["id"])
    assert not by_id(events, "headers.ce-id", other["id"])


def test_a_binary_reply_from_an_http_function_goes_back_into_the_broker(server: Server):
    sent = event("ask", "question")
    assert post(server, sent).status_code == 202
    (got,) = wait_for(server, "payment-consumer", "attributes.id", "answer-" + sent["id"])
    assert got["attributes"]["type"] == "answer"
    assert got["attributes"]["source"] == "/knative-http"
    assert got["data"] == "the answer"


def test_a_cloudevent_returned_by_a_lambda_function_is_a_reply(server: Server):
    sent = event("com.example.order.created", {"reply": "lambda.answer"})
    assert post(server, sent).status_code == 202
    (got,) = wait_for(server, "payment-consumer", "attributes.id", "reply-" + sent["id"])
    assert got["attributes"]["type"] == "lambda.answer"
    assert got["data"] == {"answered": sent["id"]}


def test_a_failing_subscriber_is_retried_then_dead_lettered_with_knatives_extensions(
    server: Server,
):
    sent = event("test.fail", {"n": 1})
    assert post(server, sent).status_code == 202
    (letter,) = wait_for(server, "dead-letters", "id", sent["id"])
    tries = by_id(server.printed_events("failing", 0), "id", sent["id"])
    assert len(tries) == 3  # the first try and retry: 2
    assert letter["knativeerrorcode"] == "500"
    assert letter["knativeerrordest"].endswith("/2015-03-31/functions/failing/invocations")
    error = json.loads(base64.b64decode(letter["knativeerrordata"]))
    assert error["errorMessage"] == "this subscriber always fails"
    assert letter["data"] == {"n": 1}


def test_a_400_answer_is_not_retried_and_goes_to_the_dead_letter_sink(server: Server):
    sent = event("test.refuse")
    assert post(server, sent).status_code == 202
    (letter,) = wait_for(server, "dead-letters", "id", sent["id"])
    assert letter["knativeerrorcode"] == "400"
    assert base64.b64decode(letter["knativeerrordata"]) == b"not for me"
    time.sleep(0.3)
    assert len(by_id(server.printed_events("refusing", 0), "id", sent["id"])) == 1


def test_the_event_bus_sdk_publishes_durably_to_a_broker(server: Server):
    from skylet.eventbus import Event, EventBus

    bus = EventBus(f"{server.url}/_skylet/brokers/default")
    sent = Event(
        type="com.example.order.created",
        source="api-service",
        data={"order_id": "ORD-002"},
        metadata={"tenant": "t1"},
    )
    bus.publish(sent)
    (got,) = wait_for(server, "order-consumer", "id", sent.id)
    assert got["source"] == "api-service" and got["tenant"] == "t1"
    assert got["data"] == {"order_id": "ORD-002"}


def test_a_ping_source_sends_its_data_into_a_broker_on_its_schedule(server: Server):
    schedules = httpx.get(f"{server.url}/_skylet/schedules").json()
    (heartbeat,) = [s for s in schedules if s["name"] == "pingsource-default-heartbeat"]
    assert heartbeat["kind"] == "ping" and heartbeat["expression"] == "0 0 1 1 *"
    assert heartbeat["next"].endswith("-01-01T00:00:00+00:00")
    response = httpx.post(f"{server.url}/_skylet/schedules/pingsource-default-heartbeat/run")
    assert response.status_code == 202, response.text
    (got,) = wait_for(server, "order-consumer", "type", "dev.knative.sources.ping")
    assert got["source"] == "/apis/v1/namespaces/default/pingsources/heartbeat"
    assert got["data"] == {"message": "Hello world!"}
    assert got["datacontenttype"] == "application/json"


def test_a_ping_source_can_send_straight_to_a_function(server: Server):
    response = httpx.post(f"{server.url}/_skylet/schedules/pingsource-default-direct/run")
    assert response.status_code == 202, response.text
    source = "/apis/v1/namespaces/default/pingsources/direct"
    (got,) = wait_for(server, "dead-letters", "source", source)
    assert got["type"] == "dev.knative.sources.ping" and got["data"] == "plain words"


def test_s3_changes_reach_a_broker_through_an_aws_s3_source(server: Server):
    s3 = server.client("s3")
    s3.put_object(Bucket="uploads", Key="in/a.txt", Body=b"hello")
    (got,) = wait_for(server, "order-consumer", "subject", "in/a.txt")
    assert got["type"] == "aws.s3.ObjectCreated:Put"
    assert got["source"] == "arn:aws:s3:::uploads"
    record = S3RecordModel.model_validate(got["data"])  # S3's record, as AWS sends it
    assert record.s3.object.size == 5 and record.s3.bucket.name == "uploads"


def test_an_eventbridge_rule_can_target_a_broker(server: Server):
    events = server.client("events")
    events.put_rule(Name="to-broker", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(
        Rule="to-broker",
        Targets=[{"Id": "b", "Arn": "arn:aws:skylet:us-east-1:000000000000:broker/default"}],
    )
    answer = events.put_events(
        Entries=[{"Source": "shop", "DetailType": "OrderPlaced", "Detail": '{"total": 3}'}]
    )
    assert answer["FailedEntryCount"] == 0
    event_id = answer["Entries"][0]["EventId"]
    (got,) = wait_for(server, "order-consumer", "id", event_id)
    assert got["type"] == "OrderPlaced" and got["source"] == "shop"
    bridged = EventBridgeModel.model_validate(got["data"])  # EventBridge's event, as sent
    assert bridged.detail == {"total": 3} and bridged.detail_type == "OrderPlaced"


def test_skylet_up_refuses_an_unknown_knative_kind_naming_the_file(tmp_path: Path):
    from tests.e2e.conftest import cli

    directory = project_dir(tmp_path, "service: s\nfunctions:\n  f: eventing_handlers.failing\n")
    (directory / "eventing.yaml").write_text(
        "apiVersion: messaging.knative.dev/v1\nkind: InMemoryChannel\nmetadata: {name: c}\n"
    )
    done = cli("up", str(directory), "--port", "0", "--no-reload", timeout=60)
    assert done.returncode == 3, done.stdout + done.stderr
    assert (
        "eventing.yaml:1: document 1: kind 'InMemoryChannel' (apiVersion "
        "'messaging.knative.dev/v1') is not a kind skylet loads"
    ) in done.stdout + done.stderr


def test_knative_documents_alone_are_a_project(tmp_path: Path):
    directory = tmp_path / "only-knative"
    directory.mkdir()
    (directory / "eventing.yaml").write_text(
        SEED.read_text().split("---")[0]
        + "---\napiVersion: sources.knative.dev/v1\nkind: PingSource\nmetadata: {name: p}\n"
        "spec:\n  schedule: '0 0 1 1 *'\n  sink:\n    ref: {apiVersion: eventing.knative.dev/v1,"
        " kind: Broker, name: default}\n"
    )
    alone = start_server(directory, "--no-reload")
    try:
        assert post(alone, event("com.example.order.created")).status_code == 202
        names = [s["name"] for s in httpx.get(f"{alone.url}/_skylet/schedules").json()]
        assert names == ["pingsource-default-p"]
    finally:
        stop_server(alone)


def test_a_changed_eventing_yaml_is_deployed_on_reload(tmp_path: Path):
    manifest = "service: r\nfunctions:\n  sub:\n    handler: eventing_handlers.lambda_record\n"
    directory = project_dir(tmp_path, manifest)
    trigger = (
        "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {{name: t}}\nspec:\n"
        "  filter: {{attributes: {{type: {kind}}}}}\n"
        "  subscriber: {{ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: sub}}}}\n"
    )
    (directory / "eventing.yaml").write_text(trigger.format(kind="before"))
    running = start_server(directory, "--reload")
    try:
        (directory / "eventing.yaml").write_text(trigger.format(kind="after"))
        deadline = time.monotonic() + 20
        delivered: list[dict[str, Any]] = []
        while not delivered and time.monotonic() < deadline:
            sent = event("after")
            assert post(running, sent).status_code == 202
            delivered = wait_for(running, "sub", "id", sent["id"], timeout_s=0.5)
        assert delivered, running.output()
        old = event("before")
        assert post(running, old).status_code == 202
        assert not wait_for(running, "sub", "id", old["id"], timeout_s=1.0)
    finally:
        stop_server(running)


def test_the_banner_lists_brokers_and_triggers(server: Server):
    output = server.output()
    assert "Brokers" in output and f"{server.url}/_skylet/brokers/default" in output
    assert "order-trigger" in output and "function order-consumer" in output
    assert "failing-cloudevent-1" in output and "(dead letters: function dead-letters)" in output


def test_the_ingress_takes_unsigned_events_when_credentials_guard_the_other_apis(
    tmp_path: Path,
):
    directory = project_dir(tmp_path, MANIFEST)
    guarded = start_server(directory, "--no-reload", "--credentials", "AKIDEXAMPLE:s3cret")
    try:
        assert httpx.get(f"{guarded.url}/_skylet/functions").status_code == 403
        sent = event("com.example.order.created", {"n": 1})
        assert post(guarded, sent).status_code == 202  # as Knative's broker ingress: unsigned
    finally:
        stop_server(guarded)
