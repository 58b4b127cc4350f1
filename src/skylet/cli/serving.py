"""``skylet up`` and ``skylet serve-function``: the platform behind skylet's HTTP server, with
the console's request lines and function output, until Ctrl+C (exit 130) or SIGTERM (exit 0)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from types import MappingProxyType

import click

from skylet import __version__, function_keys
from skylet.build.watcher import ReloadOutcome
from skylet.cli import banner, env_vars
from skylet.cli.common import DEFAULT_PORT, base_environment, manifest_path, run
from skylet.cli.cost import load_profile
from skylet.cli.exits import Exit, Status
from skylet.cli.output import FunctionOutput, Output, RequestLines
from skylet.config import RuntimeSettings, endpoint_url
from skylet.invoker.hooks import InvocationHook
from skylet.observe import tracing
from skylet.platform import Platform
from skylet.platform_config import PlatformConfig

_credentials_option = click.option(
    "--credentials",
    "credentials",
    multiple=True,
    metavar="ACCESS_KEY:SECRET",
    envvar="SKYLET_CREDENTIALS",
    help="Who may sign requests to the Lambda, S3, admin and service APIs (repeatable; "
    "SKYLET_CREDENTIALS holds them space-separated); unsigned requests are then refused. "
    "Without any, unsigned requests and the pair `test`/`test` are accepted, on loopback only.",
)
_otlp_option = click.option(
    "--otlp-endpoint",
    "otlp_endpoint",
    default=None,
    metavar="URL",
    help="Export a trace span per invocation over OTLP/HTTP to this collector (a base URL, "
    "as OTEL_EXPORTER_OTLP_ENDPOINT; /v1/traces is added). Without it, the standard "
    "OTEL_EXPORTER_OTLP_* variables configure it; with neither, tracing is off.",
)
_otlp_exporter_option = click.option(
    "--otlp-exporter",
    "otlp_exporter",
    type=click.Choice(["skylet", "sdk"]),
    default="skylet",
    show_default=True,
    help="Who encodes and posts the spans: skylet's OTLP/HTTP encoder, or opentelemetry-python's "
    "own exporter (slower: docs/tracing.md).",
)
_metrics_option = click.option(
    "--metrics/--no-metrics",
    "metrics",
    default=True,
    show_default=True,
    help="Count invocations, EMF lines and sent messages for /metrics and CloudWatch's AWS/* "
    "namespaces (docs/metrics.md); --no-metrics leaves them empty, to measure what they cost.",
)

_interpreter_option = click.option(
    "--interpreter",
    "interpreters",
    multiple=True,
    metavar="RUNTIME=PATH",
    help="The Python that runs functions of RUNTIME (python3.12=/opt/py312/bin/python3.12; "
    "repeatable). Otherwise python3.X is looked up on PATH; the platform's own Python runs "
    "its own version's.",
)


@click.command()
@click.argument("target", default=".", type=click.Path(exists=True))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--stage", help="Stage for ${opt:stage} (serverless.yml).")
@click.option("--opt", "opts", multiple=True, metavar="KEY=VALUE", help="A ${opt:KEY} value.")
@click.option(
    "--keepalive",
    default=600.0,
    show_default=True,
    type=float,
    help="Seconds an idle instance stays warm.",
)
@click.option(
    "--max-concurrency",
    default=1000,
    show_default=True,
    type=click.IntRange(1),
    help="Platform-wide concurrent invocations.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="State directory (default: TARGET/.skylet).",
)
@click.option(
    "--store",
    "store_url",
    default="",
    envvar="SKYLET_STORE",
    help="Durable store: sqlite:///path.db, or postgresql://user@host/db to share with other "
    "nodes (default: SQLite in the state directory).",
)
@click.option(
    "--reload/--no-reload",
    default=True,
    show_default=True,
    help="Redeploy when the code or the manifest changes (turn off in production).",
)
@_credentials_option
@_interpreter_option
@click.option(
    "--blobs",
    "blobs_url",
    default="",
    envvar="SKYLET_BLOBS",
    help="Object storage: files under the state directory (default), or the http(s) URL of an "
    "S3-compatible server shared by several nodes (credentials from AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY).",
)
@click.option(
    "--public-bucket",
    "public_buckets",
    multiple=True,
    metavar="NAME",
    help="A bucket anyone may read without signing (created if absent).",
)
@click.option(
    "--knative",
    "knative_files",
    multiple=True,
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False),
    help="A YAML file of Knative documents (Service, Broker, Trigger, PingSource) to load "
    "beside the manifest; eventing.yaml and service.yaml next to the manifest are loaded "
    "without it.",
)
@env_vars.file_option
@env_vars.pair_option
@click.option(
    "--function-logs/--no-function-logs",
    default=True,
    show_default=True,
    help="Print what each invocation printed, and its error, prefixed by the function's name.",
)
@click.option("-q", "--quiet", is_flag=True, help="No request lines and no function output.")
@click.option(
    "--sandbox/--no-sandbox",
    default=True,
    show_default=True,
    help="Run each function in a sandbox of its own (namespaces, its own uid as root, cgroups "
    "where the machine has them); the banner and /health say which protections are on.",
)
@click.option(
    "--alarm-interval",
    "alarm_interval",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    metavar="SECONDS",
    help="How often CloudWatch alarms are evaluated (CloudWatch: every minute). Shorter sees "
    "a change of state sooner; an alarm's Period keeps its meaning.",
)
@click.option(
    "--pricing",
    metavar="PROFILE|FILE",
    help="What `skylet cost` prices usage with: a built-in profile (aws-us-east-1, …) or a "
    "YAML/JSON file (docs/cost.md). Default: the manifest's region's, else us-east-1's.",
)
@_otlp_option
@_otlp_exporter_option
@_metrics_option
def up(
    target: str,
    host: str,
    port: int,
    stage: str | None,
    opts: tuple[str, ...],
    keepalive: float,
    max_concurrency: int,
    data_dir: str | None,
    store_url: str,
    reload: bool,
    credentials: tuple[str, ...],
    interpreters: tuple[str, ...],
    blobs_url: str,
    public_buckets: tuple[str, ...],
    knative_files: tuple[str, ...],
    env_file: str | None,
    env: tuple[str, ...],
    function_logs: bool,
    quiet: bool,
    sandbox: bool,
    alarm_interval: float,
    pricing: str | None,
    otlp_endpoint: str | None,
    otlp_exporter: str,
    metrics: bool,
) -> None:
    """Serve the functions of the manifest in TARGET (a directory or a manifest file).

    Ctrl+C stops it gracefully and exits with status 130; SIGTERM stops it and exits with 0."""
    out = Output()
    manifest = manifest_path(target)
    keys = _listening_keys(host, credentials)
    settings = RuntimeSettings(
        keepalive_s=keepalive,
        max_concurrency=max_concurrency,
        function_secret=_function_secret(keys),
        endpoint_url=endpoint_url(host, port),
        base_environment=base_environment(),
        sandbox=sandbox,
        interpreters=MappingProxyType(env_vars.parse_pairs(interpreters, "--interpreter")),
        node=shutil.which("node"),
    )
    config = PlatformConfig(
        manifest_path=manifest,
        host=host,
        port=port,
        stage=stage,
        options=MappingProxyType(env_vars.parse_pairs(opts, "--opt")),
        env=MappingProxyType(dict(os.environ)),
        data_dir=Path(data_dir) if data_dir else manifest.parent / ".skylet",
        runtime=settings,
        store_url=store_url,
        reload=reload,
        credentials=MappingProxyType(keys),
        public_buckets=frozenset(public_buckets),
        blobs_url=blobs_url,
        blobs_credentials=(
            os.environ.get("AWS_ACCESS_KEY_ID", "test"),
            os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        ),
        environment_overrides=env_vars.overrides(env_file, env),
        alarm_interval_s=alarm_interval,
        metrics_flush_interval_s=min(60.0, alarm_interval),
        knative_files=tuple(Path(f).absolute() for f in knative_files),
        pricing=load_profile(pricing) if pricing is not None else None,
        tracing=_tracing(out, otlp_endpoint, otlp_exporter),
        metrics=metrics,
    )

    def reloaded(outcome: ReloadOutcome) -> None:
        took = f"{outcome.seconds * 1000:.0f} ms"
        if outcome.error is not None:
            out.line(f"reload failed, still serving the previous version:\n{outcome.error}", "red")
        elif outcome.changed:
            out.line(f"reloaded {', '.join(outcome.changed)} in {took}", style="cyan")

    async def ready(platform: Platform) -> None:
        base = f"http://{host}:{port}"
        rows = [
            [fn.name, fn.handler, fn.style, f"{fn.memory_mb} MB", f"{fn.timeout_s:g} s"]
            for fn in platform.functions()
        ]
        out.table(
            f"skylet {__version__} serving {manifest}",
            ["function", "handler", "style", "memory", "timeout"],
            rows,
        )
        # One line, not a column: the URL differs only by name, and a column of it would not
        # fit a terminal beside the rest.
        out.line(f"Lambda Invoke API: POST {base}/2015-03-31/functions/<function>/invocations")
        routes = platform.gateway.routes.table.routes
        if routes:
            out.table(
                "HTTP routes",
                ["method", "url", "function", "event"],
                [[r.method, _route_url(base, r.path), r.function, _KINDS[r.kind]] for r in routes],
            )
        banner.show(out, await banner.gather(platform))
        services = ", ".join(sorted(e.signing_name for e in platform.services.entries))
        out.line(f"S3 API on {base} (path style); services: {services}")
        _say_credentials(out, keys)
        _sandbox_lines(out, platform)
        out.line(f"listening on {base} (Ctrl+C to stop)", style="green")

    hooks: list[InvocationHook] = []
    if not quiet:
        hooks.append(RequestLines(out))
        if function_logs:
            hooks.append(FunctionOutput(out))
    _serve(out, config, ready, reloaded, hooks)


@click.command("serve-function")
@click.argument("directory", type=click.Path(exists=True))
@click.argument("function")
@click.option(
    "--host",
    default="0.0.0.0",
    show_default=True,
    help="Address to listen on.",
)
@click.option(
    "--port",
    envvar="PORT",
    default=8080,
    show_default=True,
    type=int,
    help="Port to listen on; the PORT variable sets it, as on Knative and Cloud Run.",
)
@click.option("--stage", help="Stage for ${opt:stage} (serverless.yml).")
@click.option("--reload/--no-reload", default=False, show_default=True)
@_credentials_option
@_interpreter_option
@env_vars.file_option
@env_vars.pair_option
@click.option(
    "--sandbox/--no-sandbox",
    default=True,
    show_default=True,
    help="Run the function in its sandbox (as skylet up does).",
)
@_otlp_option
@_otlp_exporter_option
@_metrics_option
def serve_function(
    directory: str,
    function: str,
    host: str,
    port: int,
    stage: str | None,
    reload: bool,
    credentials: tuple[str, ...],
    interpreters: tuple[str, ...],
    env_file: str | None,
    env: tuple[str, ...],
    sandbox: bool,
    otlp_endpoint: str | None,
    otlp_exporter: str,
    metrics: bool,
) -> None:
    """Serve one FUNCTION of the manifest in DIRECTORY as a standalone HTTP service.

    Every path goes to the function (a Lambda-style function keeps its own routes, or gets an
    HTTP API event), and GET /health answers the platform's readiness probe: what a Knative
    service or a container needs. Beside it, the Lambda, S3 and admin APIs: on an address other
    than loopback (the default, 0.0.0.0) they need --credentials, as under `skylet up`.
    """
    out = Output()
    manifest = manifest_path(directory)
    keys = _listening_keys(host, credentials)
    settings = RuntimeSettings(
        function_secret=_function_secret(keys),
        endpoint_url=endpoint_url(host, port),
        base_environment=base_environment(),
        sandbox=sandbox,
        interpreters=MappingProxyType(env_vars.parse_pairs(interpreters, "--interpreter")),
        node=shutil.which("node"),
    )
    config = PlatformConfig(
        manifest_path=manifest,
        host=host,
        port=port,
        stage=stage,
        env=MappingProxyType(dict(os.environ)),
        data_dir=manifest.parent / ".skylet",
        runtime=settings,
        reload=reload,
        only=function,
        credentials=MappingProxyType(keys),
        environment_overrides=env_vars.overrides(env_file, env),
        tracing=_tracing(out, otlp_endpoint, otlp_exporter),
        metrics=metrics,
    )

    async def ready(platform: Platform) -> None:
        _say_credentials(out, keys)
        _sandbox_lines(out, platform)
        out.line(f"serving {function} on http://{host}:{port} (GET /health for probes)", "green")

    _serve(out, config, ready, hooks=[RequestLines(out), FunctionOutput(out)])


def _serve(
    out: Output,
    config: PlatformConfig,
    ready: Callable[[Platform], Awaitable[None]],
    reloaded: Callable[[ReloadOutcome], None] = lambda _: None,
    hooks: list[InvocationHook] | None = None,
) -> None:
    """Run the server until it is stopped: Ctrl+C exits with 130, SIGTERM with 0 (errors
    reach the entry point, which chooses their status)."""
    from skylet.serve import serve

    try:
        stopped_by = run(serve(config, on_ready=ready, on_reload=reloaded, hooks=hooks or ()))
    finally:
        out.flush_requests()
    if stopped_by == signal.SIGINT:
        raise Exit("", Status.INTERRUPTED)


def _tracing(out: Output, endpoint: str | None, exporter: str) -> tracing.TracingConfig | None:
    """The exporter ``--otlp-endpoint`` or the OTEL_EXPORTER_OTLP_* variables ask for, if the
    SDK is installed; otherwise tracing is off, and the console says what to install."""
    try:
        config = tracing.config_from_environment(os.environ, endpoint, exporter)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--otlp-endpoint") from None
    if config is None:
        return None
    why = tracing.missing()
    if why is not None:
        out.line(why, style="yellow")
        return None
    out.line(f"tracing: a span per invocation to {config.endpoint} (OTLP/HTTP)", style="cyan")
    return config


def _listening_keys(host: str, given: tuple[str, ...]) -> Mapping[str, str]:
    """The configured credentials; refused (usage) when there are none and ``host`` is not a
    loopback address: nothing of skylet's APIs is served to a network unauthenticated."""
    keys = _credentials(given)
    if not keys and not _is_loopback(host):
        raise Exit(
            f"listening on {host} needs credentials (--credentials ACCESS_KEY:SECRET or "
            "SKYLET_CREDENTIALS) for the Lambda, S3, admin and service APIs: without them, "
            "unsigned requests and the local test/test pair are accepted, on loopback only",
            Status.USAGE,
        )
    return keys


def _say_credentials(out: Output, keys: Mapping[str, str]) -> None:
    if keys:
        out.line(f"signed requests only, for {len(keys)} configured access key(s)")
    else:
        out.line(
            "no credentials configured: unsigned requests and the access key `test` with "
            "secret `test` are accepted (local use)",
            style="yellow",
        )


def _sandbox_lines(out: Output, platform: Platform) -> None:
    """What the functions' sandboxes protect here, and what not and why (never silently)."""
    on, *off = platform.invoker.sandbox().lines()
    out.line(on)
    for line in off:
        out.line(line, style="yellow")


def _function_secret(keys: Mapping[str, str]) -> bytes:
    """What the functions' own credentials derive from: the configured pairs (so every node
    given them agrees, and a restart keeps them), else a secret of this run's (loopback only:
    one node, whose instances die with it)."""
    return function_keys.platform_secret(keys) if keys else secrets.token_bytes(32)


def _credentials(given: tuple[str, ...]) -> Mapping[str, str]:
    keys = {}
    for item in (part for value in given for part in value.split()):
        access_key, sep, secret = item.partition(":")
        if not sep or not access_key or not secret:
            raise Exit(f"credentials {item!r} are not ACCESS_KEY:SECRET", Status.USAGE)
        keys[access_key] = secret
    return keys


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_KINDS = {
    "rest": "API Gateway REST (1.0)",
    "http_api": "API Gateway HTTP API (2.0)",
    "function": "HTTP request (Cloud Functions/Knative)",
}


def _route_url(base: str, path: str) -> str:
    return f"{base}/*" if path == "$default" else f"{base}{path}"
