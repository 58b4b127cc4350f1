"""What a function can import: the standard library, the AWS SDK that Lambda's Python runtime
includes (boto3, botocore and their dependencies), its own code and requirements, and the
runtime's ``snapshot_restore_py``. Nothing of the platform: not its packages (pydantic, click,
httpx, …), of skylet only what is made for functions (:data:`FUNCTION_API`), and not the
versions of orjson or werkzeug the runtime itself uses.

The zygote imports what every instance runs (skylet's worker code, orjson, werkzeug,
cloudevents) before it forks, so that no cold start pays for it. A function's template then
calls :func:`isolate` once, before the function's code is imported:

- every module loaded from outside the standard library is renamed under ``_skylet_runtime.``
  in ``sys.modules``: the runtime's code keeps the objects it holds, and its packages' relative
  imports (``from .wrappers import …``, even of a submodule first needed later) resolve under
  the new name, while ``import werkzeug`` in the function looks for the function's own;
- the import path becomes the function's directories, then the standard library's, then
  ``snapshot_restore_py``'s, and the import hooks that site-packages installed are dropped;
- the platform's site-packages stay reachable for the SDK's modules alone (:class:`SdkFinder`,
  consulted after the path, so a function that brings its own boto3 gets its own).
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import Any

#: Where the runtime's own modules go in ``sys.modules`` once a function's template isolated it.
PREFIX = "_skylet_runtime."
#: Lambda's Python runtimes include the AWS SDK: these top-level modules, from these
#: distributions (boto3's dependencies and theirs).
SDK_MODULES = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}
)
SDK_DISTRIBUTIONS = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3", "six"}
)

#: skylet's modules a function may import (``from skylet import Response``, ``storage``,
#: ``arns``); those the zygote loaded (the worker's, as awslambdaric is visible on Lambda) stay
#: loaded under their names, and any other (``skylet.platform``) is not found.
FUNCTION_API = frozenset({"skylet", "skylet.storage", "skylet.arns"})
#: Kept under their names: the program the zygote runs as (awslambdaric's bootstrap is the
#: ``__main__`` of a Lambda function's process).
_KEPT = frozenset({"__main__", "__mp_main__"})
#: The modules renamed by :func:`isolate`, by their original names (kept alive with them).
hidden: dict[str, ModuleType] = {}
#: The standard library's entries of the path, as :func:`isolate` first found them.
_stdlib: list[str] = []


def stdlib_entry(entry: str, bases: frozenset[str] | None = None) -> bool:
    """Whether a ``sys.path`` entry is this interpreter's standard library (its zip, its
    ``lib/pythonX.Y``, its ``lib-dynload``), not a site-packages directory. ``bases``: the
    resolved ``sys.base_prefix`` and ``sys.base_exec_prefix`` (computed when not given)."""
    if not entry or "site-packages" in entry or "dist-packages" in entry:
        return False
    if bases is None:
        bases = frozenset(os.path.realpath(p) for p in (sys.base_prefix, sys.base_exec_prefix))
    real = os.path.realpath(entry)
    return any(real == base or real.startswith(base + os.sep) for base in bases)


def _from_platform(module: ModuleType, stdlib: tuple[str, ...]) -> bool:
    """Whether ``module`` was loaded from outside the standard library (a built-in or frozen
    module, or one without a file, such as ``__main__``, is not)."""
    files: list[str] = []
    file = getattr(module, "__file__", None)
    if isinstance(file, str):
        files.append(file)
    elif (path := getattr(module, "__path__", None)) is not None:
        files.extend(str(p) for p in path)  # a namespace package
    if not files:
        return False
    # A module's file is named from the path entry it was found on: no realpath per module
    # (it had cost ~20 ms a template); the roots are the entries as given and resolved.
    return not all(f.startswith(stdlib) and "-packages" not in f for f in files)


def _rename(name: str, module: ModuleType) -> None:
    new = PREFIX + name
    module.__name__ = new
    spec = getattr(module, "__spec__", None)
    if spec is not None:
        spec.name = new
    if getattr(module, "__package__", None):
        module.__package__ = new if hasattr(module, "__path__") else new.rpartition(".")[0]
    sys.modules[new] = module


def isolate(first: Iterable[str], last: Iterable[str] = ()) -> None:
    """Make this process's imports a function's (see the module's docstring): ``first``, the
    function's own directories, lead the path; ``last`` ends it. The modules and hooks are
    dealt with once per process (the template); each call sets the path."""
    if not _stdlib:
        _hide_platform()
    path = [*first, *_stdlib, *last]
    if sys.path != path:
        sys.path[:] = path
        sys.path_importer_cache.clear()


def _hide_platform() -> None:
    bases = frozenset(os.path.realpath(p) for p in (sys.base_prefix, sys.base_exec_prefix))
    standard = {p: stdlib_entry(p, bases) for p in sys.path if p}
    _stdlib[:] = [p for p, yes in standard.items() if yes]
    platform = [p for p, yes in standard.items() if not yes]
    roots = tuple(
        {root + os.sep for p in _stdlib for root in (p.rstrip(os.sep), os.path.realpath(p))}
    )
    roots += tuple(p for p in _stdlib if p.endswith(".zip"))
    moved = [
        n
        for n, m in list(sys.modules.items())
        if n not in _KEPT and n.partition(".")[0] != "skylet" and _from_platform(m, roots)
    ]
    tops = {n.partition(".")[0] for n in moved}
    # Submodules without files of their own (six.moves) go with their package.
    moved += [n for n in sys.modules if n.partition(".")[0] in tops and n not in moved]
    for name in moved:
        module = sys.modules.pop(name)
        hidden[name] = module
        _rename(name, module)
    sys.meta_path[:] = [SkyletGuard(), *(f for f in sys.meta_path if _ours(f)), SdkFinder(platform)]
    sys.path_hooks[:] = [h for h in sys.path_hooks if _ours(h)]


def _ours(hook: Any) -> bool:
    """Whether an import hook is the interpreter's own, not one site-packages installed (an
    editable install's finder, setuptools' distutils shim)."""
    name = getattr(hook, "__module__", None) or type(hook).__module__ or ""
    if isinstance(hook, SdkFinder | SkyletGuard):
        return False  # added again around the others
    return name.partition(".")[0] in sys.stdlib_module_names or name.startswith("_frozen")


class SkyletGuard:
    """First on ``sys.meta_path``: a module of skylet's that is neither loaded already nor
    one of :data:`FUNCTION_API` is not found (it would be found through skylet's ``__path__``
    otherwise, whatever ``sys.path`` holds)."""

    def find_spec(
        self, name: str, path: Any = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name.startswith("skylet.") and name not in FUNCTION_API:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

    def invalidate_caches(self) -> None:
        pass


class SdkFinder:
    """Finds the AWS SDK's modules (and their distributions' metadata, for
    ``importlib.metadata.version("boto3")``) in the platform's site-packages, and nothing else
    there. Last on ``sys.meta_path``: what the function's own path holds comes first."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths

    def find_spec(
        self, name: str, path: Any = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        # A submodule is found through its package's __path__ by the standard PathFinder.
        if path is not None or name.partition(".")[0] not in SDK_MODULES:
            return None
        return importlib.machinery.PathFinder.find_spec(name, self.paths)

    def find_distributions(self, context: Any = None) -> Iterator[Any]:
        from importlib.metadata import DistributionFinder, MetadataPathFinder

        name = getattr(context, "name", None)
        if name is not None and _normal(name) not in SDK_DISTRIBUTIONS:
            return iter(())
        found = MetadataPathFinder.find_distributions(
            DistributionFinder.Context(name=name, path=self.paths)
        )
        return (d for d in found if _normal(d.metadata["Name"] or "") in SDK_DISTRIBUTIONS)

    def invalidate_caches(self) -> None:
        pass


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")
