"""Knative Services end to end: a real ``skylet up`` on a directory of only service.yaml,
running a real server program (tests/fixtures/programs/hello_server.py) as processes."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.e2e

PROGRAMS = Path(__file__).parents[1] / "fixtures" / "programs"


def service(name: str, annotations: dict[str, str], spec: str = "", container: str = "") -> str:
    lines = "".join(f'        {k}: "{v}"\n' for k, v in annotations.items())
    return f"""---
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: {name}
  namespace: default
spec:
  template:
    metadata:
      annotations:
        skylet.dev/command: "{sys.executable} hello_server.py"
{lines}    spec:
{spec}      containers:
        - image: gcr.io/my-project/go-serverless:latest
          ports:
            - containerPort: 8080
{container}"""


SEED = """---
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: go-serverless-service
  namespace: default
spec:
  template:
    metadata:
      annotations:
        skylet.dev/command: "PYTHON hello_server.py"
        autoscaling.knative.dev/minScale: "0"
        autoscaling.knative.dev/maxScale: "10"
        autoscaling.knative.dev/target: "100"
        autoscaling.knative.dev/scaleDownDelay: "5m"
    spec:
      containers:
        - image: gcr.io/my-project/go-serverless:latest
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: "info"
          readinessProbe:
            httpGet:
              path: /health
              port: 8080
            initialDelaySeconds: 0
            periodSeconds: 1
          resources:
            requests:
              memory: "64Mi"
              cpu: "100m"
            limits:
              memory: "128Mi"
""".replace("PYTHON", sys.executable)

DOCUMENTS = SEED + "".join(
    [
        service(
            "cold",
            {"autoscaling.knative.dev/initialScale": "0"},
            container=(
                "          env:\n            - name: START_DELAY_S\n              value: '0.4'\n"
            ),
        ),
        service(
            "narrow",
            {"autoscaling.knative.dev/maxScale": "1", "skylet.dev/queue-depth": "2"},
            spec="      containerConcurrency: 1\n",
        ),
        service(
            "flaky",
            {},
            container=(
                "          livenessProbe:\n            httpGet:\n              path: /health\n"
                "            periodSeconds: 1\n            failureThreshold: 2\n"
            ),
        ),
        service(
            "brief",
            {"autoscaling.knative.dev/window": "6s"},
        ),
        service(
            "hungry",
            {},
            container=(
                "          resources:\n            limits:\n              memory: 64Mi\n"
                "              cpu: 250m\n"
            ),
        ),
    ]
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("ksvc") / "project"
    directory.mkdir()
    shutil.copy(PROGRAMS / "hello_server.py", directory)
    (directory / "service.yaml").write_text(DOCUMENTS)
    running = start_server(directory, "--no-reload")
    yield running
    stop_server(running)


def status(server: Server, name: str) -> dict[str, Any]:
    found = httpx.get(f"{server.url}/_skylet/services").json()["services"]
    return next(s for s in found if s["name"] == name)


def get(server: Server, name: str, path: str = "/", **kwargs: Any) -> httpx.Response:
    return httpx.get(f"{server.url}/_skylet/services/{name}{path}", timeout=30, **kwargs)


def test_the_seeds_service_answers_on_its_host_name(server: Server) -> None:
    answer = httpx.get(
        f"{server.url}/?name=skylet",
        headers={"Host": "go-serverless-service.default.example.com"},
        timeout=30,
    )
    assert answer.status_code == 200
    assert answer.text == "Hello, skylet! (Powered by Knative)"


def test_the_service_answers_under_its_path_prefix_and_localhost_name(server: Server) -> None:
    assert get(server, "go-serverless-service", "?name=x").text == "Hello, x! (Powered by Knative)"
    by_name = httpx.get(
        f"{server.url}/", headers={"Host": "go-serverless-service.localhost:9"}, timeout=30
    )
    assert by_name.text == "Hello, World! (Powered by Knative)"
    posted = httpx.post(
        f"{server.url}/_skylet/services/go-serverless-service/echo", content=b"abc", timeout=30
    )
    assert posted.text == "cba"


def test_the_program_gets_its_port_and_the_containers_env(server: Server) -> None:
    env = get(server, "go-serverless-service", "/env").json()
    assert env["LOG_LEVEL"] == "info"
    assert env["K_SERVICE"] == "go-serverless-service"
    assert env["PORT"].isdigit() and env["PORT"] != "8080"  # its own port on this machine


def test_an_unknown_service_is_not_routed_to_a_program(server: Server) -> None:
    assert get(server, "nothing").status_code == 404


def test_scale_from_zero_holds_the_first_requests_until_ready(server: Server) -> None:
    assert status(server, "cold")["instances"] == 0  # initialScale 0

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            url = f"{server.url}/_skylet/services/cold/"
            return await asyncio.gather(*(client.get(url) for _ in range(20)))

    started = time.monotonic()
    answers = asyncio.run(burst())
    assert [a.status_code for a in answers] == [200] * 20
    assert time.monotonic() - started >= 0.4  # the program's own start delay
    assert status(server, "cold")["started"] == 1


def test_container_concurrency_queues_up_to_a_bound_then_503(server: Server) -> None:
    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            url = f"{server.url}/_skylet/services/narrow/slow?ms=400"
            return await asyncio.gather(*(client.get(url) for _ in range(6)))

    answers = asyncio.run(burst())
    codes = sorted(a.status_code for a in answers)
    # One in flight (containerConcurrency 1, maxScale 1) and two waiting; the rest shed.
    assert codes == [200, 200, 200, 503, 503, 503]
    assert "overloaded" in next(a for a in answers if a.status_code == 503).text


def test_a_failing_liveness_probe_restarts_the_program(server: Server) -> None:
    before = get(server, "flaky", "/env").json()["pid"]
    assert get(server, "flaky", "/sick").status_code == 200
    deadline = time.monotonic() + 20
    while status(server, "flaky")["restarts"] < 1:
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.2)
    after = get(server, "flaky", "/env").json()["pid"]  # held until it is ready again
    assert after != before
    assert "liveness probe failed 2 times" in server.output()


def test_a_program_that_exits_is_started_again(server: Server) -> None:
    before = get(server, "go-serverless-service", "/env").json()["pid"]
    get(server, "go-serverless-service", "/exit")
    deadline = time.monotonic() + 20
    while True:
        answer = get(server, "go-serverless-service", "/env")
        if answer.status_code == 200 and answer.json()["pid"] != before:
            break
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.1)


def test_memory_beyond_limits_memory_is_refused(server: Server) -> None:
    assert get(server, "hungry", "/eat", params={"mb": "8"}).status_code == 200
    assert get(server, "hungry", "/eat", params={"mb": "200"}).status_code >= 500
    assert get(server, "hungry", "/").status_code == 200  # the program still serves


def test_limits_cpu_is_a_cfs_quota_where_cgroups_allow(server: Server) -> None:
    from skylet.programs.limits import cpu_unavailable

    reason = cpu_unavailable()
    if reason is not None:
        assert "limits.cpu (250m) is not enforced" in server.output()
        pytest.skip(f"no CPU quota here: {reason}")
    pid = get(server, "hungry", "/env").json()["pid"]
    line = next(
        row
        for row in Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        if ":cpu," in row or row.split(":")[1] == "cpu" or ",cpu" in row.split(":")[1]
    )
    directory = Path("/sys/fs/cgroup/cpu") / line.split(":", 2)[2].lstrip("/")
    assert (directory / "cpu.cfs_quota_us").read_text().strip() == "25000"  # 250m of 100 ms
    assert (directory / "cpu.cfs_period_us").read_text().strip() == "100000"


def test_scales_to_zero_a_stable_window_after_the_last_request(server: Server) -> None:
    assert get(server, "brief").status_code == 200
    last = time.monotonic()
    deadline = last + 30
    while status(server, "brief")["instances"] > 0:
        assert time.monotonic() < deadline, status(server, "brief")
        time.sleep(0.25)
    # The 6 s window, checked every 2 s tick.
    assert time.monotonic() - last >= 5.5
    started = status(server, "brief")["started"]
    assert get(server, "brief").status_code == 200  # and from zero again
    assert status(server, "brief")["started"] == started + 1


def test_services_run_beside_a_manifests_functions(tmp_path: Path) -> None:
    from tests.e2e.conftest import project_dir

    directory = project_dir(
        tmp_path, "service: both\nfunctions:\n  echo:\n    handler: handlers.echo\n"
    )
    shutil.copy(PROGRAMS / "hello_server.py", directory)
    (directory / "service.yaml").write_text(service("hello", {}))
    running = start_server(directory, "--no-reload")
    try:
        assert get(running, "hello", "?name=both").text == "Hello, both! (Powered by Knative)"
        invoked = running.lambda_client().invoke(FunctionName="echo", Payload=b"{}")  # type: ignore[attr-defined]
        assert invoked["StatusCode"] == 200
    finally:
        stop_server(running)
    assert "service hello: http://hello.default.example.com" in running.output()


def test_a_bad_service_document_stops_skylet_up_naming_the_key(tmp_path: Path) -> None:
    from tests.e2e.conftest import cli

    (tmp_path / "service.yaml").write_text(service("bad", {"autoscaling.knative.dev/window": "1s"}))
    done = cli("up", str(tmp_path), "--port", "0", "--no-reload", timeout=60)
    assert done.returncode != 0
    assert "service.yaml:" in done.stderr + done.stdout
    assert (
        "autoscaling.knative.dev/window: '1s' (allowed: 6s to 3600s)" in done.stderr + done.stdout
    )


def test_a_changed_service_document_is_deployed_on_reload(tmp_path: Path) -> None:
    env = "          env:\n            - name: LOG_LEVEL\n              value: {}\n"
    tmp_path = tmp_path / "project"
    tmp_path.mkdir()
    shutil.copy(PROGRAMS / "hello_server.py", tmp_path)
    (tmp_path / "service.yaml").write_text(service("hello", {}, container=env.format("info")))
    running = start_server(tmp_path)
    try:
        assert get(running, "hello", "/env").json()["LOG_LEVEL"] == "info"
        (tmp_path / "service.yaml").write_text(service("hello", {}, container=env.format("debug")))
        deadline = time.monotonic() + 30
        while get(running, "hello", "/env").json()["LOG_LEVEL"] != "debug":
            assert time.monotonic() < deadline, running.output()
            time.sleep(0.2)
    finally:
        stop_server(running)


def test_the_program_runs_in_the_function_sandbox(server: Server) -> None:
    data = server.directory / ".skylet"
    assert data.is_dir()
    looked = get(server, "go-serverless-service", "/look", params={"path": str(data)}).json()
    assert looked["entries"] == []  # the platform's data is hidden
    assert looked["write"] != "ok"
    own = get(server, "go-serverless-service", "/look", params={"path": "."}).json()
    assert "hello_server.py" in own["entries"]  # its own directory, read-only
    assert own["write"] != "ok"
    tmp = get(server, "go-serverless-service", "/look", params={"path": "/tmp"}).json()
    # A private /tmp: only the ways to what it is shown are seen there (its own directory, and
    # the Python runtime when this checkout's virtualenv is under /tmp too).
    shown = {Path(p).parts[2] for p in (server.directory, sys.prefix) if Path(p).parts[1] == "tmp"}
    assert tmp["write"] == "ok" and set(tmp["entries"]) == shown
    assert not (server.directory / "written-by-program").exists()
    import os

    if os.geteuid() == 0:
        assert looked["uid"] != 0  # an unprivileged uid of its own


def test_a_directory_closed_to_the_programs_uid_is_refused_with_the_reason(
    tmp_path: Path,
) -> None:
    import os

    if os.geteuid() != 0:
        pytest.skip("programs run as skylet's own uid when it is not root")
    tmp_path.chmod(0o700)
    shutil.copy(PROGRAMS / "hello_server.py", tmp_path)
    (tmp_path / "service.yaml").write_text(service("closed", {}))
    running = start_server(tmp_path, "--no-reload")
    try:
        answer = get(running, "closed")
    finally:
        stop_server(running)
    assert answer.status_code == 503
    assert "is not readable by the program's own uid" in answer.json()["message"]
    assert "chmod o+rX" in running.output()
