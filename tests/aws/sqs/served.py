"""``skylet up`` with SQS on its port, for the SQS tests, in one place.

This module runs the platform as ``skylet up`` does (``Platform`` behind skylet's own HTTP
listener, its router sending SQS requests to ``Queues``), with the store and data directory the
tests choose.

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest

from skylet.config import RuntimeSettings, endpoint_url
from skylet.platform import Platform
from skylet.platform_config import PlatformConfig
from tests.e2e.conftest import free_port, project_dir


async def _serve(config: PlatformConfig) -> None:
    from skylet.gateway.http1 import Listener

    platform = Platform(config, progress=lambda line: print(line, flush=True))
    await platform.start()
    try:
        listener = Listener(platform.gateway, config.host, config.port)
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
    # The tests' handlers record what they receive in files the tests read, which no sandbox
    # shows a function: these tests are about the services, the sandbox has its own.
    settings = RuntimeSettings(endpoint_url=endpoint_url("127.0.0.1", args.port), sandbox=False)
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
