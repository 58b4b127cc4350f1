"""The seed's three serverless.yml files and their skylet.yaml equivalents load and resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from skylet.manifest import (
    CloudEventTrigger,
    HttpApiEvent,
    HttpEvent,
    Intrinsic,
    Manifest,
    S3Event,
    ScheduleEvent,
    SnsEvent,
    StreamEvent,
    load_manifest,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"
GO_LAMBDA = FIXTURES / "go_lambda_service" / "serverless.yml"
PROVISIONED = FIXTURES / "provisioned_concurrency" / "serverless.yml"
IMAGES = FIXTURES / "image_processor" / "serverless.yml"
SKYLET_GO_LAMBDA = FIXTURES / "skylet_go_lambda_service" / "skylet.yaml"
SKYLET_IMAGES = FIXTURES / "skylet_image_processor" / "skylet.yaml"


def load(path: Path, **kwargs: object) -> Manifest:
    return load_manifest(path, **kwargs)  # type: ignore[arg-type]


def test_seed_go_lambda_service_resolves_provider_and_custom_variables() -> None:
    manifest = load(GO_LAMBDA)
    assert (manifest.service, manifest.stage, manifest.region) == (
        "go-lambda-service",
        "dev",
        "us-east-1",
    )
    assert manifest.format == "serverless"
    assert manifest.source == GO_LAMBDA
    assert manifest.root == GO_LAMBDA.parent
    assert manifest.custom == {"bucket": "my-lambda-bucket-dev", "tableName": "MyTable-dev"}
    api = manifest.functions["api"]
    assert api.environment == {"STAGE": "dev", "TABLE_NAME": "MyTable-dev"}
    assert (api.memory_size, api.timeout_s, api.runtime) == (256, 30.0, "go1.x")
    assert api.name == "go-lambda-service-dev-api"
    assert api.handler == "handlers/api.handler"
    assert api.code_dir == GO_LAMBDA.parent


def test_stage_option_overrides_provider_stage() -> None:
    manifest = load(GO_LAMBDA, stage="prod")
    assert manifest.stage == "prod"
    assert manifest.functions["dbstream"].environment["TABLE_NAME"] == "MyTable-prod"
    assert manifest.functions["api"].name == "go-lambda-service-prod-api"
    assert manifest.resources["MyTable"].properties["TableName"] == "MyTable-prod"
    assert (
        manifest.iam["role"]["statements"][0]["Resource"] == "arn:aws:s3:::my-lambda-bucket-prod/*"
    )


def test_stage_given_as_an_option_is_the_cli_stage() -> None:
    assert load(GO_LAMBDA, options={"stage": "qa"}).functions["api"].environment["STAGE"] == "qa"


def test_seed_http_event_with_cors_true() -> None:
    (event,) = load(GO_LAMBDA).functions["api"].events
    assert isinstance(event, HttpEvent)
    assert (event.path, event.method) == ("/hello", "POST")
    assert event.cors is not None and event.cors.origins == ("*",)


def test_seed_s3_event_keeps_bucket_event_and_rules() -> None:
    (event,) = load(GO_LAMBDA).functions["s3processor"].events
    assert isinstance(event, S3Event)
    assert event.bucket == "my-lambda-bucket-dev"
    assert event.event == "s3:ObjectCreated:*"
    assert (event.prefix, event.suffix) == ("uploads/", ".jpg")


def test_seed_stream_event_keeps_the_getatt_intrinsic_and_points_at_the_table() -> None:
    manifest = load(GO_LAMBDA)
    (event,) = manifest.functions["dbstream"].events
    assert isinstance(event, StreamEvent)
    assert event.arn == Intrinsic("Fn::GetAtt", ("MyTable", "StreamArn"))
    assert (event.type, event.batch_size, event.starting_position) == ("dynamodb", 10, "LATEST")
    table = manifest.event_resource(event)
    assert table is not None and table.type == "AWS::DynamoDB::Table"
    assert table.stream_view_type == "NEW_AND_OLD_IMAGES"


def test_seed_schedule_event_parses_the_aws_cron_expression() -> None:
    (event,) = load(GO_LAMBDA).functions["cleanup"].events
    assert isinstance(event, ScheduleEvent)
    (expression,) = event.expressions
    assert str(expression) == "cron(0 1 * * ? *)"
    assert (expression.kind, expression.flavor) == ("cron", "aws")
    assert expression.cron_fields == ("0", "1", "*", "*", "?", "*")
    assert event.enabled is True


def test_seed_provisioned_concurrency_fragment_uses_framework_defaults() -> None:
    manifest = load(PROVISIONED)
    api = manifest.functions["api"]
    assert manifest.service == "provisioned_concurrency"  # no service key: the directory name
    assert (api.memory_size, api.timeout_s, api.runtime) == (1024, 6.0, None)  # the default
    assert (api.provisioned_concurrency, api.reserved_concurrency) == (5, 100)
    (event,) = api.events
    assert isinstance(event, HttpEvent) and event.method == "ANY" and event.path == "/api"
    schedules = [
        (str(s.schedule), s.provisioned_concurrency) for s in api.provisioned_concurrency_schedules
    ]
    assert schedules == [("cron(0 8 * * ? *)", 20), ("cron(0 18 * * ? *)", 5)]


def test_seed_image_processor_merges_provider_and_function_environment() -> None:
    manifest = load(IMAGES)
    upload = manifest.functions["upload"]
    assert upload.environment == {
        "BUCKET_NAME": "image-processor-dev",
        "STAGE": "dev",
        "BUCKET": "image-processor-dev",
    }
    process = manifest.functions["process"]
    assert (process.memory_size, upload.memory_size, process.timeout_s) == (1024, 512, 60.0)
    assert [e.suffix for e in process.events if isinstance(e, S3Event)] == [".jpg", ".png"]


def test_seed_sns_event_keeps_the_ref_and_resolves_to_the_declared_topic() -> None:
    manifest = load(IMAGES)
    (event,) = manifest.functions["notify"].events
    assert isinstance(event, SnsEvent)
    assert event.arn == Intrinsic("Ref", ("NotificationTopic",))
    assert event.topic_name == "ImageProcessingComplete"
    topic = manifest.resolve_ref(event.arn)
    assert topic is not None and topic.physical_name == "ImageProcessingComplete-dev"
    assert manifest.iam["role"]["statements"][1]["Resource"] == Intrinsic(
        "Ref", ("NotificationTopic",)
    )


def test_seed_resources_keep_types_and_resolved_properties() -> None:
    resources = load(IMAGES, stage="prod").resources
    assert {k: r.type for k, r in resources.items()} == {
        "NotificationTopic": "AWS::SNS::Topic",
        "ProcessDLQ": "AWS::SQS::Queue",
    }
    assert resources["ProcessDLQ"].properties == {
        "QueueName": "image-process-dlq-prod",
        "MessageRetentionPeriod": 1209600,
    }


@pytest.mark.parametrize(
    ("serverless", "skylet"),
    [(GO_LAMBDA, SKYLET_GO_LAMBDA), (IMAGES, SKYLET_IMAGES)],
    ids=["go lambda service", "image processor"],
)
def test_skylet_yaml_equivalent_declares_the_same_events_and_environment(
    serverless: Path, skylet: Path
) -> None:
    ours, theirs = load(skylet, stage="prod"), load(serverless, stage="prod")
    assert ours.format == "skylet"
    assert ours.service == theirs.service and ours.stage == "prod"
    for key, spec in theirs.functions.items():
        mine = ours.functions[key]
        assert mine.environment == spec.environment
        assert mine.memory_size == spec.memory_size and mine.timeout_s == spec.timeout_s
        same_kinds = [e.kind for e in mine.events] == [e.kind for e in spec.events]
        assert same_kinds or key == "upload"  # upload moved to an HTTP API route
    assert set(ours.resources) == set(theirs.resources)


def test_skylet_yaml_uses_lambda_defaults_and_keys_as_names() -> None:
    manifest = load(SKYLET_GO_LAMBDA)
    api = manifest.functions["api"]
    assert api.name == "api"
    assert api.runtime is None  # the platform's default
    assert (api.maximum_retry_attempts, api.maximum_event_age_s) == (2, 21600)
    (stream,) = manifest.functions["dbstream"].events
    assert isinstance(stream, StreamEvent) and stream.type == "dynamodb"  # inferred from the table


def test_skylet_yaml_image_processor_extras() -> None:
    manifest = load(SKYLET_IMAGES)
    upload = manifest.functions["upload"]
    assert upload.style == "http"
    (route,) = upload.events
    assert isinstance(route, HttpApiEvent) and (route.method, route.path) == ("POST", "/upload")
    process = manifest.functions["process"]
    assert process.on_success == "notify"
    assert process.on_failure == Intrinsic("Fn::GetAtt", ("ProcessDLQ", "Arn"))
    assert process.maximum_retry_attempts == 1
    dlq = manifest.resolve_ref(process.on_failure)
    assert dlq is not None and dlq.physical_name == "image-process-dlq-dev"
    (trigger,) = manifest.functions["audit"].events
    assert isinstance(trigger, CloudEventTrigger)
    assert trigger.attributes == {"type": "com.example.image.processed"}
    assert trigger.delivery is not None and trigger.delivery.retry == 3
