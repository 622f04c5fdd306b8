"""The ShopAgent graph for LangGraph Server (``langgraph.json`` points here).

LangGraph Server supplies the checkpointer and the thread/run API; the graph's runtime
context (catalog, inventory, orders, model...) cannot travel through that API, so
:func:`make_graph` opens the dependencies once from ``Settings`` and binds them as the
context used when a run passes none. Signed-in shoppers and API keys are features of
``shopagent serve``; on LangGraph Server use its own auth.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph
from shopagent.agent.graph.build import build_graph
from shopagent.agent.graph.context import AgentContext

_context: AgentContext | None = None
_lock = asyncio.Lock()


def bind_context(graph: CompiledStateGraph, context: AgentContext) -> CompiledStateGraph:
    """``graph`` whose runs use ``context`` unless they pass one of their own."""

    class ContextBoundGraph(type(graph)):  # type: ignore[misc]
        default_context = context

        def stream(self, input: Any, config: Any = None, *, context: Any = None, **kw: Any):
            return super().stream(input, config, context=context or self.default_context, **kw)

        def astream(self, input: Any, config: Any = None, *, context: Any = None, **kw: Any):
            return super().astream(input, config, context=context or self.default_context, **kw)

    graph.__class__ = ContextBoundGraph
    return graph


async def _open_context() -> AgentContext:
    global _context
    async with _lock:
        if _context is None:
            from shopagent.agent.server.backends import open_agent_from_settings

            from shopagent.settings import get_settings

            # the server brings its own checkpointer; this one only satisfies ShopAgent.open
            agent = await open_agent_from_settings(get_settings(), checkpointer=InMemorySaver())
            _context = agent.context
    return _context


async def make_graph(config: Any = None) -> CompiledStateGraph:
    """Graph factory for LangGraph Server: the compiled graph with its context bound."""
    return bind_context(build_graph(), await _open_context())
