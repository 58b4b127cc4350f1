"""What loads with a warning: features skylet recognises but does not run yet, and unknown keys
under serverless.yml's ``configValidationMode: warn`` (the framework's default)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from skylet.errors import ConfigError
from skylet.manifest import load_manifest

Write = Callable[..., Path]

NOT_RUN = """
service: svc
functions:
  nightly:
    handler: app.nightly
    provisionedConcurrency: 1
    provisionedConcurrencySchedules:
      - schedule: rate(1 hour)
        provisionedConcurrency: 2
    events:
      - schedule: rate(1 hour)
      - sqs: !GetAtt Jobs.Arn
      - http: GET /nightly
  weekly:
    handler: app.weekly
    events:
      - schedule: rate(7 days)
      - sns: alerts
      - stream: !GetAtt Orders.StreamArn
      - eventBridge: {pattern: {source: [shop]}}
      - stream: arn:aws:kinesis:us-east-1:000000000000:stream/feed
resources:
  Resources:
    Jobs:
      Type: AWS::SQS::Queue
    Alerts:
      Type: AWS::SNS::Topic
    Orders:
      Type: AWS::DynamoDB::Table
      Properties:
        StreamSpecification: {StreamViewType: NEW_IMAGE}
    Role:
      Type: AWS::IAM::Role
"""


def test_each_feature_skylet_does_not_run_yet_is_one_warning_naming_key_and_line(
    write: Write,
) -> None:
    warnings = [str(w) for w in load_manifest(write(NOT_RUN)).warnings]
    assert warnings == [
        "serverless.yml:20: functions.weekly.events[4].stream: stream events are "
        "recognised but not run yet: the function is deployed without this trigger",
    ]


def test_what_skylet_runs_loads_without_a_warning(write: Write) -> None:
    manifest = load_manifest(
        write(
            """
            service: svc
            functions:
              api:
                handler: app.main
                events:
                  - http: GET /
                  - httpApi: POST /items
                  - s3: uploads
                  - sns: alerts
                  - sns: {arn: !Ref Topic, topicName: named, filterPolicy: {a: [b]}}
            resources:
              Resources:
                Topic:
                  Type: AWS::SNS::Topic
                Sub:
                  Type: AWS::SNS::Subscription
                  Properties:
                    TopicArn: !Ref Topic
                    Protocol: sqs
                    Endpoint: arn:aws:sqs:us-east-1:000000000000:q
            """
        )
    )
    assert manifest.warnings == ()


def test_skylet_yaml_cloudevent_events_run_without_a_warning(write: Write) -> None:
    text = """
    service: svc
    functions:
      audit:
        handler: app.audit
        style: cloudevent
        events:
          - cloudevent: com.example.created
    """
    assert load_manifest(write(text, "skylet.yaml")).warnings == ()


TYPOS = """
service: svc
{mode}functins:
  api:
    handler: app.main
functions:
  api:
    handler: app.main
    memorysize: 512
    events:
      - http: {{path: /, method: get, pathh: /y}}
"""


def test_warn_is_the_default_and_warns_for_unknown_keys_at_every_level(write: Write) -> None:
    manifest = load_manifest(write(TYPOS.format(mode="")))
    assert [str(w) for w in manifest.warnings] == [
        "serverless.yml:2: functins: unknown key 'functins' (did you mean 'functions'? allowed: "
        "custom, functions, layers, params, provider, resources, service); ignored "
        "(configValidationMode: warn)",
        "serverless.yml:8: functions.api.memorysize: unknown key 'memorysize' (did you mean "
        "'memorySize'? allowed: architecture, description, destinations, environment, "
        "ephemeralStorageSize, events, handler, layers, logRetentionInDays, logs, "
        "maximumEventAge, maximumRetryAttempts, memorySize, name, network, package, "
        "provisionedConcurrency, provisionedConcurrencySchedules, reservedConcurrency, "
        "runtime, snapStart, timeout); ignored "
        "(configValidationMode: warn)",
        "serverless.yml:10: functions.api.events[0].http.pathh: unknown key 'pathh' (did you "
        "mean 'path'? allowed: cors, method, path, private); ignored (configValidationMode: "
        "warn)",
    ]
    assert manifest.function("api").memory_size == 1024  # the framework's default, as it warns


@pytest.mark.parametrize(
    ("mode", "count"),
    [("configValidationMode: warn\n", 3), ("configValidationMode: off\n", 0)],
    ids=["warn says so", "off is silent"],
)
def test_warn_and_off_load_the_manifest(write: Write, mode: str, count: int) -> None:
    assert len(load_manifest(write(TYPOS.format(mode=mode))).warnings) == count


def test_error_refuses_a_top_level_typo_with_a_suggestion(write: Write) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^serverless\.yml:3: functins: unknown key 'functins'"
        r" \(did you mean 'functions'\?",
    ):
        load_manifest(write(TYPOS.format(mode="configValidationMode: error\n")))


def test_the_frameworks_own_top_level_keys_are_accepted_quietly(write: Write) -> None:
    text = """
    service: svc
    frameworkVersion: '3'
    useDotenv: false
    plugins: [serverless-offline]
    package: {individually: true}
    org: acme
    app: shop
    functions:
      api: {handler: app.main}
    """
    assert load_manifest(write(text)).warnings == ()
