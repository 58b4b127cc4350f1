"""Immutable copies of function code, one per content hash: what a deployed version runs.

A version must not change under its instances: an edit saved while requests run would otherwise
reach an old instance through a lazy import, and a file saved with a syntax error would reach
every new one. ``skylet up`` with reload therefore runs each version from a snapshot of its code
directory under ``.skylet/code/<hash>``. A snapshot is made by copying (never hard links: many
editors write in place, which would change the snapshot too) and renamed into place whole.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from skylet.errors import ConfigError

#: Directories that are not function code: version control, caches, virtualenvs, our own state.
SKIPPED_DIRS = frozenset(
    {".skylet", ".git", ".hg", "__pycache__", ".venv", "venv", "node_modules", ".mypy_cache",
     ".pytest_cache", ".ruff_cache", ".tox"}
)  # fmt: skip
#: Larger trees run in place (with a warning): copying them on every save would be slow.
MAX_FILES = 5_000
MAX_BYTES = 200 << 20


@dataclass(frozen=True, slots=True)
class CodeTree:
    """The files of one code directory: relative path → (size, mtime_ns)."""

    root: Path
    files: tuple[tuple[str, int, int], ...]

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size, _ in self.files)


def scan(root: Path) -> CodeTree:
    """Every file below ``root`` that belongs to the code, in a stable order."""
    found: list[tuple[str, int, int]] = []
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if _is_code_dir(d))
        here = Path(directory)
        for name in sorted(names):
            if _is_editor_litter(name):
                continue
            path = here / name
            try:
                st = path.stat()
            except OSError:  # removed while we looked
                continue
            found.append((str(path.relative_to(root)), st.st_size, st.st_mtime_ns))
            if len(found) > MAX_FILES:
                raise ConfigError(f"{root} holds more than {MAX_FILES} files")
    return CodeTree(root, tuple(found))


def _is_code_dir(name: str) -> bool:
    return name not in SKIPPED_DIRS and not name.endswith(".egg-info")


def _is_editor_litter(name: str) -> bool:
    return name.endswith(("~", ".swp", ".swx", ".pyc", ".tmp", ".log")) or name.startswith(".#")


def is_code_path(path: Path) -> bool:
    """Whether a change to ``path`` can change what a function runs."""
    if _is_editor_litter(path.name):
        return False
    return not any(part in SKIPPED_DIRS for part in path.parts)


class Snapshots:
    """Content-addressed snapshots under ``root``; :meth:`take` returns the directory to run."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def take(self, code_dir: Path) -> Path:
        """A snapshot of ``code_dir`` as it is now (the same directory when nothing changed).

        Too large a tree is not copied: it runs in place and ``code_dir`` itself is returned.
        """
        try:
            tree = scan(code_dir)
        except ConfigError:
            return code_dir
        if tree.total_bytes > MAX_BYTES:
            return code_dir
        digest = hashlib.sha256(str(code_dir.resolve()).encode())
        for relpath, size, mtime in tree.files:
            digest.update(f"{relpath}\0{size}\0{mtime}\n".encode())
        target = self.root / f"{code_dir.name}-{digest.hexdigest()[:16]}"
        if target.is_dir():
            return target
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
        try:
            for relpath, _, _ in tree.files:
                destination = staging / relpath
                destination.parent.mkdir(parents=True, exist_ok=True)
                try:
                    shutil.copy2(code_dir / relpath, destination)
                except FileNotFoundError:  # removed while we copied: the next change redeploys
                    continue
            staging.rename(target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not target.is_dir():  # not a concurrent identical snapshot: a real failure
                raise
        return target

    def prune(self, keep: set[Path]) -> None:
        """Remove snapshots no running version uses."""
        if not self.root.is_dir():
            return
        for entry in self.root.iterdir():
            if entry not in keep:
                shutil.rmtree(entry, ignore_errors=True)
