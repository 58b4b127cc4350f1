"""The ``context`` argument of a Lambda handler, with the attributes of AWS's Python runtime."""

from __future__ import annotations

import sys
import time
from typing import Any


class CognitoIdentity:
    """``context.identity``: set when the caller was authenticated by Amazon Cognito."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity_id: str | None = None, pool_id: str | None = None) -> None:
        self.cognito_identity_id = identity_id
        self.cognito_identity_pool_id = pool_id

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    """``context.client_context.client``: the mobile app that invoked the function."""

    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )

    def __init__(self, fields: dict[str, Any]) -> None:
        self.installation_id = fields.get("installation_id")
        self.app_title = fields.get("app_title")
        self.app_version_name = fields.get("app_version_name")
        self.app_version_code = fields.get("app_version_code")
        self.app_package_name = fields.get("app_package_name")


class ClientContext:
    """``context.client_context``, decoded from the caller's ``X-Amz-Client-Context`` header."""

    __slots__ = ("client", "custom", "env")

    def __init__(self, fields: dict[str, Any]) -> None:
        client = fields.get("client")
        self.client = Client(client) if isinstance(client, dict) else None
        self.custom = fields.get("custom")
        self.env = fields.get("env")

    def __repr__(self) -> str:
        return f"ClientContext([client={self.client},custom={self.custom},env={self.env}])"


class LambdaContext:
    """Invocation metadata; ``get_remaining_time_in_millis`` counts down to the deadline."""

    def __init__(
        self,
        *,
        aws_request_id: str,
        deadline_ms: int,
        invoked_function_arn: str,
        function_name: str,
        function_version: str,
        memory_limit_in_mb: str,
        log_group_name: str,
        log_stream_name: str,
        identity: dict[str, Any] | None = None,
        client_context: dict[str, Any] | None = None,
        tenant_id: str | None = None,
        traceparent: str | None = None,
    ) -> None:
        self.aws_request_id = aws_request_id
        #: The invocation's W3C trace context (skylet's; Lambda's has only _X_AMZN_TRACE_ID).
        self.traceparent = traceparent
        self.invoked_function_arn = invoked_function_arn
        self.function_name = function_name
        self.function_version = function_version
        self.memory_limit_in_mb = memory_limit_in_mb
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.tenant_id = tenant_id
        self.identity = CognitoIdentity(
            (identity or {}).get("cognitoIdentityId"), (identity or {}).get("cognitoIdentityPoolId")
        )
        self.client_context = ClientContext(client_context) if client_context else None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, msg: str) -> None:
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},identity={self.identity},"
            f"tenant_id={self.tenant_id}])"
        )


class BackgroundContext:
    """The ``context`` of a Cloud Functions background function: the event's metadata."""

    def __init__(
        self,
        *,
        eventId: str,
        timestamp: str,
        eventType: str,
        resource: dict[str, str],
    ) -> None:
        self.event_id = eventId
        self.timestamp = timestamp
        self.event_type = eventType
        self.resource = resource

    def __repr__(self) -> str:
        return (
            f"{{event_id: {self.event_id}, timestamp: {self.timestamp}, "
            f"event_type: {self.event_type}, resource: {self.resource}}}"
        )
