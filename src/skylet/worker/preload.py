"""What a function's template imports of the function's own requirements before it forks any
instance: the framework its style runs under, as functions-framework is loaded before the
function's module on Cloud Functions. Every instance then finds those modules in
``sys.modules`` (shared copy-on-write) instead of importing them on its cold start.

- Only what the function's own path provides (its code directory and requirements: never
  the runtime's copies, which :func:`skylet.worker.imports.isolate` hid), and never the
  handler's module, whose import is the function's init (``snap_start`` takes that).
- The template's environment, working directory and path are already the function's
  (``instance.setup_process`` ran first), so a framework that reads them at import sees what
  it would see in an instance; only the instance's own log stream and init type differ. What
  it prints then is discarded (the template's output is the platform's).
- A preload that fails (a broken package, one that exits, one past :data:`LIMIT_S`) is undone
  whole: every module it added leaves ``sys.modules``, and each instance imports for itself
  as if nothing had been preloaded, so the error is the function's init's
  (``Runtime.ImportModuleError``, or the style's), not the template's.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.machinery
import os
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType, MappingProxyType

#: By style, what its framework imports, in order. Cloud Functions' styles run under
#: functions-framework (which brings Flask, werkzeug and cloudevents); an HTTP function may use
#: Flask or werkzeug without it (skylet's Flask bridge imports the function's Flask); a
#: CloudEvent function's code imports ``cloudevents.http`` for its event's type. A Lambda
#: style function's imports are all its own init's.
PRELOADS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "lambda": (),
        "http": ("functions_framework", "flask", "werkzeug"),
        "cloudevent": ("functions_framework", "cloudevents.http"),
        "background": ("functions_framework",),
    }
)
#: How long the preload may take (s); past it, it is undone and the instances import for
#: themselves (functions-framework and Flask take ~90 ms on a quiet machine).
LIMIT_S = 5.0


@dataclass(frozen=True, slots=True)
class Preloaded:
    """What was imported (``modules``), or why nothing was (``error``), and the top-level
    names the function's path did not provide (``absent``)."""

    modules: tuple[str, ...] = ()
    error: str | None = None
    absent: tuple[str, ...] = ()


class PreloadTimedOut(BaseException):
    """Raised by the preload's alarm: a BaseException, so ``except Exception`` in an
    imported module does not swallow it."""


def preload(
    style: str, paths: Sequence[str], handler: str, *, limit_s: float = LIMIT_S
) -> Preloaded:
    """Import ``style``'s modules (:data:`PRELOADS`) that ``paths`` (the function's own
    directories, which lead the import path) provide, except ``handler``'s module; all of
    them, or none."""
    handler_top = handler.rsplit(".", 1)[0].replace("/", ".").partition(".")[0]
    wanted: list[str] = []
    absent: list[str] = []
    for name in PRELOADS.get(style, ()):
        top = name.partition(".")[0]
        if top == handler_top or name in sys.modules:
            continue
        found = _find(top, paths)
        (wanted if found else absent).append(name)
    if not wanted:
        return Preloaded(absent=tuple(absent))
    before = set(sys.modules)
    try:
        with deadline(limit_s), _silenced():
            for name in wanted:
                importlib.import_module(name)
    except BaseException as exc:  # whatever a package does at import, the template lives
        for added in set(sys.modules) - before:
            del sys.modules[added]
        message = str(exc) or type(exc).__name__
        if isinstance(exc, PreloadTimedOut):
            message = f"took more than {limit_s:g} s"
        return Preloaded(error=f"{type(exc).__name__}: {message}", absent=tuple(absent))
    return Preloaded(modules=tuple(wanted), absent=tuple(absent))


def _find(top: str, paths: Sequence[str]) -> bool:
    with contextlib.suppress(ImportError, ValueError, OSError):
        return importlib.machinery.PathFinder.find_spec(top, list(paths)) is not None
    return False


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """fd 1 and 2 on ``/dev/null`` in the block: the template's own output is the platform's
    (its stderr), which no function's package writes to."""
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.close(devnull)
        for fd, kept in zip((1, 2), saved, strict=True):
            os.dup2(kept, fd)
            os.close(kept)


@contextlib.contextmanager
def deadline(limit_s: float = LIMIT_S) -> Iterator[None]:
    """Raise :class:`PreloadTimedOut` in the block after ``limit_s`` (a Python-level loop;
    a blocking system call is interrupted too, a C extension's own loop is not)."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise PreloadTimedOut

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
