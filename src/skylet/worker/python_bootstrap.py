"""A Python function as a client of the Lambda Runtime API, for the one case where a Python
function needs the relay: its layers bring extensions (``/opt/extensions``), which only a relay
serves. ``python -m skylet.worker.python_bootstrap module.function`` loads the handler as the
zygote's instances do (skylet.worker.handler: Lambda's init errors), then loops on ``next``:
the same ``context``, the same result serialisation, the same error documents. It starts a
fresh interpreter, so such a function's cold start is an interpreter's (~30 ms), not a fork's.
"""

from __future__ import annotations

import http.client
import inspect
import io
import json
import os
import sys
from typing import Any

from skylet.worker.context import LambdaContext
from skylet.worker.handler import InitError, load_handler, user_stack
from skylet.worker.instance import to_json

PREFIX = "/2018-06-01/runtime/"


class Client:
    def __init__(self, address: str) -> None:
        host, port = address.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port))

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[bytes, http.client.HTTPMessage]:
        self.conn.request(method, PREFIX + path, body=body, headers=headers or {})
        answer = self.conn.getresponse()
        return answer.read(), answer.headers


def _error(exc: BaseException, request_id: str) -> dict[str, Any]:
    document = {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": user_stack(exc.__traceback__),
    }
    trace = "".join(document["stackTrace"]).rstrip("\n")
    print(
        f"[ERROR] {document['errorType']}: {document['errorMessage']}\n"
        f"Traceback (most recent call last):\n{trace}",
        file=sys.stderr,
    )
    return document


def main(handler_name: str) -> None:
    # Unbuffered, so that what an invocation prints reaches the relay before its response.
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
    client = Client(os.environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        handler = load_handler(handler_name)
    except InitError as exc:
        print(f"[ERROR] {exc.error_type}: {exc.message}", file=sys.stderr)
        header = {"Lambda-Runtime-Function-Error-Type": exc.error_type}
        client.call("POST", "init/error", json.dumps(exc.payload()).encode(), header)
        raise SystemExit(1) from None
    loop = None
    while True:
        body, headers = client.call("GET", "invocation/next")
        request_id = headers["Lambda-Runtime-Aws-Request-Id"]
        identity = headers.get("Lambda-Runtime-Cognito-Identity")
        client_context = headers.get("Lambda-Runtime-Client-Context")
        context = LambdaContext(
            aws_request_id=request_id,
            deadline_ms=int(headers["Lambda-Runtime-Deadline-Ms"]),
            invoked_function_arn=headers["Lambda-Runtime-Invoked-Function-Arn"],
            function_name=os.environ["AWS_LAMBDA_FUNCTION_NAME"],
            function_version=os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
            memory_limit_in_mb=os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
            log_group_name=os.environ["AWS_LAMBDA_LOG_GROUP_NAME"],
            log_stream_name=os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
            identity=json.loads(identity) if identity else None,
            client_context=json.loads(client_context) if client_context else None,
        )
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("Lambda-Runtime-Trace-Id", "")
        try:
            result = handler(json.loads(body) if body.strip() else {}, context)
            if inspect.isawaitable(result):
                import asyncio

                loop = loop or asyncio.new_event_loop()
                result = loop.run_until_complete(result)
        except Exception as exc:
            document = _error(exc, request_id)
        else:
            try:
                answer = to_json(result).encode()
            except (TypeError, ValueError, RecursionError) as exc:
                message = f"Unable to marshal response: {exc}"
                print(f"[ERROR] Runtime.MarshalError: {message}", file=sys.stderr)
                document = {
                    "errorMessage": message,
                    "errorType": "Runtime.MarshalError",
                    "requestId": request_id,
                    "stackTrace": [],
                }
            else:
                client.call("POST", f"invocation/{request_id}/response", answer)
                continue
        header = {"Lambda-Runtime-Function-Error-Type": document["errorType"]}
        client.call("POST", f"invocation/{request_id}/error", json.dumps(document).encode(), header)


if __name__ == "__main__":
    main(sys.argv[1])
