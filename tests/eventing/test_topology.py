"""One deploy's brokers and triggers, from the manifest's cloudevent events and Knative
documents: subscribers resolved, delivery inherited, what cannot run refused by name."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from skylet.errors import ConfigError
from skylet.eventing.policy import DEFAULT, Policy
from skylet.eventing.topology import Sink, build
from skylet.manifest import Manifest, load_manifest
from skylet.manifest.knative import Documents, load_documents

MANIFEST = """
service: shop
functions:
  orders:
    handler: app.orders
    name: shop-orders
  audit:
    handler: app.audit
    events:
      - cloudevent:
          broker: audit
          attributes: {type: com.example.audited}
          delivery: {retry: 2, backoff_policy: linear, backoff_delay: PT1S, timeout: PT5S,
                     dead_letter_sink: orders}
"""


def _project(tmp_path: Path, documents: str = "") -> tuple[Manifest, Documents | None]:
    (tmp_path / "app.py").write_text("def orders(e, c): pass\ndef audit(e, c): pass\n")
    path = tmp_path / "skylet.yaml"
    path.write_text(textwrap.dedent(MANIFEST))
    docs = tmp_path / "eventing.yaml"
    docs.write_text(textwrap.dedent(documents))
    return load_manifest(path), load_documents([docs]) if documents else None


def test_a_cloudevent_event_is_a_trigger_on_its_broker_which_it_makes(tmp_path: Path) -> None:
    manifest, _ = _project(tmp_path)
    topology = build(manifest)
    assert set(topology.brokers) == {"default", "audit"}
    (trigger,) = topology.by_broker["audit"]
    assert trigger.name == "audit-cloudevent-1"
    assert trigger.subscriber == Sink("function", "audit")
    assert trigger.dead_letter == Sink("function", "shop-orders")  # by key → deployed name
    assert trigger.policy == Policy(retry=2, backoff="linear", delay_s=1.0, timeout_s=5.0)
    assert trigger.matches({"type": "com.example.audited"})
    assert not trigger.matches({"type": "other"})


BROKER_DELIVERY = """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: default}
spec:
  delivery:
    retry: 4
    deadLetterSink: {uri: "http://127.0.0.1:1/dead"}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: inherits}
spec:
  subscriber: {ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: shop-orders}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: own}
spec:
  subscriber: {ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: orders}}
  delivery: {retry: 1}
"""


def test_a_trigger_without_delivery_takes_its_brokers(tmp_path: Path) -> None:
    manifest, documents = _project(tmp_path, BROKER_DELIVERY)
    topology = build(manifest, documents)
    inherits, own = topology.triggers["inherits"], topology.triggers["own"]
    assert inherits.policy.retry == 4 and inherits.dead_letter == Sink(
        "uri", "http://127.0.0.1:1/dead"
    )
    assert own.policy.retry == 1 and own.dead_letter is None
    assert own.subscriber == Sink("function", "shop-orders")


def test_without_any_delivery_knatives_broker_defaults_apply(tmp_path: Path) -> None:
    manifest, documents = _project(tmp_path, BROKER_DELIVERY.split("---")[1])
    topology = build(manifest, documents)
    assert topology.triggers["inherits"].policy == DEFAULT
    assert Policy(retry=10, backoff="exponential", delay_s=0.2) == DEFAULT


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        (
            "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {name: t}\nspec:\n"
            "  subscriber: {ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: x}}\n",
            "Trigger t: 'x' is not a function of the manifest",
        ),
        (
            "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {name: t}\nspec:\n"
            "  broker: nope\n  subscriber: {uri: 'http://x'}\n",
            "spec.broker 'nope' is not declared",
        ),
        (
            "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {name: t}\nspec:\n"
            "  filters: [{cesql: \"type = \"}]\n  subscriber: {uri: 'http://x'}\n",
            "Trigger t: filters: cesql: unexpected 'end of expression'",
        ),
        (
            "apiVersion: eventing.knative.dev/v1\nkind: Trigger\n"
            "metadata: {name: audit-cloudevent-1}\n"
            "spec:\n  broker: audit\n  subscriber: {uri: 'http://x'}\n",
            "two triggers are named 'audit-cloudevent-1'",
        ),
    ],
    ids=[
        "a subscriber that is no function",
        "a trigger on an undeclared broker",
        "a cesql filter that does not parse",
        "two triggers of one name",
    ],
)
def test_what_cannot_run_is_refused_by_name(tmp_path: Path, documents: str, message: str) -> None:
    manifest, loaded = _project(tmp_path, documents)
    with pytest.raises(ConfigError, match=message):
        build(manifest, loaded)
