"""The composition root: builds every part, connects them, starts them, stops them.

Nothing else in skylet constructs long-lived parts or reads configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from skylet.aws.lambda_control import LambdaControl
from skylet.aws.lambda_versions import VersionKeeper
from skylet.aws.s3_api import S3Api
from skylet.aws.s3_notifications import Notifier, subscriptions_from_manifest
from skylet.aws.sigv4 import Credentials
from skylet.blobs.base import BlobStore
from skylet.blobs.files import FileBlobs
from skylet.blobs.s3 import S3Blobs
from skylet.build.functions import build_functions
from skylet.build.snapshots import Snapshots, precompile, scan
from skylet.config import FunctionConfig, RuntimeSettings
from skylet.errors import ConfigError, ResourceNotFound, SkyletError
from skylet.events.async_invoke import AsyncInvoker
from skylet.events.context import DispatcherSettings
from skylet.events.dispatcher import Dispatcher
from skylet.events.records import RecordBook
from skylet.gateway.app import Gateway
from skylet.gateway.http_routes import routes_from_manifest, standalone_routes
from skylet.gateway.routing import RouteTable
from skylet.invoker.hooks import Hooks, InvocationHook
from skylet.invoker.invoker import Invoker
from skylet.manifest import Manifest, load_manifest
from skylet.manifest.events import S3Event
from skylet.observe.logs import LogBook
from skylet.pool.sandbox import SandboxPolicy
from skylet.pool.zygote import ZygoteClient
from skylet.store import open_store
from skylet.store.factory import store_file

REAP_INTERVAL_S = 10.0
#: The credentials local AWS emulators accept by convention, when none are configured.
LOCAL_ACCESS_KEY = "test"
LOCAL_SECRET_KEY = "test"
#: Expired queue messages and dedup ids are dropped this often (the store asks for ~1 minute).
PURGE_EVERY_REAPS = 6


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
    #: ``--store``: "" is SQLite in ``data_dir/state.db``; ``postgresql://…`` for several nodes.
    store_url: str = ""
    dispatcher: DispatcherSettings = field(default_factory=DispatcherSettings)
    #: Watch the manifest and the code, and redeploy on change (``--no-reload`` turns it off).
    #: Versions then run from snapshots of their code (see skylet.build.snapshots).
    reload: bool = False
    #: ``serve-function``: run just this function, as a standalone HTTP service on every path.
    only: str | None = None
    #: S3 API credentials (access key → secret). Empty: ``test``/``test``, for local use only.
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


def _precompile(code_dir: Path, data_dir: Path) -> None:
    with contextlib.suppress(ConfigError, OSError):  # too large a tree: left as it is
        precompile(code_dir, scan(code_dir, frozenset({data_dir})))


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


class Platform:
    """Everything ``skylet up`` runs, without the HTTP server (so tests and tools can embed it)."""

    def __init__(
        self,
        config: PlatformConfig,
        *,
        progress: Callable[[str], None] = lambda _: None,
        hooks: Iterable[InvocationHook] = (),
    ) -> None:
        self.config = config
        self.progress = progress
        self.logs = LogBook()
        #: Cross-cutting policy around invocations (console lines, metrics, tracing).
        self.hooks = Hooks(hooks)
        self.zygote = ZygoteClient(
            environment=config.runtime.base_environment,
            policy=SandboxPolicy(enabled=config.runtime.sandbox),
        )
        self.invoker = Invoker(config.runtime, self.zygote, self.logs, self.hooks)
        self.store = open_store(config.store_url, data_dir=config.data_dir)
        self.records = RecordBook(self.store)
        self.async_invoker = AsyncInvoker(self.store, self.records, self.invoker)
        self.dispatcher = Dispatcher(
            self.store, self.invoker, self.async_invoker, self.records, settings=config.dispatcher
        )
        self.blobs = open_blobs(config)
        keys = dict(config.credentials) or {LOCAL_ACCESS_KEY: LOCAL_SECRET_KEY}
        self.notifier = Notifier(self.async_invoker.enqueue, config.runtime.region)
        self.s3 = S3Api(
            self.blobs,
            Credentials(MappingProxyType(keys), config.runtime.region),
            public=config.public_buckets,
            notifier=self.notifier,
        )
        #: Published versions and aliases (the Lambda API's), kept in the store.
        self.versions = VersionKeeper(
            self.invoker,
            self.store,
            config.data_dir / "versions",
            skip=frozenset({config.data_dir}),
        )
        self.gateway = Gateway(
            self.invoker,
            self.async_invoker,
            self.records,
            self.s3,
            hooks=self.hooks,
            lambda_control=LambdaControl(self.invoker, self.versions),
        )
        self.manifest: Manifest | None = None
        self.snapshots = (
            Snapshots(config.data_dir / "code", skip=frozenset({config.data_dir}))
            if config.reload
            else None
        )
        #: The one function a standalone service (``serve-function``) runs.
        self.only: str | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._store_started = False

    async def start(self, *, only: str | None = None, one_shot: bool = False) -> None:
        """Load the manifest, install dependencies, start the zygote and deploy.

        ``only`` deploys just that function and serves every path with it (``serve-function``),
        without the store: neither a standalone service nor a one-shot ``invoke --local`` may
        consume the queued events of a ``skylet up`` on the same project. ``one_shot`` also
        skips provisioned instances.
        """
        manifest = self.load_manifest()
        self._warn(manifest, None)
        functions = await self._build(manifest)
        if only is not None:
            chosen = [fn for fn in functions if only == fn.name or only in fn.aliases]
            if not chosen:
                known = ", ".join(sorted(fn.name for fn in functions))
                raise ResourceNotFound(f"Function not found: {only} (the manifest has: {known})")
            functions = chosen[:1]
            if one_shot:
                functions = [dataclasses.replace(chosen[0], provisioned_concurrency=0)]
        if only is None:
            await self.store.start()
            self._store_started = True
            await self.versions.load()
        else:
            self.versions.detach()  # a standalone service opens no store
        await self.zygote.start()
        self._hide(manifest)
        await self.invoker.deploy(functions)
        self.only = functions[0].name if only is not None else None
        self._route(manifest)
        await self._attach_storage(manifest)
        if only is None:
            await self.dispatcher.start()
            await self.dispatcher.deploy({fn.name: fn.async_config for fn in functions})
        self.manifest = manifest
        self._reaper = asyncio.create_task(self._reap_forever())

    async def redeploy(self) -> list[str]:
        """Load the manifest and the code again and deploy what changed; returns the names of
        the functions that changed. New requests go to the new versions at once; invocations
        running on old ones finish there. On any error the running versions stay as they are.
        """
        manifest = self.load_manifest()
        self._warn(manifest, self.manifest)
        functions = await self._build(manifest, check_syntax=True)
        before = {fn.name: fn for fn in self.invoker.functions()}
        table = self._routes(manifest)  # a route conflict fails before anything is deployed
        if self.only is not None:
            functions = [fn for fn in functions if fn.name == self.only]
        self._hide(manifest)
        await self.invoker.deploy(functions)
        if self._store_started:
            await self.dispatcher.deploy({fn.name: fn.async_config for fn in functions})
        self._route(manifest, table)
        await self._attach_storage(manifest)
        self.manifest = manifest
        if self.snapshots is not None:
            self.snapshots.prune(self.invoker.code_dirs())
        after = {fn.name: fn for fn in functions}
        return sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))

    def _hide(self, manifest: Manifest) -> None:
        """What no function's sandbox shows (each template reveals its own code again): the
        data directory (store, blobs, logs, snapshots, versions), the store's file wherever
        it is, the project, and every function's code."""
        config = self.config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        private = {config.data_dir, config.manifest_path.parent}
        private.update(spec.code_dir for spec in manifest.functions.values())
        database = store_file(config.store_url, data_dir=config.data_dir)
        if database is not None:
            private.update(database.with_name(database.name + s) for s in ("", "-wal", "-shm"))
        self.zygote.policy.hide(Path(os.path.realpath(p)) for p in private)

    async def _build(
        self, manifest: Manifest, *, check_syntax: bool = False
    ) -> list[FunctionConfig]:
        """The manifest's functions; with reload, each runs from a snapshot of its code, and
        ``check_syntax`` refuses a snapshot whose changed Python files do not compile."""
        functions = await build_functions(
            manifest, deps_root=self.config.data_dir / "deps", progress=self.progress
        )
        if overrides := self.config.environment_overrides:
            functions = [with_overrides(fn, overrides) for fn in functions]
        snapshots = self.snapshots
        if snapshots is None:
            # Sandboxes see code read-only: its bytecode is written now, as a first import would.
            for code_dir in sorted({fn.code_dir for fn in functions}):
                await asyncio.to_thread(_precompile, code_dir, self.config.data_dir)
            return functions
        code_dirs = sorted({fn.code_dir for fn in functions})
        taken = dict(
            zip(
                code_dirs,
                await asyncio.gather(*(asyncio.to_thread(snapshots.take, d) for d in code_dirs)),
                strict=True,
            )
        )
        if check_syntax:
            errors = [
                f"{code_dir / line}"
                for code_dir, snapshot in taken.items()
                for line in await asyncio.to_thread(snapshot.syntax_errors)
            ]
            if errors:
                raise ConfigError("\n".join(errors))
        for snapshot in taken.values():
            snapshots.accept(snapshot)
        return [dataclasses.replace(fn, code_dir=taken[fn.code_dir].path) for fn in functions]

    async def _attach_storage(self, manifest: Manifest) -> None:
        """Buckets named by s3 events exist, as the Serverless Framework creates them, and
        their changes notify the subscribed functions (not in a standalone service, which has no
        durable store)."""
        # The S3 API answers for the manifest's region (GetBucketLocation, x-amz-bucket-region).
        self.s3.credentials = dataclasses.replace(self.s3.credentials, region=manifest.region)
        if self._store_started:
            self.notifier.region = manifest.region
            self.notifier.subscriptions = subscriptions_from_manifest(manifest)
        for spec in manifest.functions.values():
            for event in spec.events:
                if isinstance(event, S3Event):
                    await self.blobs.create_bucket(event.bucket, exist_ok=True)
        for bucket in self.config.public_buckets:
            await self.blobs.create_bucket(bucket, exist_ok=True)

    def _routes(self, manifest: Manifest) -> RouteTable:
        if self.only is not None:
            return RouteTable(standalone_routes(manifest, self.only))
        return RouteTable(routes_from_manifest(manifest))

    def _route(self, manifest: Manifest, table: RouteTable | None = None) -> None:
        if table is None:
            table = self._routes(manifest)
        self.gateway.routes.update(
            table,
            service=manifest.service,
            stage=manifest.stage,
            binary_media_types=manifest.binary_media_types,
            region=manifest.region,
        )

    def _warn(self, manifest: Manifest, before: Manifest | None) -> None:
        """Report the manifest's warnings through ``progress``: all of them at start, and on a
        reload those the running manifest did not have (a feature is reported once)."""
        known = {str(w) for w in before.warnings} if before is not None else set()
        for warning in manifest.warnings:
            if str(warning) not in known:
                self.progress(f"warning: {warning}")

    def watched_dirs(self) -> set[Path]:
        """Where a change may change a function: the manifest's directory and the code's."""
        dirs = {self.config.manifest_path.parent}
        if self.manifest is not None:
            dirs.update(spec.code_dir for spec in self.manifest.functions.values())
        return dirs

    def load_manifest(self) -> Manifest:
        return load_manifest(
            self.config.manifest_path,
            stage=self.config.stage,
            options=self.config.options,
            env=self.config.env,
        )

    def functions(self) -> list[FunctionConfig]:
        return self.invoker.functions()

    async def _reap_forever(self) -> None:
        reaps = 0
        while True:
            await asyncio.sleep(REAP_INTERVAL_S)
            self.invoker.reap()
            reaps += 1
            if self._store_started and reaps % PURGE_EVERY_REAPS == 0:
                with contextlib.suppress(SkyletError):  # the store recovers by itself
                    await self.store.purge()

    async def aclose(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        # Queued events first: running tries finish and settle while instances still exist.
        await self.dispatcher.aclose(grace_s=self.config.shutdown_grace_s)
        await self.async_invoker.aclose()
        await self.invoker.aclose(grace_s=self.config.shutdown_grace_s)
        await self.zygote.aclose()
        if self._store_started:
            await self.store.aclose()
