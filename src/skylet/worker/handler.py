"""Loading a handler the way AWS's Python runtime does, with Lambda's init error types."""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Callable
from typing import Any


class InitError(Exception):
    """The init phase failed; ``payload`` is Lambda's error document for it."""

    def __init__(self, error_type: str, message: str, stack: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack = stack or []

    def payload(self, request_id: str = "") -> dict[str, Any]:
        return {
            "errorMessage": self.message,
            "errorType": self.error_type,
            "requestId": request_id,
            "stackTrace": self.stack,
        }


def user_stack(tb: Any) -> list[str]:
    """The traceback as Lambda prints it: runtime frames dropped, user frames kept."""
    frames = traceback.extract_tb(tb)
    ours = __file__.rsplit("/", 1)[0]
    while frames and frames[0].filename.startswith(ours):
        frames.pop(0)
    # importlib's frames sit between our loader and the user's module; they are noise to a user.
    frames = traceback.StackSummary.from_list(
        [f for f in frames if not f.filename.startswith("<frozen importlib")]
    )
    return traceback.format_list(frames)


def load_handler(handler: str) -> Callable[..., Any]:
    """Import ``module.function`` (``path/to/module.function`` too) and return the function.

    Raises InitError with Runtime.MalformedHandlerName, Runtime.ImportModuleError,
    Runtime.UserCodeSyntaxError, Runtime.HandlerNotFound, or the user's own exception type when
    module-level code raised.
    """
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise InitError("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from None
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        raise InitError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        ) from None
    except Exception as exc:
        raise InitError(type(exc).__name__, str(exc), user_stack(sys.exc_info()[2])) from None
    try:
        function = getattr(module, function_name)
    except AttributeError:
        raise InitError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from None
    if not callable(function):
        raise InitError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' on module '{module_name}' is not callable",
        )
    return function  # type: ignore[no-any-return]
