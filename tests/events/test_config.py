"""Per-function async settings: destinations as manifests write them, Lambda's ranges."""

from __future__ import annotations

import pytest

from skylet.config import AsyncConfig, Destination, parse_destination
from skylet.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("notify", Destination("function", "notify"), id="a bare name is a function"),
        pytest.param(
            "arn:aws:lambda:us-east-1:123456789012:function:notify",
            Destination("function", "notify"),
            id="a Lambda function ARN",
        ),
        pytest.param(
            "arn:aws:lambda:us-east-1:123456789012:function:notify:live",
            Destination("function", "notify", "live"),
            id="a Lambda ARN keeps its qualifier",
        ),
        pytest.param(
            "arn:aws:sqs:us-east-1:123456789012:failures",
            Destination("queue", "failures"),
            id="an SQS queue ARN",
        ),
        pytest.param(
            "arn:aws:sns:eu-west-1:123456789012:alerts",
            Destination("topic", "alerts"),
            id="an SNS topic ARN",
        ),
        pytest.param("queue:failures", Destination("queue", "failures"), id="skylet's queue:NAME"),
        pytest.param("topic:alerts", Destination("topic", "alerts"), id="skylet's topic:NAME"),
        pytest.param(" function:f ", Destination("function", "f"), id="blanks around are ignored"),
    ],
)
def test_parse_destination_reads_every_form_manifests_use(text: str, expected: Destination) -> None:
    assert parse_destination(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("bucket:b", id="an unknown kind"),
        pytest.param("queue:", id="a kind without a name"),
        pytest.param("arn:aws:s3:::bucket", id="an S3 ARN"),
        pytest.param("arn:aws:lambda:us-east-1:1:layer:x", id="a Lambda ARN that is no function"),
        pytest.param("arn:aws:sqs:us-east-1:1:", id="an SQS ARN without a name"),
    ],
)
def test_parse_destination_names_the_key_of_a_bad_value(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^destinations\.onFailure: .* is not a destination"):
        parse_destination(text, key="destinations.onFailure")


def test_async_config_defaults_are_lambdas() -> None:
    config = AsyncConfig()
    assert (config.maximum_retry_attempts, config.maximum_event_age_s) == (2, 21_600.0)
    assert (config.on_success, config.on_failure, config.dead_letter_queue) == (None, None, None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"maximum_retry_attempts": 3},
            "maximumRetryAttempts: 3 is out of range: allowed 0-2",
            id="more than two retries",
        ),
        pytest.param(
            {"maximum_retry_attempts": -1}, "maximumRetryAttempts: -1", id="negative retries"
        ),
        pytest.param(
            {"maximum_retry_attempts": True}, "not an integer", id="a boolean for retries"
        ),
        pytest.param(
            {"maximum_event_age_s": 59},
            "maximumEventAge: 59 is out of range: allowed 60-21600 seconds",
            id="under a minute",
        ),
        pytest.param(
            {"maximum_event_age_s": 21_601}, "maximumEventAge: 21601", id="over six hours"
        ),
        pytest.param(
            {"maximum_event_age_s": float("nan")}, "maximumEventAge: nan", id="not a number"
        ),
        pytest.param(
            {"dead_letter_queue": Destination("function", "f")},
            "a dead-letter target is a queue or a topic",
            id="a function as dead-letter queue",
        ),
    ],
)
def test_async_config_refuses_values_lambda_refuses(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        AsyncConfig(**kwargs)  # type: ignore[arg-type]
