"""The blob store's vocabulary: objects, listings, multipart parts, bucket names.

Every failure a client can cause is an :class:`skylet.errors.S3Error` carrying S3's code and
HTTP status, so the S3 API answers it as S3 does and the SDK raises the same exception.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from skylet.errors import S3Error

Chunks = AsyncIterator[bytes]


_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")


#: Prefixes and suffixes S3 reserves (access point aliases, Object Lambda, directory and
#: table buckets, multi-region access points, IDNs): its general purpose naming rules.
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def is_bucket_name(name: str) -> bool:
    """Whether S3 allows ``name`` for a bucket: 3 to 63 lower-case letters, digits, dots and
    hyphens, starting and ending with a letter or digit, no ``..``, not an IP address, none of
    the prefixes and suffixes S3 reserves."""
    return (
        _BUCKET_NAME.fullmatch(name) is not None
        and ".." not in name
        and _IP_ADDRESS.fullmatch(name) is None
        and not name.startswith(_RESERVED_PREFIXES)
        and not name.endswith(_RESERVED_SUFFIXES)
    )


def check_bucket_name(name: str) -> None:
    if not is_bucket_name(name):
        raise S3Error(
            "InvalidBucketName", "The specified bucket is not valid.", 400, BucketName=name
        )


def bucket_already_owned(bucket: str) -> S3Error:
    return S3Error(
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        409,
        BucketName=bucket,
    )


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=bucket)


def no_such_key(key: str) -> S3Error:
    return S3Error("NoSuchKey", "The specified key does not exist.", 404, Key=key)


def no_such_upload(upload_id: str) -> S3Error:
    return S3Error(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may "
        "have been aborted or completed.",
        404,
        UploadId=upload_id,
    )


@dataclass(frozen=True, slots=True)
class Checksum:
    """A flexible checksum: ``algorithm`` (CRC32, CRC32C, CRC64NVME, SHA1, SHA256), its
    ``value`` in base64 (``-N`` after a COMPOSITE one of N parts) and ``type``."""

    algorithm: str
    value: str
    type: str = "FULL_OBJECT"  # or COMPOSITE


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    etag: str  # without quotes: hex MD5, or ``<hex>-<parts>`` for multipart uploads
    last_modified: float  # epoch seconds
    content_type: str = "binary/octet-stream"
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: Content-Encoding, Content-Disposition, Cache-Control, … as given at upload.
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    checksum: Checksum | None = None
    #: A multipart object's part sizes, in order (GetObject's ``partNumber``); () otherwise.
    parts: tuple[int, ...] = ()
    #: Each part's checksum (base64, the object's algorithm), aligned with ``parts``, when the
    #: upload had one (GetObjectAttributes' parts, GetObject's ``partNumber``); () otherwise.
    part_checksums: tuple[str, ...] = ()
    #: Who wrote it (an access key id; "" when the store cannot tell) and its canned ACL.
    owner: str = ""
    acl: str = "private"


@dataclass(frozen=True, slots=True)
class BucketInfo:
    name: str
    created: float
    public: bool = False
    owner: str = ""  # the access key id that created it ("" when the store cannot tell)
    acl: str = "private"  # its canned ACL


@dataclass(frozen=True, slots=True)
class UploadInfo:
    """A multipart upload in progress: what CreateMultipartUpload said of the object."""

    upload_id: str
    key: str
    initiated: float
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: The checksum the parts carry and how the object's is made (COMPOSITE, FULL_OBJECT).
    checksum_algorithm: str | None = None
    checksum_type: str | None = None
    owner: str = ""
    acl: str = "private"


@dataclass(frozen=True, slots=True)
class Listing:
    objects: tuple[ObjectInfo, ...]
    common_prefixes: tuple[str, ...]
    truncated: bool
    next_token: str | None  # the last key or prefix returned, when truncated


@dataclass(frozen=True, slots=True)
class UploadListing:
    """One page of a bucket's multipart uploads in progress, by key (UTF-8 order), then by
    upload id (skylet's ids sort by creation, as S3 orders one key's uploads)."""

    uploads: tuple[UploadInfo, ...]
    common_prefixes: tuple[str, ...]
    truncated: bool
    #: Where the next page starts, when truncated: the last key (or common prefix) listed,
    #: and the last upload id (None when the page ended with a common prefix).
    next_key_marker: str | None = None
    next_upload_id_marker: str | None = None


@dataclass(frozen=True, slots=True)
class PartInfo:
    number: int
    size: int
    etag: str
    last_modified: float
    checksum: Checksum | None = None


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Inclusive ``first``..``last`` byte positions, resolved against the object's size."""

    first: int
    last: int

    @property
    def length(self) -> int:
        return self.last - self.first + 1


def parse_range(header: str, size: int) -> ByteRange | None:
    """An HTTP ``Range: bytes=…`` header against an object of ``size`` bytes.

    None: the header is not a single byte range S3 honours, so the whole object is sent (as S3
    ignores malformed ranges). An unsatisfiable range raises InvalidRange (416).
    """
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if first_text == "":  # the last N bytes
            suffix = int(last_text)
            if suffix <= 0:
                raise _invalid_range(size)
            return ByteRange(max(0, size - suffix), size - 1) if size else None
        first = int(first_text)
        last = int(last_text) if last_text else size - 1
    except ValueError:
        return None
    if first > last and last_text:
        return None
    if first >= size:
        raise _invalid_range(size)
    return ByteRange(first, min(last, size - 1))


@dataclass(frozen=True, slots=True)
class WriteConditions:
    """A conditional write's headers (S3's ``If-Match``/``If-None-Match`` on PutObject,
    CompleteMultipartUpload and DeleteObject), evaluated by the store when it commits, so that
    two writers cannot both pass them."""

    if_match: str | None = None
    if_none_match: str | None = None

    def check(self, current: ObjectInfo | None, key: str, *, deleting: bool = False) -> None:
        """Raise as S3 does: 412 when the current object (None: there is none) fails a
        condition; If-Match on a missing key is NoSuchKey (a deletion of nothing is no
        error)."""
        none_match = self.if_none_match
        if none_match is not None and current is not None and _etag_in(none_match, current.etag):
            raise _precondition_failed("If-None-Match")
        if self.if_match is not None:
            if current is None:
                if not deleting:
                    raise no_such_key(key)
            elif not _etag_in(self.if_match, current.etag):
                raise _precondition_failed("If-Match")


NO_CONDITIONS = WriteConditions()


def _etag_in(condition: str, etag: str) -> bool:
    tags = {tag.strip().strip('"') for tag in condition.split(",")}
    return "*" in tags or etag in tags


def _precondition_failed(condition: str) -> S3Error:
    return S3Error(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        Condition=condition,
    )


def _invalid_range(size: int) -> S3Error:
    return S3Error(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        ActualObjectSize=str(size),
    )


class BlobStore(Protocol):
    """Buckets and objects: the filesystem store (``files.py``) or a real S3 (``s3.py``).

    Every failure a client caused is an :class:`S3Error`; bodies travel as async iterators of
    chunks, never whole. ``owner`` is the access key id that asks; ``acl`` a canned ACL.
    """

    async def create_bucket(
        self, bucket: str, *, exist_ok: bool = False, owner: str = "", acl: str = "private"
    ) -> None: ...
    async def head_bucket(self, bucket: str) -> BucketInfo: ...
    async def list_buckets(self) -> list[BucketInfo]: ...
    async def delete_bucket(self, bucket: str) -> None: ...
    async def set_bucket_acl(self, bucket: str, acl: str) -> None: ...

    async def put(
        self,
        bucket: str,
        key: str,
        chunks: Chunks,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content_md5: str | None = None,
        checksum: Callable[[], Checksum | None] | None = None,
        conditions: WriteConditions = NO_CONDITIONS,
        owner: str = "",
        acl: str = "private",
    ) -> ObjectInfo:
        """Store an object from ``chunks``. ``checksum`` is asked once the chunks are
        exhausted (a trailer brings it last) and stored with the object; ``conditions`` are
        checked when the object is committed."""
        ...

    async def head(self, bucket: str, key: str) -> ObjectInfo: ...

    async def read(
        self, bucket: str, key: str, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, Chunks]:
        """The object's info and its bytes (or ``byte_range`` of them), as one version."""
        ...

    async def delete(
        self, bucket: str, key: str, conditions: WriteConditions = NO_CONDITIONS
    ) -> bool:
        """False when ``key`` did not exist (which S3 does not report as an error)."""
        ...

    async def set_object_acl(self, bucket: str, key: str, acl: str) -> None: ...

    async def copy(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        replace_metadata: bool = False,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        owner: str = "",
        acl: str = "private",
    ) -> ObjectInfo: ...

    async def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        start_after: str = "",
        max_keys: int = 1000,
    ) -> Listing:
        """Keys after ``start_after`` in UTF-8 binary order, rolled up at ``delimiter``; the
        work is proportional to the page, not to the bucket."""
        ...

    async def create_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        checksum_algorithm: str | None = None,
        checksum_type: str | None = None,
        owner: str = "",
        acl: str = "private",
    ) -> str: ...

    async def get_upload(self, bucket: str, key: str, upload_id: str) -> UploadInfo: ...

    async def list_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        key_marker: str = "",
        upload_id_marker: str = "",
        max_uploads: int = 1000,
    ) -> UploadListing:
        """Uploads in progress (ListMultipartUploads): keys after ``key_marker``, or, with
        ``upload_id_marker``, also that key's uploads after that id; rolled up at
        ``delimiter``."""
        ...

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        chunks: Chunks,
        checksum: Callable[[], Checksum | None] | None = None,
    ) -> PartInfo: ...

    async def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]: ...
    async def abort_upload(self, bucket: str, key: str, upload_id: str) -> None: ...

    async def complete_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        wanted: list[tuple[int, str]],
        *,
        checksum: Callable[[UploadInfo, list[PartInfo]], Checksum | None] | None = None,
        conditions: WriteConditions = NO_CONDITIONS,
    ) -> ObjectInfo:
        """Join the listed parts (number, ETag) into the object. ``checksum`` makes the
        object's checksum from the upload and its chosen parts (and may refuse them). A
        repeated completion of the same parts answers the object it made, as S3 does."""
        ...
