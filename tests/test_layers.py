"""The import graph follows the data path: no import runs back up it.

Each room of ``src/skylet`` (a top-level module or package) has a rank; a room may import only
rooms of a lower rank (its own modules aside). Rooms of one rank sit beside each other and do
not import each other. The instance's side (``worker``) and the platform's side meet only in
``wire``: nothing of the platform imports the worker, and the worker imports nothing of the
platform. Parsed, not imported, so the imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "skylet"

#: Lower ranks first. What each room holds is in docs/ARCHITECTURE.md.
RANKS = {
    # the floor: values and helpers everything may use
    "errors": 0,
    "ids": 0,
    "fastjson": 0,
    "arns": 0,
    "function_keys": 0,
    "config": 1,
    # which runtimes run a bootstrap, read by the manifest and the pool
    "custom_runtimes": 1,
    "wire": 1,
    "asgi": 1,
    # Knative's autoscaler: the annotations and the pure decision, read by the manifest
    "autoscale": 1.5,
    # beside the data path, and the instance's side (which sees only the floor)
    "manifest": 2,
    "store": 2,
    "blobs": 2,
    # logs (and later metrics) kept in the store
    "observe": 2.5,
    "worker": 2,
    "storage": 2,
    "build": 3,
    # the data path, from the bottom up
    "pool": 3,
    # Knative Services: server programs in the function sandbox, their activator and proxy
    "programs": 3,
    "invoker": 4,
    "events": 5,
    # metering and pricing: a hook on the invoker, its usage on the store
    "cost": 5,
    # schedules fire through the async invoker; EventBridge's targets reuse their input shapes
    "schedules": 5.5,
    "aws": 6,
    # Knative Eventing's brokers and triggers deliver through the invoker; the gateway hosts
    # their ingress
    "eventing": 6.5,
    # the event bus SDK functions use, stdlib only
    "eventbus": 2,
    "gateway": 7,
    # the composition root, serving, the command line
    # what the composition root is given, and what follows from that alone
    "platform_config": 7.5,
    "platform": 8,
    "serve": 9,
    "cli": 10,
    # ``python -m skylet``: the command line's entry point
    "__main__": 11,
}
#: Imports allowed across the ranks, each with its reason.
EXCEPTIONS = {
    # ``from skylet import Response`` in a Cloud Functions style function, resolved lazily.
    ("__init__", "worker"),
    # observe.tracing is a hook on the invoker (InvocationHook, InvocationRecord), while the
    # invoker writes to observe's log book: the one room both below and above the invoker.
    ("observe", "invoker"),
}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _is_room(name: str) -> bool:
    return (PACKAGE / f"{name}.py").exists() or (PACKAGE / name / "__init__.py").exists()


def _imports() -> dict[tuple[str, str], list[str]]:
    """(importing room, imported room) → the modules where it happens."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        room = _room(module)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "skylet":  # ``from skylet import fastjson`` (or __version__)
                    targets = [f"skylet.{a.name}" for a in node.names if _is_room(a.name)]
                else:
                    targets = [node.module]
            for target in targets:
                if target.startswith("skylet.") and (other := _room(target)) != room:
                    found.setdefault((room, other), []).append(module)
    return found


IMPORTS = _imports()


def test_every_room_has_a_rank() -> None:
    rooms = {p.stem for p in PACKAGE.iterdir() if _is_room(p.stem)}
    assert rooms - {"__init__"} == set(RANKS)


@pytest.mark.parametrize(
    ("importer", "imported"),
    sorted(IMPORTS),
    ids=[f"{a} imports {b}" for a, b in sorted(IMPORTS)],
)
def test_no_import_runs_back_up_the_data_path(importer: str, imported: str) -> None:
    if (importer, imported) in EXCEPTIONS or (importer == "__init__" and imported != "worker"):
        return
    if imported == "__init__":  # ``skylet.__version__``
        return
    where = ", ".join(sorted(set(IMPORTS[importer, imported])))
    assert RANKS[imported] < RANKS[importer], f"{importer} (in {where}) imports {imported}"


def test_the_platform_and_the_instance_meet_only_in_the_wire() -> None:
    platform_side = {"pool", "invoker", "events", "aws", "gateway", "platform", "serve"}
    crossing = sorted(
        (a, b)
        for a, b in IMPORTS
        if (a in platform_side and b == "worker") or (a == "worker" and b in platform_side)
    )
    assert crossing == []
    assert {b for a, b in IMPORTS if a == "worker"} <= {"wire", "fastjson", "errors", "ids"}


def test_functions_are_reached_through_the_invoker_only() -> None:
    # A layer talks only to the layer below it: the APIs and event sources never reach around
    # the invoker into the pools.
    around = sorted((a, b) for a, b in IMPORTS if b == "pool" and a not in {"invoker", "platform"})
    assert around == []
