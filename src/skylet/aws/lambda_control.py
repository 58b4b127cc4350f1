"""The Lambda control plane that tools call first: functions, the account's settings, and
(with ``aws/lambda_aliases.py``) versions and aliases, in rest-json as botocore's ``lambda``
model defines them.

``LambdaControl`` decodes a request (the route's labels, the query, the JSON body), runs one
operation and encodes its answer. Functions come from the manifest, so the operations that
create, update or delete them are not served (``NotImplementedException``, 501;
docs/lambda-api.md lists what is).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from skylet.asgi import Receive, Scope, Send, respond
from skylet.aws import lambda_documents as documents
from skylet.aws.lambda_aliases import VersionOperations
from skylet.aws.lambda_documents import Document, Facts
from skylet.aws.lambda_mapping_api import MappingOperations
from skylet.aws.lambda_mappings import EventSourceMappings
from skylet.aws.lambda_names import FunctionRef, check_enum, parse_function_name
from skylet.aws.lambda_requests import Answer, Request, max_items_of, read_request
from skylet.aws.lambda_routes import match
from skylet.aws.lambda_versions import VersionKeeper
from skylet.aws.stream_mappings import StreamMappings
from skylet.build.snapshots import CodeDigest
from skylet.config import FunctionConfig
from skylet.errors import NotImplementedOperation
from skylet.invoker.invoker import PUBLISHED_STATUS, Invoker
from skylet.invoker.versions import PublishedVersion

_JSON = (b"content-type", b"application/json")


Operation = Callable[[Request], Awaitable[Answer]]


class LambdaControl:
    """The control-plane operations; ``keeper`` holds versions and aliases."""

    def __init__(
        self,
        invoker: Invoker,
        keeper: VersionKeeper,
        mappings: EventSourceMappings | None = None,
        streams: StreamMappings | None = None,
    ) -> None:
        self.invoker = invoker
        self.keeper = keeper
        self.settings = invoker.settings
        versions = VersionOperations(self)
        self._operations: dict[str, Operation] = {
            "ListFunctions": self.list_functions,
            "GetFunction": self.get_function,
            "GetFunctionConfiguration": self.get_function_configuration,
            "GetAccountSettings": self.get_account_settings,
            "ListVersionsByFunction": versions.list_versions,
            "PublishVersion": versions.publish_version,
            "ListAliases": versions.list_aliases,
            "GetAlias": versions.get_alias,
            "CreateAlias": versions.create_alias,
            "UpdateAlias": versions.update_alias,
            "DeleteAlias": versions.delete_alias,
        }
        if mappings is not None:
            sources = MappingOperations(self, mappings, streams)
            self._operations.update(
                CreateEventSourceMapping=sources.create,
                ListEventSourceMappings=sources.list,
                GetEventSourceMapping=sources.get,
                UpdateEventSourceMapping=sources.update,
                DeleteEventSourceMapping=sources.delete,
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        found = match(method, path)
        if found is None or found.operation not in self._operations:
            raise NotImplementedOperation(
                f"skylet's Lambda API does not serve {method} {path} (see docs/lambda-api.md)"
            )
        request = await read_request(scope, receive, found.labels)
        status, document = await self._operations[found.operation](request)
        body = b"" if document is None else json.dumps(document).encode()
        await respond(send, status, body, [_JSON, (b"x-amzn-requestid", request_id.encode())])

    # -- shared by the operations ---------------------------------------------------------

    def ref(self, request: Request, action: str, *, qualifier: bool = False) -> FunctionRef:
        """The function a request names (``FunctionName``, and ``Qualifier`` when the
        operation takes one)."""
        given = request.query.get("Qualifier") if qualifier else None
        return parse_function_name(
            request.labels["FunctionName"],
            self.settings,
            qualifier=given,
            region=self.invoker.region,
            action=action,
        )

    def latest(self, name: str) -> FunctionConfig:
        """The function's ``$LATEST``, by any name it answers to; ResourceNotFound if none."""
        return self.invoker.function(name)

    def version(self, fn: FunctionConfig, qualifier: str | None) -> PublishedVersion | None:
        """The published version a qualifier names (an alias: its own version), ``None`` for
        ``$LATEST``; ResourceNotFound when it names nothing."""
        if qualifier is None:
            return None
        return self.invoker.published_version(fn, qualifier)

    async def configuration(
        self, fn: FunctionConfig, published: PublishedVersion | None, *, qualified: bool = False
    ) -> Document:
        """FunctionConfiguration of ``$LATEST`` (``published`` ``None``) or of a version."""
        if published is not None:
            facts = Facts(
                CodeDigest(published.code_sha256, published.code_size),
                PUBLISHED_STATUS,
                published.published_at,
                published.description,
            )
            return documents.configuration(published.config, facts, self.settings)
        facts = Facts(
            await self.keeper.digest(fn),
            self.invoker.status(fn.name),
            self.invoker.last_modified(fn.name),
        )
        return documents.configuration(fn, facts, self.settings, qualified=qualified)

    # -- functions ------------------------------------------------------------------------

    async def list_functions(self, request: Request) -> Answer:
        everything = request.query.get("FunctionVersion")
        if everything is not None:
            check_enum("functionVersion", everything, ("ALL",))
        marker = request.query.get("Marker")
        max_items = max_items_of(request)
        functions = sorted(self.invoker.functions(), key=lambda fn: fn.name)
        entries: list[tuple[FunctionConfig, PublishedVersion | None]] = []
        for fn in functions:
            entries.append((fn, None))
            if everything:
                entries.extend((fn, v) for v in self.invoker.versions.versions(fn.name))
        shown, next_marker = documents.page(entries, marker, max_items)
        listed = [await self.configuration(fn, published) for fn, published in shown]
        document: Document = {"Functions": listed}
        if next_marker is not None:
            document["NextMarker"] = next_marker
        return 200, document

    async def get_function(self, request: Request) -> Answer:
        ref = self.ref(request, "lambda:GetFunction", qualifier=True)
        fn = self.latest(ref.name)
        published = self.version(fn, ref.qualifier)
        code_dir = fn.code_dir if published is None else published.config.code_dir
        document: Document = {
            "Configuration": await self.configuration(fn, published),
            # There is no package to download: the code is a directory on this machine.
            "Code": {"RepositoryType": "S3", "Location": code_dir.resolve().as_uri()},
        }
        if fn.reserved_concurrency is not None:
            document["Concurrency"] = {"ReservedConcurrentExecutions": fn.reserved_concurrency}
        return 200, document

    async def get_function_configuration(self, request: Request) -> Answer:
        ref = self.ref(request, "lambda:GetFunctionConfiguration", qualifier=True)
        fn = self.latest(ref.name)
        return 200, await self.configuration(fn, self.version(fn, ref.qualifier))

    async def get_account_settings(self, request: Request) -> Answer:
        functions = self.invoker.functions()
        total = 0
        for fn in functions:
            total += (await self.keeper.digest(fn)).size
            total += sum(v.code_size for v in self.invoker.versions.versions(fn.name))
        return 200, documents.account_settings(self.settings, functions, total)
