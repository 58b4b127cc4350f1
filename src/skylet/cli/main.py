"""``skylet``: up, invoke, logs. Options and environment are read here and nowhere below."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import click

from skylet import __version__
from skylet.build.watcher import ReloadOutcome
from skylet.cli.bucket import bucket
from skylet.cli.output import Output, RequestLines
from skylet.config import RuntimeSettings, endpoint_url
from skylet.errors import SkyletError
from skylet.manifest import find_manifest
from skylet.platform import Platform, PlatformConfig

DEFAULT_PORT = 9000


def _manifest_path(target: str) -> Path:
    path = Path(target).resolve()
    return path if path.is_file() else find_manifest(path)


def _options(pairs: tuple[str, ...]) -> dict[str, str]:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--opt")
        options[key] = value
    return options


def _endpoint(ctx_endpoint: str | None) -> str:
    return (ctx_endpoint or f"http://127.0.0.1:{DEFAULT_PORT}").rstrip("/")


def _run(coro: object) -> object:
    try:
        import uvloop

        return uvloop.run(coro)  # type: ignore[arg-type]
    except ImportError:  # pragma: no cover - uvloop is a dependency
        return asyncio.run(coro)  # type: ignore[arg-type]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="skylet")
def cli() -> None:
    """Run Lambda-, Knative- and Cloud-Functions-style Python functions yourself."""


@cli.command()
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
@click.option(
    "--credentials",
    "credentials",
    multiple=True,
    metavar="ACCESS_KEY:SECRET",
    envvar="SKYLET_CREDENTIALS",
    help="Who may sign S3 requests (repeatable; SKYLET_CREDENTIALS holds them space-separated). "
    "Without any, access key `test` with secret `test` is accepted, on loopback only.",
)
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
    blobs_url: str,
    public_buckets: tuple[str, ...],
) -> None:
    """Serve the functions of the manifest in TARGET (a directory or a manifest file)."""
    out = Output()
    try:
        manifest_path = _manifest_path(target)
        keys = _credentials(credentials)
    except SkyletError as exc:
        out.error(str(exc))
        sys.exit(2)
    if not keys and not _is_loopback(host):
        out.error(
            f"listening on {host} needs S3 credentials (--credentials ACCESS_KEY:SECRET or "
            "SKYLET_CREDENTIALS): the local test/test pair is for loopback only"
        )
        sys.exit(2)
    function_key, function_secret = next(iter(keys.items()), ("test", "test"))
    settings = RuntimeSettings(
        keepalive_s=keepalive,
        max_concurrency=max_concurrency,
        # Functions sign with the first configured key, so boto3 inside them reaches skylet.
        aws_access_key_id=function_key,
        aws_secret_access_key=function_secret,
        endpoint_url=endpoint_url(host, port),
        base_environment=_base_environment(),
    )
    config = PlatformConfig(
        manifest_path=manifest_path,
        host=host,
        port=port,
        stage=stage,
        options=MappingProxyType(_options(opts)),
        env=MappingProxyType(dict(os.environ)),
        data_dir=Path(data_dir) if data_dir else manifest_path.parent / ".skylet",
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
    )

    def reloaded(outcome: ReloadOutcome) -> None:
        took = f"{outcome.seconds * 1000:.0f} ms"
        if outcome.error is not None:
            out.line(f"reload failed, still serving the previous version:\n{outcome.error}", "red")
        elif outcome.changed:
            out.line(f"reloaded {', '.join(outcome.changed)} in {took}", style="cyan")

    def ready(platform: Platform) -> None:
        base = f"http://{host}:{port}"
        rows = [
            [fn.name, fn.handler, fn.style, f"{fn.memory_mb} MB", f"{fn.timeout_s:g} s"]
            for fn in platform.functions()
        ]
        out.table(
            f"skylet {__version__} serving {manifest_path}",
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
        if keys:
            out.line(f"S3 API on {base} (path style), for {len(keys)} configured access key(s)")
        else:
            out.line(
                f"S3 API on {base} (path style): no credentials configured, accepting access "
                "key `test` with secret `test` (local use)",
                style="yellow",
            )
        out.line(f"listening on {base} (Ctrl+C to stop)", style="green")

    _serve(out, config, ready, reloaded)


@cli.command("serve-function")
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
def serve_function(
    directory: str, function: str, host: str, port: int, stage: str | None, reload: bool
) -> None:
    """Serve one FUNCTION of the manifest in DIRECTORY as a standalone HTTP service.

    Every path goes to the function (a Lambda-style function keeps its own routes, or gets an
    HTTP API event), and GET /health answers the platform's readiness probe: what a Knative
    service or a container needs.
    """
    out = Output()
    try:
        manifest_path = _manifest_path(directory)
    except SkyletError as exc:
        out.error(str(exc))
        sys.exit(2)
    settings = RuntimeSettings(
        endpoint_url=endpoint_url(host, port),
        base_environment=_base_environment(),
    )
    config = PlatformConfig(
        manifest_path=manifest_path,
        host=host,
        port=port,
        stage=stage,
        env=MappingProxyType(dict(os.environ)),
        data_dir=manifest_path.parent / ".skylet",
        runtime=settings,
        reload=reload,
        only=function,
    )

    def ready(platform: Platform) -> None:
        out.line(f"serving {function} on http://{host}:{port} (GET /health for probes)", "green")

    _serve(out, config, ready)


def _serve(
    out: Output,
    config: PlatformConfig,
    ready: Callable[[Platform], None],
    reloaded: Callable[[ReloadOutcome], None] = lambda _: None,
) -> None:
    """Run the server until it is stopped; a configuration error exits with status 2."""
    from skylet.serve import serve

    try:
        _run(serve(config, on_ready=ready, on_reload=reloaded, hooks=[RequestLines(out)]))
        out.flush_requests()
    except SkyletError as exc:
        out.error(str(exc))
        sys.exit(2)
    except KeyboardInterrupt:
        pass


def _base_environment() -> MappingProxyType[str, str]:
    """What every instance inherits from this process: little, so cold starts stay short."""
    return MappingProxyType({k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ})


def _credentials(given: tuple[str, ...]) -> dict[str, str]:
    keys = {}
    for item in (part for value in given for part in value.split()):
        access_key, sep, secret = item.partition(":")
        if not sep or not access_key or not secret:
            raise SkyletError(f"credentials {item!r} are not ACCESS_KEY:SECRET")
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


def _payload(data: str | None, path: str | None) -> bytes:
    if data is not None and path is not None:
        raise click.UsageError("give either --data or --path, not both")
    raw = Path(path).read_bytes() if path else (data or "{}").encode()
    try:
        json.loads(raw)
    except ValueError as exc:
        raise click.UsageError(f"the payload is not JSON: {exc}") from None
    return raw


@cli.command()
@click.argument("function")
@click.option("-d", "--data", help="The event, as JSON.")
@click.option(
    "-p", "--path", type=click.Path(exists=True, dir_okay=False), help="A file holding the event."
)
@click.option("--tail", is_flag=True, help="Print the invocation's log (LogType: Tail).")
@click.option("--local", is_flag=True, help="Run once in a fresh instance, without a server.")
@click.option(
    "--async",
    "is_async",
    is_flag=True,
    help="Queue the event (InvocationType: Event) and print its request id.",
)
@click.option(
    "--dir",
    "target",
    default=".",
    type=click.Path(exists=True),
    help="With --local: the directory or manifest.",
)
@click.option("--stage", help="With --local: the stage.")
@click.option(
    "--endpoint", envvar="SKYLET_ENDPOINT", help="The server (default http://127.0.0.1:9000)."
)
def invoke(
    function: str,
    data: str | None,
    path: str | None,
    tail: bool,
    local: bool,
    target: str,
    stage: str | None,
    endpoint: str | None,
    is_async: bool,
) -> None:
    """Invoke FUNCTION and print its response (exit status 1 when the function failed).

    With --async, queue the event and print its request id; `skylet invocations FUNCTION`
    shows what became of it."""
    out = Output()
    payload = _payload(data, path)
    if is_async and (local or tail):
        raise click.UsageError("--async queues the event on a server: no --local or --tail")
    try:
        if is_async:
            out.line(_invoke_event(_endpoint(endpoint), function, payload))
            sys.exit(0)
        if local:
            body, log, failed = _invoke_local(function, payload, _manifest_path(target), stage)
            tail = True
        else:
            body, log, failed = _invoke_remote(_endpoint(endpoint), function, payload, tail)
    except SkyletError as exc:
        out.error(str(exc))
        sys.exit(2)
    if tail and log:
        sys.stderr.write(log)
        sys.stderr.flush()
    out.line(body.decode("utf-8", "replace"))
    sys.exit(1 if failed else 0)


def _invoke_remote(
    endpoint: str, function: str, payload: bytes, tail: bool
) -> tuple[bytes, str, bool]:
    import httpx

    headers = {"X-Amz-Log-Type": "Tail"} if tail else {}
    try:
        response = httpx.post(
            f"{endpoint}/2015-03-31/functions/{function}/invocations",
            content=payload,
            headers=headers,
            timeout=None,
        )
    except httpx.HTTPError as exc:
        raise SkyletError(
            f"cannot reach skylet at {endpoint}: {exc} (is `skylet up` running?)"
        ) from exc
    if response.status_code >= 400:
        code = response.headers.get("x-amzn-errortype", "")
        raise SkyletError(f"{response.status_code} {code}: {response.text}")
    log = base64.b64decode(response.headers.get("x-amz-log-result", "")).decode("utf-8", "replace")
    return response.content, log, "x-amz-function-error" in response.headers


def _invoke_event(endpoint: str, function: str, payload: bytes) -> str:
    """Queue an Event invocation; its request id."""
    import httpx

    try:
        response = httpx.post(
            f"{endpoint}/2015-03-31/functions/{function}/invocations",
            content=payload,
            headers={"X-Amz-Invocation-Type": "Event"},
        )
    except httpx.HTTPError as exc:
        raise SkyletError(
            f"cannot reach skylet at {endpoint}: {exc} (is `skylet up` running?)"
        ) from exc
    if response.status_code != 202:
        code = response.headers.get("x-amzn-errortype", "")
        raise SkyletError(f"{response.status_code} {code}: {response.text}")
    return str(response.headers["x-amzn-requestid"])


def _invoke_local(
    function: str, payload: bytes, manifest_path: Path, stage: str | None
) -> tuple[bytes, str, bool]:
    config = PlatformConfig(
        manifest_path=manifest_path,
        stage=stage,
        env=MappingProxyType(dict(os.environ)),
        data_dir=manifest_path.parent / ".skylet",
        runtime=RuntimeSettings(
            base_environment=MappingProxyType(
                {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
            )
        ),
    )

    async def once() -> tuple[bytes, str, bool]:
        platform = Platform(config, progress=lambda line: print(line, file=sys.stderr))
        await platform.start(only=function, one_shot=True)
        try:
            result = await platform.invoker.invoke(function, payload)
        finally:
            await platform.aclose()
        return result.payload, result.log, result.function_error is not None

    return _run(once())  # type: ignore[return-value]


@cli.command()
@click.argument("function")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new log entries.")
@click.option(
    "--endpoint", envvar="SKYLET_ENDPOINT", help="The server (default http://127.0.0.1:9000)."
)
def logs(function: str, follow: bool, endpoint: str | None) -> None:
    """Print FUNCTION's recent log; with -f, follow it."""
    import httpx

    out = Output()
    url = f"{_endpoint(endpoint)}/_skylet/functions/{function}/logs"
    try:
        with httpx.stream(
            "GET", url, params={"follow": "1" if follow else "0"}, timeout=None
        ) as response:
            if response.status_code >= 400:
                response.read()
                out.error(f"{response.status_code}: {response.text}")
                sys.exit(2)
            for line in response.iter_lines():
                if line:
                    sys.stdout.write(json.loads(line)["text"])
                    sys.stdout.flush()
    except httpx.HTTPError as exc:
        out.error(f"cannot reach skylet at {_endpoint(endpoint)}: {exc}")
        sys.exit(2)
    except KeyboardInterrupt:
        pass


@cli.command()
@click.argument("function")
@click.option(
    "--status",
    type=click.Choice(["queued", "running", "succeeded", "failed", "discarded"]),
    help="Only invocations in this state.",
)
@click.option("-n", "--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON.")
@click.option(
    "--endpoint", envvar="SKYLET_ENDPOINT", help="The server (default http://127.0.0.1:9000)."
)
def invocations(
    function: str, status: str | None, limit: int, as_json: bool, endpoint: str | None
) -> None:
    """List FUNCTION's recent asynchronous invocations, newest change first."""
    import datetime

    import httpx

    out = Output()
    params: dict[str, str | int] = {"limit": limit}
    if status:
        params["status"] = status
    url = f"{_endpoint(endpoint)}/_skylet/functions/{function}/invocations"
    try:
        response = httpx.get(url, params=params)
    except httpx.HTTPError as exc:
        out.error(f"cannot reach skylet at {_endpoint(endpoint)}: {exc}")
        sys.exit(2)
    if response.status_code >= 400:
        out.error(f"{response.status_code}: {response.text}")
        sys.exit(2)
    records = response.json()
    if as_json:
        out.line(json.dumps(records, indent=2))
        return

    def when(epoch: float | None) -> str:
        if epoch is None:
            return ""
        moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    def last_error(record: dict[str, Any]) -> str:
        if not record["errors"]:
            return ""
        error = record["errors"][-1]
        return f"{error['type']}: {error['message'][:60]}"

    rows = [
        [
            r["requestId"],
            r["status"],
            str(r["attempts"]),
            str(r["throttles"]),
            when(r["enqueuedAt"]),
            when(r["updatedAt"]),
            last_error(r),
        ]
        for r in records
    ]
    out.table(
        f"{function}: {len(rows)} asynchronous invocations",
        ["request id", "status", "runs", "throttles", "enqueued (UTC)", "updated", "last error"],
        rows,
    )


cli.add_command(bucket)


def main() -> None:
    cli()
