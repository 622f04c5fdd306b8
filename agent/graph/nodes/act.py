"""act: run the tools the turn's intents need, deterministically, and record every call."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime
from shopagent.agent.graph.context import AgentContext
from shopagent.agent.graph.handlers import HANDLERS, Turn
from shopagent.agent.graph.state import AgentState, last_assistant_text
from shopagent.agent.understanding.clarification import asked_again


async def act(
    state: AgentState, runtime: Runtime[AgentContext], config: RunnableConfig
) -> dict[str, Any]:
    """Run the handlers of every intent of the turn (multi-intent turns call several)."""
    thread_id = str(config.get("configurable", {}).get("thread_id", ""))
    turn = Turn(runtime.context, state, thread_id, runtime.stream_writer)
    intents = state.get("intents") or [state.get("intent", "")]
    if runtime.context.tool_calling_act:  # the model picks the tools (act_tools.py)
        from shopagent.agent.graph.nodes.act_tools import model_turn

        intents, state = await model_turn(turn, intents, state)
    for intent in intents:
        if turn.clarify or turn.proposal:
            break
        handler = HANDLERS.get(intent)
        if handler:
            await handler(turn)
        if turn.clarify or turn.proposal:
            break
        if turn.focus and intent in {"product_search", "price_stock", "compare"}:
            turn.state = {**turn.state, "targets": turn.focus[:1]}
    if turn.clarify:  # never the same question twice in a row
        turn.clarify = asked_again(turn.clarify, last_assistant_text(state))
    update: dict[str, Any] = {
        "tool_calls": turn.calls,
        "clarify": turn.clarify,
        "proposal": turn.proposal,
        "llm_calls": state.get("llm_calls", 0),
        "tokens": state.get("tokens", 0),
    }
    if turn.focus is not None:
        update["focus"] = turn.focus
    if turn.current is not False:
        update["current"] = turn.current
    if turn.search is not None:
        update["search"] = turn.search
    return update
