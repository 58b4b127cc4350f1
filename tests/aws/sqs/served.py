"""``skylet up`` with SQS on its port, for the SQS tests, in one place.

Until the service router lands, ``skylet up`` does not route SQS requests; this module runs the
same platform (``Platform``, skylet's own HTTP listener) with the one route the router will
add: a request for SQS (``X-Amz-Target: AmazonSQS.*``, or signed for ``sqs``) goes to
``aws.service.handle`` with the platform's ``Queues``, everything else to the gateway. When the
router is in, ``start`` runs ``skylet up`` instead and nothing else changes.

    python -m tests.aws.sqs.served PROJECT_DIR --port N [--data-dir D] [--store URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest

from skylet.asgi import BodyTooLarge, Receive, Scope, Send, read_body, respond
from skylet.aws.protocols.models import ServiceModels
from skylet.aws.service import handle
from skylet.config import RuntimeSettings, endpoint_url
from skylet.gateway.http_routes import Found
from skylet.ids import new_request_id
from skylet.platform import Platform, PlatformConfig
from tests.e2e.conftest import free_port, project_dir

#: SQS's limit on a request (a batch of 10 messages of 1 MiB is refused well before).
MAX_REQUEST_BYTES = 2 * 1024 * 1024


def is_sqs(scope: Scope) -> bool:
    """Whether a request is for SQS: its json target, or its SigV4 scope."""
    for name, value in scope["headers"]:
        if name == b"x-amz-target":
            return value.startswith(b"AmazonSQS.")
        if name == b"authorization" and b"/sqs/aws4_request" in value:
            return True
    return False


class WithSqs:
    """The platform's gateway, and SQS beside it."""

    def __init__(self, platform: Platform) -> None:
        self.gateway = platform.gateway
        self.queues = platform.sqs
        self.models = ServiceModels()

    @property
    def routes(self) -> Any:
        return self.gateway.routes

    def direct(self, scope: Scope) -> Found | None:
        return None if is_sqs(scope) else self.gateway.direct(scope)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "http" and is_sqs(scope):
            return self._sqs(scope, receive, send)
        return self.gateway(scope, receive, send)

    async def _sqs(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await read_body(scope, receive, MAX_REQUEST_BYTES)
        except BodyTooLarge:
            await respond(send, 413, b"", [])
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        response = await handle(
            self.queues,
            scope["method"],
            scope.get("raw_path", scope["path"].encode()).decode("latin-1"),
            scope.get("query_string", b"").decode("latin-1"),
            headers,
            body,
            models=self.models,
            request_id=new_request_id(),
            region=self.queues.region,
            account_id=self.queues.account,
        )
        await respond(
            send,
            response.status,
            response.body,
            [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers],
        )


async def _serve(config: PlatformConfig) -> None:
    from skylet.gateway.http1 import Listener

    platform = Platform(config, progress=lambda line: print(line, flush=True))
    await platform.start()
    try:
        listener = Listener(WithSqs(platform), config.host, config.port)
        await listener.start()
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        print("ready", flush=True)
        await stopping.wait()
        await listener.shutdown(config.shutdown_grace_s)
    finally:
        await platform.aclose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("project")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir")
    parser.add_argument("--store", default="")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    project = Path(args.project)
    manifest = next(p for p in (project / "skylet.yaml", project / "serverless.yml") if p.exists())
    settings = RuntimeSettings(endpoint_url=endpoint_url("127.0.0.1", args.port))
    config = PlatformConfig(
        manifest_path=manifest,
        port=args.port,
        env=MappingProxyType(dict(os.environ)),
        data_dir=Path(args.data_dir) if args.data_dir else project / ".skylet",
        runtime=settings,
        store_url=args.store,
        shutdown_grace_s=5.0,
    )
    import uvloop

    uvloop.run(_serve(config))


# -- for the tests --------------------------------------------------------------------------


@dataclass
class SqsServer:
    """A running server: its URL, process and project."""

    port: int
    proc: subprocess.Popen[bytes]
    directory: Path
    log: Path
    args: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def client(self, service: str = "sqs", **config: Any) -> Any:
        """A stock boto3 client of ``service`` (``sqs``, ``lambda``) on this server."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 0}, read_timeout=60, **config),
        )


def start(directory: Path, *args: str, port: int | None = None) -> SqsServer:
    """Start the server on ``directory`` (a free port unless given); return once it answers."""
    port = port or free_port()
    log = directory / "served.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.aws.sqs.served",
                str(directory),
                "--port",
                str(port),
                *args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=Path(__file__).parents[3],
        )
    server = SqsServer(port, proc, directory, log, args)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"the server did not answer within 60 s:\n{server.output()}")


def stop(server: SqsServer, *, kill: bool = False) -> None:
    if server.proc.poll() is None:
        if kill:
            server.proc.kill()
        else:
            server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(30)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


def restart(server: SqsServer, *, kill: bool = False) -> SqsServer:
    """Stop (or ``kill -9``) the server and start it again on the same project and port."""
    stop(server, kill=kill)
    return start(server.directory, *server.args, port=server.port)


NO_FUNCTIONS = """
service: queues
functions:
  echo:
    handler: handlers.echo
"""


def project(base: Path, manifest: str, filename: str = "skylet.yaml") -> Path:
    """``base/project``: the test handlers and ``manifest`` as its ``filename``."""
    directory = project_dir(base, manifest)
    if filename != "skylet.yaml":
        (directory / "skylet.yaml").rename(directory / filename)
    return directory


def module_server(
    name: str, manifest: str = NO_FUNCTIONS, filename: str = "skylet.yaml"
) -> Callable[..., Iterator[SqsServer]]:
    """A module-scoped ``server`` fixture on a project of the test handlers and ``manifest``
    (written as ``filename``: ``serverless.yml`` for the Serverless Framework's format)."""

    @pytest.fixture(scope="module")
    def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqsServer]:
        running = start(project(tmp_path_factory.mktemp(name), manifest, filename))
        yield running
        stop(running)

    return server


if __name__ == "__main__":
    main()
