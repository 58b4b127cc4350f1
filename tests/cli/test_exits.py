"""One exit status per kind of failure (skylet.cli.exits), chosen in one place."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from skylet.cli import group as group_module
from skylet.cli.exits import EPILOG, Exit, Status, for_http, status_of
from skylet.cli.group import SkyletGroup, cli
from skylet.cli.main import main
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


def test_ctrl_c_in_a_command_is_130_without_a_traceback() -> None:
    @click.command()
    def interrupted() -> None:
        raise KeyboardInterrupt

    group = SkyletGroup(commands={"interrupted": interrupted})
    done = CliRunner().invoke(group, ["interrupted"])
    assert done.exit_code == 130
    assert done.output == ""


def test_ctrl_c_while_the_commands_load_is_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(**_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(group_module, "cli", interrupted)
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 130


@pytest.mark.parametrize(
    ("raised", "status", "printed"),
    [
        (Exit("no such bucket", Status.NOT_FOUND), 4, "error: no such bucket"),
        (ConfigError("skylet.yaml:3: bad"), 3, "error: skylet.yaml:3: bad"),
        (Exit("", Status.INTERRUPTED), 130, ""),
    ],
    ids=["an_exit_prints_its_message", "a_skylet_error_gets_its_status", "a_quiet_exit"],
)
def test_the_group_turns_errors_into_statuses(raised: Exception, status: int, printed: str) -> None:
    @click.command()
    def failing() -> None:
        raise raised

    done = CliRunner().invoke(SkyletGroup(commands={"failing": failing}), ["failing"])
    assert done.exit_code == status
    assert done.output.strip() == printed
