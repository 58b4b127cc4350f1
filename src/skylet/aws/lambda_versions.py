"""Published versions and aliases, kept durably: the invoker's ``VersionTable`` is rebuilt from
the store at start, and every change is appended to the store before it takes effect.

Each change is one record on the store log ``skylet:lambda:versions`` (JSON, versioned: ``{"v":
1, "kind": "version" | "alias" | "alias-deleted", …}``); replaying them in order rebuilds the
table. A published version's code is copied to ``code_root/<name>-<number>`` before its record
is written, so what a version runs survives later edits, hot reloads and restarts.

Several nodes sharing a store each replay the log when they start; a version published on one
node is served by the others after their next start.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from skylet.build.snapshots import CodeDigest, code_digest, copy_tree, scan
from skylet.config import AsyncConfig, Destination, FunctionConfig, LoggingConfig
from skylet.errors import (
    ConfigError,
    InvalidParameterValue,
    ServiceUnavailable,
    StoreUnavailable,
)
from skylet.invoker.invoker import Invoker
from skylet.invoker.versions import LATEST, Alias, PublishedVersion
from skylet.store.base import LogStore

LOG = "skylet:lambda:versions"
RECORD_VERSION = 1
_READ_BATCH = 500


class VersionKeeper:
    """Publishes versions (copying their code), changes aliases, and persists both.

    ``store`` ``None`` (a standalone service has no store): versions and aliases are refused.
    ``skip``: directories never copied with code (skylet's data directory)."""

    def __init__(
        self,
        invoker: Invoker,
        store: LogStore | None,
        code_root: Path,
        *,
        skip: frozenset[Path] = frozenset(),
        now: Callable[[], float] = time.time,
    ) -> None:
        self.invoker = invoker
        self.table = invoker.versions
        self._store = store
        self._code_root = code_root
        self._skip = skip
        self._now = now
        self._lock = asyncio.Lock()
        self._digests: dict[Path, tuple[object, CodeDigest]] = {}

    def detach(self) -> None:
        """Keep nothing: the service runs without its store (versions and aliases refused)."""
        self._store = None

    async def load(self) -> int:
        """Replay the store's records into the invoker's table; how many were read."""
        if self._store is None:
            return 0
        await self._store.create_log(LOG)
        after, count = 0, 0
        while True:
            records = await self._store.read(LOG, 0, after_sequence=after, limit=_READ_BATCH)
            if not records:
                return count
            for record in records:
                self._apply(json.loads(record.data))
            after = records[-1].sequence
            count += len(records)

    def _apply(self, record: Mapping[str, Any]) -> None:
        if record.get("v") != RECORD_VERSION:
            return  # written by a newer skylet: left for it
        function = record["function"]
        kind = record["kind"]
        if kind == "version":
            self.table.add(
                PublishedVersion(
                    config_from_record(record["config"]),
                    record["description"],
                    record["code_sha256"],
                    record["code_size"],
                    record["published_at"],
                )
            )
        elif kind == "alias":
            fields = record["alias"]
            self.table.put_alias(
                function,
                Alias(
                    fields["name"],
                    fields["function_version"],
                    fields["description"],
                    MappingProxyType(dict(fields["weights"])),
                    fields["revision_id"],
                ),
            )
        elif kind == "alias-deleted":
            self.table.delete_alias(function, record["name"])

    async def _append(self, record: dict[str, Any]) -> None:
        if self._store is None:
            raise InvalidParameterValue(
                "Versions and aliases need skylet's durable store, which this service does "
                "not open (skylet serve-function); use skylet up"
            )
        record["v"] = RECORD_VERSION
        try:
            await self._store.append(LOG, [json.dumps(record).encode()])
        except StoreUnavailable as error:
            raise ServiceUnavailable(
                f"skylet's durable store is unavailable ({error}); nothing changed. Retry later."
            ) from error
        self._apply(record)

    async def digest(self, fn: FunctionConfig) -> CodeDigest:
        """The digest of a function's code, read again only when a file changed; for a tree
        too large to snapshot (skylet.build.snapshots.MAX_FILES), none (``""``, size 0)."""
        root = fn.code_dir
        try:
            tree = await asyncio.to_thread(scan, root, self._skip)
        except ConfigError:
            return CodeDigest("", 0)
        cached = self._digests.get(root)
        if cached is not None and cached[0] == tree.files:
            return cached[1]
        found = await asyncio.to_thread(code_digest, root, self._skip, tree)
        self._digests[root] = (tree.files, found)
        return found

    async def publish(
        self, fn: FunctionConfig, description: str, expected_sha256: str | None
    ) -> PublishedVersion:
        """Publish ``$LATEST`` as it is now: a new numbered version, or the newest one when
        neither the code nor the configuration changed since (as Lambda does)."""
        async with self._lock:
            current = await self.digest(fn)
            if expected_sha256 is not None and expected_sha256 != current.sha256:
                raise InvalidParameterValue(
                    f"CodeSHA256 ({expected_sha256}) is different from current CodeSHA256 in "
                    f"$LATEST ({current.sha256}). Please try again with the CodeSHA256 in "
                    "$LATEST."
                )
            versions = self.table.versions(fn.name)
            if versions and _same(versions[-1], fn, current):
                return versions[-1]
            number = self.table.next_number(fn.name)
            target = self._code_root / f"{fn.name}-{number}"
            try:
                await asyncio.to_thread(self._copy, fn.code_dir, target)
            except ConfigError as error:  # too many files to copy
                raise InvalidParameterValue(f"Cannot publish {fn.name}: {error}") from None
            copied = await asyncio.to_thread(code_digest, target)
            config = dataclasses.replace(
                fn, version=number, code_dir=target, provisioned_concurrency=0
            )
            await self._append(
                {
                    "kind": "version",
                    "function": fn.name,
                    "config": config_record(config),
                    "description": description,
                    "code_sha256": copied.sha256,
                    "code_size": copied.size,
                    "published_at": self._now(),
                }
            )
            published = self.table.version(fn.name, number)
            assert published is not None
            return published

    def _copy(self, source: Path, target: Path) -> None:
        if target.exists():  # left by a publish that failed before its record was written
            shutil.rmtree(target)
        copy_tree(source, scan(source, self._skip), target)

    async def put_alias(self, function: str, alias: Alias) -> None:
        fields = {
            "name": alias.name,
            "function_version": alias.function_version,
            "description": alias.description,
            "weights": dict(alias.weights),
            "revision_id": alias.revision_id,
        }
        await self._append({"kind": "alias", "function": function, "alias": fields})

    async def delete_alias(self, function: str, name: str) -> None:
        await self._append({"kind": "alias-deleted", "function": function, "name": name})


def _same(published: PublishedVersion, fn: FunctionConfig, code: CodeDigest) -> bool:
    """Whether publishing ``fn`` now would publish what ``published`` already is."""
    as_latest = dataclasses.replace(
        published.config,
        version=LATEST,
        code_dir=fn.code_dir,
        provisioned_concurrency=fn.provisioned_concurrency,
    )
    return as_latest == fn and published.code_sha256 == code.sha256


# -- FunctionConfig as JSON -------------------------------------------------------------------


def config_record(fn: FunctionConfig) -> dict[str, Any]:
    """A version's configuration as plain JSON values, every field of ``FunctionConfig``."""
    return {f.name: _plain(getattr(fn, f.name)) for f in dataclasses.fields(fn)}


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Destination):
        return {"kind": value.kind, "name": value.name, "qualifier": value.qualifier}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def config_from_record(record: Mapping[str, Any]) -> FunctionConfig:
    """The ``FunctionConfig`` :func:`config_record` wrote. Fields a later skylet added are
    left at their defaults; fields it removed are ignored."""
    known = {f.name: f for f in dataclasses.fields(FunctionConfig)}
    values: dict[str, Any] = {}
    for name, raw in record.items():
        field = known.get(name)
        if field is None:
            continue
        if name == "code_dir":
            values[name] = Path(raw)
        elif name == "environment":
            values[name] = MappingProxyType(dict(raw))
        elif name == "async_config":
            values[name] = _async_config(raw)
        elif name == "logging":
            fields = {f.name for f in dataclasses.fields(LoggingConfig)}
            values[name] = LoggingConfig(**{k: v for k, v in raw.items() if k in fields})
        elif isinstance(raw, list):
            values[name] = tuple(raw)
        else:
            values[name] = raw
    return FunctionConfig(**values)


def _async_config(raw: Mapping[str, Any]) -> AsyncConfig:
    def destination(value: Mapping[str, Any] | None) -> Destination | None:
        if value is None:
            return None
        return Destination(value["kind"], value["name"], value.get("qualifier"))

    return AsyncConfig(
        maximum_retry_attempts=raw["maximum_retry_attempts"],
        maximum_event_age_s=raw["maximum_event_age_s"],
        on_success=destination(raw.get("on_success")),
        on_failure=destination(raw.get("on_failure")),
        dead_letter_queue=destination(raw.get("dead_letter_queue")),
    )
