"""Every escape of a function from its sandbox, tried on a real ``skylet up`` (with reload, so
functions run from snapshots under ``.skylet``): another function's secret through /proc, the
platform's and the zygote's processes, the store, another function's code, the blobs, its own
code, another instance's /tmp, and processes that outlive their instance. Each test skips, with
the machine's reason, where the mechanism it needs is off (the banner and /health say which)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from skylet.pool.sandbox import UID_BASE
from skylet.wire import sandbox as names
from tests.e2e.conftest import FUNCTIONS, Server, start_server, stop_server
from tests.runtime_fixtures import commands_below, descendants, started_below

pytestmark = pytest.mark.e2e

SECRET = "s3cr3t-of-the-victim-7f1c"
MANIFEST = f"""
service: sandboxed
functions:
  victim:
    handler: handlers.echo
    code: victim
    environment: {{SECRET_TOKEN: {SECRET}}}
  read: {{handler: attacks.read_processes, code: attacker, timeout_s: 30, memory_size: 512}}
  kill: {{handler: attacks.kill, code: attacker}}
  files: {{handler: attacks.open_files, code: attacker}}
  write: {{handler: attacks.write_code, code: attacker}}
  tmp: {{handler: attacks.tmp, code: attacker, timeout_s: 10}}
  contract: {{handler: attacks.contract, code: attacker, timeout_s: 10}}
  offline: {{handler: attacks.network, code: attacker, network: false}}
  threads: {{handler: attacks.threads, code: attacker, timeout_s: 30, memory_size: 1024}}
  daemon: {{handler: attacks.undo_subreaper_and_daemonize, code: attacker}}
  admin: {{handler: attacks.admin, code: attacker, timeout_s: 20}}
  syscalls: {{handler: attacks.denied_calls, code: attacker, timeout_s: 20}}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("sandboxed") / "project"
    (directory / "attacker").mkdir(parents=True)
    (directory / "victim").mkdir()
    shutil.copy(FUNCTIONS / "attacks.py", directory / "attacker")
    shutil.copy(FUNCTIONS / "handlers.py", directory / "victim")
    (directory / "skylet.yaml").write_text(MANIFEST)
    running = start_server(directory)
    yield running
    stop_server(running)


def _sandbox(server: Server) -> dict[str, dict[str, str]]:
    document: dict[str, dict[str, str]] = httpx.get(f"{server.url}/health").json()["sandbox"]
    return document


def _needs(server: Server, *mechanisms: str) -> None:
    off = _sandbox(server)["off"]
    for name in mechanisms:
        if name in off:
            pytest.skip(f"{name} is off on this machine: {off[name]}")


def _invoke(server: Server, name: str, event: object) -> Any:
    response = httpx.post(
        f"{server.url}/2015-03-31/functions/{name}/invocations",
        content=json.dumps(event),
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert "x-amz-function-error" not in response.headers, response.text
    return response.json()


def _zygote(server: Server) -> int:
    for pid in descendants(server.proc.pid):
        try:
            if b"skylet.worker.zygote" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    raise AssertionError("no zygote below the server")


def _instances(server: Server, function: str) -> list[int]:
    """The platform's pids of ``function``'s instances: those working in its code (read as
    root; instances work in their code directory, ``.skylet/code/<dir>-<hash>``)."""
    found = []
    for pid in descendants(server.proc.pid):
        try:
            cwd = Path(f"/proc/{pid}/cwd").readlink()
        except OSError:
            continue
        if cwd.name.startswith(f"{function}-") and Path(f"/proc/{pid}/maps").exists():
            found.append(pid)
    return found


def _memory_holds(pid: int, text: bytes) -> bool:
    """Whether ``text`` is in the memory of ``pid`` (read as root)."""
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            start, end = (int(x, 16) for x in span.split("-"))
            if perms.startswith("rw"):
                try:
                    mem.seek(start)
                    if text in mem.read(end - start):
                        return True
                except (OSError, ValueError, OverflowError):
                    continue
    return False


def test_the_banner_and_health_say_which_protections_are_on_and_why_others_are_off(
    server: Server,
) -> None:
    sandbox = _sandbox(server)
    assert set(sandbox["on"]) | set(sandbox["off"]) == set(names.ALL)
    lines = server.output().splitlines()
    (on,) = [line for line in lines if line.startswith("sandbox: ")]
    off = [line for line in lines if line.startswith("sandbox off: ")]
    assert all(name in on for name in sandbox["on"])
    assert len(off) == (1 if sandbox["off"] else 0)
    assert all(f"{name} ({why})" in off[0] for name, why in sandbox["off"].items())


def test_another_functions_secret_cannot_be_read_from_its_memory_or_environment(
    server: Server,
) -> None:
    _needs(server, names.PID_NS)
    assert _invoke(server, "victim", {})["env"]["SECRET_TOKEN"] == SECRET
    victims = _instances(server, "victim")
    assert victims and all(_memory_holds(p, SECRET.encode()) for p in victims)
    targets = [*victims, server.proc.pid, _zygote(server)]
    found = _invoke(server, "read", {"pids": targets})
    assert SECRET not in json.dumps(found)
    for pid in targets:
        assert "environ" not in found[str(pid)] and "mem" not in found[str(pid)], found[str(pid)]
    assert set(found) == {str(p) for p in targets}, "it sees no process but itself"


def test_the_platform_and_the_zygote_cannot_be_killed_by_a_function(server: Server) -> None:
    _needs(server, names.PID_NS)
    zygote = _zygote(server)
    outcome = _invoke(server, "kill", {"pids": [server.proc.pid, zygote]})
    assert "killed" not in {outcome[str(server.proc.pid)], outcome[str(zygote)]}, outcome
    time.sleep(0.2)
    assert server.proc.poll() is None
    assert Path(f"/proc/{zygote}").exists()
    assert httpx.get(f"{server.url}/health").json()["runtimeRestarts"] == 0


def test_the_store_and_the_blobs_cannot_be_opened(server: Server) -> None:
    _needs(server, names.MOUNT_NS)
    s3 = boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}),
    )
    s3.create_bucket(Bucket="private")
    s3.put_object(Bucket="private", Key="k", Body=b"private bytes")
    data = server.directory / ".skylet"
    assert (data / "state.db").is_file() and (data / "blobs").is_dir()
    paths = [str(data / "state.db"), str(data / "blobs"), str(data / "blobs" / "private")]
    outcome = _invoke(server, "files", {"paths": [*paths, str(data)]})
    assert all("Error" in outcome[p] for p in paths), outcome
    # Code under /tmp is shown again in the instance's own /tmp: only the way to it.
    assert outcome[str(data)] == ["code"]
    assert s3.get_object(Bucket="private", Key="k")["Body"].read() == b"private bytes"


def test_another_functions_code_cannot_be_read(server: Server) -> None:
    _needs(server, names.MOUNT_NS)
    code = server.directory / ".skylet" / "code"
    snapshots = sorted(str(p) for p in code.iterdir() if not p.name.startswith("attacker-"))
    original = server.directory / "victim" / "handlers.py"
    paths = [str(original), str(server.directory / "skylet.yaml"), *snapshots]
    outcome = _invoke(server, "files", {"paths": paths})
    assert all(isinstance(v, str) and "Error" in v for v in outcome.values()), outcome


def test_a_function_cannot_write_its_own_code(server: Server) -> None:
    _needs(server, names.MOUNT_NS)
    assert "Read-only file system" in _invoke(server, "write", {})


def test_an_instance_does_not_see_another_instances_tmp(server: Server) -> None:
    _needs(server, names.MOUNT_NS)
    with httpx.Client(timeout=30) as client:
        first = _async(client, server, "tmp", {"name": "first", "sleep": 1.5})
        time.sleep(0.5)  # the first holds its instance: the second gets another
        second = _invoke(server, "tmp", {"name": "second"})
    assert "first" in first() and "second" not in first()
    assert "second" in second and "first" not in second


def _async(client: httpx.Client, server: Server, name: str, event: object) -> Any:
    """Invoke ``name`` in a thread; returns what waits for its answer."""
    import concurrent.futures

    pool = concurrent.futures.ThreadPoolExecutor(1)
    future = pool.submit(_invoke, server, name, event)
    pool.shutdown(wait=False)
    return future.result


def test_the_lambda_runtime_contract_holds_in_the_sandbox(server: Server) -> None:
    answer = _invoke(server, "contract", {})
    assert "attacks.py" in answer["code"]
    assert Path(answer["task_root"]).parent == server.directory / ".skylet" / "code"
    assert answer["tmp"] == "ok" and "contract" in answer["buckets"]
    if names.USER_NS in _sandbox(server)["on"]:
        assert answer["uid"] == 993  # Lambda's sbx_user1051


def test_a_function_without_network_reaches_nothing_but_its_loopback(server: Server) -> None:
    _needs(server, names.NET_NS)
    answer = _invoke(server, "offline", {})
    assert answer["loopback"] == "connected"
    assert answer["endpoint"].startswith("URLError"), answer


def test_an_instance_runs_at_most_1024_processes_and_threads(server: Server) -> None:
    _needs(server, names.PIDS_LIMIT)
    started = _invoke(server, "threads", {"most": 3000})
    assert 900 < started < 1024


def test_each_function_runs_as_a_uid_of_its_own_when_skylet_is_root(server: Server) -> None:
    _needs(server, names.UID)
    _invoke(server, "victim", {})
    _invoke(server, "contract", {})
    uids = {}
    for name, code in (("victim", "victim"), ("contract", "attacker")):
        (pid, *_) = _instances(server, code)
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        uids[name] = int(next(line for line in status if line.startswith("Uid:")).split()[1])
    assert len(set(uids.values())) == 2 and min(uids.values()) >= UID_BASE, uids


def test_a_daemon_that_undid_its_instances_subreaper_dies_when_the_instance_retires(
    server: Server,
) -> None:
    _needs(server, names.PID_NS)
    assert _invoke(server, "daemon", {}) == "daemonized"
    daemon = started_below(server.proc.pid, "sleep 301")
    deleted = httpx.delete(f"{server.url}/_skylet/functions/daemon/instances")
    assert deleted.status_code == 200
    deadline = time.monotonic() + 10
    while Path(f"/proc/{daemon}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not commands_below(server.proc.pid, "sleep 301")
    assert not _alive(daemon)


def _retire(server: Server, function: str, sign: str) -> dict[str, Any]:
    """What the function ``admin`` got asking the admin API to retire ``function``'s instances,
    signing as ``sign`` says (attacks.admin)."""
    event = {"method": "DELETE", "path": f"functions/{function}/instances", "sign": sign}
    answer: dict[str, Any] = _invoke(server, "admin", event)
    return answer


def test_a_function_cannot_retire_another_functions_instances_with_its_own_credentials(
    server: Server,
) -> None:
    _invoke(server, "victim", {})
    before = _instances(server, "victim")
    answer = _retire(server, "victim", "own")
    assert answer["status"] == 403 and answer["type"] == "AccessDeniedException", answer
    assert "assumed-role/skylet-function/admin is not authorized" in answer["body"]
    assert "skylet:RetireInstances on resource: functions/victim" in answer["body"]
    assert before and set(before) <= set(_instances(server, "victim"))


@pytest.mark.parametrize("sign", ["local", "none"], ids=["signed_with_the_local_pair", "unsigned"])
def test_a_function_cannot_pass_for_the_developer_in_local_mode(server: Server, sign: str) -> None:
    _needs(server, names.UID)
    _invoke(server, "victim", {})
    before = _instances(server, "victim")
    answer = _retire(server, "victim", sign)
    assert answer["status"] == 403 and answer["type"] == "AccessDeniedException", answer
    assert before and set(before) <= set(_instances(server, "victim"))
    schedules = _invoke(server, "admin", {"method": "GET", "path": "functions", "sign": sign})
    assert schedules["status"] == 403, schedules


def test_the_calls_no_function_needs_fail_with_eperm_and_the_rest_work(server: Server) -> None:
    _needs(server, names.SECCOMP)
    got = _invoke(server, "syscalls", {})
    assert got["denied"] == dict.fromkeys(got["denied"], "EPERM") and len(got["denied"]) == 5
    assert got["allowed"] == {"getpid": True, "subprocess": 0, "thread": True, "socket": True}


def test_a_function_reads_its_own_log_through_the_admin_api(server: Server) -> None:
    own = _invoke(server, "admin", {"method": "GET", "path": "functions/admin/logs", "sign": "own"})
    assert own["status"] == 200, own
    other = {"method": "GET", "path": "functions/victim/logs", "sign": "own"}
    assert _invoke(server, "admin", other)["status"] == 403


def test_the_developer_still_retires_instances_unsigned_in_local_mode(server: Server) -> None:
    _invoke(server, "victim", {})
    deleted = httpx.delete(f"{server.url}/_skylet/functions/victim/instances")
    assert deleted.status_code == 200 and deleted.json()["retired"] >= 1, deleted.text


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 :].split()[0] != b"Z"


def test_without_the_sandbox_the_banner_says_every_protection_is_off(tmp_path: Path) -> None:
    directory = tmp_path / "plain"
    shutil.copytree(FUNCTIONS, directory)
    (directory / "skylet.yaml").write_text("service: plain\nfunctions:\n  echo: handlers.echo\n")
    running = start_server(directory, "--no-sandbox", "--no-reload")
    try:
        off = _sandbox(running)["off"]
        assert off[names.PID_NS] == off[names.USER_NS] == "--no-sandbox"
        assert "sandbox off: user namespace (--no-sandbox)" in running.output()
        assert os.getpid() > 0 and _invoke(running, "echo", {})["instance"]
    finally:
        stop_server(running)
