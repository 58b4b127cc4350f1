"""A function's requirements.txt, installed once into a cache keyed by the file's content."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from skylet.errors import DependencyInstallError


def cache_dir(requirements: Path, root: Path) -> Path:
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:24]
    return root / digest


async def ensure_installed(
    requirements: Path,
    root: Path,
    *,
    python: str = sys.executable,
    progress: Callable[[str], None] = lambda _: None,
) -> Path:
    """The directory holding ``requirements``'s packages, installing them first if needed.

    Idempotent and safe against a crash midway: packages are installed into a temporary
    directory that is renamed into place only once pip succeeded.
    """
    target = cache_dir(requirements, root)
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    progress(f"installing {requirements} into {target}")
    proc = await asyncio.create_subprocess_exec(
        python,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--target",
        str(staging),
        "-r",
        str(requirements),
        cwd=str(requirements.parent),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await proc.communicate()
    if proc.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = output.decode(errors="replace").strip()[-2000:]
        raise DependencyInstallError(f"pip could not install {requirements}:\n{tail}")
    staging.rename(target)
    return target
