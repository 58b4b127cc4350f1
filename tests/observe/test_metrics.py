"""The Prometheus families: exposition read back by prometheus_client's parser, and the cap on
label sets."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from skylet.observe.metrics import OVERFLOW, Registry


def scrape(registry: Registry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    content_type, body = registry.exposition("")
    assert content_type.startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def test_counters_and_histograms_are_exposed_as_prometheus_reads_them() -> None:
    registry = Registry()
    calls = registry.counter("calls", "Calls.", ("function",))
    took = registry.histogram("took_seconds", "Time.", ("function",), (0.1, 1.0))
    calls.inc(("f",))
    calls.inc(("f",), 2)
    for value in (0.05, 0.5, 5.0):
        took.observe(("f",), value)
    found = scrape(registry)
    assert found[("calls_total", (("function", "f"),))] == 3
    assert found[("took_seconds_bucket", (("function", "f"), ("le", "0.1")))] == 1
    assert found[("took_seconds_bucket", (("function", "f"), ("le", "1.0")))] == 2
    assert found[("took_seconds_bucket", (("function", "f"), ("le", "+Inf")))] == 3
    assert found[("took_seconds_sum", (("function", "f"),))] == 5.55
    assert found[("took_seconds_count", (("function", "f"),))] == 3


def test_label_sets_past_the_cap_are_counted_as_overflow() -> None:
    registry = Registry(max_label_sets=2)
    calls = registry.counter("calls", "Calls.", ("function", "version"))
    for name in ("a", "b", "c", "d", "a"):
        calls.inc((name, "1"))
    found = scrape(registry)
    assert found[("calls_total", (("function", "a"), ("version", "1")))] == 2
    assert found[("calls_total", (("function", OVERFLOW), ("version", OVERFLOW)))] == 2
    assert len(found) == 3  # a, b, and the overflow


def test_openmetrics_is_written_when_asked() -> None:
    registry = Registry()
    registry.gauge("depth", "Depth.", ("queue",)).set(("q",), 4)
    content_type, body = registry.exposition("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")
