"""A function's layers unpacked together, in order, as Lambda extracts them into /opt: each a
directory or a zip file; a later layer's file replaces an earlier one's. The result is one
directory per distinct set of contents, made once and kept (named by a digest of the layers'
files: paths, sizes, modification times)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from skylet.errors import ConfigError


def digest(layers: Sequence[Path]) -> str:
    """What identifies the layers' contents, cheaply: every file's path, size and mtime."""
    h = hashlib.sha256()
    for layer in layers:
        h.update(f"{layer}\0".encode())
        files = sorted(p for p in layer.rglob("*") if p.is_file()) if layer.is_dir() else [layer]
        for path in files:
            info = path.stat()
            h.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return h.hexdigest()[:16]


def unpack(layers: Sequence[Path], root: Path) -> Path:
    """``root/<digest>``: the layers' contents merged, readable by every function's uid."""
    target = root / digest(layers)
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=root, prefix=".unpacking-"))
    try:
        for layer in layers:
            if layer.is_dir():
                shutil.copytree(layer, work, symlinks=True, dirs_exist_ok=True)
            else:
                _extract(layer, work)
        for directory, _, files in os.walk(work):
            Path(directory).chmod(0o755)
            for name in files:
                path = Path(directory, name)
                if not path.is_symlink():
                    path.chmod(path.stat().st_mode | 0o444)
        work.chmod(0o755)
        work.replace(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if target.is_dir():  # made meanwhile by another
            return target
        raise
    return target


def _extract(archive: Path, into: Path) -> None:
    """A layer's zip, with the modes it was made with (extensions and bootstraps are
    executables); zipfile keeps every member inside ``into``."""
    try:
        with zipfile.ZipFile(archive) as z:
            for member in z.infolist():
                written = Path(z.extract(member, into))
                mode = (member.external_attr >> 16) & 0o777
                if mode and not member.is_dir():
                    written.chmod(mode)
    except zipfile.BadZipFile as exc:
        raise ConfigError(f"the layer {archive} is not a zip file: {exc}") from None
