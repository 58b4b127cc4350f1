"""Cold start, scaled from zero: request → first byte of the response.

skylet: ``skylet up`` serves the functions; before each sample the function's instances are
retired (scale to zero), so every sample starts a new instance (from the function's template,
which keeps a spare ready). Rows, in one run:
- the Lambda-style hello world through the Invoke API, sandboxed (the default) and with
  ``--no-sandbox``, two servers sampled in turn;
- the Cloud Functions style one (functions-framework's own ``main.py``, which imports Flask in
  its init) through its HTTP route, when functions-framework is installed;
- a burst: 40 different functions cold-started back to back, each on a new connection;
- a function importing numpy and Pillow, with and without ``snap_start``, when both are
  installed (``pip install -e '.[bench]'``);
- custom runtimes beside the Python hello world, cold and warm through the Invoke API: AWS's
  tutorial's shell bootstrap (bash and curl), AWS's awslambdaric (``python -m awslambdaric``)
  and, when ``go`` is installed, a Go program on the standard library, and with ``cc`` a client
  in C speaking raw HTTP (the floor: almost none of a client's own work); the warm rows give
  what the Runtime API adds per invocation over the Python runtime (budget ≤ 0.2 ms).
  ``--custom`` runs these rows alone;
Peers in the same run: a fresh ``python`` process per request (process start → first byte of
its output), one importing numpy and Pillow, and Google's functions-framework started per
request. Budgets (docs/budgets.md): hello world p50 ≤ 2 ms, p99 ≤ 5 ms, sandbox on or off;
the burst p50 ≤ 3 ms, p99 ≤ 5 ms; numpy+Pillow from a snapshot p50 ≤ 5 ms.
"""

from __future__ import annotations

import http.client
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import FUNCTIONS, free_port, percentile, skylet_up, table

SAMPLES = 200
CF_SAMPLES = 50
HEAVY_SAMPLES = 50
BURST_FUNCTIONS = 40
BURST_ROUNDS = 5
PEER_SAMPLES = 20
#: (function, method, path, body) of each skylet row.
LAMBDA = ("hello", "POST", "/2015-03-31/functions/hello/invocations", b"{}")
CLOUD_FUNCTIONS = ("hello-cf", "GET", "/cf/hello", b"")
FRESH_PYTHON = (
    "import json, sys\n"
    "sys.path.insert(0, {path!r})\n"
    "import hello\n"
    "sys.stdout.write(json.dumps(hello.handler({{}}, None)))\n"
)
FRESH_HEAVY = "import sys, numpy, PIL.Image\nsys.stdout.write('Hello')\n"
HEAVY = """import numpy
import PIL.Image

IMAGE = PIL.Image.new("RGB", (64, 64))


def handler(event, context):
    return {"statusCode": 200, "body": f"Hello, {numpy.asarray(IMAGE).shape}"}
"""
Row = tuple[str, int, float, float, str]


def skylet_cold() -> tuple[list[float], list[float], list[float]]:
    """Cold starts of the Lambda-style hello world, sandboxed and not (taken in turn), and of
    the Cloud Functions style one (sandboxed), in ms to the first byte."""
    sandboxed: list[float] = []
    plain: list[float] = []
    cf: list[float] = []
    cf_samples = CF_SAMPLES if has_functions_framework() else 0
    with skylet_up() as port, skylet_up(FUNCTIONS, "--no-sandbox") as plain_port:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        plain_conn = http.client.HTTPConnection("127.0.0.1", plain_port)
        time.sleep(1.0)  # the templates are made in the background at start
        for i in range(SAMPLES):
            sandboxed.append(_cold(conn, *LAMBDA))
            plain.append(_cold(plain_conn, *LAMBDA))
            if i < cf_samples:
                cf.append(_cold(conn, *CLOUD_FUNCTIONS))
    return sandboxed, plain, cf


def _cold(
    conn: http.client.HTTPConnection, function: str, method: str, path: str, body: bytes
) -> float:
    conn.request("DELETE", f"/_skylet/functions/{function}/instances")
    conn.getresponse().read()
    time.sleep(0.02)  # idle, as a function scaled to zero is
    started = time.perf_counter()
    conn.request(method, path, body=body)
    response = conn.getresponse()
    first_byte = time.perf_counter()
    answer = response.read()
    if response.status != 200 or b"Hello" not in answer:
        raise RuntimeError(f"{function}: bad response {response.status}: {answer!r}")
    return (first_byte - started) * 1000


def burst(*extra: str) -> list[float]:
    """40 different functions, each cold-started once per round on a new connection, back to
    back; every function scaled to zero between rounds. A first round is not counted: its
    function's template may still be forking its first spare (made at start, in the background,
    and at the smallest CPU weight; under other load that takes a while)."""
    with tempfile.TemporaryDirectory() as directory:
        project = Path(directory)
        project.chmod(0o755)  # skylet as root runs each function as a uid of its own
        (project / "hello.py").write_text((FUNCTIONS / "hello.py").read_text())
        names = [f"hello-{i:02d}" for i in range(BURST_FUNCTIONS)]
        functions = "".join(f"  {name}: hello.handler\n" for name in names)
        (project / "skylet.yaml").write_text(f"service: burst\nfunctions:\n{functions}")
        times: list[float] = []
        with skylet_up(project, "--no-reload", *extra) as port:
            control = http.client.HTTPConnection("127.0.0.1", port)
            for round_ in range(BURST_ROUNDS + 1):
                for name in names:
                    control.request("DELETE", f"/_skylet/functions/{name}/instances")
                    control.getresponse().read()
                time.sleep(1.0)  # templates made, spares forked again
                for name in names:
                    conn = http.client.HTTPConnection("127.0.0.1", port)
                    started = time.perf_counter()
                    conn.request("POST", f"/2015-03-31/functions/{name}/invocations", b"{}")
                    response = conn.getresponse()
                    if round_:
                        times.append((time.perf_counter() - started) * 1000)
                    if b"Hello" not in response.read():
                        raise RuntimeError(f"{name}: bad response {response.status}")
                    conn.close()
    return times


CUSTOM = Path(__file__).parent / "custom"
CUSTOM_COLD_SAMPLES = 30
CUSTOM_WARM_SAMPLES = 1000


def custom_project(directory: Path) -> list[str]:
    """A project of the Python hello world and its custom-runtime twins in ``directory``; the
    names of the functions made (the Go one only when ``go`` is installed)."""
    directory.chmod(0o755)
    functions = {"python": ("python3.11", "hello.handler")}
    (directory / "python").mkdir()
    (directory / "python" / "hello.py").write_text((FUNCTIONS / "hello.py").read_text())
    if shutil.which("curl"):
        (directory / "shell").mkdir()
        shutil.copy(CUSTOM / "shell_bootstrap", directory / "shell" / "bootstrap")
        functions["shell"] = ("provided.al2023", "hello.handler")
    if importlib.util.find_spec("awslambdaric") is not None:
        (directory / "ric").mkdir()
        (directory / "ric" / "hello.py").write_text((FUNCTIONS / "hello.py").read_text())
        bootstrap = directory / "ric" / "bootstrap"
        bootstrap.write_text(f"#!/bin/sh\nexec {sys.executable} -m awslambdaric hello.handler\n")
        bootstrap.chmod(0o755)
        functions["ric"] = ("provided.al2023", "hello.handler")
    go = shutil.which("go")
    if go:
        (directory / "go").mkdir()
        subprocess.run(
            [go, "build", "-o", str(directory / "go" / "bootstrap"), str(CUSTOM / "main.go")],
            check=True,
            env={
                "PATH": "/usr/bin:/bin",
                "HOME": str(Path.home()),
                "GO111MODULE": "off",
                "CGO_ENABLED": "0",
            },
        )
        functions["go"] = ("provided.al2023", "hello.handler")
    cc = shutil.which("cc")
    if cc:
        (directory / "c").mkdir()
        target = str(directory / "c" / "bootstrap")
        subprocess.run([cc, "-O2", "-o", target, str(CUSTOM / "minimal.c")], check=True)
        functions["c"] = ("provided.al2023", "hello.handler")
    lines = ["service: customs", "functions:"]
    for name, (runtime, handler) in functions.items():
        lines += [
            f"  {name}:",
            f"    runtime: {runtime}",
            f"    handler: {handler}",
            f"    code: {name}",
        ]
    (directory / "skylet.yaml").write_text("\n".join(lines) + "\n")
    return list(functions)


def custom_runtimes() -> dict[str, tuple[list[float], list[float]]]:
    """Cold and warm Invoke round trips (ms, to the first byte) of each function of
    ``custom_project``, the functions sampled in turn."""
    with tempfile.TemporaryDirectory() as directory:
        names = custom_project(Path(directory))
        samples: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in names}
        with skylet_up(Path(directory), "--no-reload") as port:
            conn = http.client.HTTPConnection("127.0.0.1", port)
            time.sleep(1.0)
            for _ in range(CUSTOM_COLD_SAMPLES):
                for name in names:
                    invoke = (name, "POST", f"/2015-03-31/functions/{name}/invocations", b"{}")
                    samples[name][0].append(_cold(conn, *invoke))
            for name in names:  # one warm instance each
                _warm(conn, name)
            for _ in range(CUSTOM_WARM_SAMPLES):
                for name in names:
                    samples[name][1].append(_warm(conn, name))
    return samples


def _warm(conn: http.client.HTTPConnection, function: str) -> float:
    started = time.perf_counter()
    conn.request("POST", f"/2015-03-31/functions/{function}/invocations", body=b"{}")
    response = conn.getresponse()
    first_byte = time.perf_counter()
    answer = response.read()
    if response.status != 200 or b"Hello" not in answer:
        raise RuntimeError(f"{function}: bad response {response.status}: {answer!r}")
    return (first_byte - started) * 1000


def report_custom(samples: dict[str, tuple[list[float], list[float]]]) -> None:
    what = {
        "python": "Python hello world",
        "shell": "provided: the tutorial's bash + curl",
        "ric": "provided: awslambdaric",
        "go": "provided: Go, standard library",
        "c": "provided: raw HTTP in C (the floor)",
    }
    cold_base = percentile(samples["python"][0], 50)
    warm_base = percentile(samples["python"][1], 50)
    table(
        "custom runtimes, cold (ratio: p50 over the Python hello world's)",
        [_row(what[n], cold, cold_base) for n, (cold, _) in samples.items()],
    )
    table(
        "custom runtimes, warm Invoke round trip (ratio: p50 over the Python hello world's)",
        [_row(what[n], warm, warm_base) for n, (_, warm) in samples.items()],
    )
    for name, (_, warm) in samples.items():
        if name != "python":
            added = percentile(warm, 50) - warm_base
            print(f"  {what[name]}: adds {added:.3f} ms per warm invocation (p50)")
    print("  budget: the Runtime API adds ≤ 0.2 ms per warm invocation (the C row measures it)")


def has_heavy() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("numpy", "PIL"))


def heavy() -> tuple[list[float], list[float]]:
    """Cold starts of the numpy+Pillow function, from a snapshot and without one, in turn."""
    with tempfile.TemporaryDirectory() as directory:
        project = Path(directory)
        project.chmod(0o755)
        (project / "heavy.py").write_text(HEAVY)
        (project / "skylet.yaml").write_text(
            "service: heavy\nfunctions:\n"
            "  snapped: {handler: heavy.handler, snap_start: true, memory_size: 512}\n"
            "  plain: {handler: heavy.handler, memory_size: 512}\n"
        )
        snapped: list[float] = []
        plain: list[float] = []
        with skylet_up(project, "--no-reload") as port:
            conn = http.client.HTTPConnection("127.0.0.1", port)
            time.sleep(3.0)  # the snapshot's init: numpy and Pillow imported once
            for _ in range(HEAVY_SAMPLES):
                for name, times in (("snapped", snapped), ("plain", plain)):
                    path = f"/2015-03-31/functions/{name}/invocations"
                    times.append(_cold(conn, name, "POST", path, b"{}"))
    return snapped, plain


def has_functions_framework() -> bool:
    return importlib.util.find_spec("functions_framework") is not None


def fresh_python(samples: int, code: str | None = None) -> list[float]:
    code = code or FRESH_PYTHON.format(path=str(FUNCTIONS))
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
        assert proc.stdout is not None
        proc.stdout.read(1)
        times.append((time.perf_counter() - started) * 1000)
        proc.stdout.read()
        proc.wait()
    return times


def functions_framework(samples: int) -> list[float]:
    exe = [
        sys.executable,
        "-m",
        "functions_framework",
        "--target",
        "hello",
        "--source",
        str(FUNCTIONS / "cf" / "main.py"),
    ]
    times = []
    for _ in range(samples):
        port = free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*exe, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/")
                    response = conn.getresponse()
                    times.append((time.perf_counter() - started) * 1000)
                    response.read()
                    break
                except OSError:
                    time.sleep(0.001)
        finally:
            proc.terminate()
            proc.wait()
    return times


def _row(what: str, samples: list[float], base: float) -> Row:
    p50 = percentile(samples, 50)
    ratio = "1.0x" if p50 == base else f"{p50 / base:.1f}x"
    return (what, len(samples), p50, percentile(samples, 99), ratio)


def main() -> None:
    if "--custom" in sys.argv[1:]:
        report_custom(custom_runtimes())
        return
    sandboxed, plain, cf = skylet_cold()
    bursts = burst()
    plain_bursts = burst("--no-sandbox")
    snapped, unsnapped = heavy() if has_heavy() else ([], [])
    py = fresh_python(PEER_SAMPLES * 2)
    py_heavy = fresh_python(PEER_SAMPLES, FRESH_HEAVY) if has_heavy() else []
    try:
        ff: list[float] | None = functions_framework(PEER_SAMPLES)
    except (ImportError, FileNotFoundError):
        ff = None
    base = percentile(sandboxed, 50)
    rows = [
        _row("skylet, sandboxed (Invoke API)", sandboxed, base),
        _row("skylet --no-sandbox (Invoke API)", plain, base),
    ]
    if cf:
        rows.append(_row("skylet Cloud Functions style (HTTP route)", cf, base))
    rows.append(_row("skylet burst: 40 functions, new connections", bursts, base))
    rows.append(_row("skylet burst --no-sandbox", plain_bursts, base))
    rows.append(_row("fresh python process per request", py, base))
    if ff:
        rows.append(_row("functions-framework started per request", ff, base))
    table("cold start, request → first byte (ratio: p50 over the sandboxed hello world)", rows)
    print(
        f"  budget: p50 ≤ 2 ms, p99 ≤ 5 ms -> sandboxed p50 {base:.2f} ms, "
        f"p99 {percentile(sandboxed, 99):.2f} ms; --no-sandbox p50 "
        f"{percentile(plain, 50):.2f} ms, p99 {percentile(plain, 99):.2f} ms"
    )
    print(
        f"  budget: burst p50 ≤ 3 ms, p99 ≤ 5 ms -> p50 {percentile(bursts, 50):.2f} ms, "
        f"p99 {percentile(bursts, 99):.2f} ms"
    )
    if snapped:
        snap_base = percentile(snapped, 50)
        table(
            "cold start, numpy + Pillow (ratio: p50 over the snapshot's)",
            [
                _row("skylet, snap_start (from the template)", snapped, snap_base),
                _row("skylet, without snapshot", unsnapped, snap_base),
                _row("fresh python -c 'import numpy, PIL' per request", py_heavy, snap_base),
            ],
        )
        print(f"  budget: p50 ≤ 5 ms -> snap_start p50 {snap_base:.2f} ms")
    else:
        print("\n  numpy+Pillow rows skipped: pip install -e '.[bench]' installs them")
    report_custom(custom_runtimes())


if __name__ == "__main__":
    main()
