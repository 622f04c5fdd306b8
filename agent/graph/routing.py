"""Pure routers: state in, next node name out."""

from __future__ import annotations

from typing import Literal

from shopagent.agent.graph.state import AgentState

NO_TOOL_INTENTS = frozenset({"greeting", "out_of_scope"})


def after_understand(state: AgentState) -> Literal["clarify", "act", "compose"]:
    """Ask back when something needed is missing; skip tools when none are needed."""
    if state.get("clarify"):
        return "clarify"
    if state.get("intent") in NO_TOOL_INTENTS:
        return "compose"
    return "act"


def after_act(state: AgentState) -> Literal["clarify", "confirm", "compose"]:
    """Ask back when results are ambiguous; confirm before any write."""
    if state.get("clarify"):
        return "clarify"
    return "confirm" if state.get("proposal") else "compose"
