"""Immutable copies of function code, one per content hash: what a deployed version runs.

A version must not change under its instances: an edit saved while requests run would otherwise
reach an old instance through a lazy import, and a file saved with a syntax error would reach
every new one. ``skylet up`` with reload therefore runs each version from a snapshot of its code
directory under ``.skylet/code/<hash>``. A snapshot is made by copying (never hard links: many
editors write in place, which would change the snapshot too) and renamed into place whole.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import py_compile
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

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


def scan(root: Path, skip: frozenset[Path] = frozenset()) -> CodeTree:
    """Every file below ``root`` that belongs to the code, in a stable order. ``skip``: absolute
    directories left out whatever their name (skylet's data directory, when it is inside)."""
    found: list[tuple[str, int, int]] = []
    for directory, subdirs, names in os.walk(root):
        here = Path(directory)
        subdirs[:] = sorted(
            d for d in subdirs if _is_code_dir(d) and (not skip or _absolute(here / d) not in skip)
        )
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


def is_code_path(path: Path, skip: frozenset[Path] = frozenset()) -> bool:
    """Whether a change to ``path`` can change what a function runs. ``skip`` as in
    :func:`scan`."""
    if _is_editor_litter(path.name):
        return False
    if any(part in SKIPPED_DIRS for part in path.parts):
        return False
    return not skip or not any(_absolute(path).is_relative_to(d) for d in skip)


def _absolute(path: Path) -> Path:
    """``path`` absolute, with symbolic links resolved: a data directory named through a link
    is still recognised below the code directory it lives in."""
    return Path(os.path.realpath(path))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A code directory to run, and which files differ from the deployed snapshot of the same
    source (``None``: there was none)."""

    path: Path
    changed: tuple[str, ...] | None
    source: Path
    tree: CodeTree | None

    def syntax_errors(self) -> list[str]:
        """``file:line:col: message`` for each changed Python file that does not compile.

        The snapshot is checked, not the source: a file saved again between the check and the
        copy cannot slip a broken version through.
        """
        found = []
        for relpath in self.changed or ():
            if not relpath.endswith(".py"):
                continue
            try:
                source = (self.path / relpath).read_bytes()
                compile(source, relpath, "exec", dont_inherit=True)
            except SyntaxError as error:
                found.append(f"{relpath}:{error.lineno}:{error.offset}: {error.msg}")
            except (OSError, ValueError) as error:  # ValueError: e.g. null bytes in the source
                found.append(f"{relpath}: {error}")
        return found


class Snapshots:
    """Content-addressed snapshots under ``root``; :meth:`take` returns the directory to run."""

    def __init__(self, root: Path, skip: frozenset[Path] = frozenset()) -> None:
        self.root = root
        #: Directories never part of a snapshot (skylet's data directory): a data directory
        #: inside the code would otherwise be copied into every snapshot, snapshots included.
        self.skip = frozenset(_absolute(d) for d in skip)
        self._last: dict[Path, CodeTree] = {}

    def take(self, code_dir: Path) -> Snapshot:
        """A snapshot of ``code_dir`` as it is now (the same directory when nothing changed).

        Too large a tree is not copied: it runs in place, from ``code_dir`` itself.
        """
        try:
            tree = scan(code_dir, self.skip)
        except ConfigError:
            return Snapshot(code_dir, None, code_dir, None)
        if tree.total_bytes > MAX_BYTES:
            return Snapshot(code_dir, None, code_dir, None)
        previous = self._last.get(code_dir)
        changed = None if previous is None else tuple(sorted(set(tree.files) - set(previous.files)))
        digest = hashlib.sha256(str(code_dir.resolve()).encode())
        for relpath, size, mtime in tree.files:
            digest.update(f"{relpath}\0{size}\0{mtime}\n".encode())
        target = self.root / f"{code_dir.name}-{digest.hexdigest()[:16]}"
        if not target.is_dir():
            self._copy(code_dir, tree, target)
        changed_paths = None if changed is None else tuple(f[0] for f in changed)
        return Snapshot(target, changed_paths, code_dir, tree)

    def accept(self, snapshot: Snapshot) -> None:
        """``snapshot`` is deployed: later snapshots of its source are compared with it."""
        if snapshot.tree is not None:
            self._last[snapshot.source] = snapshot.tree

    def _copy(self, code_dir: Path, tree: CodeTree, target: Path) -> None:
        copy_tree(code_dir, tree, target)

    def prune(self, keep: set[Path]) -> None:
        """Remove snapshots no running version uses."""
        if not self.root.is_dir():
            return
        for entry in self.root.iterdir():
            if entry not in keep:
                shutil.rmtree(entry, ignore_errors=True)


def precompile(root: Path, tree: CodeTree) -> None:
    """Write the bytecode of ``tree``'s Python files beside them (``__pycache__``), as a first
    import would: a sandbox sees code read-only, so every cold start would compile it again.
    A file that does not compile is left to its import to report."""
    for relpath, _, _ in tree.files:
        if relpath.endswith(".py"):
            with contextlib.suppress(OSError, py_compile.PyCompileError, ValueError):
                py_compile.compile(str(root / relpath), doraise=True)


def copy_tree(code_dir: Path, tree: CodeTree, target: Path) -> None:
    """Copy the files of ``tree`` to ``target``, which appears whole (renamed into place from
    a staging directory beside it) or not at all, with its bytecode compiled. A file removed
    meanwhile is left out."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    # mkdtemp's 0700 would keep a function running as a uid of its own (skylet as root) out.
    staging.chmod(0o755)
    try:
        for relpath, _, _ in tree.files:
            destination = staging / relpath
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copy2(code_dir / relpath, destination)
            except FileNotFoundError:  # removed while we copied: the next change redeploys
                continue
        precompile(staging, tree)
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():  # not a concurrent identical copy: a real failure
            raise


class CodeDigest(NamedTuple):
    """What Lambda reports of a function's code: ``sha256``, base64 of the SHA-256 (Lambda's
    CodeSha256, there of the zip file, here of the files: each one's path and content), and
    ``size`` in bytes (CodeSize)."""

    sha256: str
    size: int


def code_digest(
    root: Path, skip: frozenset[Path] = frozenset(), tree: CodeTree | None = None
) -> CodeDigest:
    """The digest of the code below ``root`` as :func:`scan` sees it (``tree``, when the caller
    has just scanned it); reads every file."""
    if tree is None:
        tree = scan(root, skip)
    digest = hashlib.sha256()
    for relpath, _, _ in tree.files:
        try:
            content = (root / relpath).read_bytes()
        except OSError:  # removed since the scan
            continue
        digest.update(f"{relpath}\0{len(content)}\0".encode())
        digest.update(content)
    return CodeDigest(base64.b64encode(digest.digest()).decode(), tree.total_bytes)
