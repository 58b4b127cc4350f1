"""The account, the region and the ARNs of everything skylet serves: computed here, once, for
every service (Lambda, S3, STS, and the services that register after them). Pure.

skylet is one account in one region: ``ACCOUNT_ID`` (``000000000000``, what local AWS emulators
answer) and the region of the manifest (``DEFAULT_REGION`` when it names none). An ARN is
``arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE``; global services (IAM, S3) leave out what they
have no use for, as AWS does::

    function_arn("thumbnail", region="eu-west-1")
        -> "arn:aws:lambda:eu-west-1:000000000000:function:thumbnail"
    arn("sqs", "jobs", region="eu-west-1") -> "arn:aws:sqs:eu-west-1:000000000000:jobs"
    bucket_arn("uploads")                   -> "arn:aws:s3:::uploads"
    caller("test")                          -> the account's root (the local key pair)
    assumed_role("thumbnail")               -> arn:aws:sts::000000000000:assumed-role/
                                               skylet-function/thumbnail
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

PARTITION = "aws"
#: The one account skylet serves.
ACCOUNT_ID = "000000000000"
#: The region when neither the manifest nor the CLI names one (the Serverless Framework's).
DEFAULT_REGION = "us-east-1"
#: The role every function runs as (GetFunction's ``Role``; the session GetCallerIdentity
#: names inside a function).
FUNCTION_ROLE = "skylet-function"
#: The access key local AWS emulators accept by convention; skylet's when none is configured.
LOCAL_ACCESS_KEY = "test"


def arn(service: str, resource: str, *, region: str = "", account: str = ACCOUNT_ID) -> str:
    """``arn:aws:service:region:account:resource``; ``region`` or ``account`` may be empty."""
    return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"


def function_arn(
    name: str, qualifier: str | None = None, *, region: str, account: str = ACCOUNT_ID
) -> str:
    """A Lambda function's ARN, with its version or alias when ``qualifier`` is given."""
    base = arn("lambda", f"function:{name}", region=region, account=account)
    return f"{base}:{qualifier}" if qualifier else base


def role_arn(name: str, *, account: str = ACCOUNT_ID) -> str:
    """An IAM role's ARN (IAM is global: no region)."""
    return arn("iam", f"role/{name}", account=account)


def root_arn(account: str = ACCOUNT_ID) -> str:
    """The account's root user."""
    return arn("iam", "root", account=account)


def bucket_arn(bucket: str) -> str:
    """An S3 bucket's ARN: S3's ARNs name neither region nor account."""
    return arn("s3", bucket, account="")


class Caller(NamedTuple):
    """Who signed a request, as STS's GetCallerIdentity answers it."""

    account: str
    arn: str
    user_id: str


def caller(access_key: str, *, account: str = ACCOUNT_ID) -> Caller:
    """The identity behind an access key. The local pair (and an unsigned local request, ``""``)
    is the account's root, as on an emulator; a configured key is an IAM user named by the key,
    with a stable unique id in IAM's form (``AIDA`` and 17 characters)."""
    if access_key in ("", LOCAL_ACCESS_KEY):
        return Caller(account, root_arn(account), account)
    digest = hashlib.sha256(access_key.encode()).hexdigest().upper()[:17]
    return Caller(account, arn("iam", f"user/{access_key}", account=account), f"AIDA{digest}")


def assumed_role(function: str, *, account: str = ACCOUNT_ID) -> Caller:
    """A function signing with its own credentials: its role's session named after it, as
    Lambda's execution environments are (``AROA…:function`` the unique id: the role's id and
    the session's name)."""
    digest = hashlib.sha256(f"role/{FUNCTION_ROLE}".encode()).hexdigest().upper()[:17]
    return Caller(
        account,
        arn("sts", f"assumed-role/{FUNCTION_ROLE}/{function}", account=account),
        f"AROA{digest}:{function}",
    )
