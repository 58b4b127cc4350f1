"""The frozen model: immutability, lookups, references to declared resources."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from skylet.manifest import FrozenDict, Intrinsic, Manifest, load_manifest

MANIFEST = """service: shop
provider:
  stage: test
  environment:
    COUNT: 3
    RATIO: 0.5
    ENABLED: true
    WHOLE: 2.0
    TOPIC_ARN: !Ref Alerts
functions:
  api:
    handler: src/handlers/api.handle
    description: the API
    environment:
      COUNT: four
    events:
      - sqs: !GetAtt Jobs.Arn
      - sns: alerts-test
      - s3: uploads-test
  worker:
    name: shop-worker
    handler: worker.main.run
    events:
      - stream:
          arn: arn:aws:dynamodb:us-east-1:000000000000:table/orders-test/stream/2024-01-01
resources:
  Resources:
    Jobs:
      Type: AWS::SQS::Queue
    Alerts:
      Type: AWS::SNS::Topic
      Properties: {TopicName: alerts-test}
    Uploads:
      Type: AWS::S3::Bucket
      Properties: {BucketName: uploads-test}
    Orders:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: orders-test
        StreamSpecification: {StreamViewType: NEW_IMAGE}
      DeletionPolicy: Retain
    Dashboard:
      Type: AWS::CloudWatch::Dashboard
      Properties: {DashboardBody: "{}"}
  Outputs:
    QueueArn:
      Value: !GetAtt Jobs.Arn
"""


@pytest.fixture
def manifest(write: Callable[..., Path]) -> Manifest:
    return load_manifest(write(MANIFEST))


def test_environment_is_stringified_as_lambda_does_and_function_values_win(
    manifest: Manifest,
) -> None:
    api, worker = manifest.functions["api"], manifest.functions["worker"]
    assert api.environment == {"COUNT": "four", "RATIO": "0.5", "ENABLED": "true", "WHOLE": "2"}
    assert worker.environment["COUNT"] == "3"
    assert api.environment_refs == {"TOPIC_ARN": Intrinsic("Ref", ("Alerts",))}


def test_function_is_found_by_key_or_deployed_name(manifest: Manifest) -> None:
    assert manifest.function("api").name == "shop-test-api"
    assert manifest.function("shop-test-api").key == "api"
    assert manifest.function("shop-worker").key == "worker"
    assert manifest.find_function("nope") is None
    with pytest.raises(KeyError):
        manifest.function("nope")


def test_handler_splits_into_module_and_attribute(manifest: Manifest) -> None:
    api, worker = manifest.functions["api"], manifest.functions["worker"]
    assert (api.handler_module, api.handler_attr) == ("src/handlers/api", "handle")
    assert (worker.handler_module, worker.handler_attr) == ("worker.main", "run")
    assert (api.description, worker.description) == ("the API", "")


def test_events_resolve_to_the_resources_they_read(manifest: Manifest) -> None:
    sqs, sns, s3 = manifest.functions["api"].events
    (stream,) = manifest.functions["worker"].events
    assert manifest.event_resource(sqs) == manifest.resources["Jobs"]
    assert manifest.event_resource(sns) == manifest.resources["Alerts"]
    assert manifest.event_resource(s3) == manifest.resources["Uploads"]
    assert manifest.event_resource(stream) == manifest.resources["Orders"]


@pytest.mark.parametrize(
    ("value", "logical_id"),
    [
        pytest.param(Intrinsic("Ref", ("Jobs",)), "Jobs", id="ref"),
        pytest.param(Intrinsic("Fn::GetAtt", ("Orders", "StreamArn")), "Orders", id="getatt"),
        pytest.param(Intrinsic("Ref", ("External",)), None, id="ref to an undeclared id"),
        pytest.param(Intrinsic("Fn::ImportValue", ("x",)), None, id="import is external"),
        pytest.param("arn:aws:sns:us-east-1:000000000000:alerts-test", "Alerts", id="topic arn"),
        pytest.param("arn:aws:s3:::uploads-test", "Uploads", id="bucket arn"),
        pytest.param("orders-test", "Orders", id="physical name"),
        pytest.param("Dashboard", "Dashboard", id="logical id"),
        pytest.param(
            "arn:aws:sqs:us-east-1:1:Dashboard", None, id="arn never matches a logical id"
        ),
        pytest.param(None, None, id="nothing"),
    ],
)
def test_resolve_ref(
    manifest: Manifest, value: Intrinsic | str | None, logical_id: str | None
) -> None:
    found = manifest.resolve_ref(value)
    assert (found.logical_id if found else None) == logical_id


def test_resources_keep_unknown_types_attributes_and_outputs(manifest: Manifest) -> None:
    assert manifest.resources["Dashboard"].type == "AWS::CloudWatch::Dashboard"
    assert manifest.resources["Orders"].attributes == {"DeletionPolicy": "Retain"}
    assert manifest.resources["Orders"].stream_view_type == "NEW_IMAGE"
    assert manifest.resources["Jobs"].physical_name is None
    assert manifest.outputs == {"QueueArn": {"Value": Intrinsic("Fn::GetAtt", ("Jobs", "Arn"))}}


def test_models_are_frozen(manifest: Manifest) -> None:
    api = manifest.functions["api"]
    with pytest.raises(ValidationError, match="frozen"):
        manifest.service = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        api.memory_size = 4096  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        api.events[0].batch_size = 1
    with pytest.raises(TypeError):
        manifest.functions["x"] = api  # type: ignore[index]
    with pytest.raises(TypeError):
        api.environment["COUNT"] = "5"  # type: ignore[index]
    with pytest.raises(TypeError):
        manifest.resources["Orders"].properties["TableName"] = "x"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        api.events[0].queue.fn = "Ref"


def test_nested_data_is_deeply_frozen(manifest: Manifest) -> None:
    spec = manifest.resources["Orders"].properties["StreamSpecification"]
    assert isinstance(spec, FrozenDict)
    assert isinstance(manifest.functions["api"].events, tuple)
    assert hash(manifest.resources["Orders"].properties) == hash(
        manifest.resources["Orders"].properties
    )


def test_intrinsic_helpers_and_display() -> None:
    att = Intrinsic("Fn::GetAtt", ("MyTable", "StreamArn"))
    assert (att.logical_id, att.attribute, str(att)) == (
        "MyTable",
        "StreamArn",
        "!GetAtt MyTable.StreamArn",
    )
    ref = Intrinsic("Ref", ("Topic",))
    assert (ref.logical_id, ref.attribute, str(ref)) == ("Topic", None, "!Ref Topic")
    join = Intrinsic("Fn::Join", ("", ("a", ref)))
    assert join.logical_id is None
    assert str(join) == "!Join ['', [a, (!Ref Topic)]]"


def test_frozen_dict_behaves_like_a_read_only_dict() -> None:
    frozen = FrozenDict({"a": 1, "b": FrozenDict({"c": 2})})
    assert frozen == {"a": 1, "b": {"c": 2}}
    assert list(frozen) == ["a", "b"] and len(frozen) == 2
    assert {frozen: "usable as a key"}[FrozenDict({"a": 1, "b": FrozenDict({"c": 2})})]
    assert repr(FrozenDict({"a": 1})) == "FrozenDict({'a': 1})"
