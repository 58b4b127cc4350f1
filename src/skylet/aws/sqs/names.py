"""Queue names, URLs and ARNs, in the forms SQS and its SDKs write and accept. Pure.

A queue's URL is ``{scheme}://{host}/{account}/{name}``: the host the client reached skylet at
(the request's ``Host``), so an SDK pointed at skylet gets URLs that lead back to it. A URL is
read by its path alone, so the legacy ``https://sqs.us-east-1.amazonaws.com/{account}/{name}``
and ``https://queue.amazonaws.com/{account}/{name}`` forms name the same queue. Its ARN is
``arn:aws:sqs:{region}:{account}:{name}``.

skylet keeps every SQS queue in the store under its own name: SQS names never contain a colon,
and the platform's internal queues (``skylet:async:…``) always do, so the two never meet.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from skylet import arns
from skylet.aws.sqs.errors import invalid_parameter, non_existent_queue

MAX_NAME_LENGTH = 80
FIFO_SUFFIX = ".fifo"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_FIFO_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo")


def is_queue_name(name: str) -> bool:
    """Whether a store queue is an SQS queue (and so listed by ListQueues)."""
    return bool(_NAME.fullmatch(name) or _FIFO_NAME.fullmatch(name))


def check_name(name: str, *, fifo: bool) -> str:
    """A CreateQueue name, with SQS's error when it cannot name a queue of that type."""
    if fifo:
        if not _FIFO_NAME.fullmatch(name):
            raise invalid_parameter(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
                "underscores, must end with .fifo suffix and be 1 to 80 in length."
            )
        return name
    if not _NAME.fullmatch(name):
        raise invalid_parameter(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )
    return name


def queue_url(host: str, account: str, name: str, *, scheme: str = "http") -> str:
    return f"{scheme}://{host}/{account}/{name}"


def name_from_url(url: str, account: str) -> str:
    """The queue a ``QueueUrl`` names; QueueDoesNotExist for anything else, as SQS answers a
    URL it cannot place (a path of another shape, another account, a bad name)."""
    try:
        path = urlsplit(url).path if "://" in url else url
    except ValueError:  # not a URL at all (an unclosed IPv6 bracket, say)
        raise non_existent_queue() from None
    parts = [unquote(part) for part in path.split("/") if part]
    if len(parts) != 2 or parts[0] != account or not is_queue_name(parts[1]):
        raise non_existent_queue()
    return parts[1]


def queue_arn(region: str, account: str, name: str) -> str:
    return arns.arn("sqs", name, region=region, account=account)


def name_from_arn(arn: str, account: str, *, parameter: str) -> str:
    """The queue an SQS ARN names (any region: skylet has one namespace of queues); SQS's
    InvalidParameterValue naming ``parameter`` for what is not a queue ARN of this account."""
    parts = arn.split(":")
    if (
        len(parts) != 6
        or parts[:3] != ["arn", "aws", "sqs"]
        or parts[4] != account
        or not is_queue_name(parts[5])
    ):
        raise invalid_parameter(
            f"Value {arn} for parameter {parameter} is invalid. Reason: Invalid ARN."
        )
    return parts[5]


def is_fifo_name(name: str) -> bool:
    return name.endswith(FIFO_SUFFIX)
