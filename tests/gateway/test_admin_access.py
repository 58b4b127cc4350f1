"""What a function may ask of the admin API: its own log and invocation records, nothing that
touches another function or the platform."""

from __future__ import annotations

import pytest

from skylet.gateway.admin_access import refusal

CASES = [
    ("GET", "functions/me/logs", None),
    ("GET", "functions/me/invocations", None),
    ("GET", "functions/other/logs", "skylet:GetLogs on resource: functions/other"),
    ("GET", "functions/other/invocations", "skylet:ListInvocations on resource: functions/other"),
    ("DELETE", "functions/other/instances", "skylet:RetireInstances on resource: functions/other"),
    ("DELETE", "functions/me/instances", "skylet:RetireInstances on resource: functions/me"),
    ("GET", "functions", "skylet:ListFunctions on resource: *"),
    ("GET", "schedules", "skylet:ListSchedules on resource: *"),
    ("POST", "schedules/nightly/run", "skylet:RunSchedule on resource: schedules/nightly"),
    ("POST", "functions/me/logs", "skylet:Admin on resource: functions/me"),
    ("GET", "nothing/here", "skylet:Admin on resource: *"),
    ("GET", "dashboard/data/overview", "skylet:Admin on resource: *"),
    ("POST", "dashboard/session", "skylet:Admin on resource: *"),
]


@pytest.mark.parametrize(
    ("method", "path", "refused"),
    CASES,
    ids=[
        "its_own_log_is_read",
        "its_own_records_are_read",
        "another_s_log_is_refused",
        "another_s_records_are_refused",
        "another_s_instances_are_not_retired",
        "its_own_instances_are_not_retired_either",
        "the_list_of_functions_is_refused",
        "the_schedules_are_refused",
        "a_schedule_is_not_run",
        "its_own_log_is_read_with_get_only",
        "an_unknown_route_is_refused",
        "the_dashboard_s_data_is_refused",
        "a_dashboard_session_is_refused",
    ],
)
def test_a_function_may_ask_for_what_is_its_own_only(
    method: str, path: str, refused: str | None
) -> None:
    got = refusal("me", method, path.split("/"), account="000000000000")
    if refused is None:
        assert got is None
    else:
        assert got is not None and got.endswith(refused)
        assert got.startswith(
            "User: arn:aws:sts::000000000000:assumed-role/skylet-function/me is not authorized"
        )
