"""End-to-end fixtures: a real ``skylet up`` process on a free port, and stock boto3 clients."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

FUNCTIONS = Path(__file__).parents[1] / "fixtures" / "functions"
SKYLET = str(Path(sys.executable).parent / "skylet")


@dataclass
class Server:
    port: int
    proc: subprocess.Popen[bytes]
    directory: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def lambda_client(self) -> object:
        return self.client("lambda")

    def client(self, service: str, region: str = "us-east-1") -> Any:
        """A stock boto3 client of ``service`` pointed at this server, without retries."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id="test",  # the local pair: a signed request is verified
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 0}, read_timeout=60),
        )

    def printed_events(self, function: str, count: int) -> list[dict[str, Any]]:
        """The events ``function`` printed as ``EVENT {json}`` lines (the fixtures'
        ``messaging.record``), once there are ``count`` of them or 30 s have passed."""
        deadline = time.monotonic() + 30
        while True:
            response = httpx.get(f"{self.url}/_skylet/functions/{function}/logs")
            found = [
                json.loads(row.split("EVENT ", 1)[1])
                for line in response.text.splitlines()
                for row in json.loads(line)["text"].splitlines()
                if row.startswith("EVENT ")
            ]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


def serverless_project(base: Path, manifest: str) -> Path:
    """``base/project``: the test handlers and ``manifest`` as its serverless.yml."""
    directory = project_dir(base, "")
    (directory / "skylet.yaml").unlink()
    (directory / "serverless.yml").write_text(manifest)
    return directory


def project_dir(base: Path, manifest: str) -> Path:
    """``base/project``: the test handlers and ``manifest`` as its skylet.yaml."""
    directory = base / "project"
    shutil.copytree(FUNCTIONS, directory)
    (directory / "skylet.yaml").write_text(manifest)
    return directory


def declare_requirements(directory: Path, code: str, *distributions: str) -> None:
    """Make ``directory/code`` a function directory of the test handlers whose requirements.txt
    names ``distributions``, installed already (skylet.build.deps' cache, filled from this test
    environment's copies rather than by pip: tests/runtime_fixtures.requirements_dir)."""
    from skylet.build.deps import cache_dir
    from tests.runtime_fixtures import requirements_dir

    target = directory / code
    shutil.copytree(FUNCTIONS, target)
    requirements = target / "requirements.txt"
    requirements.write_text("".join(f"{d}\n" for d in distributions))
    cached = cache_dir(requirements, directory / ".skylet" / "deps")
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(requirements_dir(*distributions), cached, symlinks=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    directory: Path, *args: str, new_session: bool = False, open_files: int | None = None
) -> Server:
    """``skylet up`` on a free port, once it answers; ``new_session``: in a session (and
    process group) of its own, as a terminal runs it, so a test can signal the group;
    ``open_files``: under that limit on open files (``ulimit -n``)."""
    port = free_port()
    log = directory / "skylet-up.log"
    limit = ["prlimit", f"--nofile={open_files}:{open_files}", "--"] if open_files else []
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*limit, SKYLET, "up", str(directory), "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=new_session,
        )
    server = Server(port, proc, directory, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"skylet up exited with {proc.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"skylet up did not answer within 60 s:\n{server.output()}")


def stop_server(server: Server) -> int:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(30)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
    return server.proc.returncode


def module_server(
    name: str,
    manifest: str,
    *args: str,
    serverless: bool = False,
    prepare: Callable[[Path], None] = lambda _: None,
) -> Callable[..., Iterator[Server]]:
    """A module-scoped ``server`` fixture: ``skylet up --no-reload`` (and ``args``) on a project
    of the test handlers and ``manifest`` (its skylet.yaml, or with ``serverless`` its
    serverless.yml), in a directory named after ``name``. A module takes it with ``server =
    module_server(...)``."""

    @pytest.fixture(scope="module")
    def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
        make = serverless_project if serverless else project_dir
        directory = make(tmp_path_factory.mktemp(name), manifest)
        prepare(directory)
        running = start_server(directory, "--no-reload", *args)
        yield running
        stop_server(running)

    return server


@pytest.fixture
def project(tmp_path: Path) -> Callable[[str], Path]:
    """A directory holding the test handlers and the given manifest (skylet.yaml)."""

    def make(manifest: str, name: str = "skylet.yaml") -> Path:
        directory = tmp_path / "project"
        if not directory.exists():
            shutil.copytree(FUNCTIONS, directory)
        (directory / name).write_text(manifest)
        return directory

    return make


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def run(directory: Path, *args: str) -> Server:
        server = start_server(directory, *args)
        started.append(server)
        return server

    yield run
    for server in started:
        stop_server(server)


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``skylet ARGS``; its standard input is ``input``, or empty (never the test's)."""
    return subprocess.run(
        [SKYLET, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        input=input if input is not None else "",
    )
