"""clarify: ask the one focused question and remember what we were doing."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from shopagent.agent.answering.i18n import translate
from shopagent.agent.graph.state import AgentState


def clarify(state: AgentState) -> dict[str, Any]:
    """End the turn with the question; the next turn resumes ``pending_intent``."""
    question = state.get("clarify") or "Could you tell me a bit more?"
    question = translate(question, state.get("language"))
    return {
        "answer": question,
        "answer_source": "clarify",
        "pending_intent": state.get("intent"),
        "strikes": state.get("strikes", 0) + 1,
        "messages": [AIMessage(question)],
    }
