"""Which Lambda control-plane operation a request is: method and path matched against the
operations' URIs as botocore's ``lambda`` model writes them (tests/aws/test_lambda_routes.py
checks each against the model). Matching is pure; dispatch is ``LambdaControl``'s.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote

#: (method, request URI, operation), as in botocore's model.
ROUTES = (
    ("GET", "/2015-03-31/functions", "ListFunctions"),
    ("GET", "/2015-03-31/functions/{FunctionName}", "GetFunction"),
    ("GET", "/2015-03-31/functions/{FunctionName}/configuration", "GetFunctionConfiguration"),
    ("GET", "/2015-03-31/functions/{FunctionName}/versions", "ListVersionsByFunction"),
    ("POST", "/2015-03-31/functions/{FunctionName}/versions", "PublishVersion"),
    ("GET", "/2015-03-31/functions/{FunctionName}/aliases", "ListAliases"),
    ("POST", "/2015-03-31/functions/{FunctionName}/aliases", "CreateAlias"),
    ("GET", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "GetAlias"),
    ("PUT", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "UpdateAlias"),
    ("DELETE", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "DeleteAlias"),
    ("GET", "/2016-08-19/account-settings", "GetAccountSettings"),
    ("POST", "/2015-03-31/event-source-mappings", "CreateEventSourceMapping"),
    ("GET", "/2015-03-31/event-source-mappings", "ListEventSourceMappings"),
    ("GET", "/2015-03-31/event-source-mappings/{UUID}", "GetEventSourceMapping"),
    ("PUT", "/2015-03-31/event-source-mappings/{UUID}", "UpdateEventSourceMapping"),
    ("DELETE", "/2015-03-31/event-source-mappings/{UUID}", "DeleteEventSourceMapping"),
)


class Match(NamedTuple):
    operation: str
    #: The URI's labels, percent-decoded: ``{"FunctionName": "echo", "Name": "live"}``.
    labels: dict[str, str]


def _segments(path: str) -> list[str]:
    return [s for s in path.strip("/").split("/") if s]


_TABLE = [(method, _segments(uri), operation) for method, uri, operation in ROUTES]


def match(method: str, path: str) -> Match | None:
    """The operation a request names, or ``None``. A trailing slash is ignored, as botocore
    sends ListFunctions with or without one."""
    parts = _segments(path)
    for route_method, pattern, operation in _TABLE:
        if route_method != method or len(pattern) != len(parts):
            continue
        labels: dict[str, str] = {}
        for expected, actual in zip(pattern, parts, strict=True):
            if expected.startswith("{"):
                labels[expected[1:-1]] = unquote(actual)
            elif expected != actual:
                break
        else:
            return Match(operation, labels)
    return None
