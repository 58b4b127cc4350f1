"""The runtimes that are not a Python interpreter, in one place: which runtime names are
custom (an executable ``bootstrap`` speaking the Lambda Runtime API) or Node.js, and what an
instance of each executes (looking only at the code directory's files; the platform passes in
where Node.js is).

- ``provided``, ``provided.al2``, ``provided.al2023``: the code directory's ``bootstrap``.
- ``go1.x``: AWS retired it (functions moved to ``provided.al2023`` with a ``bootstrap``); it
  runs as ``provided``, with the handler's executable as the bootstrap when the code has no
  ``bootstrap`` file, which is how ``go1.x`` started a function. When the code has neither,
  the handler is taken as a Python handler: a Go service's serverless.yml ported to Python
  with its handlers rewritten keeps loading unchanged.
- ``nodejs20.x``, ``nodejs22.x``: ``handler: index.handler`` through AWS's Node.js runtime
  interface client when the code brings it (``node_modules/aws-lambda-ric``), else through
  skylet's own small client (``worker/node/bootstrap.mjs``), both speaking the Runtime API.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

Kind = Literal["python", "provided", "nodejs"]

PROVIDED = frozenset({"provided", "provided.al2", "provided.al2023", "go1.x"})
NODEJS = frozenset({"nodejs20.x", "nodejs22.x"})
#: skylet's own Node.js client of the Runtime API.
NODE_BOOTSTRAP = Path(__file__).parent / "worker" / "node" / "bootstrap.mjs"
#: AWS's Node.js client, when a function's code installed it.
NODE_RIC = Path("node_modules") / "aws-lambda-ric" / "bin" / "index.mjs"
NODE_MISSING = (
    "needs Node.js, which is not installed: install it (Debian: apt-get install nodejs) "
    "or put `node` on the PATH"
)


def kind(runtime: str | None) -> Kind:
    """What runs a function of ``runtime`` (which the manifest has validated; None: the
    default runtime, a Python one)."""
    if runtime in PROVIDED:
        return "provided"
    if runtime in NODEJS:
        return "nodejs"
    return "python"


def note(runtime: str | None) -> str | None:
    """What skylet says about a runtime it runs differently from its name."""
    if runtime == "go1.x":
        return (
            "go1.x is retired on AWS Lambda; skylet runs it as provided.al2023 (the code's "
            "bootstrap, or the handler's executable), or else as a Python handler"
        )
    return None


def has_extensions(opt_dir: str | None) -> bool:
    """The unpacked layers bring an executable under ``extensions/``."""
    if opt_dir is None:
        return False
    try:
        entries = list(os.scandir(Path(opt_dir) / "extensions"))
    except OSError:
        return False
    return any(e.is_file() and os.access(e.path, os.X_OK) for e in entries)


def bootstrap_argv(
    runtime: str,
    handler: str,
    code_dir: Path,
    node: str | None,
    *,
    opt_dir: str | None = None,
    python: str | None = None,
) -> list[str]:
    """The argv an instance of a custom or Node.js function executes; empty for a Python
    function (and for ``go1.x`` whose code has no executable to run), unless its layers
    (``opt_dir``) bring extensions: then ``python`` runs it as a Runtime API client
    (skylet.worker.python_bootstrap), since only a relay serves the Extensions API.
    ``node``: the Node.js executable (None: not installed; the deploy refused such functions)."""
    which = kind(runtime)
    if which == "provided":
        bootstrap = code_dir / "bootstrap"
        if runtime == "go1.x" and not bootstrap.exists():
            bootstrap = code_dir / handler
            if not (bootstrap.is_file() and os.access(bootstrap, os.X_OK)):
                return []  # a Python handler under go1.x's name
        return [str(bootstrap)]
    if which == "nodejs":
        ric = code_dir / NODE_RIC
        client = ric if ric.is_file() else NODE_BOOTSTRAP
        return [node or "node", str(client), handler]
    if python is not None and has_extensions(opt_dir):
        return [python, "-m", "skylet.worker.python_bootstrap", handler]
    return []
