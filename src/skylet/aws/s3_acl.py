"""Canned ACLs and who may do what: S3's access rules for buckets and objects owned by
access keys. Pure.

A bucket or an object is owned by the access key that created it ("" for one made by the
platform or kept in a store that cannot tell: every configured key owns it). Its canned ACL
(``x-amz-acl`` on CreateBucket, PutObject, CopyObject, CreateMultipartUpload, PutBucketAcl,
PutObjectAcl) grants the rest:

    private                    the owner only
    public-read                everyone reads (anonymous requests too)
    public-read-write          everyone reads and writes (a bucket: puts and deletes objects)
    authenticated-read         every configured access key reads
    bucket-owner-read          (an object) the bucket's owner reads
    bucket-owner-full-control  (an object) the bucket's owner reads and changes its ACL

A bucket named by ``--public-bucket`` is readable by everyone, objects included.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Literal

from skylet.aws.s3_wire import el, find_all, find_text, parse_xml, xml
from skylet.blobs.base import BucketInfo, ObjectInfo
from skylet.errors import S3Error

CANNED = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "aws-exec-read",
)
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
Action = Literal["read", "write", "acp"]


def owner_id(access_key: str) -> str:
    """An access key's canonical user id (64 hex digits, as S3's are)."""
    return hashlib.sha256(f"skylet:{access_key}".encode()).hexdigest()


def canned(lookup: Mapping[str, str], default: str = "private") -> str:
    """The canned ACL a request names; grants (``x-amz-grant-*``) are not supported."""
    if any(k.startswith("x-amz-grant-") for k in lookup):
        raise S3Error(
            "NotImplemented", "x-amz-grant-* headers are not implemented: use x-amz-acl", 501
        )
    acl = lookup.get("x-amz-acl", default).strip().lower()
    if acl not in CANNED:
        raise S3Error(
            "InvalidArgument", f"Invalid canned ACL: {acl}", 400, ArgumentName="x-amz-acl"
        )
    return acl


def _owns(principal: str, owner: str) -> bool:
    return bool(principal) and (owner == "" or owner == principal)


def _grants_read(acl: str, principal: str) -> bool:
    return acl in ("public-read", "public-read-write") or (
        acl == "authenticated-read" and bool(principal)
    )


def may_bucket(principal: str, bucket: BucketInfo, action: Action, public: bool = False) -> bool:
    """Whether ``principal`` ("" anonymous) may list (read), put or delete objects in (write),
    or see and change the ACL of and delete (acp) ``bucket``."""
    if _owns(principal, bucket.owner):
        return True
    if action == "read":
        return public or _grants_read(bucket.acl, principal)
    if action == "write":
        return bucket.acl == "public-read-write"
    return False


def may_object(
    principal: str, bucket: BucketInfo, info: ObjectInfo, action: Action, public: bool = False
) -> bool:
    """Whether ``principal`` may read ``info`` or see and change its ACL (acp)."""
    if _owns(principal, info.owner):
        return True
    bucket_owner = _owns(principal, bucket.owner)
    if action == "read":
        return (
            public
            or _grants_read(info.acl, principal)
            or (bucket_owner and info.acl in ("bucket-owner-read", "bucket-owner-full-control"))
        )
    return bucket_owner and info.acl == "bucket-owner-full-control"


def access_denied() -> S3Error:
    return S3Error("AccessDenied", "Access Denied", 403)


def _user(key: str) -> str:
    return el("ID", owner_id(key)) + el("DisplayName", key)


def _grant(grantee: str, kind: str, permission: str) -> str:
    return (
        f'<Grant><Grantee xmlns:xsi="{_XSI}" xsi:type="{kind}">{grantee}</Grantee>'
        f"{el('Permission', permission)}</Grant>"
    )


def policy(acl: str, owner: str, bucket_owner: str) -> bytes:
    """The AccessControlPolicy document a canned ACL stands for (GetBucketAcl/GetObjectAcl);
    ``owner`` "" is shown as ``fallback``'s key."""
    grants = []
    group = (
        [(ALL_USERS, "READ")]
        if acl == "public-read"
        else [(ALL_USERS, "READ"), (ALL_USERS, "WRITE")]
        if acl == "public-read-write"
        else [(AUTHENTICATED_USERS, "READ")]
        if acl == "authenticated-read"
        else []
    )
    for uri, permission in group:
        grants.append(_grant(el("URI", uri), "Group", permission))
    grants.append(_grant(_user(owner), "CanonicalUser", "FULL_CONTROL"))
    if acl in ("bucket-owner-read", "bucket-owner-full-control") and bucket_owner != owner:
        permission = "READ" if acl == "bucket-owner-read" else "FULL_CONTROL"
        grants.append(_grant(_user(bucket_owner), "CanonicalUser", permission))
    body = f"<Owner>{_user(owner)}</Owner><AccessControlList>{''.join(grants)}</AccessControlList>"
    return xml("AccessControlPolicy", body)


def from_policy(raw: bytes, owner: str) -> str:
    """The canned ACL an AccessControlPolicy document (PutBucketAcl/PutObjectAcl's body)
    amounts to: the owner's FULL_CONTROL plus group grants; anything finer is NotImplemented."""
    root = parse_xml(raw)
    groups: set[tuple[str, str]] = set()
    for listing in find_all(root, "AccessControlList"):
        for grant in find_all(listing, "Grant"):
            permission = find_text(grant, "Permission") or ""
            grantee = find_all(grant, "Grantee")
            uri = find_text(grantee[0], "URI") if grantee else None
            user = find_text(grantee[0], "ID") if grantee else None
            if uri is not None:
                groups.add((uri, permission))
            elif user not in (owner_id(owner), None) or permission != "FULL_CONTROL":
                raise S3Error(
                    "NotImplemented", "Only canned ACLs and group grants are implemented", 501
                )
    for acl in ("private", "public-read", "public-read-write", "authenticated-read"):
        if groups == _GROUPS[acl]:
            return acl
    raise S3Error("NotImplemented", "Only the grants of canned ACLs are implemented", 501)


_GROUPS: dict[str, set[tuple[str, str]]] = {
    "private": set(),
    "public-read": {(ALL_USERS, "READ")},
    "public-read-write": {(ALL_USERS, "READ"), (ALL_USERS, "WRITE")},
    "authenticated-read": {(AUTHENTICATED_USERS, "READ")},
}
