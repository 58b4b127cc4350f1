"""Hot reload: watch the manifest and the functions' code, and redeploy when they change.

Uses ``watchfiles`` (inotify on Linux, through a maintained Rust core) rather than polling: a
save is seen within milliseconds. Changes are debounced briefly, because an editor's save is often
several events (write a temporary file, rename it, touch the directory).

A Python file that does not compile stops the reload before anything is deployed (the platform
checks the new snapshot), so the running version keeps serving and the message names the file and
line; a manifest error does the same.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import watchfiles

from skylet.build.snapshots import is_code_path
from skylet.errors import SkyletError

#: How long a burst of file events may last before the reload starts.
DEBOUNCE_MS = 40
#: How often the watcher looks for the end of a burst.
STEP_MS = 10
#: A quiet period after which the watcher wakes up with no changes: the first one tells that the
#: watch is in place.
CATCH_UP_AFTER_MS = 100


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """One reload: the functions it changed, or why it changed nothing; and how long it took."""

    changed: tuple[str, ...]
    error: str | None
    seconds: float
    paths: tuple[Path, ...]


class Watcher:
    """Calls ``redeploy`` after each burst of relevant changes below ``roots()``.

    ``roots`` is asked again after every reload, since the manifest may point at new code.
    """

    def __init__(
        self,
        roots: Callable[[], set[Path]],
        redeploy: Callable[[], Awaitable[list[str]]],
        report: Callable[[ReloadOutcome], None],
        *,
        skip: frozenset[Path] = frozenset(),
    ) -> None:
        """``skip``: directories whose changes are never code (skylet's data directory, which
        may be inside the project: writing snapshots there must not trigger another reload)."""
        self._roots = roots
        self._skip = frozenset(Path(os.path.realpath(d)) for d in skip)
        self._redeploy = redeploy
        self._report = report
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        while not self._stop.is_set():
            roots = {r for r in self._roots() if r.is_dir()}
            if not roots:
                return
            caught_up = False
            async for changes in watchfiles.awatch(
                *sorted(roots),
                watch_filter=self._relevant,
                debounce=DEBOUNCE_MS,
                step=STEP_MS,
                stop_event=self._stop,
                recursive=True,
                ignore_permission_denied=True,
                rust_timeout=CATCH_UP_AFTER_MS,
                yield_on_timeout=True,
            ):
                if not changes:
                    if caught_up:
                        continue
                    # The watch is in place now; whatever changed between the deploy and this
                    # moment was not seen by it, so look once (a redeploy of nothing is a no-op).
                    caught_up = True
                started = time.perf_counter()
                paths = tuple(sorted({Path(p) for _, p in changes}))
                outcome = await self._reload(paths, started)
                if outcome.changed or outcome.error:
                    self._report(outcome)
                if self._roots() != roots:
                    break  # watch the new set of directories

    def _relevant(self, change: watchfiles.Change, path: str) -> bool:
        return is_code_path(Path(path), self._skip)

    async def _reload(self, paths: tuple[Path, ...], started: float) -> ReloadOutcome:
        try:
            changed = await self._redeploy()
        except SkyletError as error:
            return ReloadOutcome((), str(error), time.perf_counter() - started, paths)
        except Exception as error:  # the development loop outlives any one failed reload
            message = f"{type(error).__name__}: {error}"
            return ReloadOutcome((), message, time.perf_counter() - started, paths)
        return ReloadOutcome(tuple(changed), None, time.perf_counter() - started, paths)
