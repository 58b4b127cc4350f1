"""``skylet cost [FUNCTION]``, ``skylet cost estimate`` and ``skylet tune FUNCTION``: what
functions cost, what a workload would cost, and which memory size is cheapest or fastest
(docs/cost.md). ``cost`` and ``tune`` ask a running server's admin API (``/_skylet/cost``,
``/_skylet/tune``); ``estimate`` is arithmetic here.

Exit status: 2 for bad options, 4 for a function that does not exist, 5 when the server
cannot be reached, 1 for any other refusal (cli/exits.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from skylet.cli import auth
from skylet.cli.common import endpoint as endpoint_of
from skylet.cli.common import endpoint_option, unreachable
from skylet.cli.exits import Exit, Status, for_http
from skylet.cli.output import Output
from skylet.cost import pricing
from skylet.cost.ledger import Bucket, Counts
from skylet.cost.reports import PERIODS, report
from skylet.errors import ConfigError

_json = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _call(
    method: str,
    path: str,
    server_option: str | None,
    credentials: str | None,
    *,
    body: Any = None,
    timeout_s: float = 30.0,
) -> Any:
    import httpx

    server = endpoint_of(server_option)
    url = f"{server}/_skylet/{path}"
    content = b"" if body is None else json.dumps(body).encode()
    headers = auth.signed(auth.keys(credentials), "skylet", method, url, content)
    try:
        response = httpx.request(method, url, headers=headers, content=content, timeout=timeout_s)
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


def load_profile(given: str) -> pricing.Profile:
    """``--profile``: a built-in profile's name, or a YAML/JSON file with a custom one."""
    path = Path(given)
    if not path.is_file():
        return pricing.profile_named(given)
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: {error}") from error
    return pricing.custom_profile(data, str(path))


def dollars(value: float) -> str:
    """Cents, and below a cent enough digits to see it: $11.80, $0.000021."""
    if value == 0 or abs(value) >= 0.01:
        return f"${value:,.2f}"
    return f"${value:.6f}"


def cost_rows(document: dict[str, Any]) -> list[list[str]]:
    """The table of ``/_skylet/cost``'s document: one row per function, then the total. Pure."""
    rows = []
    for row in [*document["functions"], {**document["total"], "function": "total"}]:
        c = row["cost"]
        rows.append(
            [
                row["function"],
                f"{row['requests']:,}",
                f"{row['gbSeconds']:,.3f}",
                f"{row['billedMs']:,}",
                dollars(c["compute"]),
                dollars(c["requests"]),
                dollars(c["provisioned"]),
                dollars(c["total"]),
            ]
        )
    return rows


COLUMNS = [
    "function",
    "requests",
    "GB-s",
    "billed ms",
    "$ compute",
    "$ requests",
    "$ PC",
    "$ total",
]


def _reprice(document: dict[str, Any], profile: pricing.Profile) -> dict[str, Any]:
    """The document priced again with a profile the server does not have (a file's)."""
    counts: dict[Bucket, Counts] = {}
    for row in document["functions"]:
        for size in row["sizes"]:
            c = Counts(
                requests=size["requests"],
                billed_ms=size["billedMs"],
                gb_seconds=size["gbSeconds"],
                provisioned_gb_seconds=size["provisionedGbSeconds"],
                provisioned_compute_gb_seconds=size["provisionedComputeGbSeconds"],
            )
            counts[Bucket(row["function"], 0, size["memoryMb"], size["architecture"])] = c
    return report(
        counts,
        profile,
        period=document["period"],
        start=document["start"],
        end=document["end"],
        free_tier=document["freeTier"],
    )


class _CostGroup(click.Group):
    """``skylet cost FUNCTION`` and ``skylet cost estimate``: a first word that is not a
    subcommand (or an option) is the report's."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if not args or args[0] not in self.commands:
            return "report", self.commands["report"], args
        return super().resolve_command(ctx, args)


@click.group(
    cls=_CostGroup,
    invoke_without_command=True,
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.pass_context
def cost(ctx: click.Context) -> None:
    """What functions cost, from the running server, or what a workload would.

    \b
    skylet cost [FUNCTION] [--period 1h|24h|30d|month] [--profile NAME|FILE]
                [--free-tier/--no-free-tier] [--json]
    skylet cost estimate --memory MB --duration-ms MS --requests N

    `skylet cost report --help` lists the first's options."""
    if ctx.invoked_subcommand is None:  # ``skylet cost`` alone: the last 24 hours
        ctx.invoke(report_command)


@cost.command("report", hidden=True)
@click.argument("function", required=False)
@click.option("--period", type=click.Choice(PERIODS), default="24h", show_default=True)
@click.option("--profile", help="A built-in pricing profile, or a YAML/JSON file.")
@click.option(
    "--free-tier/--no-free-tier",
    default=None,
    help="Take the monthly free tier off the total (default: for --period month only).",
)
@_json
@endpoint_option()
@auth.credentials_option()
def report_command(
    function: str | None,
    period: str,
    profile: str | None,
    free_tier: bool | None,
    as_json: bool,
    endpoint: str | None,
    credentials: str | None,
) -> None:
    """Usage and cost per function over a period, from the running server."""
    query = f"period={period}"
    if function:
        query += f"&function={function}"
    if free_tier is not None:
        query += f"&freeTier={int(free_tier)}"
    custom = None
    if profile is not None and Path(profile).is_file():
        custom = load_profile(profile)  # priced here: the server has only its built-in ones
    elif profile is not None:
        query += f"&profile={pricing.profile_named(profile).name}"
    document = _call("GET", f"cost?{query}", endpoint, credentials)
    if custom is not None:
        document = _reprice(document, custom)
    out = Output()
    if as_json:
        out.line(json.dumps(document, indent=2))
        return
    title = f"cost over {period} ({document['profile']}"
    title += ", free tier taken off the total)" if document["freeTier"] else ")"
    out.table(title, COLUMNS, cost_rows(document))


@cost.command("estimate")
@click.option("--memory", "memory_mb", type=click.IntRange(128, 10_240), required=True)
@click.option("--duration-ms", type=click.FloatRange(0, 900_000), required=True)
@click.option("--requests", required=True, help="Requests a month: 10M, 250k, 3000000.")
@click.option("--arch", type=click.Choice(pricing.ARCHITECTURES), default="x86_64")
@click.option("--profile", default=pricing.DEFAULT_PROFILE, show_default=True)
@click.option("--free-tier/--no-free-tier", default=True, show_default=True)
@_json
def estimate(
    memory_mb: int,
    duration_ms: float,
    requests: str,
    arch: pricing.Architecture,
    profile: str,
    free_tier: bool,
    as_json: bool,
) -> None:
    """A month's cost of REQUESTS invocations of DURATION-MS each at MEMORY MB."""
    try:
        count = pricing.parse_count(requests)
    except ConfigError as error:
        raise Exit(f"--requests: {error}", Status.USAGE) from error
    chosen = load_profile(profile)
    found = pricing.estimate(
        memory_mb, duration_ms, count, architecture=arch, profile=chosen, free_tier=free_tier
    )
    out = Output()
    if as_json:
        out.line(json.dumps(found.document(), indent=2))
        return
    for text in breakdown(found, chosen):
        out.line(text)


def breakdown(found: pricing.Estimate, profile: pricing.Profile) -> list[str]:
    """The estimate's arithmetic, line by line. Pure."""
    gb = found.memory_mb / pricing.MB_PER_GB
    rate = f"{profile.of(found.architecture).gb_second:.10f}".rstrip("0")
    b = found.bill
    lines = [
        f"{found.requests:,.0f} requests x {gb:g} GB x {found.duration_ms / 1000:g} s "
        f"= {found.gb_seconds:,.2f} GB-s ({found.architecture}, {profile.name})",
    ]
    if found.free_tier:
        lines.append(
            f"compute:  ({found.gb_seconds:,.2f} - {b.free_gb_seconds_used:,.0f} free) GB-s "
            f"x ${rate} = {dollars(b.compute)}"
        )
        lines.append(
            f"requests: ({found.requests:,.0f} - {b.free_requests_used:,.0f} free) / 1M "
            f"x ${profile.requests_per_million:.2f} = {dollars(b.requests)}"
        )
    else:
        lines.append(f"compute:  {found.gb_seconds:,.2f} GB-s x ${rate} = {dollars(b.compute)}")
        lines.append(
            f"requests: {found.requests:,.0f} / 1M x ${profile.requests_per_million:.2f} "
            f"= {dollars(b.requests)}"
        )
    lines.append(
        f"total:    {dollars(b.compute)} compute + {dollars(b.requests)} requests "
        f"= {dollars(b.total)}/month"
    )
    return lines


@click.command()
@click.argument("function")
@click.option(
    "--memory",
    default="128,256,512,1024,1769,3008",
    show_default=True,
    help="The memory sizes to run at, in MB, comma-separated.",
)
@click.option("--payload", default="{}", help="The event: JSON, or @FILE.")
@click.option("--invocations", type=click.IntRange(1, 1000), default=10, show_default=True)
@_json
@endpoint_option()
@auth.credentials_option()
def tune(
    function: str,
    memory: str,
    payload: str,
    invocations: int,
    as_json: bool,
    endpoint: str | None,
    credentials: str | None,
) -> None:
    """Run FUNCTION at each memory size and show duration and cost (Lambda Power Tuning)."""
    try:
        sizes = [int(m) for m in memory.split(",") if m.strip()]
    except ValueError:
        raise Exit(
            f"--memory: {memory!r} is not sizes in MB, comma-separated", Status.USAGE
        ) from None
    text = payload
    if payload.startswith("@"):
        try:
            text = Path(payload[1:]).read_text()
        except OSError as error:
            raise Exit(f"--payload: {error}", Status.USAGE) from error
    try:
        event = json.loads(text)
    except ValueError as error:
        raise Exit(f"--payload: not JSON ({error})", Status.USAGE) from error
    body = {"function": function, "memory": sizes, "payload": event, "invocations": invocations}
    document = _call("POST", "tune", endpoint, credentials, body=body, timeout_s=3600)
    out = Output()
    if as_json:
        out.line(json.dumps(document, indent=2))
        return
    out.line(document["cpu"], style="yellow" if not document["cpuQuota"] else "dim")
    out.table(
        f"{document['function']}: {invocations} invocations per size ({document['profile']})",
        ["memory MB", "avg ms", "p50 ms", "p99 ms", "errors", "$ per invocation", "$ per 1M"],
        tune_rows(document),
    )
    cheapest, fastest = document["cheapest"], document["fastest"]
    if cheapest is None:
        out.line("every size failed: no recommendation", style="red")
        return
    out.line(f"cheapest: {cheapest} MB   fastest: {fastest} MB", style="bold green")


def tune_rows(document: dict[str, Any]) -> list[list[str]]:
    """The tuning's table, with the cheapest and fastest sizes marked. Pure."""
    rows = []
    for r in document["results"]:
        marks = [
            mark
            for mark, size in (("cheapest", document["cheapest"]), ("fastest", document["fastest"]))
            if size == r["memoryMb"]
        ]
        rows.append(
            [
                f"{r['memoryMb']}" + (f" ({', '.join(marks)})" if marks else ""),
                f"{r['avgMs']:.2f}",
                f"{r['p50Ms']:.2f}",
                f"{r['p99Ms']:.2f}",
                str(r["errors"]),
                f"${r['costPerInvocation']:.9f}",
                dollars(r["costPerMillion"]),
            ]
        )
    return rows
