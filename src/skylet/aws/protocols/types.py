"""What every codec shares: the request and response as the codecs see them, the codec
interface, and the ways a request can be refused before a service sees it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol
from urllib.parse import parse_qsl

from botocore.model import OperationModel, ServiceModel

if TYPE_CHECKING:
    from skylet.aws.protocols.models import Loaded

#: A request's or a response's members as plain values: member names (not wire names) to
#: str, int, float, bool, bytes, datetime (aware, UTC), lists and dicts of those.
Params = dict[str, Any]

#: How deep a request's values may nest (structures, lists, maps), against hostile input.
#: DynamoDB's 32 levels of nested attribute values take 64 (each level is a map and a value).
MAX_DEPTH = 100

#: Why a request is refused before a service sees it; each codec names the AWS error code.
Refusal = Literal["malformed", "invalid", "missing", "unknown_operation", "not_implemented"]


@dataclass(frozen=True, slots=True)
class Request:
    """An HTTP request as the codecs read it. ``path`` is the raw (percent-encoded) path,
    ``query`` the raw query string, ``headers`` the pairs as received (names in any case)."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    _lower: dict[str, str] = field(init=False, repr=False, compare=False)
    #: What a codec derived from the request once (its form, its query pairs), for the next
    #: step to reuse: selecting and parsing read the same parameters.
    memo: dict[str, Any] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        lower: dict[str, str] = {}
        for name, value in self.headers:
            key = name.lower()
            # Repeated headers are one, joined by commas (RFC 9110 §5.3).
            lower[key] = f"{lower[key]},{value}" if key in lower else value
        object.__setattr__(self, "_lower", lower)

    def header(self, name: str) -> str | None:
        """The header's value (``name`` in lower case), repeated ones joined by commas."""
        return self._lower.get(name)

    @property
    def lowered(self) -> Mapping[str, str]:
        return self._lower

    def query_pairs(self) -> list[tuple[str, str]]:
        """The query string's pairs, decoded (computed once)."""
        pairs: list[tuple[str, str]] | None = self.memo.get("query")
        if pairs is None:
            pairs = self.memo["query"] = parse_qsl(self.query, keep_blank_values=True)
        return pairs


class Response(NamedTuple):
    """A response ready to send: status, header pairs, body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Refused(Exception):
    """The request cannot reach a service: ``kind`` says why, ``message`` says what, in the
    words the client sees. The codec of the request's protocol names the AWS code."""

    def __init__(self, kind: Refusal, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class Fault:
    """An error resolved against the service's model, ready for a codec to write."""

    code: str
    message: str
    status: int
    sender_fault: bool
    #: The code a query protocol client reads, when it differs from ``code``.
    query_code: str | None = None
    fields: Mapping[str, object] = field(default_factory=dict)


class Codec(Protocol):
    """One AWS protocol: how an operation is selected, a request read, a response written."""

    name: str
    #: The AWS error code for each way a request can be refused in this protocol.
    codes: Mapping[Refusal, tuple[str, int]]
    #: A missing required member in the protocol's words; ``{member}`` is its wire path.
    missing_message: str

    def select(self, service: Loaded, request: Request) -> str:
        """The operation's name in the model; raises Refused("unknown_operation", …)."""

    def parse(self, operation: OperationModel, request: Request) -> Params:
        """The input members; raises Refused for a malformed body, a bad or missing value."""

    def serialize(self, operation: OperationModel, result: Params, request_id: str) -> Response:
        """The output members as the protocol writes them (200, or the modeled status)."""

    def error(self, model: ServiceModel, fault: Fault, request_id: str) -> Response:
        """An error as the SDK of this protocol parses it."""
