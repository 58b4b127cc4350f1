"""The schedules a manifest declares: time zones from the event or the provider, and the
schedule rules the events API made beside them."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from skylet.errors import ConfigError
from skylet.manifest import load_manifest
from skylet.schedules.plan import plan, rule_schedules

MANIFEST = """
service: clock
provider:
  name: aws
  timezone: Europe/Berlin
functions:
  nightly:
    handler: app.nightly
    events:
      - schedule: cron(0 1 * * ? *)
      - schedule:
          rate: cron(0 1 * * ? *)
          timezone: America/New_York
"""


def _plan(tmp_path: Path, text: str = MANIFEST):  # type: ignore[no-untyped-def]
    path = tmp_path / "serverless.yml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return plan(load_manifest(path))


def test_the_providers_time_zone_applies_unless_the_event_gives_one(tmp_path: Path) -> None:
    berlin, new_york = _plan(tmp_path)
    assert (str(berlin.tz), str(new_york.tz)) == ("Europe/Berlin", "America/New_York")
    after = datetime(2026, 7, 1, 12, tzinfo=UTC)
    # 01:00 in Berlin in July (UTC+2) is 23:00 UTC; in New York (UTC-4) 05:00 UTC.
    assert berlin.timetable.next_after(after, tz=berlin.tz) == datetime(2026, 7, 1, 23, tzinfo=UTC)
    assert new_york.timetable.next_after(after, tz=new_york.tz) == datetime(
        2026, 7, 2, 5, tzinfo=UTC
    )


def test_a_provider_time_zone_that_is_not_iana_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _plan(tmp_path, MANIFEST.replace("Europe/Berlin", "Mars/Olympus"))
    assert "'Mars/Olympus' is not an IANA time zone" in str(caught.value)


def test_rule_schedules_come_after_the_manifests_and_yield_to_their_names(
    tmp_path: Path,
) -> None:
    declared = _plan(tmp_path)
    rules = [("tick", "rate(5 minutes)", True), (declared[0].name, "rate(1 hour)", True)]
    combined = rule_schedules(rules, declared)
    assert [s.name for s in combined] == [*(s.name for s in declared), "tick"]
    tick = combined[-1]
    assert (tick.kind, tick.function, tick.enabled, tick.tz) == ("rule", "", True, None)
