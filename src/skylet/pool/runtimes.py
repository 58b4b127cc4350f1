"""Lambda's runtimes on this machine: which program runs a function of each, or why none can.

The one table of runtimes. :func:`choose` is the decision, pure: a runtime name (``python3.12``)
and what the machine has (the platform's own interpreter, a lookup of programs on the ``PATH``
the CLI captured, interpreters configured by runtime) give a :class:`Launcher` or the sentence
that refuses it, naming what to install. :class:`Runtimes` applies it to one machine, once per
name, and picks the default runtime: the newest Python Lambda offers that is installed.

- ``python3.X``: a zygote of ``python3.X`` (skylet.pool.zygotes), the platform's own
  interpreter when it is that version, else the one configured, else ``python3.X`` on PATH.
  skylet's worker code runs on Python 3.11 and newer (:data:`OLDEST_PYTHON`): Lambda's
  ``python3.10`` is refused with that reason. A candidate is run once to learn its version
  (``version_of``): a pyenv shim of a version that is not active, or a ``python3.12`` that is
  really 3.11, is refused with what it answered.
- the custom runtimes (``provided``, ``provided.al2``, ``provided.al2023``, and ``go1.x``,
  which Lambda retired and skylet runs as ``provided.al2023``) and Node.js (``nodejs20.x``,
  ``nodejs22.x``): an instance of the platform's own interpreter that serves the Runtime API
  and executes the bootstrap (skylet.custom_runtimes decides what it executes);
- every other Lambda runtime family (``java``, ``dotnet``, ``ruby``, other ``nodejs``
  versions) is refused until skylet runs it (:data:`NOT_YET`); a name that is no Lambda
  runtime is refused with the list of those that are.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from skylet import custom_runtimes
from skylet.errors import ConfigError

#: The Python runtimes Lambda offers, newest first (python3.9 was deprecated in December 2025).
PYTHON_RUNTIMES = ("python3.14", "python3.13", "python3.12", "python3.11", "python3.10")
#: The oldest Python skylet's worker code (skylet.worker, skylet.wire) runs on.
OLDEST_PYTHON = (3, 11)
#: Lambda's other runtime families, refused until skylet runs them: family → what it is.
NOT_YET: Mapping[str, str] = MappingProxyType(
    {
        "nodejs": "this Node.js version",
        "java": "Java",
        "dotnet": ".NET",
        "ruby": "Ruby",
        "provided": "this custom runtime",
    }
)
#: What runs besides Python: custom runtimes (a bootstrap) and Node.js, by runtime.
OTHERS = custom_runtimes.PROVIDED | custom_runtimes.NODEJS
_PYTHON = re.compile(r"^python(\d+)\.(\d+)$")
_FAMILY = re.compile(r"^(nodejs|java|dotnet|ruby|provided)(?:\d|\.|$)")


@dataclass(frozen=True, slots=True)
class Launcher:
    """How a function of ``runtime`` runs: its ``family`` and the ``program`` that starts it
    (a Python interpreter's path); ``host``: that program is the platform's own interpreter."""

    runtime: str
    family: Literal["python", "provided", "nodejs"]
    program: str
    host: bool = False


class RuntimeRefused(ConfigError):
    """A function's runtime cannot run here; the message says why and what to install."""


def choose(
    runtime: str,
    *,
    host: tuple[int, int],
    host_program: str,
    which: Callable[[str], str | None],
    version_of: Callable[[str], tuple[int, int] | str],
    configured: Mapping[str, str] = MappingProxyType({}),
) -> Launcher | str:
    """The launcher of ``runtime`` on a machine whose own interpreter is Python ``host`` at
    ``host_program``, where ``which(name)`` finds a program on PATH, ``version_of(program)``
    is the Python version it runs (or why it does not run), and ``configured`` maps runtimes
    to interpreters; or why it cannot run there (a sentence)."""
    python = _PYTHON.match(runtime)
    if runtime in OTHERS:  # the platform's interpreter serves the Runtime API to a bootstrap
        kind = custom_runtimes.kind(runtime)
        family: Literal["provided", "nodejs"] = "nodejs" if kind == "nodejs" else "provided"
        return Launcher(runtime, family, host_program, host=True)
    if python is None:
        family_of = _FAMILY.match(runtime)
        if family_of is not None:
            return (
                f"runtime {runtime}: skylet does not run {NOT_YET[family_of.group(1)]} yet; "
                f"use a Python runtime ({', '.join(PYTHON_RUNTIMES)}), "
                f"{', '.join(sorted(OTHERS))}"
            )
        return f"runtime {runtime} is not a Lambda runtime (Python: {', '.join(PYTHON_RUNTIMES)})"
    version = (int(python.group(1)), int(python.group(2)))
    if runtime not in PYTHON_RUNTIMES:
        return f"runtime {runtime} is not one Lambda offers (Python: {', '.join(PYTHON_RUNTIMES)})"
    if version < OLDEST_PYTHON:
        major, minor = OLDEST_PYTHON
        return (
            f"runtime {runtime}: skylet's runtime needs Python {major}.{minor} or newer; "
            f"use python{major}.{minor} or a newer one"
        )
    found = configured.get(runtime)
    if found is None and version == host:
        return Launcher(runtime, "python", host_program, host=True)
    wanted = f"{version[0]}.{version[1]}"
    name_it = f"--interpreter {runtime}=/path/to/python"
    found = found or which(runtime)
    if found is None:
        return (
            f"runtime {runtime} needs Python {wanted}, and no {runtime} is on PATH: install "
            f"Python {wanted} (your system's {runtime} package, pyenv, or `uv python install "
            f"{wanted}`) so that {runtime} is on PATH, or name it with {name_it}"
        )
    runs = version_of(found)
    if isinstance(runs, str):
        return (
            f"runtime {runtime}: {found} does not run ({runs}); install Python {wanted}, or "
            f"name another with {name_it}"
        )
    if runs != version:
        return (
            f"runtime {runtime}: {found} is Python {runs[0]}.{runs[1]}, not {wanted}; install "
            f"Python {wanted}, or name it with {name_it}"
        )
    return Launcher(runtime, "python", found)


def python_version(program: str, search_path: str | None = None) -> tuple[int, int] | str:
    """The Python version ``program`` runs, by running it once (at most 10 s), or what went
    wrong (its last line of error output)."""
    env = {"PATH": search_path} if search_path is not None else {}
    try:
        done = subprocess.run(
            [program, "-I", "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            timeout=10,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    words = done.stdout.split()
    if done.returncode != 0 or len(words) != 2 or not all(w.isdigit() for w in words):
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        return lines[0] if lines else f"exit status {done.returncode}"
    return int(words[0]), int(words[1])


@dataclass(slots=True)
class Runtimes:
    """:func:`choose` on this machine: ``search_path`` is the PATH to look programs up on (the
    CLI's; None: only the platform's own interpreter and ``configured`` ones), ``configured``
    maps runtimes to interpreters (``--interpreter``). Each name is looked up once."""

    search_path: str | None = None
    configured: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    host_program: str = sys.executable
    host: tuple[int, int] = (sys.version_info.major, sys.version_info.minor)
    _chosen: dict[str, Launcher | str] = field(default_factory=dict)

    def _which(self, name: str) -> str | None:
        if self.search_path is None:
            return None
        return shutil.which(name, path=self.search_path)

    def choose(self, runtime: str) -> Launcher | str:
        if runtime not in self._chosen:
            self._chosen[runtime] = choose(
                runtime,
                host=self.host,
                host_program=self.host_program,
                which=self._which,
                version_of=lambda program: python_version(program, self.search_path),
                configured=self.configured,
            )
        return self._chosen[runtime]

    def launcher(self, runtime: str) -> Launcher:
        """The launcher of ``runtime``, or RuntimeRefused saying why there is none."""
        chosen = self.choose(runtime)
        if isinstance(chosen, str):
            raise RuntimeRefused(chosen)
        return chosen

    def default(self) -> str:
        """The runtime of a function that names none: the newest Python runtime Lambda offers
        that this machine runs (the platform's own interpreter's, at worst)."""
        for runtime in PYTHON_RUNTIMES:
            if isinstance(self.choose(runtime), Launcher):
                return runtime
        return f"python{self.host[0]}.{self.host[1]}"
