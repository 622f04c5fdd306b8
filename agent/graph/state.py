"""The graph's typed state. Everything here is checkpointed per thread."""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import AnyMessage, HumanMessage
from langgraph.graph.message import add_messages
from shopagent.agent.records import FocusItem, ToolCall
from typing_extensions import TypedDict

MAX_MESSAGES = 40
"""Messages kept in a thread's state; older ones are dropped (prompts use fewer)."""


def bounded_messages(left: list[AnyMessage], right: list[AnyMessage]) -> list[AnyMessage]:
    """``add_messages``, then keep only the newest ``MAX_MESSAGES``."""
    merged = add_messages(left, right)
    return merged[-MAX_MESSAGES:]


class TurnState(TypedDict, total=False):
    """Keys that hold for one turn only: ``understand`` resets them at the start of a turn."""

    intent: str
    intents: list[str]
    spans: dict[str, str]
    """Per intent, the clause of the message it came from (multi-intent turns)."""
    confidence: float
    slots: dict[str, Any]
    targets: list[FocusItem]
    tool_calls: list[ToolCall]
    clarify: str | None
    guardrail: str | None
    """Why understand refused the turn: "injection" or "system_prompt" (None: not refused)."""
    proposal: dict[str, Any] | None
    """A write (return, cancellation) waiting for the shopper's yes/no."""
    decision: str | None
    """The shopper's answer to the proposal: yes, no or unclear."""
    answer: str
    answer_source: str
    llm_calls: int
    tokens: int


class CarriedState(TypedDict, total=False):
    """Keys carried across the turns of a thread (checkpointed with it)."""

    messages: Annotated[list[AnyMessage], bounded_messages]
    focus: list[FocusItem]
    """The products last shown (for "the second", "the cheaper one")."""
    current: FocusItem | None
    """The product last talked about (for "it"); None right after a list."""
    search: dict[str, Any] | None
    """The last product search request (query, filters, sort): "cheaper ones", "what about
    in copper?" and "under 50 bucks" refine it."""
    customer: dict[str, str] | None
    signed_in: bool
    """Whether ``customer`` was signed in by the host system (not verified in the chat); such
    a customer holds only while the host keeps vouching for them, turn by turn."""
    pending_intent: str | None
    order_number: str | None
    strikes: int
    """Unhelpful turns in a row (clarifications, nothing found); 3 hand over to a person."""
    handoff_reason: str | None
    verify_failures: list[str]
    """When in-chat verification failed in this thread (ISO times; the rate limit)."""
    language: str
    """The language of the shopper's latest turn (en, es, zh...): replies are written in it."""


class AgentState(CarriedState, TurnState, total=False):
    """Conversation state: what a thread carries plus what one turn computes."""


TURN_KEYS: frozenset[str] = frozenset(TurnState.__annotations__)
"""The per-turn keys (reset by ``understand``)."""


def last_assistant_text(state: AgentState) -> str:
    """The text of the newest assistant message ("" when there is none)."""
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            continue
        if getattr(message, "type", "") == "ai":
            return str(message.content)
    return ""


def last_user_text(state: AgentState) -> str:
    """The text of the newest human message."""
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            return str(message.content)
    return ""
