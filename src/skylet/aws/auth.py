"""Who may call skylet's APIs: one ``Authenticator`` for every door (S3, Lambda, the admin
API, the services of the registry), over the one verifier (``sigv4``).

The rules, decided once by the composition root and kept here:

- with credentials configured (``--credentials``), every API but a public bucket's reads, the
  function routes and ``/health`` needs a valid SigV4 signature (``required``): an unsigned
  request is refused as AWS refuses it (``MissingAuthenticationToken``);
- without, on a loopback address only, an unsigned request is accepted, a signed one with the
  local pair ``test``/``test`` is verified (a wrong signature is refused), and one signed with
  any other access key is accepted with every check but its signature's (its secret is not
  known here: the real AWS keys of a developer's environment), as LocalStack accepts it, and
  acts as the local pair (``stand_in``: the account's root);
- on any other address without credentials nothing starts (the CLI refuses);
- a function signs with its own credentials (``function_keys``: an access key, a secret and a
  session token derived from the platform's secret and its name), accepted by every door in
  both modes: the request's principal is then that function (``Verified.function``), which a
  door may refuse what the platform may do (the admin API does).

A door that reads the whole body (Lambda, admin, the services) calls :meth:`admit`: the body
is read (bounded) and hashed into the signature before the operation sees it, then given back
through the ``receive`` it returns. S3 streams its bodies and calls :meth:`verify` with the
payload hash the request declares (``x-amz-content-sha256``); its body is checked as it is read.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote

from skylet import function_keys
from skylet.asgi import Message, Receive, Scope, read_body
from skylet.aws import sigv2, sigv4
from skylet.aws.sigv4 import Credentials, Form, Verified
from skylet.errors import SignatureRefused


def signed_form(raw_query: str, headers: Sequence[tuple[str, str]]) -> Form | None:
    """How a request carries its signature, if it has one."""
    for name, _ in headers:
        if name.lower() == "authorization":
            return "header"
    if "X-Amz-Credential=" in raw_query:
        return "query"
    if "AWSAccessKeyId=" in raw_query:
        return "v2"
    return None


def session_token(raw_query: str, headers: Sequence[tuple[str, str]]) -> str | None:
    """The request's session token (``X-Amz-Security-Token``, a header or a presigned URL's
    parameter, v4's or v2's), if it has one."""
    for name, value in headers:
        if name.lower() == "x-amz-security-token":
            return value
    for part in raw_query.split("&"):
        name, _, value = part.partition("=")
        if name.lower() == "x-amz-security-token":  # SigV2 URLs write it in lower case
            return unquote(value)
    return None


@dataclass(frozen=True, slots=True)
class Admitted:
    """A request that passed: who signed it (None: unsigned and allowed), and the ``receive``
    that gives its body (read already when it was signed)."""

    verified: Verified | None
    receive: Receive


class Authenticator:
    """``keys``: access key → secret; ``region``: the one served (the composition root sets it
    again when the manifest changes); ``required``: credentials are configured, so unsigned
    requests are refused; ``function_secret``: what the functions' own credentials are
    derived from (``function_keys``)."""

    def __init__(
        self,
        keys: Mapping[str, str],
        region: str,
        *,
        required: bool,
        function_secret: bytes = b"",
        stand_in: str = "test",
    ) -> None:
        # Without configured credentials (local use), any access key is accepted, as
        # LocalStack accepts it: boto3 signing with a developer's real AWS keys works. A
        # function's own credentials (a session token) are always verified.
        self.credentials = Credentials(keys, region, "" if required else stand_in)
        self.required = required
        self.function_secret = function_secret

    @property
    def account_key(self) -> str:
        """The platform's first key: whom a function's own credentials act for where an API
        tells principals apart by key (S3's owners)."""
        return next(iter(self.credentials.keys), "")

    @property
    def region(self) -> str:
        return self.credentials.region

    @region.setter
    def region(self, region: str) -> None:
        self.credentials = Credentials(self.credentials.keys, region, self.credentials.stand_in)

    def verify(
        self,
        service: str,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: Sequence[tuple[str, str]],
        *,
        payload_hash: str | None = None,
        anonymous: bool = False,
        any_region: bool = False,
        now: float | None = None,
    ) -> Verified | None:
        """Who signed the request for ``service``; None when it is unsigned and that is allowed
        (``anonymous``: the door decides itself what an unsigned request may do, as S3 does with
        public buckets). Raises ``SignatureRefused``. ``payload_hash``: the body's hex SHA-256,
        for every service but S3; ``any_region``: a request every regional endpoint answers
        alike (S3's ListBuckets)."""
        form = signed_form(raw_query, headers)
        if form is None:
            if self.required and not anonymous:
                raise SignatureRefused("missing", "Missing Authentication Token")
            return None
        credentials, function = self.credentials, None
        token = session_token(raw_query, headers)
        if token is not None:
            function = function_keys.function_of(self.function_secret, token)
            if function is None:
                raise SignatureRefused(
                    "token", "The security token included in the request is invalid.", form=form
                )
            own = function_keys.credentials_for(self.function_secret, function)
            credentials = Credentials({own.access_key_id: own.secret_access_key}, self.region)
        args = (credentials, method, raw_path, raw_query, headers)
        if form == "header":
            verified = sigv4.verify_header(
                *args, service=service, payload_hash=payload_hash, any_region=any_region, now=now
            )
        elif form == "query":
            verified = sigv4.verify_presigned(
                *args, service=service, payload_hash=payload_hash, any_region=any_region, now=now
            )
        elif service != "s3":
            raise SignatureRefused("algorithm", "Signature Version 2 is S3's only", form="v2")
        else:
            verified = sigv2.verify_presigned_v2(*args, now=now)
        return verified if function is None else dataclasses.replace(verified, function=function)

    async def admit(self, scope: Scope, receive: Receive, service: str, *, limit: int) -> Admitted:
        """Verify a request for ``service`` whose body the door reads whole (at most ``limit``
        bytes: ``asgi.BodyTooLarge`` past it). An unsigned request costs a look at its headers
        and query, nothing more; a signed one has its body read and hashed first."""
        raw_query = scope.get("query_string", b"").decode("latin-1")
        signed = "X-Amz-Credential=" in raw_query or "AWSAccessKeyId=" in raw_query
        if not signed:
            signed = any(name == b"authorization" for name, _ in scope["headers"])
        if not signed:
            if self.required:
                raise SignatureRefused("missing", "Missing Authentication Token")
            return Admitted(None, receive)
        body = await read_body(scope, receive, limit)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        verified = self.verify(
            service,
            scope["method"],
            raw_path_of(scope),
            raw_query,
            headers,
            payload_hash=hashlib.sha256(body).hexdigest(),
        )
        return Admitted(verified, replay(body, receive))


def raw_path_of(scope: Scope) -> str:
    """The path as the client sent it (percent-encoded), which is what it signed."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1") if raw else quote(scope["path"])


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` (read already) as one message, then what ``receive``
    gives (a disconnect)."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
