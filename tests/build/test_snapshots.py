"""Which files are a function's code, and the snapshots a reloaded version runs from."""

from __future__ import annotations

from pathlib import Path

from skylet.build.snapshots import Snapshots, is_code_path, scan


def make_project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    (root / "pkg" / "util.py").write_text("X = 1\n")
    (root / "handler.py~").write_text("editor backup")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"")
    (root / ".skylet").mkdir()
    (root / ".skylet" / "state.db").write_bytes(b"")
    (root / "state" / "code").mkdir(parents=True)
    (root / "state" / "state.db").write_bytes(b"")
    return root


def test_scan_keeps_code_and_leaves_out_caches_litter_and_the_data_directory(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "project")
    everything = [relpath for relpath, _, _ in scan(root).files]
    assert everything == ["handler.py", "pkg/util.py", "state/state.db"]
    skipped = [relpath for relpath, _, _ in scan(root, frozenset({root / "state"})).files]
    assert skipped == ["handler.py", "pkg/util.py"]


def test_the_data_directory_is_recognised_by_its_path_not_its_name(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    state = frozenset({root / "state"})
    assert is_code_path(root / "handler.py", state)
    assert is_code_path(root / "pkg" / "state" / "x.py", state)  # another "state": code
    assert not is_code_path(root / "state" / "state.db-wal", state)
    assert not is_code_path(root / "state" / "code" / "project-1" / "handler.py", state)
    assert not is_code_path(root / ".skylet" / "state.db")
    assert not is_code_path(root / "handler.py.swp")
    link = tmp_path / "link"
    link.symlink_to(root)
    assert not is_code_path(link / "state" / "state.db", state)


def test_a_snapshot_is_reused_until_the_code_changes_and_holds_no_data_directory(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "project")
    snapshots = Snapshots(root / "state" / "code", skip=frozenset({root / "state"}))
    first = snapshots.take(root)
    assert first.changed is None  # nothing deployed from this source yet
    assert sorted(p.name for p in first.path.iterdir()) == ["__pycache__", "handler.py", "pkg"]
    snapshots.accept(first)
    assert snapshots.take(root).path == first.path
    (root / "pkg" / "util.py").write_text("X = 22\n")  # a new size: mtimes are coarse
    second = snapshots.take(root)
    assert second.path != first.path
    assert second.changed == ("pkg/util.py",)
    assert (second.path / "pkg" / "util.py").read_text() == "X = 22\n"
    assert (first.path / "pkg" / "util.py").read_text() == "X = 1\n"


def test_a_snapshot_is_readable_by_others_and_holds_its_bytecode(tmp_path: Path) -> None:
    """A function running as a uid of its own reads it, and (read-only) never compiles it."""
    root = make_project(tmp_path / "project")
    snapshot = Snapshots(tmp_path / "code").take(root)
    assert snapshot.path.stat().st_mode & 0o005 == 0o005
    compiled = {p.name.split(".")[0] for p in snapshot.path.rglob("__pycache__/*.pyc")}
    assert compiled == {"handler", "util"}
