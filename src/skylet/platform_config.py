"""What ``skylet up`` is given: ``PlatformConfig``, the composition root's one input (the CLI
parses flags into it; nothing below reads the environment), and what follows from it alone:
the blob store ``--blobs`` names, the variables ``--env-vars`` sets, the Knative documents the
project has.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from skylet import arns
from skylet.blobs.base import BlobStore
from skylet.blobs.files import FileBlobs
from skylet.blobs.s3 import S3Blobs
from skylet.config import FunctionConfig, RuntimeSettings
from skylet.cost.pricing import Profile
from skylet.errors import ConfigError
from skylet.events.context import DispatcherSettings
from skylet.gateway.http1.limits import Limits
from skylet.manifest.knative import is_knative
from skylet.observe.metrics import MAX_LABEL_SETS
from skylet.observe.tracing import TracingConfig

#: The credentials local AWS emulators accept by convention, when none are configured.
LOCAL_ACCESS_KEY = arns.LOCAL_ACCESS_KEY
LOCAL_SECRET_KEY = "test"


@dataclass(frozen=True, slots=True)
class PlatformConfig:
    manifest_path: Path
    host: str = "127.0.0.1"
    port: int = 9000
    stage: str | None = None
    options: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: The environment ``${env:X}`` resolves against (the CLI passes its own).
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    data_dir: Path = Path(".skylet")
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)
    shutdown_grace_s: float = 10.0
    #: The HTTP server's timeouts, sizes and cap on connections (docs/http.md, "Limits").
    http: Limits = field(default_factory=Limits)
    #: ``--store``: "" is SQLite in ``data_dir/state.db``; ``postgresql://…`` for several nodes.
    store_url: str = ""
    dispatcher: DispatcherSettings = field(default_factory=DispatcherSettings)
    #: Watch the manifest and the code, and redeploy on change (``--no-reload`` turns it off).
    #: Versions then run from snapshots of their code (see skylet.build.snapshots).
    reload: bool = False
    #: ``serve-function``: run just this function, as a standalone HTTP service on every path.
    only: str | None = None
    #: Who may sign requests to every API (access key → secret); when given, unsigned requests
    #: to the Lambda, admin and service APIs are refused. Empty: unsigned requests are accepted
    #: and signed ones verified against ``test``/``test``, for local use only (the CLI refuses
    #: a non-loopback address without credentials).
    credentials: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: Buckets anyone may read without signing.
    public_buckets: frozenset[str] = frozenset()
    #: ``--blobs``: "" keeps objects in files under ``data_dir/blobs``; an http(s) URL names
    #: an S3-compatible server that several nodes share, with ``blobs_credentials``.
    blobs_url: str = ""
    blobs_credentials: tuple[str, str] = ("test", "test")
    #: ``--env-vars``/``--env``: variables set over the manifest's, by function name (or
    #: alias); those under ``"*"`` go to every function, and a function's own win.
    environment_overrides: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    #: CloudWatch (docs/metrics.md): how often datapoints aggregated in memory are written to
    #: the store, and how often alarms are evaluated (``--alarm-interval``; CloudWatch's is
    #: a minute: shorter only changes how soon a change of state is seen).
    metrics_flush_interval_s: float = 60.0
    alarm_interval_s: float = 60.0
    #: The label sets each Prometheus family keeps before counting new ones as ``_overflow``.
    max_label_sets: int = MAX_LABEL_SETS
    #: ``--knative FILE``: Knative documents (Service, Broker, Trigger, PingSource) loaded
    #: beside the manifest, after ``eventing.yaml`` and ``service.yaml`` in its directory
    #: (docs/eventing.md, docs/knative.md).
    knative_files: tuple[Path, ...] = ()
    #: ``--pricing``: what ``/_skylet/cost`` prices usage with (None: the built-in profile of
    #: the manifest's region, else AWS us-east-1's; docs/cost.md).
    pricing: Profile | None = None
    #: How often metered usage is written to the store (docs/cost.md).
    cost_flush_interval_s: float = 60.0
    #: OpenTelemetry (docs/tracing.md): where spans are exported; None: tracing is off.
    tracing: TracingConfig | None = None
    #: ``--no-metrics``: the metrics hook is not registered, so invocations, EMF lines and
    #: sent messages are not counted (/metrics and CloudWatch's AWS/* datapoints stay empty);
    #: for measuring what metrics cost (bench/observability.py).
    metrics: bool = True


#: Knative documents ``skylet up`` loads from the manifest's directory when they exist.
KNATIVE_NAMES = ("eventing.yaml", "eventing.yml")


def with_overrides(
    fn: FunctionConfig, overrides: Mapping[str, Mapping[str, str]]
) -> FunctionConfig:
    """``fn`` with the variables ``overrides`` gives it (see ``environment_overrides``). Pure."""
    names = (fn.name, *fn.aliases)
    chosen = [overrides.get("*", {}), *(overrides[n] for n in names if n in overrides)]
    if not any(chosen):
        return fn
    environment = dict(fn.environment)
    for variables in chosen:
        environment.update(variables)
    return dataclasses.replace(fn, environment=MappingProxyType(environment))


def open_blobs(config: PlatformConfig) -> BlobStore:
    """The blob store ``--blobs`` names: files (the default) or an S3-compatible server."""
    if not config.blobs_url:
        return FileBlobs(config.data_dir / "blobs")
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise ConfigError(
            "--blobs with an S3 endpoint needs boto3: pip install 'skylet[s3]'"
        ) from None
    access_key, secret = config.blobs_credentials
    client = boto3.client(
        "s3",
        endpoint_url=config.blobs_url,
        region_name=config.runtime.region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
    )
    return S3Blobs(client)


def knative_paths(config: PlatformConfig) -> list[Path]:
    """The Knative documents of the project: ``eventing.yaml`` beside the manifest, the
    manifest itself when it is one, and the ``--knative`` files."""
    found = [config.manifest_path.parent / name for name in KNATIVE_NAMES]
    paths = [p for p in found if p.is_file()]
    own = config.manifest_path
    if own not in paths and own.is_file() and is_knative(own):
        paths.append(own)
    paths.extend(p for p in config.knative_files if p not in paths)
    return paths
