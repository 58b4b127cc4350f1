"""``skylet logs`` and ``skylet invocations``: what a running server's admin API keeps."""

from __future__ import annotations

import datetime
import json
import sys
from typing import Any
from urllib.parse import quote, urlencode

import click

from skylet.cli import auth
from skylet.cli.common import endpoint, endpoint_option, unreachable
from skylet.cli.exits import Exit, Status, for_http
from skylet.cli.output import Output


def _refused(status_code: int, text: str, code: str = "") -> Exit:
    hint = auth.refusal_hint(status_code, code)
    label = f"{status_code} {code}" if code else str(status_code)
    return Exit(f"{label}: {text}{hint}", for_http(status_code))


def _get(url: str, credentials: str | None) -> tuple[str, dict[str, str]]:
    """``url`` and the headers to GET it with: signed for the admin API (``skylet``) when
    there are credentials."""
    return url, auth.signed(auth.keys(credentials), "skylet", "GET", url)


@click.command()
@click.argument("function")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new log entries.")
@click.option(
    "--since",
    metavar="WHEN",
    help="Only entries from then on: a duration back (30s, 5m, 1h, 2d), an ISO 8601 time "
    "(2026-12-08T10:00:00Z) or epoch seconds.",
)
@click.option(
    "--filter",
    "pattern",
    metavar="PATTERN",
    help="Only the log events matching a CloudWatch Logs filter pattern: terms (ERROR), "
    "'?A ?B', '-A', quoted phrases, JSON ('{ $.level = \"ERROR\" }'), or [a, b, ...].",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object per entry and line: function, timestamp, requestId, logStream, text.",
)
@endpoint_option()
@auth.credentials_option()
def logs(
    function: str,
    follow: bool,
    since: str | None,
    pattern: str | None,
    as_json: bool,
    endpoint: str | None,
    credentials: str | None,
) -> None:
    """Print FUNCTION's recent log (kept across restarts); with -f, follow it (Ctrl+C ends
    it, status 130)."""
    import httpx

    server = _server(endpoint)
    query = {"follow": "1" if follow else "0"}
    if since is not None:
        query["since"] = since
    if pattern is not None:
        query["filter"] = pattern
    path = f"/_skylet/functions/{quote(function, safe='')}/logs?{urlencode(query, quote_via=quote)}"
    url, headers = _get(f"{server}{path}", credentials)
    try:
        with httpx.stream("GET", url, headers=headers, timeout=None) as response:
            if response.status_code >= 400:
                response.read()
                raise _refused(
                    response.status_code,
                    response.text,
                    response.headers.get("x-amzn-errortype", ""),
                )
            for line in response.iter_lines():
                if not line:
                    continue
                entry = json.loads(line)
                if entry.get("dropped"):  # the server stopped following: this client lagged
                    raise Exit(entry["message"], Status.FAILED)
                if as_json:
                    sys.stdout.write(json.dumps({"function": function, **entry}) + "\n")
                else:
                    sys.stdout.write(entry["text"])
                sys.stdout.flush()
    except httpx.HTTPError as exc:
        raise unreachable(server, exc) from exc


@click.command()
@click.argument("function")
@click.option(
    "--status",
    type=click.Choice(["queued", "running", "succeeded", "failed", "discarded"]),
    help="Only invocations in this state.",
)
@click.option("-n", "--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON.")
@endpoint_option()
@auth.credentials_option()
def invocations(
    function: str,
    status: str | None,
    limit: int,
    as_json: bool,
    endpoint: str | None,
    credentials: str | None,
) -> None:
    """List FUNCTION's recent asynchronous invocations, newest change first."""
    import httpx

    out = Output()
    query = f"limit={limit}" + (f"&status={status}" if status else "")
    server = _server(endpoint)
    url, headers = _get(f"{server}/_skylet/functions/{function}/invocations?{query}", credentials)
    try:
        response = httpx.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise unreachable(server, exc) from exc
    if response.status_code >= 400:
        raise _refused(
            response.status_code, response.text, response.headers.get("x-amzn-errortype", "")
        )
    records = response.json()
    if as_json:
        out.line(json.dumps(records, indent=2))
        return
    rows = [
        [
            r["requestId"],
            r["status"],
            str(r["attempts"]),
            str(r["throttles"]),
            _when(r["enqueuedAt"]),
            _when(r["updatedAt"]),
            _last_error(r),
        ]
        for r in records
    ]
    out.table(
        f"{function}: {len(rows)} asynchronous invocations",
        ["request id", "status", "runs", "throttles", "enqueued (UTC)", "updated", "last error"],
        rows,
    )


def _server(given: str | None) -> str:
    return endpoint(given)


def _when(epoch: float | None) -> str:
    if epoch is None:
        return ""
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _last_error(record: dict[str, Any]) -> str:
    if not record["errors"]:
        return ""
    error = record["errors"][-1]
    return f"{error['type']}: {error['message'][:60]}"
