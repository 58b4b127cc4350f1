"""The buses, rules and targets a serverless.yml declares, as the Serverless Framework and
CloudFormation would create them (pure: a manifest in, declarations out)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from skylet.aws.eventbridge.declared import declarations, events_reference
from skylet.errors import ConfigError
from skylet.manifest import load_manifest
from skylet.manifest.intrinsics import Intrinsic

MANIFEST = """
service: shop
provider: {name: aws, region: eu-west-1}
functions:
  notify:
    handler: app.notify
    events:
      - eventBridge:
          eventBus: orders
          pattern: {source: [shop], detail-type: [Order Placed]}
          inputTransformer:
            inputPathsMap: {total: $.detail.total}
            inputTemplate: '{"total": <total>}'
          retryPolicy: {maximumEventAge: 3600, maximumRetryAttempts: 3}
          deadLetterQueueArn: !GetAtt Dead.Arn
      - eventBridge:
          schedule: rate(10 minutes)
          input: {kind: tick}
          enabled: false
      - eventBridge:
          name: partners
          eventBus: arn:aws:events:eu-west-1:000000000000:event-bus/partners
          pattern: {source: [partner]}
resources:
  Resources:
    Dead:
      Type: AWS::SQS::Queue
      Properties: {QueueName: dead}
    Audit:
      Type: AWS::Events::EventBus
      Properties: {Name: audit}
    AuditRule:
      Type: AWS::Events::Rule
      Properties:
        EventBusName: !Ref Audit
        EventPattern: {source: [shop]}
        Targets:
          - Id: q
            Arn: !GetAtt Dead.Arn
            InputPath: $.detail
          - Id: fn
            Arn: !GetAtt NotifyLambdaFunction.Arn
    Nightly:
      Type: AWS::Events::Rule
      Properties:
        Name: nightly
        ScheduleExpression: cron(0 1 * * ? *)
        State: DISABLED
        Targets:
          - {Id: fn, Arn: !GetAtt NotifyLambdaFunction.Arn}
"""
REGION_ACCOUNT = "eu-west-1:000000000000"
FUNCTION = f"arn:aws:lambda:{REGION_ACCOUNT}:function:shop-dev-notify"
DEAD = f"arn:aws:sqs:{REGION_ACCOUNT}:dead"


def _load(tmp_path: Path, text: str = MANIFEST):  # type: ignore[no-untyped-def]
    path = tmp_path / "serverless.yml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return load_manifest(path)


def test_eventbridge_events_become_rules_targeting_the_function(tmp_path: Path) -> None:
    declared = declarations(_load(tmp_path))
    rules = {(r.bus, r.name): r for r in declared.rules}
    first = rules[("orders", "shop-dev-notify-rule-1")]
    assert json.loads(first.pattern or "") == {
        "source": ["shop"],
        "detail-type": ["Order Placed"],
    }
    ((target),) = first.targets
    assert (target.id, target.arn) == ("shop-dev-notify-rule-1-target", FUNCTION)
    assert target.spec == {
        "InputTransformer": {
            "InputPathsMap": {"total": "$.detail.total"},
            "InputTemplate": '{"total": <total>}',
        },
        "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
        "DeadLetterConfig": {"Arn": DEAD},
    }
    tick = rules[("default", "shop-dev-notify-rule-2")]
    assert (tick.schedule, tick.state, tick.pattern) == ("rate(10 minutes)", "DISABLED", None)
    assert tick.targets[0].spec == {"Input": '{"kind": "tick"}'}
    assert ("partners", "partners") in rules
    # Every bus a rule names exists (by name as the framework makes it; by ARN too).
    assert set(declared.buses) == {"orders", "audit", "partners"}


def test_events_rule_resources_resolve_their_references(tmp_path: Path) -> None:
    declared = declarations(_load(tmp_path))
    rules = {(r.bus, r.name): r for r in declared.rules}
    audit = rules[("audit", "shop-dev-AuditRule")]
    assert [(t.id, t.arn, dict(t.spec)) for t in audit.targets] == [
        ("q", DEAD, {"InputPath": "$.detail"}),
        ("fn", FUNCTION, {}),
    ]
    nightly = rules[("default", "nightly")]
    assert (nightly.schedule, nightly.state) == ("cron(0 1 * * ? *)", "DISABLED")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Intrinsic("Ref", ("Audit",)), "audit"),
        (
            Intrinsic("Fn::GetAtt", ("Audit", "Arn")),
            f"arn:aws:events:{REGION_ACCOUNT}:event-bus/audit",
        ),
        (Intrinsic("Fn::GetAtt", ("Audit", "Name")), "audit"),
        (Intrinsic("Ref", ("Nightly",)), "nightly"),
        (Intrinsic("Ref", ("AuditRule",)), "audit|shop-dev-AuditRule"),
        (
            Intrinsic("Fn::GetAtt", ("AuditRule", "Arn")),
            f"arn:aws:events:{REGION_ACCOUNT}:rule/audit/shop-dev-AuditRule",
        ),
        (Intrinsic("Ref", ("Dead",)), None),
    ],
    ids=[
        "Ref of a bus is its name",
        "GetAtt Arn of a bus",
        "GetAtt Name of a bus",
        "Ref of a default-bus rule is its name",
        "Ref of another bus's rule is bus|rule",
        "GetAtt Arn of a rule",
        "another resource is not an events reference",
    ],
)
def test_references_resolve_as_cloudformations(
    tmp_path: Path, value: Intrinsic, expected: str | None
) -> None:
    assert events_reference(_load(tmp_path), value) == expected


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        ("{eventBus: other, schedule: rate(1 hour)}", "only on the default event bus"),
        ("{pattern: {source: shop}}", '"source" must be an object or an array'),
        (
            "{pattern: {source: [a]}, retryPolicy: {maximumRetryAttempts: 200}}",
            "between 0 and 185",
        ),
        ("{pattern: {source: [a]}, inputPath: 'detail'}", "is not a JSONPath"),
    ],
    ids=["a schedule on a custom bus", "a bad pattern", "too many retries", "a bad path"],
)
def test_a_malformed_rule_is_a_config_error_naming_the_key(
    tmp_path: Path, event: str, fragment: str
) -> None:
    text = f"""
    service: s
    functions:
      f:
        handler: app.f
        events:
          - eventBridge: {event}
    """
    with pytest.raises(ConfigError) as caught:
        declarations(_load(tmp_path, text))
    assert "functions.f.events[0].eventBridge" in str(caught.value)
    assert fragment in str(caught.value)
