"""The composition root: builds every part, connects them, starts them, stops them.

Nothing else in skylet constructs long-lived parts or reads configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, cast

from skylet import arns, custom_runtimes
from skylet.aws.auth import Authenticator
from skylet.aws.cloudwatch.collect import Collector
from skylet.aws.cloudwatch.service import CloudWatch
from skylet.aws.dynamodb.expiry import ExpirySweeper
from skylet.aws.dynamodb.resources import declared_tables
from skylet.aws.dynamodb.resources import resolve as table_reference
from skylet.aws.dynamodb.service import Tables
from skylet.aws.dynamodb.streams import Streams
from skylet.aws.eventbridge.declared import declarations as event_declarations
from skylet.aws.eventbridge.declared import events_reference
from skylet.aws.eventbridge.service import EventBridge
from skylet.aws.lambda_control import LambdaControl
from skylet.aws.lambda_mappings import EventSourceMappings, declared_mappings
from skylet.aws.lambda_versions import VersionKeeper
from skylet.aws.logs.service import CloudWatchLogs
from skylet.aws.protocols.models import ServiceModels
from skylet.aws.protocols.types import Params
from skylet.aws.router import Services
from skylet.aws.s3_api import S3Api
from skylet.aws.s3_notifications import Notifier, subscriptions_from_manifest
from skylet.aws.sns.catalog import CATALOG_LOG
from skylet.aws.sns.declared import declarations, topic_reference
from skylet.aws.sns.lazy import LazySns
from skylet.aws.sqs import Queues
from skylet.aws.sqs.resources import Names
from skylet.aws.stream_mappings import StreamMappings, declared_stream_mappings
from skylet.aws.sts import SecurityTokens
from skylet.build.functions import Resolver, build_functions
from skylet.build.snapshots import Snapshots, precompile, scan
from skylet.config import FunctionConfig, endpoint_url
from skylet.cost.ledger import Ledger
from skylet.cost.meter import Meter
from skylet.cost.pricing import Profile, for_region
from skylet.cost.reports import CostDesk
from skylet.errors import ConfigError, ResourceNotFound, SkyletError
from skylet.eventing.bridges import BrokerBridge, s3_subscriptions
from skylet.eventing.brokers import Brokers
from skylet.eventing.deliveries import Deliveries
from skylet.eventing.ping import PingFires
from skylet.eventing.ping import schedules as ping_schedules
from skylet.eventing.subscribers import Sender
from skylet.eventing.topology import Topology
from skylet.eventing.topology import build as build_topology
from skylet.events.async_invoke import AsyncInvoker
from skylet.events.destinations import Deliverer
from skylet.events.dispatcher import Dispatcher
from skylet.events.records import RecordBook
from skylet.gateway.app import Gateway
from skylet.gateway.http_routes import routes_from_manifest, standalone_routes
from skylet.gateway.routing import RouteTable
from skylet.invoker.hooks import Hooks, InvocationHook
from skylet.invoker.invoker import Invoker
from skylet.manifest import Manifest, load_manifest
from skylet.manifest.events import S3Event
from skylet.manifest.intrinsics import Intrinsic
from skylet.manifest.knative import Documents, empty_manifest, is_knative, load_documents
from skylet.manifest.knative_serving import KnativeService, load_services, service_paths
from skylet.manifest.resources import S3_BUCKET
from skylet.observe.archive import LogArchive
from skylet.observe.logs import LogBook
from skylet.observe.metrics import Registry
from skylet.observe.tracing import Tracing, TracingConfig
from skylet.observe.tracing import missing as tracing_missing
from skylet.platform_config import (
    LOCAL_ACCESS_KEY,
    LOCAL_SECRET_KEY,
    PlatformConfig,
    knative_paths,
    open_blobs,
    with_overrides,
)
from skylet.pool.runtimes import Runtimes
from skylet.pool.sandbox import SandboxPolicy
from skylet.pool.zygotes import Zygotes
from skylet.programs.proxy import KnativeServices
from skylet.schedules.plan import Schedule, rule_schedules
from skylet.schedules.plan import plan as plan_schedules
from skylet.schedules.scheduler import Scheduler
from skylet.schedules.targets import ScheduleTargets
from skylet.store import open_store
from skylet.store.factory import store_file

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from skylet.aws.sns.service import Sns

REAP_INTERVAL_S = 10.0
#: Expired queue messages and dedup ids are dropped this often (the store asks for ~1 minute).
PURGE_EVERY_REAPS = 6


def _precompile(code_dir: Path, data_dir: Path) -> None:
    with contextlib.suppress(ConfigError, OSError):  # too large a tree: left as it is
        precompile(code_dir, scan(code_dir, frozenset({data_dir})))


class _Topics:
    """The dispatcher's ``TopicPublisher``: destinations and dead letters that name a topic
    publish through SNS, started for them if nothing started it yet."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform

    async def publish(self, topic: str, message: bytes, attributes: Mapping[str, str]) -> None:
        from skylet.aws.sns.service import TopicPublisher

        await TopicPublisher(await self._platform.topics()).publish(topic, message, attributes)


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
        #: Metrics (docs/metrics.md): one hook for Prometheus' /metrics and CloudWatch's
        #: datapoints; EMF lines reach it from the log book.
        self.collector = Collector(Registry(config.max_label_sets))
        if config.metrics:
            self.hooks.add(self.collector)
            self.logs.listen(self.collector.log_entry)
        #: Tracing (docs/tracing.md): a hook that exports a span per invocation, when on.
        self.tracing: Tracing | None = None
        #: Metering (docs/cost.md): billed usage from each REPORT, kept per function and hour.
        self.meter = Meter(flush_interval_s=config.cost_flush_interval_s)
        self.hooks.add(self.meter)
        #: Lambda's runtimes on this machine, and a zygote for each interpreter they name.
        self.runtimes = Runtimes(
            search_path=config.runtime.base_environment.get("PATH", ""),
            configured=config.runtime.interpreters,
        )
        self.zygote = Zygotes(
            runtimes=self.runtimes,
            environment=config.runtime.base_environment,
            policy=SandboxPolicy(
                enabled=config.runtime.sandbox, max_concurrency=config.runtime.max_concurrency
            ),
        )
        self.invoker = Invoker(config.runtime, self.zygote, self.logs, self.hooks)
        if config.tracing is not None:
            self.tracing = self._tracing(config.tracing)
        self.store = open_store(config.store_url, data_dir=config.data_dir)
        self.records = RecordBook(self.store)
        #: Function logs kept in the store (docs/logs.md), written in batches off the path.
        self.log_archive = LogArchive(self.store)
        self.async_invoker = AsyncInvoker(self.store, self.records, self.invoker)
        #: SNS (docs/sns.md), built and started by ``topics()`` when first needed: the manifest
        #: declares topics, the store holds an earlier run's, or a destination publishes to
        #: one. Until then none of its modules (botocore's models, cryptography) is loaded.
        self.sns: Sns | None = None
        self._sns_lock = asyncio.Lock()
        self.dispatcher = Dispatcher(
            self.store,
            self.invoker,
            self.async_invoker,
            self.records,
            settings=config.dispatcher,
            topics=_Topics(self),
            hooks=self.hooks,
        )
        #: SQS (docs/sqs.md): its queues live in the store; the event source mappings poll
        #: them for functions.
        self.sqs = Queues(self.store, config.runtime)
        if config.metrics:
            self.sqs.on_sent = self.collector.messages_sent
        self.collector.functions = self.invoker
        self.collector.queues = self.sqs
        self.meter.functions = self.invoker
        self.mappings = EventSourceMappings(self.store, self.invoker, self.sqs)
        #: Schedules (docs/eventbridge.md): fired on one node, each due instant once.
        self.schedule_targets = ScheduleTargets(
            self.invoker, self.async_invoker, account=config.runtime.account_id
        )
        self.scheduler = Scheduler(self.store, self.schedule_targets.fire)
        #: The Knative PingSources' schedules, kept for the reschedules PutRule asks for.
        self._pings: tuple[Schedule, ...] = ()
        self.blobs = open_blobs(config)
        keys = dict(config.credentials) or {LOCAL_ACCESS_KEY: LOCAL_SECRET_KEY}
        #: Every API's signature check, and the region they serve (the manifest's, at deploy).
        self.auth = Authenticator(
            MappingProxyType(keys),
            config.runtime.region,
            required=bool(config.credentials),
            function_secret=config.runtime.function_secret,
        )
        self.notifier = Notifier(self.async_invoker.enqueue, config.runtime.region)
        self.s3 = S3Api(self.blobs, self.auth, public=config.public_buckets, notifier=self.notifier)
        #: The services served through the protocol codecs; a service registers with one line.
        self.services = Services(self.auth, ServiceModels(), account_id=config.runtime.account_id)
        self.services.register(SecurityTokens())
        self.services.register(self.sqs)
        self.services.register(LazySns(self.topics, lambda: self.sns))
        #: DynamoDB (docs/dynamodb.md): tables on the store; the manifest's made at start.
        self.tables = Tables(self.store)
        self.services.register(self.tables)
        self.services.register(Streams(self.tables))
        #: TTL: expired items deleted in the background, a bounded sweep per second.
        self.expiry = ExpirySweeper(self.tables)
        #: EventBridge (docs/eventbridge.md): buses, rules and targets on the store; PutEvents
        #: queues each matched target's delivery before it answers.
        self.events = EventBridge(self.store)
        self.events.router.functions = self.async_invoker
        self.events.router.queues = self.sqs
        self.events.router.topics = _Topics(self)
        self.events.router.account = config.runtime.account_id
        self.events.on_schedules = self._reschedule
        self.events.on_schedule_made = self.scheduler.restart
        self.schedule_targets.rules = self.events
        self.services.register(self.events)
        #: CloudWatch (docs/metrics.md): metrics, alarms (their SNS actions) and dashboards.
        self.cloudwatch = CloudWatch(
            self.store,
            self.collector,
            publish=self._alarm_publish,
            flush_interval_s=config.metrics_flush_interval_s,
            evaluation_interval_s=config.alarm_interval_s,
            account_id=config.runtime.account_id,
        )
        self.services.register(self.cloudwatch)
        #: Knative Eventing (docs/eventing.md): brokers' ingress, triggers' deliveries.
        self.brokers = Brokers(self.store)
        self.schedule_targets.ping = PingFires(self.brokers)
        bridge = BrokerBridge(self.brokers)
        self.events.router.brokers = bridge
        self.notifier.publish = bridge.from_s3
        self.broker_deliveries = Deliveries(
            self.brokers,
            Sender(self.invoker, region=config.runtime.region, account=config.runtime.account_id),
            endpoint=config.runtime.endpoint_url or endpoint_url(config.host, config.port),
        )
        #: CloudWatch Logs (docs/logs.md): the functions' logs, from the archive.
        self.logs_api = CloudWatchLogs(self.log_archive, self.store)
        self.services.register(self.logs_api)
        self.stream_mappings = StreamMappings(
            self.store,
            self.invoker,
            self.tables,
            Deliverer(self.store, self.async_invoker, _Topics(self)),
        )
        #: The declared tables' DescribeTable answers, by name, for ``Ref``/``Fn::GetAtt``.
        self._table_descriptions: dict[str, Params] = {}
        #: Published versions and aliases (the Lambda API's), kept in the store.
        self.versions = VersionKeeper(
            self.invoker,
            self.store,
            config.data_dir / "versions",
            skip=frozenset({config.data_dir}),
        )
        #: Knative Services (docs/knative.md): server programs, scaled by the KPA.
        self.knative = KnativeServices(
            config.runtime.base_environment,
            log=progress,
            sandbox=lambda svc: self.zygote.policy.program_spec(svc.name, svc.cwd),
        )
        self.gateway = Gateway(
            self.invoker,
            self.async_invoker,
            self.records,
            self.s3,
            hooks=self.hooks,
            lambda_control=LambdaControl(
                self.invoker, self.versions, self.mappings, self.stream_mappings
            ),
            auth=self.auth,
            services=self.services,
            scheduler=self.scheduler,
            metrics=self._scrape,
            brokers=self.brokers,
            archive=self.log_archive,
            cost=CostDesk(self.meter, self._pricing),
            knative=self.knative,
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
        topology = self._topology(manifest)
        services = self.knative_services()
        self.sqs.region = manifest.region
        if only is None:
            # Before the build: a function's environment may name a table's stream ARN.
            await self.store.start()
            self._store_started = True
            await self._attach_tables(manifest)
            self.logs.listen(self.log_archive.offer)
            await self.log_archive.start()
            await self.logs_api.start()
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
            await self.versions.load()
            await self._attach_queues(manifest)
        else:
            self.versions.detach()  # a standalone service opens no store
        self.services.load()  # the registered services' models, read once, before any request
        await self.zygote.start()
        self._hide(manifest)
        await self.invoker.deploy(functions)
        self._configure_logs(functions)
        self.only = functions[0].name if only is not None else None
        self._route(manifest)
        await self._attach_storage(manifest)
        if only is None:
            await self._attach_topics(manifest)
            await self.dispatcher.start()
            await self.dispatcher.deploy({fn.name: fn.async_config for fn in functions})
            await self.mappings.start()
            await self.mappings.deploy(declared_mappings(manifest, self._queue_names(manifest)))
            await self.stream_mappings.start()
            await self.stream_mappings.deploy(declared_stream_mappings(manifest))
            await self.events.start()
            await self.events.declare(event_declarations(manifest))
            await self._attach_brokers(manifest, topology, start=True)  # before pings fire
            await self.scheduler.start()
            await self._schedule(manifest, topology)
            self.cloudwatch.region = manifest.region
            await self.cloudwatch.start()
            self.expiry.start()
            await self.meter.start(Ledger(self.store))
        await self.collector.start()
        if only is None:
            for line in self.knative.messages(services):
                self.progress(line)
            await self.knative.deploy(services)
        self.manifest = manifest
        self._reaper = asyncio.create_task(self._reap_forever())

    def _configure_logs(self, functions: Iterable[FunctionConfig]) -> None:
        for fn in functions:
            group = fn.logging.group(fn.name)
            self.log_archive.configure(
                fn.name, group=group, retention_days=fn.logging.retention_days
            )

    async def redeploy(self) -> list[str]:
        """Load the manifest and the code again and deploy what changed; returns the names of
        the functions that changed. New requests go to the new versions at once; invocations
        running on old ones finish there. On any error the running versions stay as they are.
        """
        manifest = self.load_manifest()
        self._warn(manifest, self.manifest)
        self.sqs.region = manifest.region
        if self._store_started:
            await self._attach_tables(manifest)
        functions = await self._build(manifest, check_syntax=True)
        topology = self._topology(manifest)  # a bad trigger fails before anything is deployed
        services = self.knative_services()  # a bad Service fails before anything is deployed
        before = {fn.name: fn for fn in self.invoker.functions()}
        table = self._routes(manifest)  # a route conflict fails before anything is deployed
        rules = event_declarations(manifest)  # so does a malformed rule
        if self.only is not None:
            functions = [fn for fn in functions if fn.name == self.only]
        if self._store_started:
            await self._attach_queues(manifest)
        self._hide(manifest)
        await self.invoker.deploy(functions)
        self._configure_logs(functions)
        if self._store_started:
            await self.dispatcher.deploy({fn.name: fn.async_config for fn in functions})
            await self.mappings.deploy(declared_mappings(manifest, self._queue_names(manifest)))
            await self.stream_mappings.deploy(declared_stream_mappings(manifest))
            await self.events.declare(rules)
            await self._attach_brokers(manifest, topology)
            await self._schedule(manifest, topology)
        self._route(manifest, table)
        await self._attach_storage(manifest)
        if self._store_started:
            await self._attach_topics(manifest)
            self.cloudwatch.region = manifest.region
            await self.knative.deploy(services)
        self.manifest = manifest
        if self.snapshots is not None:
            self.snapshots.prune(self.invoker.code_dirs())
        after = {fn.name: fn for fn in functions}
        return sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))

    def _pricing(self) -> Profile:
        """``--pricing``'s profile, else the built-in one of the manifest's region."""
        if self.config.pricing is not None:
            return self.config.pricing
        return for_region(self.manifest.region if self.manifest else self.config.runtime.region)

    def _scrape(self, accept: str) -> tuple[str, bytes]:
        """``/metrics``: what happened until now, in the format ``accept`` asks for."""
        self.collector.fold()
        return self.collector.registry.exposition(accept)

    async def _alarm_publish(self, topic: str, subject: str, message: str) -> None:
        """An alarm's action on an SNS topic: CloudWatch's notification, published."""
        sns = await self.topics()
        await sns.publish_message(topic, message, subject=subject)

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

    def _interpreter(self, runtime: str) -> str | None:
        """The interpreter of ``runtime``'s functions, None for the platform's own
        (RuntimeRefused when there is none)."""
        launcher = self.runtimes.launcher(runtime)
        return None if launcher.host else launcher.program

    async def _build(
        self, manifest: Manifest, *, check_syntax: bool = False
    ) -> list[FunctionConfig]:
        """The manifest's functions; with reload, each runs from a snapshot of its code, and
        ``check_syntax`` refuses a snapshot whose changed Python files do not compile."""
        functions = await build_functions(
            manifest,
            deps_root=self.config.data_dir / "deps",
            progress=self.progress,
            resolve=self._resolver(manifest),
            default_runtime=self.runtimes.default(),
            interpreter=self._interpreter,
        )
        if overrides := self.config.environment_overrides:
            functions = [with_overrides(fn, overrides) for fn in functions]
        functions = self.schedule_targets.apply(functions)
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
        """Buckets named by s3 events and declared as ``AWS::S3::Bucket`` resources exist, as
        the Serverless Framework and CloudFormation create them, and their changes notify the
        subscribed functions (not in a standalone service, which has no durable store)."""
        # Every API answers for the manifest's region (S3's GetBucketLocation and
        # x-amz-bucket-region, the services' ARNs) and checks signatures for it.
        self.auth.region = manifest.region
        if self._store_started:
            self.notifier.region = manifest.region
            bridged = [s for s in self.notifier.subscriptions if s.shape == "broker"]
            self.notifier.subscriptions = [*subscriptions_from_manifest(manifest), *bridged]
        for spec in manifest.functions.values():
            for event in spec.events:
                if isinstance(event, S3Event):
                    await self.blobs.create_bucket(event.bucket, exist_ok=True)
        for resource in manifest.resources.values():
            if resource.type == S3_BUCKET:
                name = resource.name_in(manifest.service, manifest.stage)
                await self.blobs.create_bucket(name, exist_ok=True)
        for bucket in self.config.public_buckets:
            await self.blobs.create_bucket(bucket, exist_ok=True)

    async def _attach_topics(self, manifest: Manifest) -> None:
        """The manifest's topics and subscriptions exist (``AWS::SNS::Topic`` and
        ``AWS::SNS::Subscription`` resources, functions' ``sns`` events), as CloudFormation
        and the Serverless Framework create them."""
        declared = declarations(manifest)
        unused = self.sns is None and not (declared.topics or declared.subscriptions)
        if unused and await self.store.get_log(CATALOG_LOG) is None:
            return  # SNS was never used with this store: it starts when it is
        sns = await self.topics()
        sns.deliveries.project = manifest.service
        await sns.declare(declared, manifest.region)

    async def topics(self) -> Sns:
        """SNS, built and started on first use (the store must be started)."""
        async with self._sns_lock:
            if self.sns is None:
                from skylet.aws.sns.service import Sns
                from skylet.aws.sns.sinks import InvokerFunctions

                config = self.config
                sns = Sns(
                    self.store,
                    InvokerFunctions(self.invoker, self.async_invoker),
                    endpoint=config.runtime.endpoint_url or endpoint_url(config.host, config.port),
                    region=self.manifest.region if self.manifest else config.runtime.region,
                    account_id=config.runtime.account_id,
                )
                sns.queues = self.sqs  # queue subscribers get their messages through SQS
                await sns.start()
                self.sns = sns
            return self.sns

    def _resolver(self, manifest: Manifest) -> Resolver:
        """What a ``Ref``/``Fn::GetAtt`` in a function's environment gives: a declared queue's
        URL or ARN, a declared topic's ARN or name."""
        queues = self._queue_names(manifest)
        account = self.config.runtime.account_id

        def table_arn(name: str) -> str:
            return arns.arn("dynamodb", f"table/{name}", region=manifest.region, account=account)

        def resolve(value: Intrinsic) -> str | None:
            found = queues.resolve(value)
            if found is None:
                found = table_reference(manifest, self._table_descriptions, value, arn=table_arn)
            if found is None:
                found = topic_reference(manifest, value)
            return found if found is not None else events_reference(manifest, value)

        return resolve

    def _topology(self, manifest: Manifest) -> Topology:
        paths = knative_paths(self.config)
        topology = build_topology(manifest, load_documents(paths) if paths else Documents())
        ping_schedules(topology)  # its time zones checked before anything is deployed
        return topology

    async def _attach_brokers(
        self, manifest: Manifest, topology: Topology, *, start: bool = False
    ) -> None:
        self.broker_deliveries.sender.region = manifest.region
        self.notifier.subscriptions = [
            *(s for s in self.notifier.subscriptions if s.shape != "broker"),
            *s3_subscriptions(topology),
        ]
        for source in topology.s3_sources:
            await self.blobs.create_bucket(source.bucket, exist_ok=True)
        if start:
            await self.brokers.start()
        self.brokers.deploy(topology)
        if start:
            await self.broker_deliveries.start()

    async def _schedule(self, manifest: Manifest, topology: Topology | None = None) -> None:
        """The manifest's schedules, the schedule rules PutRule made and the Knative
        PingSources, on the scheduler."""
        self.schedule_targets.region = manifest.region
        self.events.router.region = manifest.region
        if topology is not None:
            self._pings = ping_schedules(topology)
        rules = [
            (r.name, r.schedule or "", r.state != "DISABLED") for r in self.events.schedule_rules()
        ]
        planned = plan_schedules(manifest) + self._pings
        await self.scheduler.deploy(rule_schedules(rules, planned))

    async def _reschedule(self) -> None:
        if self.manifest is not None:
            await self._schedule(self.manifest)

    def _queue_names(self, manifest: Manifest) -> Names:
        return Names(manifest, self.sqs.url, self.sqs.arn)

    async def _attach_tables(self, manifest: Manifest) -> None:
        """The manifest's ``AWS::DynamoDB::Table`` resources exist, kept across restarts."""
        account = self.config.runtime.account_id
        self._table_descriptions = {
            table.name: await self.tables.declare(table, manifest.region, account)
            for table in declared_tables(manifest)
        }

    async def _attach_queues(self, manifest: Manifest) -> None:
        """The manifest's ``AWS::SQS::Queue`` resources exist, with the attributes it gives
        them (dead-letter queues first)."""
        for queue in self._queue_names(manifest).declared():
            await self.sqs.declare(queue)

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
        if self.config.runtime.node is None and before is None:
            for spec in manifest.functions.values():
                if custom_runtimes.kind(spec.runtime) == "nodejs":
                    self.progress(
                        f"warning: functions.{spec.key}: the runtime {spec.runtime} "
                        f"{custom_runtimes.NODE_MISSING}; its invocations fail until then"
                    )

    def watched_dirs(self) -> set[Path]:
        """Where a change may change a function or a trigger: the manifest's directory, the
        code's, and the ``--knative`` files'."""
        dirs = {self.config.manifest_path.parent}
        dirs.update(path.parent for path in self.config.knative_files)
        if self.manifest is not None:
            dirs.update(spec.code_dir for spec in self.manifest.functions.values())
        return dirs

    def knative_services(self) -> tuple[KnativeService, ...]:
        """The project's Knative Services (docs/knative.md)."""
        return load_services(service_paths(self.config.manifest_path, self.config.knative_files))

    def load_manifest(self) -> Manifest:
        if is_knative(self.config.manifest_path):  # Knative documents instead of a manifest
            return cast("Manifest", empty_manifest(self.config.manifest_path))
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

    def _tracing(self, config: TracingConfig) -> Tracing | None:
        why = tracing_missing()
        if why is not None:
            logger.warning("%s", why)
            return None
        invoker = self.invoker
        hook = Tracing(
            config,
            account_id=self.config.runtime.account_id,
            region_of=lambda name: invoker.function(name).region,
            arn_of=invoker.function_arn,
        )
        self.hooks.add(hook)
        return hook

    async def aclose(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        # Queued events first: running tries finish and settle while instances still exist.
        if self._store_started:
            await self.scheduler.aclose()
            await self.events.aclose()
        await self.mappings.aclose(grace_s=self.config.shutdown_grace_s)
        await self.stream_mappings.aclose(grace_s=self.config.shutdown_grace_s)
        await self.expiry.aclose()
        await self.broker_deliveries.aclose(grace_s=self.config.shutdown_grace_s)
        await self.brokers.aclose()
        await self.dispatcher.aclose(grace_s=self.config.shutdown_grace_s)
        await self.collector.aclose()
        await self.meter.aclose()  # the last usage written while the store is open
        if self._store_started:
            await self.cloudwatch.aclose()  # its last datapoints written, before SNS stops
        if self.sns is not None:  # its deliveries queue invocations: before the async invoker
            await self.sns.aclose(grace_s=self.config.shutdown_grace_s)
        await self.async_invoker.aclose()
        await self.knative.aclose()
        await self.sqs.aclose()
        await self.invoker.aclose(grace_s=self.config.shutdown_grace_s)
        await self.zygote.aclose()
        if self.tracing is not None:
            await asyncio.to_thread(self.tracing.shutdown)
        if self._store_started:
            await self.log_archive.aclose()  # what the last invocations logged, then the store
            await self.store.aclose()
