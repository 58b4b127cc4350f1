"""Knative documents: multi-document YAML files of Knative resources, read into frozen records.

One loader for every kind, with a table of kinds → parsers (``PARSERS``): a kind joins by
adding its parser there. What it reads today:

- ``eventing.knative.dev/v1`` ``Broker``: name, namespace, ``spec.delivery``;
- ``eventing.knative.dev/v1`` ``Trigger``: broker, ``filter.attributes``, ``filters``,
  subscriber, delivery;
- ``sources.knative.dev/v1`` ``PingSource``: schedule, timezone, data or dataBase64,
  contentType, sink;
- ``sources.knative.dev/v1alpha1`` ``AwsS3Source``: the bucket's ARN, a broker sink.

A destination (a subscriber, a sink, a dead-letter sink) is ``ref`` (a Knative Service, which
names a skylet function of that name, or a Broker) and/or ``uri`` (absolute, or a path added
to the ref). Unknown kinds, versions and keys are refused naming the file, line and kind.
Pure but for reading the files.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from skylet.errors import ConfigError
from skylet.manifest.diagnostics import KeyPath
from skylet.manifest.frozen import FrozenDict
from skylet.manifest.schedule import ScheduleExpression
from skylet.manifest.yaml_loader import LineLoader, _line_map

EVENTING = "eventing.knative.dev/v1"
SOURCES = "sources.knative.dev/v1"
SERVING = "serving.knative.dev/v1"
SOURCES_ALPHA = "sources.knative.dev/v1alpha1"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_ATTRIBUTE = re.compile(r"^[a-z0-9]+$")
_DURATION = re.compile(
    r"^P(?!$)(\d+(\.\d+)?D)?(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$"
)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where events go: a Knative Service (a skylet function), a Broker, or a URI."""

    kind: Literal["function", "broker", "uri"]
    name: str = ""  # the function's or the broker's
    uri: str = ""  # an absolute URI, or a path after a ref


@dataclass(frozen=True, slots=True)
class Delivery:
    retry: int | None = None
    backoff_policy: Literal["linear", "exponential"] | None = None
    backoff_delay: str | None = None
    timeout: str | None = None
    dead_letter_sink: Destination | None = None
    #: How a URI subscriber gets events: ``binary`` (the default) or ``json`` (structured).
    format: Literal["json", "binary"] | None = None
    #: The longest ``Retry-After`` of a 429 or 503 that is honoured (``PT0S``: none).
    retry_after_max: str | None = None


@dataclass(frozen=True, slots=True)
class Broker:
    name: str
    namespace: str
    delivery: Delivery | None
    where: str


@dataclass(frozen=True, slots=True)
class Trigger:
    name: str
    namespace: str
    broker: str
    attributes: FrozenDict[str, str]
    filters: tuple[Any, ...]
    subscriber: Destination
    delivery: Delivery | None
    where: str


@dataclass(frozen=True, slots=True)
class PingSource:
    name: str
    namespace: str
    schedule: ScheduleExpression
    timezone: str | None
    data: bytes
    content_type: str
    sink: Destination
    where: str


@dataclass(frozen=True, slots=True)
class AwsS3Source:
    """Knative's AWS S3 source: the bucket's changes as CloudEvents into ``sink`` (a broker)."""

    name: str
    namespace: str
    bucket: str
    sink: Destination
    where: str


@dataclass(frozen=True, slots=True)
class Documents:
    """Every record the files declared, in file order; one property per kind."""

    records: tuple[Any, ...] = ()

    @property
    def brokers(self) -> tuple[Broker, ...]:
        return tuple(r for r in self.records if isinstance(r, Broker))

    @property
    def triggers(self) -> tuple[Trigger, ...]:
        return tuple(r for r in self.records if isinstance(r, Trigger))

    @property
    def ping_sources(self) -> tuple[PingSource, ...]:
        return tuple(r for r in self.records if isinstance(r, PingSource))

    @property
    def s3_sources(self) -> tuple[AwsS3Source, ...]:
        return tuple(r for r in self.records if isinstance(r, AwsS3Source))


class Doc:
    """One document while it is parsed: its data and where each key is, for errors."""

    def __init__(self, path: Path, index: int, data: Mapping[str, Any], lines: dict[KeyPath, int]):
        self.path, self.index, self.data, self.lines = path, index, data, lines
        self.kind = str(data.get("kind"))
        meta = data.get("metadata")
        self.name = str(meta.get("name", "")) if isinstance(meta, Mapping) else ""

    def where(self, at: KeyPath = ()) -> str:
        # The line of the deepest key of ``at`` the document has (a missing key: its parent's).
        line = next(self.lines[at[:n]] for n in range(len(at), -1, -1) if at[:n] in self.lines)
        label = f"{self.kind} {self.name}".strip()
        key = ".".join(str(part) for part in at)
        return f"{self.path.name}:{line}: {label}" + (f": {key}" if key else "")

    def error(self, at: KeyPath, message: str) -> ConfigError:
        return ConfigError(f"{self.where(at)}: {message}")

    def get(self, at: KeyPath, default: Any = None) -> Any:
        """The value at ``at`` (keys, and indices into lists: ``containers.0``), or
        ``default`` where there is none."""
        value: Any = self.data
        for part in at:
            found = isinstance(value, Mapping) and part in value
            if isinstance(value, list) and isinstance(part, int):
                found = 0 <= part < len(value)
            if not found:
                return default
            value = value[part]
        return value

    def mapping(self, at: KeyPath, allowed: Iterable[str]) -> Mapping[str, Any]:
        value = self.get(at, {})
        if not isinstance(value, Mapping):
            raise self.error(at, "must be a mapping")
        keys = set(allowed)
        for key in value:
            if key not in keys:
                raise self.error((*at, key), f"unknown key (allowed: {', '.join(sorted(keys))})")
        return value

    def text(self, at: KeyPath, default: str | None = None) -> str:
        value = self.get(at, default)
        if not isinstance(value, str) or not value:
            raise self.error(at, f"must be a non-empty string, not {value!r}")
        return value


def _metadata(doc: Doc) -> tuple[str, str]:
    meta = doc.mapping(("metadata",), ("name", "namespace", "labels", "annotations"))
    name = doc.text(("metadata", "name"))
    if not _NAME.match(name):
        raise doc.error(
            ("metadata", "name"),
            f"{name!r} is not a Kubernetes name (lower-case letters, digits and '-', at most 63)",
        )
    namespace = meta.get("namespace", "default")
    if not isinstance(namespace, str) or not _NAME.match(namespace):
        raise doc.error(("metadata", "namespace"), f"{namespace!r} is not a namespace name")
    return name, namespace


def _destination(doc: Doc, at: KeyPath) -> Destination:
    body = doc.mapping(at, ("ref", "uri", "CACerts", "audience"))
    uri = body.get("uri", "")
    if not isinstance(uri, str):
        raise doc.error((*at, "uri"), "must be a string")
    if "ref" not in body:
        if not re.match(r"^https?://", uri):
            raise doc.error(
                (*at, "uri"), f"{uri!r}: a destination without ref needs an absolute http(s) URI"
            )
        return Destination("uri", uri=uri)
    ref = doc.mapping((*at, "ref"), ("apiVersion", "kind", "name", "namespace"))
    name = doc.text((*at, "ref", "name"))
    kind, api = ref.get("kind"), ref.get("apiVersion")
    if kind == "Service" and api == SERVING:
        return Destination("function", name=name, uri=uri)
    if kind == "Broker" and api == EVENTING:
        return Destination("broker", name=name)
    raise doc.error(
        (*at, "ref"),
        f"refers to {kind} ({api}): skylet delivers to Knative "
        f"Services ({SERVING}), Brokers ({EVENTING}) or a uri",
    )


def _duration(doc: Doc, at: KeyPath) -> str | None:
    value = doc.get(at)
    if value is None:
        return None
    if not isinstance(value, str) or not _DURATION.match(value):
        raise doc.error(at, f"{value!r} is not an ISO 8601 duration (allowed: e.g. PT0.2S)")
    return value


def _delivery(doc: Doc, at: KeyPath) -> Delivery | None:
    if doc.get(at) is None:
        return None
    body = doc.mapping(
        at,
        (
            "retry",
            "backoffPolicy",
            "backoffDelay",
            "timeout",
            "deadLetterSink",
            "retryAfterMax",
            "format",
        ),
    )
    retry = body.get("retry")
    if retry is not None and (not isinstance(retry, int) or isinstance(retry, bool) or retry < 0):
        raise doc.error((*at, "retry"), f"{retry!r} is not a count ≥ 0")
    policy = body.get("backoffPolicy")
    if policy not in (None, "linear", "exponential"):
        raise doc.error((*at, "backoffPolicy"), f"{policy!r} (allowed: linear, exponential)")
    sink = _destination(doc, (*at, "deadLetterSink")) if "deadLetterSink" in body else None
    form = body.get("format")
    if form not in (None, "json", "binary"):
        raise doc.error((*at, "format"), f"{form!r} (allowed: json, binary)")
    return Delivery(
        retry,
        policy,
        _duration(doc, (*at, "backoffDelay")),
        _duration(doc, (*at, "timeout")),
        sink,
        form,
        _duration(doc, (*at, "retryAfterMax")),
    )


def _broker(doc: Doc) -> Broker:
    doc.mapping((), ("apiVersion", "kind", "metadata", "spec", "status"))
    doc.mapping(("spec",), ("config", "delivery"))
    name, namespace = _metadata(doc)
    return Broker(name, namespace, _delivery(doc, ("spec", "delivery")), doc.where())


def _trigger(doc: Doc) -> Trigger:
    doc.mapping((), ("apiVersion", "kind", "metadata", "spec", "status"))
    doc.mapping(("spec",), ("broker", "filter", "filters", "subscriber", "delivery"))
    name, namespace = _metadata(doc)
    broker = doc.text(("spec", "broker"), "default")
    doc.mapping(("spec", "filter"), ("attributes",))
    attributes = doc.get(("spec", "filter", "attributes"), {})
    if not isinstance(attributes, Mapping):
        raise doc.error(("spec", "filter", "attributes"), "must be a mapping")
    for key, value in attributes.items():
        if not _ATTRIBUTE.match(key) or not isinstance(value, str):
            raise doc.error(
                ("spec", "filter", "attributes", key),
                "a CloudEvents attribute "
                "name (lower-case letters, digits) and a string value are needed",
            )
    filters = doc.get(("spec", "filters"), [])
    if not isinstance(filters, list):
        raise doc.error(("spec", "filters"), "must be a list of filter expressions")
    if doc.get(("spec", "subscriber")) is None:
        raise doc.error(("spec",), "a Trigger needs spec.subscriber")
    return Trigger(
        name,
        namespace,
        broker,
        FrozenDict(attributes),
        tuple(filters),
        _destination(doc, ("spec", "subscriber")),
        _delivery(doc, ("spec", "delivery")),
        doc.where(),
    )


def _ping_source(doc: Doc) -> PingSource:
    doc.mapping((), ("apiVersion", "kind", "metadata", "spec", "status"))
    spec = doc.mapping(
        ("spec",),
        ("schedule", "timezone", "contentType", "data", "dataBase64", "sink", "ceOverrides"),
    )
    name, namespace = _metadata(doc)
    text = doc.text(("spec", "schedule"))
    try:
        schedule = ScheduleExpression.parse(text)
    except ValueError as error:
        raise doc.error(("spec", "schedule"), str(error)) from None
    if schedule.rate_s is not None or schedule.flavor != "unix":
        raise doc.error(("spec", "schedule"), f"{text!r}: a PingSource takes a 5-field cron")
    if "data" in spec and "dataBase64" in spec:
        raise doc.error(("spec",), "data and dataBase64 are mutually exclusive")
    data = b""
    if "dataBase64" in spec:
        try:
            data = base64.b64decode(doc.text(("spec", "dataBase64")), validate=True)
        except binascii.Error:
            raise doc.error(("spec", "dataBase64"), "is not base64") from None
    elif "data" in spec:
        data = doc.text(("spec", "data")).encode()
    timezone = spec.get("timezone")
    if timezone is not None and not isinstance(timezone, str):
        raise doc.error(("spec", "timezone"), "must be an IANA time zone name")
    if doc.get(("spec", "sink")) is None:
        raise doc.error(("spec",), "a PingSource needs spec.sink")
    content_type = spec.get("contentType", "")
    if not isinstance(content_type, str):
        raise doc.error(("spec", "contentType"), "must be a string")
    return PingSource(
        name,
        namespace,
        schedule,
        timezone,
        data,
        content_type,
        _destination(doc, ("spec", "sink")),
        doc.where(),
    )


def _s3_source(doc: Doc) -> AwsS3Source:
    doc.mapping((), ("apiVersion", "kind", "metadata", "spec", "status"))
    doc.mapping(("spec",), ("arn", "sink", "serviceAccountName"))
    name, namespace = _metadata(doc)
    arn = doc.text(("spec", "arn"))
    if not arn.startswith("arn:aws:s3:::") or "/" in arn:
        raise doc.error(("spec", "arn"), f"{arn!r} is not a bucket's ARN (arn:aws:s3:::NAME)")
    if doc.get(("spec", "sink")) is None:
        raise doc.error(("spec",), "an AwsS3Source needs spec.sink")
    sink = _destination(doc, ("spec", "sink"))
    if sink.kind != "broker":
        raise doc.error(("spec", "sink"), "skylet sends an AwsS3Source into a Broker")
    return AwsS3Source(name, namespace, arn.removeprefix("arn:aws:s3:::"), sink, doc.where())


Parser = Callable[[Doc], Any]
#: (apiVersion, kind) → the parser of that kind's documents.
PARSERS: dict[tuple[str, str], Parser] = {
    (EVENTING, "Broker"): _broker,
    (EVENTING, "Trigger"): _trigger,
    (SOURCES, "PingSource"): _ping_source,
    (SOURCES_ALPHA, "AwsS3Source"): _s3_source,
}


def documents(path: Path) -> Iterable[Doc]:
    """``path``'s YAML documents, each with where its keys are; ConfigError for bad YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc}") from exc
    loader = LineLoader(text)
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                break
            index += 1
            lines = _line_map(path, node)
            data = loader.construct_document(node)
            if data is None:
                continue
            if not isinstance(data, Mapping):
                raise ConfigError(f"{path.name}:{lines[()]}: document {index} is not a mapping")
            yield Doc(path, index, data, lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError(f"{path.name}:{line}: {exc.problem or 'invalid YAML'}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: invalid YAML: {exc}") from exc
    finally:
        loader.dispose()


def is_knative(path: Path) -> bool:
    """Whether ``path``'s first document is a Knative resource (an ``apiVersion`` of one of
    the kinds ``PARSERS`` knows, or ``serving.knative.dev``)."""
    try:
        for doc in documents(path):
            api = str(doc.data.get("apiVersion", ""))
            return api.split("/", 1)[0].endswith("knative.dev")
    except ConfigError:  # not YAML: the manifest's loader says why
        return False
    return False


def empty_manifest(path: Path) -> Any:
    """The manifest of a project that has only Knative documents (``path``): no functions,
    the directory's name as the service (or ``knative`` when that is no service name)."""
    from skylet.manifest.model import Manifest

    name = re.sub(r"[^A-Za-z0-9_-]", "-", path.parent.name).strip("-_") or "knative"
    return Manifest(
        service=name if name[0].isalnum() else "knative",
        stage="dev",
        region="us-east-1",
        source=path,
        root=path.parent,
        format="skylet",
        functions={},
    )


def load_documents(paths: Sequence[Path]) -> Documents:
    """Every document of ``paths``; ConfigError for an unknown kind or a bad document."""
    from skylet.manifest.knative_serving import PARSERS as SERVING_PARSERS

    records: list[Any] = []
    for path in paths:
        for doc in documents(path):
            api = doc.data.get("apiVersion")
            if (str(api), doc.kind) in SERVING_PARSERS:
                continue  # a Knative Service: knative_serving.load_services reads it
            parser = PARSERS.get((str(api), doc.kind))
            if parser is None:
                known = ", ".join(f"{k} ({a})" for a, k in (*PARSERS, *SERVING_PARSERS))
                raise ConfigError(
                    f"{path.name}:{doc.lines[()]}: document {doc.index}: kind {doc.kind!r} "
                    f"(apiVersion {api!r}) is not a kind skylet loads (allowed: {known})"
                )
            records.append(parser(doc))
    return Documents(tuple(records))
