"""requestUri matching for the rest protocols, as a table; and S3's and Lambda's real
templates choose the operation botocore calls."""

from __future__ import annotations

import pytest

from skylet.aws.protocols.models import ServiceModels
from skylet.aws.protocols.routes import compile_route, match

ROUTES = [
    compile_route("ListObjects", "GET", "/{Bucket}"),
    compile_route("ListObjectsV2", "GET", "/{Bucket}?list-type=2"),
    compile_route("GetBucketAcl", "GET", "/{Bucket}?acl"),
    compile_route("GetObject", "GET", "/{Bucket}/{Key+}"),
    compile_route("PutObject", "PUT", "/{Bucket}/{Key+}"),
    compile_route("CopyObject", "PUT", "/{Bucket}/{Key+}", headers=["x-amz-copy-source"]),
    compile_route("UploadPart", "PUT", "/{Bucket}/{Key+}", query=["partNumber", "uploadId"]),
    compile_route("GetFunction", "GET", "/2015-03-31/functions/{FunctionName}"),
    compile_route("Invoke", "POST", "/2015-03-31/functions/{FunctionName}/invocations"),
]

CASES = [
    ("a bucket path is ListObjects", "GET", "/b", {}, {}, "ListObjects", {"Bucket": "b"}),
    ("a trailing slash is the bucket still", "GET", "/b/", {}, {}, "ListObjects", {"Bucket": "b"}),
    (
        "list-type=2 is ListObjectsV2",
        "GET",
        "/b",
        {"list-type": "2"},
        {},
        "ListObjectsV2",
        {"Bucket": "b"},
    ),
    (
        "list-type=1 is not ListObjectsV2",
        "GET",
        "/b",
        {"list-type": "1"},
        {},
        "ListObjects",
        {"Bucket": "b"},
    ),
    ("?acl is GetBucketAcl", "GET", "/b", {"acl": ""}, {}, "GetBucketAcl", {"Bucket": "b"}),
    (
        "a greedy key keeps its slashes",
        "GET",
        "/b/x/y/z.txt",
        {},
        {},
        "GetObject",
        {"Bucket": "b", "Key": "x/y/z.txt"},
    ),
    (
        "an encoded key is decoded after matching",
        "GET",
        "/b/a%2Fb%20c",
        {},
        {},
        "GetObject",
        {"Bucket": "b", "Key": "a/b c"},
    ),
    (
        "a copy source header makes a PUT CopyObject",
        "PUT",
        "/b/k",
        {},
        {"x-amz-copy-source": "/s/k"},
        "CopyObject",
        {"Bucket": "b", "Key": "k"},
    ),
    (
        "a part number and upload id make a PUT UploadPart",
        "PUT",
        "/b/k",
        {"partNumber": "1", "uploadId": "u"},
        {},
        "UploadPart",
        {"Bucket": "b", "Key": "k"},
    ),
    ("a bare PUT is PutObject", "PUT", "/b/k", {}, {}, "PutObject", {"Bucket": "b", "Key": "k"}),
    (
        "an encoded slash stays in a plain label",
        "GET",
        "/2015-03-31/functions/a%2Fb",
        {},
        {},
        "GetFunction",
        {"FunctionName": "a/b"},
    ),
    (
        "the literal tail picks Invoke",
        "POST",
        "/2015-03-31/functions/f/invocations",
        {},
        {},
        "Invoke",
        {"FunctionName": "f"},
    ),
    (
        "a method no route takes matches nothing",
        "DELETE",
        "/2015-03-31/functions/f/invocations",
        {},
        {},
        None,
        None,
    ),
    (
        "a plain label does not take a slash",
        "POST",
        "/2015-03-31/functions/a/b/invocations",
        {},
        {},
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("why", "method", "path", "query", "headers", "operation", "labels"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_a_request_matches_the_most_specific_route(
    why: str,
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    operation: str | None,
    labels: dict[str, str] | None,
) -> None:
    found = match(ROUTES, method, path, query, headers)
    if operation is None:
        assert found is None
    else:
        assert found is not None
        assert (found.operation, dict(found.labels)) == (operation, labels)


REAL = [
    ("s3", "GET", "/b", {"list-type": "2"}, {}, "ListObjectsV2"),
    ("s3", "GET", "/b", {"tagging": ""}, {}, "GetBucketTagging"),
    ("s3", "GET", "/b/k", {"tagging": ""}, {}, "GetObjectTagging"),
    ("s3", "POST", "/b/k", {"uploads": ""}, {}, "CreateMultipartUpload"),
    ("s3", "PUT", "/b/k", {}, {"x-amz-copy-source": "s/k"}, "CopyObject"),
    ("s3", "PUT", "/b/k", {"partNumber": "1", "uploadId": "u"}, {}, "UploadPart"),
    ("s3", "GET", "/", {}, {}, "ListBuckets"),
    ("lambda", "GET", "/2015-03-31/functions/", {}, {}, "ListFunctions"),
    ("lambda", "POST", "/2015-03-31/functions/f/invocations", {}, {}, "Invoke"),
]


@pytest.mark.parametrize(
    ("service", "method", "path", "query", "headers", "operation"),
    REAL,
    ids=[f"{s} {m} {p} ({', '.join([*q, *h]) or 'plain'}) is {o}" for s, m, p, q, h, o in REAL],
)
def test_the_models_own_templates_pick_the_operation(
    models: ServiceModels,
    service: str,
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    operation: str,
) -> None:
    loaded = models.load(service)
    assert loaded is not None
    found = loaded.route(method, path, query, headers)
    assert found is not None and found.operation == operation
