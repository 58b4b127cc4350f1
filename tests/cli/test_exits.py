"""One exit status per kind of failure (skylet.cli.exits), chosen in one place."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from skylet.cli.exits import EPILOG, Status, for_http, status_of
from skylet.cli.main import cli
from skylet.errors import (
    ConfigError,
    ListenError,
    PlatformError,
    ResourceNotFound,
    SkyletError,
    TooManyRequests,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ConfigError("skylet.yaml:5: functions.f.memory_size"), Status.CONFIG),
        (ListenError("cannot listen on 127.0.0.1:9000"), Status.CANNOT_LISTEN),
        (ResourceNotFound("Function not found: f"), Status.NOT_FOUND),
        (TooManyRequests("Rate Exceeded."), Status.FAILED),
        (PlatformError("the zygote did not start"), Status.FAILED),
    ],
    ids=[
        "a_manifest_error_is_3",
        "an_address_in_use_is_6_though_it_is_a_config_error",
        "a_missing_function_is_4",
        "a_refusal_is_1",
        "skylets_own_failure_is_1",
    ],
)
def test_each_error_has_its_status(error: SkyletError, status: Status) -> None:
    assert status_of(error) == status


@pytest.mark.parametrize(
    ("code", "status"), [(404, Status.NOT_FOUND), (400, Status.FAILED), (503, Status.FAILED)]
)
def test_http_error_answers_map_to_not_found_or_failed(code: int, status: Status) -> None:
    assert for_http(code) == status


def test_the_statuses_are_distinct_and_the_help_lists_each() -> None:
    assert len({s.value for s in Status}) == len(Status)
    for status in Status:
        if status is not Status.OK:
            assert f"{status.value} " in EPILOG
    shown = CliRunner().invoke(cli, ["--help"])
    assert "Exit status: 0 success" in shown.output
    assert "130 interrupted" in shown.output


def test_a_usage_error_is_clicks_2() -> None:
    assert CliRunner().invoke(cli, ["invoke"]).exit_code == 2
    assert CliRunner().invoke(cli, ["invoke", "f", "-d", "{"]).exit_code == 2
