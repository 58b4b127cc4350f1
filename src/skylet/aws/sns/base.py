"""What the SNS operations share: the catalog, the clock, the ARNs a request may name, and the
lookups that answer SNS's errors (NotFound, InvalidParameter, AuthorizationError)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext, Service
from skylet.aws.sns.catalog import Catalog, Subscription, Topic
from skylet.aws.sns.delivery import Deliveries
from skylet.aws.sns.names import invalid, not_found, parse_subscription_arn, parse_topic_arn
from skylet.errors import ServiceError

PAGE = 100
T = TypeVar("T")


class SnsBase(Service):
    service_name = "sns"

    catalog: Catalog
    deliveries: Deliveries
    now: Callable[[], float]

    def __init__(
        self, catalog: Catalog, deliveries: Deliveries, *, now: Callable[[], float]
    ) -> None:
        self.catalog = catalog
        self.deliveries = deliveries
        self.now = now

    def topic_or_error(
        self, arn: str | None, context: RequestContext | None, *, parameter: str = "TopicArn"
    ) -> Topic:
        """The topic ``arn`` names, after a refresh: InvalidParameter for a malformed ARN or one
        of another region, AuthorizationError for another account's, NotFound for none."""
        if not arn:
            raise invalid(f"{parameter}")
        parsed = parse_topic_arn(arn, parameter=parameter)
        if context is not None:
            if parsed.account != context.account_id:
                raise ServiceError(
                    "AuthorizationError",
                    f"User: arn:aws:iam::{context.account_id}:root is not authorized to perform: "
                    f"SNS:{context.operation} on resource: {arn}",
                )
            if parsed.region != context.region:
                raise invalid(parameter)
        topic = self.catalog.topics.get(arn)
        if topic is None:
            raise not_found("Topic does not exist")
        return topic

    def subscription_or_error(self, arn: str) -> Subscription:
        parse_subscription_arn(arn)
        found = self.catalog.subscriptions.get(arn)
        if found is None:
            raise not_found("Subscription does not exist")
        return found


def page(items: Sequence[T], token: str | None) -> tuple[Sequence[T], str | None]:
    """One page of ``PAGE`` items from ``token`` (an offset SNS clients treat as opaque)."""
    start = 0
    if token:
        if not token.isdigit():
            raise invalid("NextToken")
        start = int(token)
    end = start + PAGE
    return items[start:end], (str(end) if end < len(items) else None)


def listing(key: str, rows: Iterable[Params], token: str | None) -> Params:
    chosen, next_token = page(list(rows), token)
    answer: dict[str, Any] = {key: list(chosen)}
    if next_token is not None:
        answer["NextToken"] = next_token
    return answer
