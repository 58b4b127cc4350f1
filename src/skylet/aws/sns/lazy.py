"""SNS on skylet's port before it is built: a project that never uses topics loads none of
SNS's modules (cryptography, the delivery loop); the first SNS request builds and starts it
through ``start`` and is served by it."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from skylet.aws.protocols.types import Params
from skylet.aws.service import Operation, RequestContext, Service

if TYPE_CHECKING:
    from skylet.aws.sns.service import Sns


class LazySns(Service):
    service_name = "sns"

    anonymous_actions = frozenset({"ConfirmSubscription", "Unsubscribe"})

    def __init__(self, start: Callable[[], Awaitable[Sns]], built: Callable[[], Sns | None]):
        self._start = start
        self._built = built

    def document(self, path: str) -> tuple[str, bytes] | None:
        sns = self._built()
        pem = sns.certificate(path) if sns is not None else None
        return ("application/x-pem-file", pem.encode()) if pem is not None else None

    def operation(self, name: str) -> Operation | None:
        async def call(request: Params, context: RequestContext) -> Params | None:
            method = (await self._start()).operation(name)
            if method is None:  # the model has it, SNS does not serve it: as for any service
                from skylet.errors import ServiceError

                raise ServiceError("InvalidAction", f"The action {name} is not valid")
            result = method(request, context)
            return await result if inspect.isawaitable(result) else result

        return call
