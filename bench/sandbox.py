"""What the sandbox costs and buys, in one run: the memory of 100 idle warm instances of one
function (unique set size, from /proc/PID/smaps_rollup; read as root, or as skylet's user),
with the templates' and the zygote's; and a noisy neighbour: one function's latency (warm,
sequential invocations) while another spins 40 instances, with CPU weights (the sandbox's
cgroups) and without (``--no-sandbox``).

Budget (docs/budgets.md): an idle warm instance ≤ 2 MB of unique memory.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import percentile, skylet_up, table

INSTANCES = 100
SPINNERS = 40
QUIET_SAMPLES = 200
CODE = """import time


def hello(event, context):
    return "Hello"


def hold(event, context):
    time.sleep(event.get("seconds", 0))
    return "held"


def spin(event, context):
    deadline = time.monotonic() + event["seconds"]
    while time.monotonic() < deadline:
        pass
    return "spun"
"""
MANIFEST = """service: sandbox
functions:
  hold: {handler: code.hold, timeout_s: 60}
  hello: {handler: code.hello}
  spin: {handler: code.spin, timeout_s: 60}
"""


def _invoke(port: int, name: str, body: bytes = b"{}") -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    conn.request("POST", f"/2015-03-31/functions/{name}/invocations", body)
    response = conn.getresponse()
    response.read()
    conn.close()
    return (time.perf_counter() - started) * 1000


def _uss_kb(pid: int) -> int:
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        fields[key] = int(value.split()[0])
    return fields["Private_Clean"] + fields["Private_Dirty"]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def memory(project: Path, *extra: str) -> tuple[list[int], list[int], int]:
    """USS (kB) of the instances of ``hold`` once 100 of them are idle and warm, of every
    template, and of the zygote."""
    with skylet_up(project, "--no-reload", *extra) as port:
        time.sleep(1.0)
        body = b'{"seconds": 2}'
        with concurrent.futures.ThreadPoolExecutor(INSTANCES) as pool:
            list(pool.map(lambda _: _invoke(port, "hold", body), range(INSTANCES)))
        time.sleep(1.0)
        server = _server_pid(port)
        (zygote,) = [p for p in _children(server) if b"skylet.worker.zygote" in _cmdline(p)]
        templates = _children(zygote)
        # hold's template is the one with the most children: its idle instances (and a spare).
        hold = max(templates, key=lambda t: len(_children(t)))
        warm = [_uss_kb(p) for p in _children(hold)]
        return warm, [_uss_kb(t) for t in templates], _uss_kb(zygote)


def _server_pid(port: int) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"up" in argv and str(port).encode() in argv:
                return int(entry.name)
    raise RuntimeError(f"no skylet up on port {port}")


def neighbour(project: Path, *extra: str) -> list[float]:
    """``hello``'s latency (ms, warm) while ``spin`` runs 40 instances."""
    with skylet_up(project, "--no-reload", *extra) as port:
        time.sleep(1.0)
        _invoke(port, "hello")
        spinning = concurrent.futures.ThreadPoolExecutor(SPINNERS)
        body = b'{"seconds": 8}'
        futures = [spinning.submit(_invoke, port, "spin", body) for _ in range(SPINNERS)]
        time.sleep(1.5)  # all spinning
        times = [_invoke(port, "hello") for _ in range(QUIET_SAMPLES)]
        for future in futures:
            future.result()
        spinning.shutdown()
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        project = Path(directory)
        project.chmod(0o755)  # skylet as root runs each function as a uid of its own
        (project / "code.py").write_text(CODE)
        (project / "skylet.yaml").write_text(MANIFEST)
        warm, templates, zygote = memory(project)
        plain_warm, plain_templates, plain_zygote = memory(project, "--no-sandbox")
        quiet = neighbour(project)
        unweighted = neighbour(project, "--no-sandbox")
    print(f"\nunique memory (USS) of {INSTANCES} idle warm instances of one function, kB")
    for label, instances, made, root in (
        ("sandboxed", warm, templates, zygote),
        ("--no-sandbox", plain_warm, plain_templates, plain_zygote),
    ):
        print(
            f"  {label:<14} instances: n={len(instances)} mean {statistics.mean(instances):.0f} "
            f"p50 {percentile(instances, 50):.0f} max {max(instances)}; total "
            f"{sum(instances) / 1024:.1f} MB; templates ({len(made)}): "
            f"{', '.join(str(t) for t in made)}; zygote {root}"
        )
    print(f"  budget: ≤ 2048 kB per idle warm instance -> p50 {percentile(warm, 50):.0f} kB")
    base = percentile(quiet, 50)
    table(
        f"a neighbour spinning {SPINNERS} instances: a hello world's warm latency",
        [
            ("with CPU weights (sandboxed)", len(quiet), base, percentile(quiet, 99), "1.0x"),
            (
                "without (--no-sandbox)",
                len(unweighted),
                percentile(unweighted, 50),
                percentile(unweighted, 99),
                f"{percentile(unweighted, 50) / base:.1f}x",
            ),
        ],
    )


if __name__ == "__main__":
    main()
