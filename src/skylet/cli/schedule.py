"""``skylet schedule ls|run``: a running server's schedules (``schedule`` events and
provisioned concurrency schedules), through its admin API.

Exit status: 4 for a schedule that does not exist, 5 when the server cannot be reached, 1 for
any other refusal (cli/exits.py).
"""

from __future__ import annotations

import json
from typing import Any

import click

from skylet.cli import auth
from skylet.cli.common import endpoint, endpoint_option, unreachable
from skylet.cli.exits import Exit, for_http
from skylet.cli.output import Output


def _call(method: str, path: str, server_option: str | None, credentials: str | None) -> Any:
    import httpx

    server = endpoint(server_option)
    url = f"{server}/_skylet/{path}"
    headers = auth.signed(auth.keys(credentials), "skylet", method, url)
    try:
        response = httpx.request(method, url, headers=headers)
    except httpx.HTTPError as exc:
        raise unreachable(server, exc) from exc
    if response.status_code >= 400:
        code = response.headers.get("x-amzn-errortype", "")
        try:
            message = response.json().get("message", response.text)
        except ValueError:
            message = response.text
        hint = auth.refusal_hint(response.status_code, code)
        raise Exit(f"{message}{hint}", for_http(response.status_code))
    return response.json()


@click.group()
def schedule() -> None:
    """The running server's schedules."""


@schedule.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print the schedules as JSON.")
@endpoint_option()
@auth.credentials_option()
def ls(as_json: bool, endpoint: str | None, credentials: str | None) -> None:
    """List the schedules with their next fire (UTC)."""
    listed = _call("GET", "schedules", endpoint, credentials)
    out = Output()
    if as_json:
        out.line(json.dumps(listed, indent=2))
        return
    rows = [
        [
            s["name"],
            s["function"] or "-",  # a schedule rule of the events API: its targets, no function
            s["expression"],
            s["kind"],
            (s["next"] or "-") if s["enabled"] else "disabled",
        ]
        for s in listed
    ]
    out.table(
        f"{len(rows)} schedules", ["rule", "function", "expression", "kind", "next fire"], rows
    )


@schedule.command("run")
@click.argument("name")
@endpoint_option()
@auth.credentials_option()
def run(name: str, endpoint: str | None, credentials: str | None) -> None:
    """Fire schedule NAME now, as its timetable would (for development)."""
    fired = _call("POST", f"schedules/{name}/run", endpoint, credentials)
    if fired.get("kind") == "rule":
        Output().line(f"fired {fired['name']}: the Scheduled Event sent to the rule's targets")
    else:
        Output().line(f"fired {fired['name']}: {fired['function']} invoked")
