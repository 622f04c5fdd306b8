"""The tool calls of one turn: every handler runs its tools through :class:`Turn`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from langgraph.types import StreamWriter
from pydantic import BaseModel
from shopagent.agent.graph.context import AgentContext, remaining
from shopagent.agent.graph.state import AgentState, FocusItem, ToolCall, last_user_text
from shopagent.agent.understanding.slots import Slots
from shopagent.tools.results import VerifiedCustomer

from shopagent.errors import ShopAgentError, TurnTimeout

log = logging.getLogger("shopagent.tools")


def _no_events(_: Any) -> None:
    return None


class Turn:
    """The tool calls of one turn, recorded as ``{name, args, ok, result}``; each call is
    announced live to ``writer`` (LangGraph's custom stream) as ``tool_started`` and
    ``tool_finished`` events."""

    def __init__(
        self,
        ctx: AgentContext,
        state: AgentState,
        thread_id: str,
        writer: StreamWriter = _no_events,
    ) -> None:
        self.ctx, self.state, self.thread_id, self.writer = ctx, state, thread_id, writer
        self.slots = Slots(**state.get("slots", {}))
        self.calls: list[ToolCall] = []
        self.focus: list[FocusItem] | None = None
        self.clarify: str | None = None
        self.proposal: dict[str, Any] | None = None
        self.current: FocusItem | bool | None = False
        """The product now talked about; False: unchanged."""
        self.search: dict[str, Any] | None = None
        """The product search request this turn ran (carried for refinements); None:
        unchanged."""

    async def call(self, name: str, args: dict[str, Any], run: Callable[[], Any]) -> Any:
        """Run one tool; a ShopAgentError becomes a failed call, never an exception."""
        self.writer({"type": "tool_started", "name": name, "args": args})
        try:
            result = run()
            if isinstance(result, Awaitable):
                result = await asyncio.wait_for(result, remaining(self.ctx))
        except TimeoutError:
            exc = TurnTimeout(f"{name} did not answer within the turn's time budget")
            return self._record(name, args, False, _error(exc))
        except ShopAgentError as exc:
            return self._record(name, args, False, _error(exc))
        dumped = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
        self._record(name, args, result is not None, dumped)
        return result

    def _record(self, name: str, args: dict[str, Any], ok: bool, result: Any) -> None:
        self.calls.append({"name": name, "args": args, "ok": ok, "result": result})
        if not ok and isinstance(result, dict) and "error" in result:
            log.warning("%s failed (%s): %s", name, result["error"], result.get("message", ""))
        self.writer({"type": "tool_finished", "name": name, "args": args, "ok": ok})

    @property
    def customer(self) -> VerifiedCustomer | None:
        data = self.state.get("customer")
        return VerifiedCustomer(**data) if data else None


def _error(exc: ShopAgentError) -> dict[str, str]:
    """What failed: ``message`` with its details (addresses, timings) for logs and reports,
    ``summary`` (the error class's own one-line description) for a model: stable, so a
    recorded run replays, and free of the service's internals."""
    summary = (type(exc).__doc__ or type(exc).__name__).strip().split("\n")[0]
    return {"error": type(exc).__name__, "message": str(exc).split("\n")[0], "summary": summary}


def user_text(turn: Turn) -> str:
    """The shopper's message with their language's phrases in canonical form ("menos de 50"
    → "under $50", agent/understanding/localize.py), as the slots were read: the search
    request, refinements and references read the same words."""
    from shopagent.agent.understanding.localize import localize

    return localize(last_user_text(turn.state), turn.state.get("language"))
