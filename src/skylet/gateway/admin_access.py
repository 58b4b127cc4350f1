"""What a function may ask of the admin API when it signs with its own credentials (or, in
local mode, connects as its own uid): only what is its own, its log and its invocation
records. Anything that touches another function or the platform (retiring instances, running
schedules, the list of functions) is refused with AWS's words for it. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from skylet import arns

#: The admin API's routes as IAM-style actions, for the refusal's message.
_ACTIONS = {
    ("GET", "functions"): "ListFunctions",
    ("GET", "schedules"): "ListSchedules",
    ("POST", "run"): "RunSchedule",
    ("GET", "logs"): "GetLogs",
    ("GET", "invocations"): "ListInvocations",
    ("DELETE", "instances"): "RetireInstances",
    ("GET", "cost"): "GetCost",
    ("POST", "tune"): "RunTuning",
}
#: What a function may read of its own.
_OWN = frozenset({"logs", "invocations"})


def refusal(function: str, method: str, parts: Sequence[str], *, account: str) -> str | None:
    """Why ``function`` may not make the request ``method /_skylet/<parts>``, or None when it
    asks for its own log or invocation records."""
    target = parts[1] if len(parts) == 3 else None
    own = method == "GET" and len(parts) == 3 and parts[0] == "functions" and parts[2] in _OWN
    if own and target == function:
        return None
    action = _ACTIONS.get((method, parts[-1] if parts else ""), "Admin")
    resource = f"{parts[0]}/{target}" if target and parts[0] in ("functions", "schedules") else "*"
    who = arns.assumed_role(function, account=account).arn
    return f"User: {who} is not authorized to perform: skylet:{action} on resource: {resource}"
