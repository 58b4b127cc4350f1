"""The S3 REST API, path style, over the blob store: what ``boto3.client("s3")`` talks to.

Hand-written on raw ASGI (no framework): it is a hot path and a contract. Requests are
authenticated with SigV4 (header or presigned query); anonymous requests may only read public
buckets. Bodies stream in and out in chunks, never whole. Errors are S3's XML error documents.
"""

from __future__ import annotations

import logging
import time
import uuid
from xml.sax.saxutils import escape

from skylet.asgi import Receive, Scope, Send
from skylet.aws import (
    s3_acl,
    s3_attributes,
    s3_checksums,
    s3_listing,
    s3_multipart,
    s3_objects,
    s3_params,
    sigv4,
)
from skylet.aws import s3_wire as wire
from skylet.aws.auth import Authenticator, raw_path_of
from skylet.aws.errors import as_s3_error, internal_s3_error, xml_error
from skylet.aws.s3_notifications import Change, Notifier
from skylet.aws.s3_wire import el, http_date, iso
from skylet.blobs.base import (
    BlobStore,
    BucketInfo,
    ByteRange,
    ObjectInfo,
    is_bucket_name,
    parse_range,
)
from skylet.errors import ApiError, S3Error

log = logging.getLogger(__name__)
_READ_METHODS = ("GET", "HEAD")
ANONYMOUS = sigv4.Verified("", sigv4.UNSIGNED)


def is_sdk_request(scope: Scope) -> bool:
    """Whether an unsigned request comes from an AWS SDK (botocore's ``amz-sdk-*`` headers) or
    speaks S3 (an ``x-amz-*`` header): for an S3 client, S3's XML answers, not a route's 404."""
    return any(name.startswith((b"amz-sdk-", b"x-amz-")) for name, _ in scope["headers"])


#: How long the answer to "does this unsigned request's path name a bucket" is reused: every
#: unrouted path asks (a 404, a crawler, a health probe), and with an S3-compatible store behind
#: skylet each question is a round trip to it. Buckets made or removed here are known at once;
#: another node's, within this.
BUCKET_CHECK_TTL_S = 1.0
#: At most this many names are remembered (a crawler's random paths do not grow it without end).
BUCKET_CHECK_MEMORY = 1024


class S3Api:
    """``auth``: who may sign (and the region served); ``public``: buckets anyone may read
    anonymously."""

    def __init__(
        self,
        blobs: BlobStore,
        auth: Authenticator,
        *,
        public: frozenset[str] = frozenset(),
        notifier: Notifier | None = None,
    ) -> None:
        self.blobs = blobs
        self.auth = auth
        self.public = public
        self.notifier = notifier
        self._bucket_checks: dict[str, tuple[float, bool]] = {}  # name → (when, exists)

    async def has_bucket(self, name: str) -> bool:
        """Whether a bucket ``name`` exists; a store that cannot answer counts as no. Answers
        are reused for ``BUCKET_CHECK_TTL_S``; a name S3 would refuse costs no question."""
        if not is_bucket_name(name):
            return False
        now = time.monotonic()
        checked = self._bucket_checks.get(name)
        if checked is not None and now - checked[0] < BUCKET_CHECK_TTL_S:
            return checked[1]
        try:
            await self.blobs.head_bucket(name)
            exists = True
        except S3Error:
            exists = False
        if len(self._bucket_checks) >= BUCKET_CHECK_MEMORY:
            self._bucket_checks.clear()
        self._bucket_checks[name] = (now, exists)
        return exists

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = uuid.uuid4().hex[:16].upper()
        try:
            await self._handle(scope, receive, send, request_id)
        except ApiError as error:  # S3's own, or the store could not take the notifications
            await self._error(send, as_s3_error(error), scope, request_id)
        except OSError:  # the disk, not the client: S3's 500, and the platform lives on
            log.exception("S3 request failed: %s %s", scope["method"], scope["path"])
            # The log has the details; the client is told nothing of the server's paths.
            await self._error(
                send,
                internal_s3_error(f"request {request_id}, please try again"),
                scope,
                request_id,
            )

    async def _error(self, send: Send, error: S3Error, scope: Scope, request_id: str) -> None:
        body = xml_error(error, scope.get("path", "/"), request_id)
        if scope["method"] == "HEAD":
            body = b""
        headers = {"content-type": "application/xml"}
        if "Region" in error.fields:
            # A request signed for another region: botocore's S3 clients read the bucket's
            # region here (a HEAD has no body) and sign again for it, as with S3.
            headers["x-amz-bucket-region"] = error.fields["Region"]
        await wire.respond(send, error.status, body, headers, request_id)

    # -- dispatch ------------------------------------------------------------------------------

    async def _handle(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        method: str = scope["method"]
        raw_path = raw_path_of(scope)
        raw_query = scope.get("query_string", b"").decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        lookup = {k.lower(): v for k, v in headers}
        query = s3_params.operation_query(raw_query, headers, lookup)
        bucket, _, raw_key = raw_path.lstrip("/").partition("/")
        bucket, key = wire.path_name(bucket), wire.path_name(raw_key)
        if method == "OPTIONS":  # a CORS preflight: skylet keeps no CORS configuration
            raise S3Error(
                "BadRequest", "Insufficient information. Origin request header needed.", 400
            )
        verified = self._authenticate(method, raw_path, raw_query, headers, bool(bucket))
        client = scope.get("client")
        request = wire.S3Request(
            method,
            bucket,
            key,
            query,
            lookup,
            wire.RequestBody(receive, lookup, verified),
            wire.Responder(send, request_id),
            # A function's own credentials act as the account's (its role's, on AWS): the
            # platform's first key, which buckets and objects were owned by before.
            self.auth.account_key if verified.function else verified.access_key,
            client[0] if client else "127.0.0.1",
            request_id,
        )
        if not bucket:
            if method != "GET":
                raise wire.not_implemented(method, raw_path)
            if not request.principal:
                raise s3_acl.access_denied()
            buckets = await self.blobs.list_buckets()
            await request.respond.xml(
                200, s3_listing.list_buckets(buckets, request.principal, query)
            )
        elif not key:
            await self._bucket(request)
        else:
            await self._object(request)

    def _authenticate(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: list[tuple[str, str]],
        names_bucket: bool,
    ) -> sigv4.Verified:
        """Who signed the request; ANONYMOUS when nobody did (each operation then decides
        whether an anonymous request may do it, with the credentials configured or not).
        A request for no bucket (ListBuckets) may be signed for any region: every regional
        endpoint of S3 lists the account's buckets."""
        verified = self.auth.verify(
            "s3", method, raw_path, raw_query, headers, anonymous=True, any_region=not names_bucket
        )
        return ANONYMOUS if verified is None else verified

    async def _changed(
        self, request: wire.S3Request, key: str, event_name: str, info: ObjectInfo | None
    ) -> None:
        """Queue the change's notifications (durably) before the client hears of success."""
        if self.notifier is not None:
            change = Change(
                request.bucket, key, event_name, info, request.source_ip, request.request_id
            )
            await self.notifier.notify(change)

    async def _allowed_bucket(self, request: wire.S3Request, action: s3_acl.Action) -> BucketInfo:
        """The bucket, when the request may do ``action`` to it; else AccessDenied."""
        bucket = await self.blobs.head_bucket(request.bucket)
        public = request.bucket in self.public and action == "read"
        if not s3_acl.may_bucket(request.principal, bucket, action, public):
            raise s3_acl.access_denied()
        expected = request.lookup.get("x-amz-expected-bucket-owner")
        if expected and expected != s3_acl.owner_id(bucket.owner or request.principal):
            raise s3_acl.access_denied()
        return bucket

    async def _allowed_object(
        self, request: wire.S3Request, action: s3_acl.Action, bucket: str, key: str
    ) -> ObjectInfo:
        """The object, when the request may read it (or its ACL: acp); else AccessDenied."""
        info_bucket = await self.blobs.head_bucket(bucket)
        public = bucket in self.public and action == "read"
        try:
            info = await self.blobs.head(bucket, key)
        except S3Error as error:
            # Only who may list the bucket learns that a key is not there, as on S3.
            hidden = not s3_acl.may_bucket(request.principal, info_bucket, "read", public)
            if error.code == "NoSuchKey" and hidden:
                raise s3_acl.access_denied() from None
            raise
        if not s3_acl.may_object(request.principal, info_bucket, info, action, public):
            raise s3_acl.access_denied()
        return info

    # -- buckets -------------------------------------------------------------------------------

    async def _bucket(self, request: wire.S3Request) -> None:
        method, query, respond = request.method, request.query, request.respond
        name = request.bucket
        if method == "PUT" and not query:
            await self._create_bucket(request)
        elif method == "PUT" and "acl" in query:
            await self._allowed_bucket(request, "acp")
            acl = await self._acl_of(request)
            await self.blobs.set_bucket_acl(name, acl)
            await respond.empty(200)
        elif method == "GET" and "acl" in query:
            bucket = await self._allowed_bucket(request, "acp")
            owner = bucket.owner or request.principal
            await respond.xml(200, s3_acl.policy(bucket.acl, owner, owner))
        elif method == "HEAD":
            await self._allowed_bucket(request, "read")
            await respond.empty(200, {"x-amz-bucket-region": self.auth.region})
        elif method == "DELETE" and not query:
            await self._allowed_bucket(request, "acp")
            await self.blobs.delete_bucket(name)
            self._bucket_checks.pop(name, None)
            await respond.empty(204)
        elif method == "GET" and "location" in query:
            await self._allowed_bucket(request, "acp")
            region = self.auth.region
            constraint = "" if region == "us-east-1" else escape(region)
            await respond.xml(200, wire.xml("LocationConstraint", constraint))
        elif method == "GET" and "uploads" in query:
            bucket = await self._allowed_bucket(request, "read")
            uploads = await s3_multipart.list_uploads(self.blobs, bucket, request.principal, query)
            await respond.xml(200, uploads)
        elif method == "GET" and "versions" in query:
            bucket = await self._allowed_bucket(request, "read")
            listing = await s3_listing.list_versions(self.blobs, bucket, request.principal, query)
            await respond.xml(200, listing)
        elif method == "GET" and not (s3_params.SUBRESOURCES & query.keys()):
            bucket = await self._allowed_bucket(request, "read")
            listing = await s3_listing.list_objects(self.blobs, bucket, request.principal, query)
            await respond.xml(200, listing)
        elif method == "POST" and "delete" in query:
            await self._allowed_bucket(request, "write")
            deleted, document = await self._delete_objects(request)
            for key in deleted:
                await self._changed(request, key, "ObjectRemoved:Delete", None)
            await respond.xml(200, document)
        else:
            raise wire.not_implemented(method, f"/{name}?{'&'.join(query)}")

    async def _create_bucket(self, request: wire.S3Request) -> None:
        """CreateBucket. Your own bucket made again with the same ACL is a success, as S3 (in
        us-east-1) answers it; with another ACL, or someone else's, BucketAlreadyExists."""
        if not request.principal:
            raise s3_acl.access_denied()
        await request.body.read_all(1 << 20)  # CreateBucketConfiguration: the region is ours
        acl = s3_acl.canned(request.lookup)
        name = request.bucket
        try:
            existing = await self.blobs.head_bucket(name)
        except S3Error as error:
            if error.code != "NoSuchBucket":
                raise
            await self.blobs.create_bucket(name, owner=request.principal, acl=acl)
            self._bucket_checks.pop(name, None)
        else:
            if existing.owner not in ("", request.principal) or existing.acl != acl:
                raise S3Error(
                    "BucketAlreadyExists",
                    "The requested bucket name is not available. The bucket namespace is "
                    "shared by all users of the system. Please select a different name and try "
                    "again.",
                    409,
                    BucketName=name,
                )
        await request.respond.empty(200, {"location": f"/{name}"})

    async def _acl_of(self, request: wire.S3Request) -> str:
        """The canned ACL a PutBucketAcl/PutObjectAcl sets: ``x-amz-acl``, or the document."""
        raw = await request.body.read_all(64 << 10)
        if "x-amz-acl" in request.lookup or not raw.strip():
            return s3_acl.canned(request.lookup)
        return s3_acl.from_policy(raw, request.principal)

    async def _delete_objects(self, request: wire.S3Request) -> tuple[list[str], bytes]:
        root = wire.parse_xml(await request.body.read_all(2 << 20))
        quiet = (wire.find_text(root, "Quiet") or "false").lower() == "true"
        keys = [wire.find_text(o, "Key") or "" for o in wire.find_all(root, "Object")]
        if len(keys) > 1000:
            raise S3Error("MalformedXML", "You may delete at most 1000 objects at once", 400)
        results = []
        deleted = []
        for key in keys:
            if await self.blobs.delete(request.bucket, key):
                deleted.append(key)
            if not quiet:
                results.append(f"<Deleted>{el('Key', key)}</Deleted>")
        return deleted, wire.xml("DeleteResult", "".join(results))

    # -- objects -------------------------------------------------------------------------------

    async def _object(self, request: wire.S3Request) -> None:
        method, query, lookup = request.method, request.query, request.lookup
        key = request.key
        if method == "PUT" and "uploadId" in query and "partNumber" in query:
            await self._allowed_bucket(request, "write")
            if "x-amz-copy-source" in lookup:
                source = await self._copy_source(request)
                await s3_multipart.upload_part_copy(self.blobs, request, source)
            else:
                await s3_multipart.upload_part(self.blobs, request)
        elif method == "PUT" and "acl" in query:
            await self._allowed_object(request, "acp", request.bucket, key)
            await self.blobs.set_object_acl(request.bucket, key, await self._acl_of(request))
            await request.respond.empty(200)
        elif method in _READ_METHODS and "acl" in query:
            info = await self._allowed_object(request, "acp", request.bucket, key)
            bucket = await self.blobs.head_bucket(request.bucket)
            owner = info.owner or request.principal
            policy = s3_acl.policy(info.acl, owner, bucket.owner or request.principal)
            await request.respond.xml(200, policy)
        elif method == "PUT" and "x-amz-copy-source" in lookup:
            await self._allowed_bucket(request, "write")
            info = await self._copy(request)
            await self._changed(request, key, "ObjectCreated:Copy", info)
            result = el("LastModified", iso(info.last_modified)) + el("ETag", f'"{info.etag}"')
            await request.respond.xml(200, wire.xml("CopyObjectResult", result))
        elif method == "PUT" and not query:
            await self._allowed_bucket(request, "write")
            body = request.body
            info = await self.blobs.put(
                request.bucket,
                key,
                body.chunks(),
                content_type=lookup.get("content-type"),
                metadata=s3_objects.user_metadata(lookup),
                headers=s3_objects.kept_headers(lookup),
                content_md5=lookup.get("content-md5"),
                checksum=lambda: body.checksum,
                conditions=s3_multipart.write_conditions(request),
                owner=request.principal,
                acl=s3_acl.canned(lookup),
            )
            await self._changed(request, key, "ObjectCreated:Put", info)
            headers = {"etag": f'"{info.etag}"', **s3_checksums.response_headers(info.checksum)}
            await request.respond.empty(200, headers)
        elif method in _READ_METHODS and "uploadId" in query:
            await self._allowed_bucket(request, "read")
            await s3_multipart.list_parts(self.blobs, request)
        elif method == "GET" and "attributes" in query:
            info = await self._allowed_object(request, "read", request.bucket, key)
            attributes = s3_attributes.wanted(lookup)  # who may not read it learns nothing more
            document = s3_attributes.document(info, attributes, lookup)
            await request.respond.xml(
                200, document, {"last-modified": http_date(info.last_modified)}
            )
        elif method in _READ_METHODS and not (set(query) - s3_params.GET_PARAMS):
            await self._get(request)
        elif method == "DELETE" and "uploadId" in query:
            await self._allowed_bucket(request, "write")
            await self.blobs.abort_upload(request.bucket, key, query["uploadId"])
            await request.respond.empty(204)
        elif method == "DELETE" and not query:
            await self._allowed_bucket(request, "write")
            if await self.blobs.delete(request.bucket, key, s3_multipart.write_conditions(request)):
                await self._changed(request, key, "ObjectRemoved:Delete", None)
            await request.respond.empty(204)
        elif method == "POST" and "uploads" in query:
            await self._allowed_bucket(request, "write")
            await s3_multipart.create(self.blobs, request)
        elif method == "POST" and "uploadId" in query:
            await self._allowed_bucket(request, "write")
            info = await s3_multipart.complete(self.blobs, request)
            await self._changed(request, key, "ObjectCreated:CompleteMultipartUpload", info)
        else:
            raise wire.not_implemented(method, f"/{request.bucket}/{key}")

    async def _copy_source(self, request: wire.S3Request) -> ObjectInfo:
        """The source of a copy, when the request may read it and its conditions hold."""
        source_bucket, source_key = s3_multipart.copy_source(request.lookup)
        info = await self._allowed_object(request, "read", source_bucket, source_key)
        if s3_objects.read_conditions(info, request.lookup, "x-amz-copy-source-") is not None:
            raise s3_objects.precondition_failed("x-amz-copy-source-If-Match")
        return info

    async def _copy(self, request: wire.S3Request) -> ObjectInfo:
        lookup = request.lookup
        await self._copy_source(request)
        source_bucket, source_key = s3_multipart.copy_source(lookup)
        directive = lookup.get("x-amz-metadata-directive", "COPY").upper()
        if directive not in ("COPY", "REPLACE"):
            raise S3Error("InvalidArgument", "Unknown metadata directive.", 400)
        if (source_bucket, source_key) == (request.bucket, request.key) and directive == "COPY":
            raise S3Error(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes.",
                400,
            )
        return await self.blobs.copy(
            source_bucket,
            source_key,
            request.bucket,
            request.key,
            replace_metadata=directive == "REPLACE",
            content_type=lookup.get("content-type"),
            metadata=s3_objects.user_metadata(lookup),
            owner=request.principal,
            acl=s3_acl.canned(lookup),
        )

    async def _get(self, request: wire.S3Request) -> None:
        method, query, lookup = request.method, request.query, request.lookup
        s3_objects.check_overrides(query, anonymous=not request.principal)
        info = await self._allowed_object(request, "read", request.bucket, request.key)
        status = s3_objects.read_conditions(info, lookup)
        if status == 304:
            await request.respond.empty(304, {"etag": f'"{info.etag}"'})
            return
        if status == 412:
            raise s3_objects.precondition_failed()
        part = wire.integer(query["partNumber"], "partNumber") if "partNumber" in query else None
        if part is not None:
            byte_range = _part_range(info, part)
        elif "range" in lookup:
            byte_range = parse_range(lookup["range"], info.size)
        else:
            byte_range = None
        if method == "GET":
            # The bytes come from one version: the one ``read`` opens (a PUT may land between).
            info, chunks = await self.blobs.read(request.bucket, request.key, byte_range)
        else:
            chunks = wire.nothing()
        if byte_range is None:
            checksum = info.checksum
        else:  # a part's bytes have the part's checksum; a range's have none
            checksum = s3_attributes.part_checksum(info, part) if part is not None else None
        headers = s3_objects.object_headers(info, lookup, query, checksum)
        if byte_range is None:
            headers["content-length"] = str(info.size)
            await request.respond.stream(200, headers, chunks, method)
        else:
            headers["content-length"] = str(byte_range.length)
            headers["content-range"] = f"bytes {byte_range.first}-{byte_range.last}/{info.size}"
            await request.respond.stream(206, headers, chunks, method)


def _part_range(info: ObjectInfo, number: int) -> ByteRange | None:
    """GetObject's ``partNumber``: that part's bytes of a multipart object (None: all of a
    one-part object, which is its part 1)."""
    sizes = info.parts or (info.size,)
    if not 1 <= number <= len(sizes):
        raise S3Error(
            "InvalidPart",
            "The requested partnumber is not satisfiable",
            400,
            PartNumberRequested=str(number),
            ActualPartCount=str(len(sizes)),
        )
    if not info.parts:
        return None
    first = sum(sizes[: number - 1])
    return ByteRange(first, first + sizes[number - 1] - 1)
