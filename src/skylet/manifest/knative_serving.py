"""Knative Services (``serving.knative.dev/v1`` ``Service``) read into frozen records: a
program serving ``$PORT`` in place of a container image.

``PARSERS`` has the shape of the Knative document loader's table of kinds, ``(apiVersion,
kind) → parser``, a parser taking one document (its data, where each key is, errors naming
the file, line and key) and returning a record: it joins that table with one line. Until the
loader is on main, ``load_services`` reads Service documents with a reader of that shape.

The image cannot run here, so a Service says which program runs instead (docs/knative.md):
the ``skylet.dev/command`` annotation (on the template or the Service, split as a shell
would), or the container's own ``command`` and ``args``; it runs in the document's directory
(or the container's ``workingDir`` under it).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from skylet.autoscale import spec as scale
from skylet.autoscale.spec import ScaleSpec
from skylet.errors import ConfigError
from skylet.manifest.diagnostics import KeyPath
from skylet.manifest.frozen import FrozenDict
from skylet.manifest.knative import documents

SERVING = "serving.knative.dev/v1"
COMMAND = "skylet.dev/command"
#: Requests waiting for an instance beyond this many get 503 (as Knative's activator's
#: breaker sheds them); the annotation sets it per service.
QUEUE_DEPTH = "skylet.dev/queue-depth"
DEFAULT_QUEUE_DEPTH = 1000
DEFAULT_PORT = 8080
DEFAULT_TIMEOUT_S = 300
MAX_TIMEOUT_S = 600
#: Knative's queue-proxy probes a readiness probe without periodSeconds aggressively.
AGGRESSIVE_PERIOD_S = 0.025
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_ENV = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_UNITS = {
    None: 1,
    "k": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
}
_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m)?$")


class Document(Protocol):
    """One document while it is parsed (the Knative loader's reader has these)."""

    path: Path
    name: str

    def where(self, at: KeyPath = ()) -> str: ...
    def error(self, at: KeyPath, message: str) -> ConfigError: ...
    def get(self, at: KeyPath, default: Any = None) -> Any: ...
    def mapping(self, at: KeyPath, allowed: Iterable[str]) -> Mapping[str, Any]: ...
    def text(self, at: KeyPath, default: str | None = None) -> str: ...


@dataclass(frozen=True, slots=True)
class Probe:
    kind: Literal["http", "tcp"]
    path: str
    port: int | None  # None: the instance's own port
    initial_delay_s: float
    period_s: float
    failure_threshold: int
    timeout_s: float


@dataclass(frozen=True, slots=True)
class KnativeService:
    name: str
    namespace: str
    command: tuple[str, ...]
    cwd: Path
    environment: FrozenDict[str, str]
    port: int  # containerPort: what the program would listen on in Knative
    container_concurrency: int  # 0: no limit
    timeout_s: float
    scale: ScaleSpec
    readiness: Probe
    liveness: Probe | None
    memory_mb: int | None
    cpu_millis: int | None
    queue_depth: int
    where: str


def _int(doc: Document, at: KeyPath, default: int, low: int, high: int) -> int:
    value = doc.get(at, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise doc.error(at, f"{value!r} (allowed: a whole number from {low} to {high})")
    return value


def _probe(doc: Document, at: KeyPath, *, readiness: bool) -> Probe | None:
    if doc.get(at) is None:
        if not readiness:
            return None
        # Knative's default: a TCP probe of the port, aggressively until ready.
        return Probe("tcp", "", None, 0, AGGRESSIVE_PERIOD_S, 3, 1)
    body = doc.mapping(
        at,
        (
            "httpGet",
            "tcpSocket",
            "initialDelaySeconds",
            "periodSeconds",
            "failureThreshold",
            "successThreshold",
            "timeoutSeconds",
        ),
    )
    if "exec" in body or "grpc" in body:
        raise doc.error(at, "skylet probes httpGet or tcpSocket")
    period = _int(doc, (*at, "periodSeconds"), 0 if readiness else 10, 0, 3600)
    common = {
        "initial_delay_s": float(_int(doc, (*at, "initialDelaySeconds"), 0, 0, 3600)),
        "period_s": float(period) if period else (AGGRESSIVE_PERIOD_S if readiness else 10.0),
        "failure_threshold": _int(doc, (*at, "failureThreshold"), 3, 1, 1000),
        "timeout_s": float(_int(doc, (*at, "timeoutSeconds"), 1, 1, 3600)),
    }
    if "httpGet" in body:
        get = doc.mapping((*at, "httpGet"), ("path", "port", "scheme", "httpHeaders", "host"))
        path = get.get("path", "/")
        if not isinstance(path, str) or not path.startswith("/"):
            raise doc.error((*at, "httpGet", "path"), f"{path!r} is not a path")
        if get.get("scheme", "HTTP") != "HTTP":
            raise doc.error((*at, "httpGet", "scheme"), "skylet probes HTTP")
        return Probe("http", path, _port(doc, (*at, "httpGet", "port")), **common)  # type: ignore[arg-type]
    if "tcpSocket" in body:
        doc.mapping((*at, "tcpSocket"), ("port", "host"))
        return Probe("tcp", "", _port(doc, (*at, "tcpSocket", "port")), **common)  # type: ignore[arg-type]
    raise doc.error(at, "a probe needs httpGet or tcpSocket")


def _port(doc: Document, at: KeyPath) -> int | None:
    value = doc.get(at)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise doc.error(at, f"{value!r} is not a port number")
    return value


def memory_mb(text: object) -> int:
    """A Kubernetes memory quantity (``128Mi``, ``1Gi``, ``500M``) in MiB, rounded up;
    ValueError for anything else."""
    match = _MEMORY.match(str(text))
    if match is None:
        raise ValueError(f"{text!r} is not a memory quantity (e.g. 128Mi, 1Gi)")
    size = float(match.group(1)) * _UNITS[match.group(2)]
    return max(1, -(-int(size) // 1024**2))


def cpu_millis(text: object) -> int:
    """A Kubernetes CPU quantity (``100m``, ``0.5``, ``2``) in thousandths of a CPU."""
    match = _CPU.match(str(text))
    if match is None:
        raise ValueError(f"{text!r} is not a CPU quantity (e.g. 100m, 0.5, 1)")
    number = float(match.group(1))
    return max(1, round(number if match.group(2) else number * 1000))


def _environment(doc: Document, at: KeyPath) -> dict[str, str]:
    items = doc.get(at, [])
    if not isinstance(items, list):
        raise doc.error(at, "must be a list of {name, value}")
    environment: dict[str, str] = {}
    for index, item in enumerate(items):
        doc.mapping((*at, index), ("name", "value", "valueFrom"))
        name = doc.text((*at, index, "name"))
        if not _ENV.match(name):
            raise doc.error((*at, index, "name"), f"{name!r} is not a variable name")
        if "valueFrom" in item:
            raise doc.error((*at, index, "valueFrom"), "skylet takes env values, not valueFrom")
        value = item.get("value", "")
        environment[name] = value if isinstance(value, str) else str(value)
    return environment


def _command(doc: Document, container: KeyPath, annotations: Mapping[str, Any]) -> tuple[str, ...]:
    given = annotations.get(COMMAND)
    if given is not None:
        try:
            words = tuple(shlex.split(str(given)))
        except ValueError as error:
            raise doc.error((), f"{COMMAND}: {error}") from None
        if words:
            return words
    found: list[str] = []
    for key in ("command", "args"):
        part = doc.get((*container, key), [])
        if not isinstance(part, list) or not all(isinstance(w, str) for w in part):
            raise doc.error((*container, key), "must be a list of strings")
        found.extend(part)
    if not found:
        image = doc.get((*container, "image"), "")
        raise doc.error(
            (*container, "image"),
            f"skylet runs no container image ({image!r}): say which program serves $PORT in "
            f"the {COMMAND} annotation or the container's command",
        )
    return tuple(found)


def parse_service(doc: Document) -> KnativeService:
    doc.mapping((), ("apiVersion", "kind", "metadata", "spec", "status"))
    meta = doc.mapping(("metadata",), ("name", "namespace", "labels", "annotations"))
    name = doc.text(("metadata", "name"))
    if not _NAME.match(name):
        raise doc.error(("metadata", "name"), f"{name!r} is not a Kubernetes name")
    namespace = meta.get("namespace", "default")
    if not isinstance(namespace, str) or not _NAME.match(namespace):
        raise doc.error(("metadata", "namespace"), f"{namespace!r} is not a namespace name")
    doc.mapping(("spec",), ("template", "traffic"))
    doc.mapping(("spec", "template"), ("metadata", "spec"))
    doc.mapping(("spec", "template", "metadata"), ("name", "annotations", "labels"))
    at: KeyPath = ("spec", "template", "spec")
    doc.mapping(
        at,
        (
            "containers",
            "containerConcurrency",
            "timeoutSeconds",
            "responseStartTimeoutSeconds",
            "idleTimeoutSeconds",
            "enableServiceLinks",
            "serviceAccountName",
        ),
    )
    containers = doc.get((*at, "containers"))
    if not isinstance(containers, list) or len(containers) != 1:
        raise doc.error((*at, "containers"), "skylet runs a Service of exactly one container")
    container: KeyPath = (*at, "containers", 0)
    doc.mapping(
        container,
        (
            "name",
            "image",
            "imagePullPolicy",
            "command",
            "args",
            "env",
            "ports",
            "resources",
            "readinessProbe",
            "livenessProbe",
            "workingDir",
        ),
    )
    annotations: dict[str, Any] = {}
    for where in (("metadata", "annotations"), ("spec", "template", "metadata", "annotations")):
        found = doc.get(where, {})
        if not isinstance(found, Mapping):
            raise doc.error(where, "must be a mapping")
        annotations.update(found)
    cc = _int(doc, (*at, "containerConcurrency"), 0, 0, 1000)
    try:
        spec = scale.parse(annotations, cc, where=doc.where(("spec", "template", "metadata")))
    except ConfigError:
        raise
    ports = doc.get((*container, "ports"), [])
    if not isinstance(ports, list) or len(ports) > 1:
        raise doc.error((*container, "ports"), "a Service's container has at most one port")
    port = DEFAULT_PORT
    if ports:
        doc.mapping((*container, "ports", 0), ("containerPort", "name", "protocol"))
        port = _port(doc, (*container, "ports", 0, "containerPort")) or DEFAULT_PORT
    doc.mapping((*container, "resources"), ("requests", "limits"))
    doc.mapping((*container, "resources", "limits"), ("memory", "cpu", "ephemeral-storage"))
    limits = doc.get((*container, "resources", "limits"), {})
    memory = cpu = None
    try:
        if "memory" in limits:
            memory = memory_mb(limits["memory"])
        if "cpu" in limits:
            cpu = cpu_millis(limits["cpu"])
    except ValueError as error:
        raise doc.error((*container, "resources", "limits"), str(error)) from None
    workdir = doc.get((*container, "workingDir"), ".")
    if not isinstance(workdir, str):
        raise doc.error((*container, "workingDir"), "must be a directory")
    depth = annotations.get(QUEUE_DEPTH, DEFAULT_QUEUE_DEPTH)
    if not str(depth).isdigit():
        raise doc.error((), f"{QUEUE_DEPTH}: {depth!r} is not a count")
    return KnativeService(
        name=name,
        namespace=namespace,
        command=_command(doc, container, annotations),
        cwd=(doc.path.parent / workdir).resolve(),
        environment=FrozenDict(_environment(doc, (*container, "env"))),
        port=port,
        container_concurrency=cc,
        timeout_s=float(_int(doc, (*at, "timeoutSeconds"), DEFAULT_TIMEOUT_S, 1, MAX_TIMEOUT_S)),
        scale=spec,
        readiness=_probe(doc, (*container, "readinessProbe"), readiness=True),  # type: ignore[arg-type]
        liveness=_probe(doc, (*container, "livenessProbe"), readiness=False),
        memory_mb=memory,
        cpu_millis=cpu,
        queue_depth=int(depth),
        where=doc.where(),
    )


#: (apiVersion, kind) → parser, for the Knative document loader's table.
PARSERS = {(SERVING, "Service"): parse_service}


def has_services(path: Path) -> bool:
    """Whether ``path`` holds a Knative Service document."""
    try:
        return any((r.data.get("apiVersion"), r.kind) in PARSERS for r in documents(path))
    except ConfigError:
        return False


def load_services(paths: Sequence[Path]) -> tuple[KnativeService, ...]:
    """The Services of ``paths`` (other Knative kinds are the eventing loader's); ConfigError
    for a bad one, or two of one name."""
    found: dict[str, KnativeService] = {}
    for path in paths:
        for reader in documents(path):
            parser = PARSERS.get((str(reader.data.get("apiVersion")), reader.kind))
            if parser is None:
                continue
            service = parser(reader)
            if service.name in found:
                raise reader.error(("metadata", "name"), f"a second Service {service.name!r}")
            found[service.name] = service
    return tuple(found.values())


#: Service documents ``skylet up`` loads from the manifest's directory when they exist.
SERVICE_NAMES = ("service.yaml", "service.yml")


def service_paths(manifest_path: Path, extra: Sequence[Path] = ()) -> list[Path]:
    """The Service documents of a project: ``service.yaml`` beside the manifest, the
    manifest itself when it is one, and ``extra`` (``--knative`` files)."""
    paths = [
        manifest_path.parent / n for n in SERVICE_NAMES if (manifest_path.parent / n).is_file()
    ]
    if manifest_path not in paths and manifest_path.is_file() and has_services(manifest_path):
        paths.append(manifest_path)
    paths.extend(p for p in extra if p not in paths)
    return paths
