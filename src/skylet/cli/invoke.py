"""``skylet invoke``: one invocation through a running server (the Lambda Invoke API), queued
(``--async``), or once in a fresh instance without a server (``--local``)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TextIO

import click

from skylet.cli import auth, env_vars
from skylet.cli.common import base_environment, endpoint_option, manifest_path, run
from skylet.cli.common import endpoint as server_url
from skylet.cli.common import unreachable as unreachable_error
from skylet.cli.exits import Exit, Status, for_http
from skylet.cli.output import Output

#: The AWS CLI's prefixes of a parameter read from a file (text and binary); both read bytes.
FILE_PREFIXES = ("fileb://", "file://")


@dataclass(frozen=True, slots=True)
class Answer:
    """What an invocation answered, in the Invoke API's terms."""

    status_code: int
    payload: bytes
    function_error: str | None
    executed_version: str
    log: str  # the log's tail (remote) or all of it (local), decoded; "" without one
    request_id: str = ""


def read_payload(data: str | None, path: str | None, stdin: TextIO | None) -> bytes:
    """The event: ``--data``, or the file ``--path`` names (``-`` is standard input;
    ``file://`` and ``fileb://`` prefixes as the AWS CLI writes them), or standard input when
    it is not a terminal; ``{}`` when none gives anything. A usage error unless it is JSON."""
    if data is not None and path is not None:
        raise click.UsageError("give either --data or --path, not both")
    if path is not None:
        for prefix in FILE_PREFIXES:
            path = path.removeprefix(prefix)
        if path == "-":
            if stdin is None:
                raise click.BadParameter("standard input is closed", param_hint="--path")
            raw = stdin.buffer.read()
        else:
            try:
                raw = Path(path).read_bytes()
            except OSError as exc:
                raise click.BadParameter(f"{path}: {exc.strerror}", param_hint="--path") from None
    elif data is not None:
        raw = data.encode()
    elif stdin is not None and not stdin.isatty():
        raw = stdin.buffer.read()
    else:
        raw = b""
    if not raw.strip():
        raw = b"{}"
    try:
        json.loads(raw)
    except ValueError as exc:
        raise click.UsageError(f"the payload is not JSON: {exc}") from None
    return raw


@click.command()
@click.argument("function")
@click.option("-d", "--data", help="The event, as JSON.")
@click.option(
    "-p",
    "--path",
    metavar="FILE",
    help="A file holding the event (- or none given: standard input, when it is not a "
    "terminal; file:// and fileb:// prefixes are accepted).",
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
    "--json",
    "as_json",
    is_flag=True,
    help="Print the Invoke API's answer as JSON: StatusCode, FunctionError, ExecutedVersion, "
    "LogResult (with --tail) and Payload (unless --outfile takes it).",
)
@click.option(
    "-o",
    "--outfile",
    metavar="FILE",
    help="Write the response payload to FILE (- for standard output), as `aws lambda invoke`.",
)
@click.option(
    "--dir",
    "target",
    default=".",
    type=click.Path(exists=True),
    help="With --local: the directory or manifest.",
)
@click.option("--stage", help="With --local: the stage.")
@env_vars.file_option
@env_vars.pair_option
@endpoint_option()
@auth.credentials_option()
def invoke(
    function: str,
    data: str | None,
    path: str | None,
    tail: bool,
    local: bool,
    is_async: bool,
    as_json: bool,
    outfile: str | None,
    target: str,
    stage: str | None,
    env_file: str | None,
    env: tuple[str, ...],
    endpoint: str | None,
    credentials: str | None,
) -> None:
    """Invoke FUNCTION and print its response (exit status 1 when the function failed).

    The event is --data, --path FILE, or standard input when it is piped:
    `echo '{"a": 1}' | skylet invoke f`. With --async, queue the event and print its request
    id; `skylet invocations FUNCTION` shows what became of it. With --local, run it once
    without a server; -e/--env-vars FILE and --env KEY=VALUE set variables over the
    manifest's."""
    out = Output()
    payload = read_payload(data, path, sys.stdin)
    if is_async and (local or tail):
        raise click.UsageError("--async queues the event on a server: no --local or --tail")
    if (env_file or env) and not local:
        raise click.UsageError("--env-vars and --env set variables for --local")
    signer = None if local else auth.keys(credentials)
    if is_async:
        answer = _invoke_event(server_url(endpoint), function, payload, signer)
        if as_json:
            out.line(json.dumps({"StatusCode": 202, "RequestId": answer.request_id}))
        else:
            out.line(answer.request_id)
        return
    if local:
        overrides = env_vars.overrides(env_file, env)
        answer = _invoke_local(function, payload, manifest_path(target), stage, overrides)
    else:
        answer = _invoke_remote(server_url(endpoint), function, payload, tail, signer)
    if (tail or local) and answer.log and not as_json:
        sys.stderr.write(answer.log if answer.log.endswith("\n") else answer.log + "\n")
        sys.stderr.flush()
    if outfile is not None:
        _write_payload(outfile, answer.payload)
    if as_json:
        out.line(json.dumps(_document(answer, tail, with_payload=outfile is None)))
    elif outfile is None:
        out.line(answer.payload.decode("utf-8", "replace"))
    if answer.function_error is not None:
        raise Exit("", Status.FAILED)


def _document(answer: Answer, tail: bool, *, with_payload: bool) -> dict[str, Any]:
    """The AWS CLI's printout of an invocation, and the payload when no outfile took it."""
    document: dict[str, Any] = {"StatusCode": answer.status_code}
    if answer.function_error is not None:
        document["FunctionError"] = answer.function_error
    if tail:
        tail_bytes = answer.log.encode()[-4096:]
        document["LogResult"] = base64.b64encode(tail_bytes).decode()
    document["ExecutedVersion"] = answer.executed_version
    if with_payload:
        try:
            document["Payload"] = json.loads(answer.payload)
        except ValueError:
            document["Payload"] = answer.payload.decode("utf-8", "replace")
    return document


def _write_payload(outfile: str, payload: bytes) -> None:
    if outfile == "-":
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
        return
    try:
        Path(outfile).write_bytes(payload)
    except OSError as exc:
        raise Exit(f"cannot write {outfile}: {exc.strerror}", Status.FAILED) from exc


def _post(url: str, payload: bytes, headers: dict[str, str], signer: auth.Keys | None) -> Any:
    """POST to the Lambda API, signed for ``lambda`` when there are credentials."""
    import httpx

    sent = auth.signed(signer, "lambda", "POST", url, payload, headers)
    try:
        return httpx.post(url, content=payload, headers=sent, timeout=None)
    except httpx.HTTPError as exc:
        raise unreachable_error(url.split("/2015-03-31/")[0], exc) from exc


def _refused(response: Any) -> Exit:
    code = response.headers.get("x-amzn-errortype", "")
    hint = auth.refusal_hint(response.status_code, code)
    return Exit(
        f"{response.status_code} {code}: {response.text}{hint}", for_http(response.status_code)
    )


def _invoke_remote(
    server: str, function: str, payload: bytes, tail: bool, signer: auth.Keys | None
) -> Answer:
    headers = {"X-Amz-Log-Type": "Tail"} if tail else {}
    url = f"{server}/2015-03-31/functions/{function}/invocations"
    response = _post(url, payload, headers, signer)
    if response.status_code >= 400:
        raise _refused(response)
    log = base64.b64decode(response.headers.get("x-amz-log-result", "")).decode("utf-8", "replace")
    return Answer(
        response.status_code,
        response.content,
        response.headers.get("x-amz-function-error"),
        response.headers.get("x-amz-executed-version", "$LATEST"),
        log,
        response.headers.get("x-amzn-requestid", ""),
    )


def _invoke_event(server: str, function: str, payload: bytes, signer: auth.Keys | None) -> Answer:
    """Queue an Event invocation."""
    headers = {"X-Amz-Invocation-Type": "Event"}
    url = f"{server}/2015-03-31/functions/{function}/invocations"
    response = _post(url, payload, headers, signer)
    if response.status_code != 202:
        raise _refused(response)
    return Answer(202, b"", None, "$LATEST", "", str(response.headers["x-amzn-requestid"]))


def _invoke_local(
    function: str,
    payload: bytes,
    manifest: Path,
    stage: str | None,
    overrides: Mapping[str, Mapping[str, str]],
) -> Answer:
    from skylet.config import RuntimeSettings
    from skylet.platform import Platform
    from skylet.platform_config import PlatformConfig

    config = PlatformConfig(
        manifest_path=manifest,
        stage=stage,
        env=MappingProxyType(dict(os.environ)),
        data_dir=manifest.parent / ".skylet",
        runtime=RuntimeSettings(base_environment=base_environment(), node=shutil.which("node")),
        environment_overrides=overrides,
    )

    async def once() -> Answer:
        platform = Platform(config, progress=lambda line: print(line, file=sys.stderr))
        await platform.start(only=function, one_shot=True)
        try:
            result = await platform.invoker.invoke(function, payload)
        finally:
            await platform.aclose()
        return Answer(
            200,
            result.payload,
            result.function_error,
            result.executed_version,
            result.log,
            result.request_id,
        )

    return run(once())
