"""MCP tool errors: a ShopAgentError becomes an ``isError`` result with serve's error code,
the message and the hint (how to fix it); never a stack trace."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from mcp.types import CallToolResult, TextContent
from shopagent.agent.server.errors import status_of

from shopagent.errors import ActionNotAllowed, ShopAgentError

log = logging.getLogger("shopagent.mcp")

T = TypeVar("T")


class NotFound(ActionNotAllowed):
    """Nothing by that id (or not the shopper's: existence is not revealed)."""


def error_result(exc: ShopAgentError) -> CallToolResult:
    """An ``isError`` result: the message, the hint, and a stable code (serve's codes)."""
    status, code = status_of(exc)
    if isinstance(exc, NotFound):
        code = "not_found"
    elif status == 400 and isinstance(exc, ActionNotAllowed):
        code = "not_allowed"
    message = str(exc).split("\n  fix:")[0]
    error = {"code": code, "message": message, "hint": exc.hint}
    text = f"{message}\nfix: {exc.hint}" if exc.hint else message
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content={"error": error},
        is_error=True,
    )


async def guard(run: Callable[[], Awaitable[T]], name: str) -> Any:
    try:
        return await run()
    except ShopAgentError as exc:
        log.info("mcp tool %s refused: %s", name, type(exc).__name__)
        return error_result(exc)
