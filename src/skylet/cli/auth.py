"""The credentials the commands sign their requests with, and the signing (botocore's SigV4
signer, the one boto3 uses: nothing hand-written).

A command that talks to a server (``invoke``, ``logs``, ``invocations``, ``bucket``, ``queue``,
``topic``) signs when
it has credentials: ``--credentials ACCESS_KEY:SECRET``, else ``SKYLET_CREDENTIALS`` (its first
pair, as ``skylet up`` reads it), else ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY``.
Without any, requests go unsigned (a local server without credentials accepts them). The region
signed for is ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``), else ``us-east-1``: a server answers
for its manifest's region. The Lambda API is signed for the service ``lambda``, the admin API
(``/_skylet/``) for ``skylet``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from skylet.arns import DEFAULT_REGION

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Keys:
    access_key: str
    secret: str
    region: str = DEFAULT_REGION


def parse_pair(text: str, *, what: str = "--credentials") -> tuple[str, str]:
    """``ACCESS_KEY:SECRET`` → (access key, secret); a usage error otherwise."""
    access_key, sep, secret = text.partition(":")
    if not sep or not access_key or not secret:
        raise click.BadParameter(f"{text!r} is not ACCESS_KEY:SECRET", param_hint=what)
    return access_key, secret


def credentials_option() -> Callable[[F], F]:
    """``--credentials ACCESS_KEY:SECRET`` (or ``SKYLET_CREDENTIALS``), passed to the command
    as ``credentials`` (the text; :func:`keys` reads it)."""
    return click.option(
        "--credentials",
        "credentials",
        envvar="SKYLET_CREDENTIALS",
        metavar="ACCESS_KEY:SECRET",
        help="Sign requests with this key (default: SKYLET_CREDENTIALS' first pair, else "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; none: unsigned).",
    )


def keys(given: str | None, env: Mapping[str, str] | None = None) -> Keys | None:
    """The credentials to sign with (module docstring), or None to send unsigned requests."""
    env = os.environ if env is None else env
    signed_for = region(env)
    if given:
        access_key, secret = parse_pair(given.split()[0])
        return Keys(access_key, secret, signed_for)
    key_id, secret_key = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if key_id and secret_key:
        return Keys(key_id, secret_key, signed_for)
    return None


def region(env: Mapping[str, str] | None = None) -> str:
    """The region requests are signed for (module docstring)."""
    env = os.environ if env is None else env
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def boto3_client(service: str, endpoint: str, given: str | None, **settings: Any) -> Any:
    """A stock boto3 client of ``service`` at ``endpoint`` that signs as every command signs
    (:func:`keys` of ``given``, the ``--credentials`` text), unsigned without credentials;
    ``settings`` go to its botocore ``Config``."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    signer = keys(given)
    if signer is None:
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=region(),
            config=Config(signature_version=UNSIGNED, **settings),
        )
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=signer.region,
        aws_access_key_id=signer.access_key,
        aws_secret_access_key=signer.secret,
        config=Config(**settings),
    )


def signed(
    signer: Keys | None,
    service: str,
    method: str,
    url: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers to send ``method url`` with: ``headers``, and, with ``signer``, the SigV4
    headers botocore's signer adds for ``service`` (Authorization, X-Amz-Date). ``url`` is
    sent exactly as given (its query included), since that is what is signed."""
    if signer is None:
        return dict(headers or {})
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(signer.access_key, signer.secret), service, signer.region).add_auth(
        request
    )
    return {name: str(value) for name, value in request.headers.items()}


#: The query protocol's codes for the same refusals (SNS, and the rest-xml services).
_QUERY_CODES = frozenset(
    {"MissingAuthenticationToken", "SignatureDoesNotMatch", "InvalidClientTokenId"}
)


def refusal_hint(status: int, code: str) -> str:
    """What to tell a user whose request a server refused for its credentials."""
    json_codes = ("AuthenticationTokenException", "SignatureException", "ClientException")
    if status not in (400, 403) or not (code.endswith(json_codes) or code in _QUERY_CODES):
        return ""
    return (
        " (sign with the server's credentials: --credentials ACCESS_KEY:SECRET, "
        "SKYLET_CREDENTIALS, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; the region is "
        "AWS_REGION's)"
    )
