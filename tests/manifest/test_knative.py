"""Knative documents: the seed's eventing.yaml loads as it is; unknown kinds and bad keys are
refused naming the file, line and kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from skylet.errors import ConfigError
from skylet.manifest.knative import Destination, is_knative, load_documents

SEED = Path(__file__).parents[1] / "e2e" / "data" / "eventing.yaml"


def test_the_seeds_eventing_yaml_loads_as_it_is() -> None:
    documents = load_documents([SEED])
    (broker,) = documents.brokers
    assert (broker.name, broker.namespace) == ("default", "default")
    order, payment = documents.triggers
    assert order.name == "order-trigger" and order.broker == "default"
    assert dict(order.attributes) == {"type": "com.example.order.created"}
    assert order.subscriber == Destination("function", name="order-consumer")
    assert payment.subscriber == Destination("function", name="payment-consumer")
    assert is_knative(SEED)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "eventing.yaml"
    path.write_text(text)
    return path


def test_an_unknown_kind_is_refused_naming_the_file_and_kind(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: a}\n"
        "---\napiVersion: messaging.knative.dev/v1\nkind: Channel\nmetadata: {name: c}\n",
    )
    with pytest.raises(
        ConfigError,
        match=r"eventing.yaml:5: document 2: kind 'Channel' "
        r"\(apiVersion 'messaging.knative.dev/v1'\) is not a kind skylet loads",
    ):
        load_documents([path])


def test_an_unknown_key_names_its_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "apiVersion: eventing.knative.dev/v1\nkind: Trigger\n"
        "metadata: {name: t}\nspec:\n  brokr: default\n",
    )
    with pytest.raises(ConfigError, match=r"eventing.yaml:5: Trigger t: spec.brokr: unknown key"):
        load_documents([path])


def test_a_delivery_and_a_uri_subscriber(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: t}
spec:
  filters: [{prefix: {type: com.}}]
  subscriber: {uri: "http://127.0.0.1:1/hook"}
  delivery:
    retry: 3
    backoffPolicy: linear
    backoffDelay: PT0.5S
    deadLetterSink: {ref: {apiVersion: eventing.knative.dev/v1, kind: Broker, name: dead}}
""",
    )
    (trigger,) = load_documents([path]).triggers
    assert trigger.subscriber == Destination("uri", uri="http://127.0.0.1:1/hook")
    assert trigger.delivery is not None and trigger.delivery.retry == 3
    assert trigger.delivery.dead_letter_sink == Destination("broker", name="dead")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("  subscriber: {uri: /relative}\n", "absolute"),
        ("  subscriber: {ref: {apiVersion: v1, kind: Pod, name: p}}\n", "Pod"),
        ("  subscriber: {uri: 'http://x'}\n  delivery: {backoffDelay: 2s}\n", "ISO 8601"),
        ("  subscriber: {uri: 'http://x'}\n  delivery: {backoffPolicy: random}\n", "linear"),
        ("  filter: {}\n", "subscriber"),
    ],
    ids=[
        "a relative uri alone",
        "a ref skylet cannot deliver to",
        "a bad duration",
        "an unknown backoff policy",
        "no subscriber",
    ],
)
def test_bad_triggers_are_refused(tmp_path: Path, spec: str, message: str) -> None:
    path = _write(
        tmp_path,
        f"apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {{name: t}}\nspec:\n{spec}",
    )
    with pytest.raises(ConfigError, match=message):
        load_documents([path])


def test_a_ping_source_takes_a_five_field_cron(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
apiVersion: sources.knative.dev/v1
kind: PingSource
metadata: {name: ping}
spec:
  schedule: "*/1 * * * *"
  contentType: application/json
  data: '{"message": "Hello"}'
  sink: {ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: fn}}
""",
    )
    (ping,) = load_documents([path]).ping_sources
    assert ping.data == b'{"message": "Hello"}'
    assert ping.sink == Destination("function", name="fn")
    bad = _write(tmp_path, path.read_text().replace('"*/1 * * * *"', "rate(1 minute)"))
    with pytest.raises(ConfigError, match="5-field cron"):
        load_documents([bad])
