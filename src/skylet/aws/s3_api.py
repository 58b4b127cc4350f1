"""The S3 REST API, path style, over the blob store: what ``boto3.client("s3")`` talks to.

Hand-written on raw ASGI (no framework): it is a hot path and a contract. Requests are
authenticated with SigV4 (header or presigned query); anonymous requests may only read public
buckets. Bodies stream in and out in chunks, never whole. Errors are S3's XML error documents.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import parse_qsl, quote, unquote
from xml.sax.saxutils import escape

from skylet.asgi import Receive, Scope, Send
from skylet.aws import sigv4
from skylet.aws.errors import as_s3_error, internal_s3_error, xml_error
from skylet.aws.s3_notifications import Change, Notifier
from skylet.blobs.base import BlobStore, ObjectInfo, is_bucket_name, parse_range
from skylet.errors import ApiError, S3Error

log = logging.getLogger(__name__)
XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
OWNER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
_READ_METHODS = ("GET", "HEAD")
#: Stored with an object and sent back on GET/HEAD, as S3 keeps them.
_KEPT_HEADERS = (
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
)


def is_s3_request(scope: Scope) -> bool:
    """Whether a request is signed for S3 (its SigV4 credential scope names ``s3``, or it is a
    SigV2 presigned URL). On every request's path, so it looks at raw bytes only."""
    query: bytes = scope.get("query_string", b"")
    if query and (b"X-Amz-Credential=" in query or b"AWSAccessKeyId=" in query):
        raw_query = query.decode("latin-1")
        return sigv4.scope_service([], raw_query) == "s3"
    for name, value in scope["headers"]:
        if name == b"authorization":
            return b"/s3/aws4_request" in value
    return False


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


def _http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


def _xml(root: str, body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{XMLNS}">{body}</{root}>'.encode()
    )


def _el(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


#: How long the answer to "does this unsigned request's path name a bucket" is reused: every
#: unrouted path asks (a 404, a crawler, a health probe), and with an S3-compatible store behind
#: skylet each question is a round trip to it. Buckets made or removed here are known at once;
#: another node's, within this.
BUCKET_CHECK_TTL_S = 1.0
#: At most this many names are remembered (a crawler's random paths do not grow it without end).
BUCKET_CHECK_MEMORY = 1024


class S3Api:
    """``credentials``: who may sign; ``public``: buckets anyone may read anonymously."""

    def __init__(
        self,
        blobs: BlobStore,
        credentials: sigv4.Credentials,
        *,
        public: frozenset[str] = frozenset(),
        notifier: Notifier | None = None,
    ) -> None:
        self.blobs = blobs
        self.credentials = credentials
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
        except OSError as error:  # the disk, not the client: S3's 500, and the platform lives on
            log.exception("S3 request failed: %s %s", scope["method"], scope["path"])
            await self._error(send, internal_s3_error(error), scope, request_id)

    async def _error(self, send: Send, error: S3Error, scope: Scope, request_id: str) -> None:
        body = xml_error(error, scope.get("path", "/"), request_id)
        if scope["method"] == "HEAD":
            body = b""
        await _respond(send, error.status, body, {"content-type": "application/xml"}, request_id)

    # -- dispatch ------------------------------------------------------------------------------

    async def _handle(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        method: str = scope["method"]
        raw = scope.get("raw_path")
        raw_path = raw.decode("latin-1") if raw else quote(scope["path"])
        raw_query = scope.get("query_string", b"").decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        lookup = {k.lower(): v for k, v in headers}
        query = {
            k: v for k, v in parse_qsl(raw_query, keep_blank_values=True) if k not in _AUTH_PARAMS
        }
        if "AWSAccessKeyId=" in raw_query:
            _hoisted_headers(query, headers, lookup)
        if query:  # S3 ignores parameters it does not know (a cache buster, ``?v=2``)
            query = {k: v for k, v in query.items() if k in _S3_PARAMS}
        bucket, _, raw_key = raw_path.lstrip("/").partition("/")
        bucket, key = unquote(bucket), unquote(raw_key)
        payload_hash = self._authenticate(method, raw_path, raw_query, headers, lookup, bucket)
        body = _Body(receive, lookup, payload_hash)
        respond = _Responder(send, request_id, method)
        client = scope.get("client")
        source = (client[0] if client else "127.0.0.1", request_id)
        if not bucket:
            if method != "GET":
                raise _not_implemented(method, raw_path)
            await respond.xml(200, await self._list_buckets())
        elif not key:
            await self._bucket(method, bucket, query, body, respond, source)
        else:
            await self._object(method, bucket, key, query, lookup, body, respond, source)

    def _authenticate(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: list[tuple[str, str]],
        lookup: dict[str, str],
        bucket: str,
    ) -> str:
        if "authorization" in lookup:
            verify = sigv4.verify_header
        elif "X-Amz-Credential=" in raw_query:
            verify = sigv4.verify_presigned
        elif "AWSAccessKeyId=" in raw_query:
            verify = sigv4.verify_presigned_v2
        else:
            if method in _READ_METHODS and bucket and bucket in self.public:
                return sigv4.UNSIGNED
            raise S3Error("AccessDenied", "Access Denied", 403)
        verified = verify(self.credentials, method, raw_path, raw_query, headers)
        return verified.payload_hash

    async def _changed(
        self,
        source: tuple[str, str],
        bucket: str,
        key: str,
        event_name: str,
        info: ObjectInfo | None,
    ) -> None:
        """Queue the change's notifications (durably) before the client hears of success."""
        if self.notifier is not None:
            source_ip, request_id = source
            await self.notifier.notify(Change(bucket, key, event_name, info, source_ip, request_id))

    async def _bucket(
        self,
        method: str,
        bucket: str,
        query: dict[str, str],
        body: _Body,
        respond: _Responder,
        source: tuple[str, str],
    ) -> None:
        if method == "PUT" and not query:
            await body.read_all(1 << 20)  # CreateBucketConfiguration: the region is ours anyway
            await self.blobs.create_bucket(bucket)
            self._bucket_checks.pop(bucket, None)
            await respond.empty(200, {"location": f"/{bucket}"})
        elif method == "HEAD":
            await self.blobs.head_bucket(bucket)
            await respond.empty(200, {"x-amz-bucket-region": self.credentials.region})
        elif method == "DELETE" and not query:
            await self.blobs.delete_bucket(bucket)
            self._bucket_checks.pop(bucket, None)
            await respond.empty(204)
        elif method == "GET" and "location" in query:
            await self.blobs.head_bucket(bucket)
            region = self.credentials.region
            constraint = "" if region == "us-east-1" else escape(region)
            await respond.xml(200, _xml("LocationConstraint", constraint))
        elif method == "GET" and not (_SUBRESOURCES & query.keys()):
            await respond.xml(200, await self._list_objects(bucket, query))
        elif method == "POST" and "delete" in query:
            deleted, document = await self._delete_objects(bucket, await body.read_all(2 << 20))
            for key in deleted:
                await self._changed(source, bucket, key, "ObjectRemoved:Delete", None)
            await respond.xml(200, document)
        else:
            raise _not_implemented(method, f"/{bucket}?{'&'.join(query)}")

    async def _object(
        self,
        method: str,
        bucket: str,
        key: str,
        query: dict[str, str],
        lookup: dict[str, str],
        body: _Body,
        respond: _Responder,
        source: tuple[str, str],
    ) -> None:
        if method == "PUT" and "uploadId" in query and "partNumber" in query:
            number = _int(query["partNumber"], "partNumber")
            part = await self.blobs.upload_part(
                bucket, key, query["uploadId"], number, body.chunks()
            )
            await respond.empty(200, {"etag": f'"{part.etag}"'})
        elif method == "PUT" and "x-amz-copy-source" in lookup:
            info = await self._copy(bucket, key, lookup)
            await self._changed(source, bucket, key, "ObjectCreated:Copy", info)
            result = _el("LastModified", _iso(info.last_modified)) + _el("ETag", f'"{info.etag}"')
            await respond.xml(200, _xml("CopyObjectResult", result))
        elif method == "PUT" and not query:
            info = await self.blobs.put(
                bucket,
                key,
                body.chunks(),
                content_type=lookup.get("content-type"),
                metadata=_user_metadata(lookup),
                headers={k: lookup[k] for k in _KEPT_HEADERS if k in lookup},
                content_md5=lookup.get("content-md5"),
            )
            await self._changed(source, bucket, key, "ObjectCreated:Put", info)
            await respond.empty(200, {"etag": f'"{info.etag}"'})
        elif method in _READ_METHODS and "uploadId" in query:
            await respond.xml(200, await self._list_parts(bucket, key, query["uploadId"]))
        elif method in _READ_METHODS and not (set(query) - _GET_OVERRIDES):
            await self._get(method, bucket, key, query, lookup, respond)
        elif method == "DELETE" and "uploadId" in query:
            await self.blobs.abort_upload(bucket, key, query["uploadId"])
            await respond.empty(204)
        elif method == "DELETE" and not query:
            await self.blobs.head_bucket(bucket)
            if await self.blobs.delete(bucket, key):
                await self._changed(source, bucket, key, "ObjectRemoved:Delete", None)
            await respond.empty(204)
        elif method == "POST" and "uploads" in query:
            upload_id = await self.blobs.create_upload(
                bucket,
                key,
                content_type=lookup.get("content-type"),
                metadata=_user_metadata(lookup),
                headers={k: lookup[k] for k in _KEPT_HEADERS if k in lookup},
            )
            result = _el("Bucket", bucket) + _el("Key", key) + _el("UploadId", upload_id)
            await respond.xml(200, _xml("InitiateMultipartUploadResult", result))
        elif method == "POST" and "uploadId" in query:
            wanted = _parts_wanted(await body.read_all(4 << 20))
            info = await self.blobs.complete_upload(bucket, key, query["uploadId"], wanted)
            await self._changed(source, bucket, key, "ObjectCreated:CompleteMultipartUpload", info)
            result = (
                _el("Location", f"/{bucket}/{quote(key)}")
                + _el("Bucket", bucket)
                + _el("Key", key)
                + _el("ETag", f'"{info.etag}"')
            )
            await respond.xml(200, _xml("CompleteMultipartUploadResult", result))
        else:
            raise _not_implemented(method, f"/{bucket}/{key}")

    # -- operations ----------------------------------------------------------------------------

    async def _list_buckets(self) -> bytes:
        buckets = "".join(
            f"<Bucket>{_el('Name', b.name)}{_el('CreationDate', _iso(b.created))}</Bucket>"
            for b in await self.blobs.list_buckets()
        )
        owner = f"<Owner>{_el('ID', OWNER_ID)}{_el('DisplayName', 'skylet')}</Owner>"
        return _xml("ListAllMyBucketsResult", f"{owner}<Buckets>{buckets}</Buckets>")

    async def _list_objects(self, bucket: str, query: dict[str, str]) -> bytes:
        v2 = query.get("list-type") == "2"
        prefix = query.get("prefix", "")
        delimiter = query.get("delimiter", "")
        max_keys = min(_int(query.get("max-keys", "1000"), "max-keys"), 1000)
        encode = query.get("encoding-type") == "url"
        if encode and query.get("encoding-type") not in ("url",):
            raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", 400)
        if v2:
            token = query.get("continuation-token")
            after = _decode_token(token) if token else query.get("start-after", "")
        else:
            after = query.get("marker", "")
        listing = await self.blobs.list_objects(
            bucket, prefix=prefix, delimiter=delimiter, start_after=after, max_keys=max_keys
        )

        def name(value: str) -> str:
            return quote(value, safe="/") if encode else value

        parts = [_el("Name", bucket), _el("Prefix", name(prefix))]
        if v2:
            parts.append(_el("KeyCount", len(listing.objects) + len(listing.common_prefixes)))
            if "continuation-token" in query:
                parts.append(_el("ContinuationToken", query["continuation-token"]))
            if "start-after" in query:
                parts.append(_el("StartAfter", name(query["start-after"])))
            if listing.truncated and listing.next_token is not None:
                parts.append(_el("NextContinuationToken", _encode_token(listing.next_token)))
        else:
            parts.append(_el("Marker", name(after)))
            if listing.truncated and delimiter and listing.next_token is not None:
                parts.append(_el("NextMarker", name(listing.next_token)))
        parts.append(_el("MaxKeys", max_keys))
        if delimiter:
            parts.append(_el("Delimiter", name(delimiter)))
        if encode:
            parts.append(_el("EncodingType", "url"))
        parts.append(_el("IsTruncated", "true" if listing.truncated else "false"))
        for info in listing.objects:
            parts.append(
                "<Contents>"
                f"{_el('Key', name(info.key))}{_el('LastModified', _iso(info.last_modified))}"
                f"{_el('ETag', chr(34) + info.etag + chr(34))}{_el('Size', info.size)}"
                f"{_el('StorageClass', 'STANDARD')}"
                "</Contents>"
            )
        for common in listing.common_prefixes:
            parts.append(f"<CommonPrefixes>{_el('Prefix', name(common))}</CommonPrefixes>")
        return _xml("ListBucketResult", "".join(parts))

    async def _delete_objects(self, bucket: str, raw: bytes) -> tuple[list[str], bytes]:
        await self.blobs.head_bucket(bucket)
        root = _parse_xml(raw)
        quiet = (_find_text(root, "Quiet") or "false").lower() == "true"
        keys = [_find_text(o, "Key") or "" for o in _find_all(root, "Object")]
        if len(keys) > 1000:
            raise S3Error("MalformedXML", "You may delete at most 1000 objects at once", 400)
        results = []
        deleted = []
        for key in keys:
            if await self.blobs.delete(bucket, key):
                deleted.append(key)
            if not quiet:
                results.append(f"<Deleted>{_el('Key', key)}</Deleted>")
        return deleted, _xml("DeleteResult", "".join(results))

    async def _copy(self, bucket: str, key: str, lookup: dict[str, str]) -> ObjectInfo:
        source = unquote(lookup["x-amz-copy-source"].split("?versionId=", 1)[0]).lstrip("/")
        source_bucket, _, source_key = source.partition("/")
        if not source_key:
            raise S3Error(
                "InvalidArgument", "Copy Source must mention the source bucket and key", 400
            )
        directive = lookup.get("x-amz-metadata-directive", "COPY").upper()
        if directive not in ("COPY", "REPLACE"):
            raise S3Error("InvalidArgument", "Unknown metadata directive.", 400)
        if (source_bucket, source_key) == (bucket, key) and directive == "COPY":
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
            bucket,
            key,
            replace_metadata=directive == "REPLACE",
            content_type=lookup.get("content-type"),
            metadata=_user_metadata(lookup),
        )

    async def _list_parts(self, bucket: str, key: str, upload_id: str) -> bytes:
        parts = await self.blobs.list_parts(bucket, key, upload_id)
        body = _el("Bucket", bucket) + _el("Key", key) + _el("UploadId", upload_id)
        body += _el("IsTruncated", "false")
        for part in parts:
            body += (
                f"<Part>{_el('PartNumber', part.number)}"
                f"{_el('LastModified', _iso(part.last_modified))}"
                f"{_el('ETag', chr(34) + part.etag + chr(34))}{_el('Size', part.size)}</Part>"
            )
        return _xml("ListPartsResult", body)

    async def _get(
        self,
        method: str,
        bucket: str,
        key: str,
        query: dict[str, str],
        lookup: dict[str, str],
        respond: _Responder,
    ) -> None:
        info = await self.blobs.head(bucket, key)
        status = _conditions(info, lookup)
        headers = _object_headers(info)
        for name, header in _GET_OVERRIDE_HEADERS.items():
            if name in query:
                headers[header] = query[name]
        if status == 304:
            await respond.empty(304, {"etag": headers["etag"]})
            return
        if status == 412:
            raise S3Error(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                412,
                Condition="If-Match",
            )
        byte_range = parse_range(lookup["range"], info.size) if "range" in lookup else None
        if method == "HEAD":
            headers["content-length"] = str(info.size if byte_range is None else byte_range.length)
            await respond.stream(200 if byte_range is None else 206, headers, _nothing(), method)
            return
        # The bytes come from one version: the one ``read`` opens (a PUT may land in between).
        info, chunks = await self.blobs.read(bucket, key, byte_range)
        headers.update(_object_headers(info))
        if byte_range is None:
            headers["content-length"] = str(info.size)
            await respond.stream(200, headers, chunks, method)
        else:
            headers["content-length"] = str(byte_range.length)
            headers["content-range"] = f"bytes {byte_range.first}-{byte_range.last}/{info.size}"
            await respond.stream(206, headers, chunks, method)


_GET_OVERRIDE_HEADERS = {
    "response-content-type": "content-type",
    "response-content-disposition": "content-disposition",
    "response-cache-control": "cache-control",
    "response-content-encoding": "content-encoding",
    "response-content-language": "content-language",
    "response-expires": "expires",
}
_GET_OVERRIDES = set(_GET_OVERRIDE_HEADERS) | {"partNumber", "versionId"}
#: S3's subresources: each selects an operation (skylet answers 501 for those it does not
#: implement)...
_SUBRESOURCES = frozenset(
    {
        *("accelerate", "acl", "analytics", "attributes", "cors", "delete", "encryption"),
        *("intelligent-tiering", "inventory", "legal-hold", "lifecycle", "location", "logging"),
        *("metrics", "notification", "object-lock", "ownershipControls", "policy"),
        *("policyStatus", "publicAccessBlock", "replication", "requestPayment", "restore"),
        *("retention", "select", "tagging", "torrent", "uploadId", "uploads", "versioning"),
        *("versions", "website"),
    }
)
#: ...and with the parameters of the operations, every query parameter S3 knows. S3 ignores any
#: other (a cache buster, ``?v=2``), and so does skylet.
_S3_PARAMS = _SUBRESOURCES | {
    *_GET_OVERRIDES,
    *("continuation-token", "delimiter", "encoding-type", "fetch-owner", "id", "key-marker"),
    *("list-type", "marker", "max-keys", "max-parts", "max-uploads", "part-number-marker"),
    *("prefix", "select-type", "start-after", "upload-id-marker", "version-id-marker"),
}
#: Query parameters that sign a request (SigV4 and SigV2 presigned URLs): set aside before a
#: SigV2 URL's signed headers are read from the query (``X-Amz-Signature`` is not a header).
#: Like botocore's operation marker ``x-id``, they select no operation: only _S3_PARAMS do.
_AUTH_PARAMS = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
        "AWSAccessKeyId",
        "Signature",
        "Expires",
    }
)


def _hoisted_headers(
    query: dict[str, str], headers: list[tuple[str, str]], lookup: dict[str, str]
) -> None:
    """A SigV2 presigned URL carries the headers it signed as query parameters (botocore puts
    Content-Type, Content-MD5 and every x-amz-* header there, so whoever uses the URL need not
    send them): they count as the request's headers, unless it sent its own, and select no
    operation."""
    for name in list(query):
        lower = name.lower()
        if lower in ("content-type", "content-md5") or lower.startswith("x-amz-"):
            value = query.pop(name)
            if lower not in lookup:
                lookup[lower] = value
                headers.append((lower, value))


def _conditions(info: ObjectInfo, lookup: dict[str, str]) -> int | None:
    """304 or 412 when a conditional header says so, as S3 evaluates them."""
    etag = f'"{info.etag}"'
    if "if-match" in lookup and lookup["if-match"].strip() not in (etag, "*", info.etag):
        return 412
    if "if-none-match" in lookup and lookup["if-none-match"].strip() in (etag, "*", info.etag):
        return 304
    modified = int(info.last_modified)
    try:
        since = lookup.get("if-unmodified-since")
        if since and "if-match" not in lookup and modified > _epoch(since):
            return 412
        since = lookup.get("if-modified-since")
        if since and "if-none-match" not in lookup and modified <= _epoch(since):
            return 304
    except (TypeError, ValueError):
        pass  # S3 ignores a date it cannot read
    return None


def _epoch(http_date: str) -> float:
    return parsedate_to_datetime(http_date).timestamp()


def _object_headers(info: ObjectInfo) -> dict[str, str]:
    headers = {
        "etag": f'"{info.etag}"',
        "last-modified": _http_date(info.last_modified),
        "content-type": info.content_type,
        "accept-ranges": "bytes",
    }
    headers.update(info.headers)
    for name, value in info.metadata.items():
        headers[f"x-amz-meta-{name}"] = value
    return headers


def _user_metadata(lookup: dict[str, str]) -> dict[str, str]:
    return {k[len("x-amz-meta-") :]: v for k, v in lookup.items() if k.startswith("x-amz-meta-")}


def _encode_token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise S3Error(
            "InvalidArgument", "The continuation token provided is incorrect", 400
        ) from None


def _int(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise S3Error(
            "InvalidArgument", f"Provided {name} not an integer or within integer range", 400
        ) from None
    if number < 0:
        raise S3Error(
            "InvalidArgument", f"Argument {name} must be an integer between 0 and 2147483647", 400
        )
    return number


def _parse_xml(raw: bytes) -> ET.Element:
    try:
        return ET.fromstring(raw)
    except ET.ParseError:
        raise S3Error(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our "
            "published schema",
            400,
        ) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find_all(root: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in root if _local(child.tag) == name]


def _find_text(root: ET.Element, name: str) -> str | None:
    for child in root:
        if _local(child.tag) == name:
            return child.text or ""
    return None


def _parts_wanted(raw: bytes) -> list[tuple[int, str]]:
    root = _parse_xml(raw)
    wanted = []
    for part in _find_all(root, "Part"):
        number = _find_text(part, "PartNumber")
        etag = _find_text(part, "ETag")
        if number is None or etag is None:
            raise S3Error("MalformedXML", "Each Part needs a PartNumber and an ETag", 400)
        wanted.append((_int(number, "PartNumber"), etag))
    return wanted


def _not_implemented(method: str, what: str) -> S3Error:
    return S3Error(
        "NotImplemented",
        f"A header or query you provided implies functionality that is not implemented: "
        f"{method} {what}",
        501,
    )


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""


class _Body:
    """The request body as chunks: aws-chunked framing removed, the signed SHA-256 checked."""

    def __init__(self, receive: Receive, lookup: dict[str, str], payload_hash: str) -> None:
        self._receive = receive
        self._payload_hash = payload_hash
        self._chunked = payload_hash.startswith("STREAMING-") or "aws-chunked" in lookup.get(
            "content-encoding", ""
        )

    async def _raw(self) -> AsyncIterator[bytes]:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise S3Error(
                    "IncompleteBody",
                    "The client closed the connection before sending the whole body",
                    400,
                )
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def chunks(self) -> AsyncIterator[bytes]:
        source = _dechunk(self._raw()) if self._chunked else self._raw()
        check = len(self._payload_hash) == 64 and not self._chunked
        digest = hashlib.sha256() if check else None
        async for chunk in source:
            if digest is not None:
                digest.update(chunk)
            yield chunk
        if digest is not None and digest.hexdigest() != self._payload_hash:
            raise S3Error(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                400,
            )

    async def read_all(self, limit: int) -> bytes:
        parts = []
        size = 0
        async for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                raise S3Error("MaxMessageLengthExceeded", "Your request was too big.", 400)
            parts.append(chunk)
        return b"".join(parts)


async def _dechunk(source: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Undo ``aws-chunked`` framing: ``<hex size>[;chunk-signature=…]\r\n<data>\r\n``…,
    ending with a zero-size chunk and optional trailers (checksums, not re-verified here)."""
    buffer = b""
    state, pending = "size", 0
    async for piece in source:
        if state == "done":
            continue  # trailers
        buffer += piece
        while True:
            if state == "data":
                if not buffer:
                    break
                take = buffer[:pending]
                buffer, pending = buffer[len(take) :], pending - len(take)
                yield take
                if pending:
                    break
                state = "crlf"
            elif state == "crlf":
                if len(buffer) < 2:
                    break
                buffer, state = buffer[2:], "size"
            else:
                line, sep, rest = buffer.partition(b"\r\n")
                if not sep:
                    break
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise S3Error(
                        "IncompleteBody", "The aws-chunked body is malformed", 400
                    ) from None
                buffer = rest
                if size == 0:
                    state = "done"
                    break
                state, pending = "data", size


class _Responder:
    def __init__(self, send: Send, request_id: str, method: str) -> None:
        self._send = send
        self._request_id = request_id
        self._method = method

    async def xml(self, status: int, body: bytes) -> None:
        await _respond(
            self._send, status, body, {"content-type": "application/xml"}, self._request_id
        )

    async def empty(self, status: int, headers: dict[str, str] | None = None) -> None:
        await _respond(self._send, status, b"", headers or {}, self._request_id)

    async def stream(
        self, status: int, headers: dict[str, str], chunks: AsyncIterator[bytes], method: str
    ) -> None:
        raw = _raw_headers(headers, self._request_id)
        await self._send({"type": "http.response.start", "status": status, "headers": raw})
        if method == "HEAD":
            await self._send({"type": "http.response.body", "body": b""})
            return
        async for chunk in chunks:
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})
        await self._send({"type": "http.response.body", "body": b""})


def _raw_headers(headers: dict[str, str], request_id: str) -> list[tuple[bytes, bytes]]:
    raw = [
        (k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers.items()
    ]
    raw.append((b"x-amz-request-id", request_id.encode()))
    raw.append((b"x-amz-id-2", request_id.encode()))
    return raw


async def _respond(
    send: Send, status: int, body: bytes, headers: dict[str, str], request_id: str
) -> None:
    raw = _raw_headers(headers, request_id)
    if "content-length" not in headers:
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
