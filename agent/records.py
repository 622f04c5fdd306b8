"""Typed records every room of the agent shares: a product in focus and a recorded tool call.

They sit below understanding, answering and the graph, so each can use them without
importing the graph's state.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict


class ToolCall(TypedDict):
    """One tool call of a turn, as reported by ``ask --json``."""

    name: str
    args: dict[str, Any]
    ok: bool
    result: Any


class FocusItem(TypedDict):
    """A product the conversation is about (for "it", "the second", "the cheaper one")."""

    product_id: str
    name: str
    sku: str
    price: str
    category: str
    order_number: NotRequired[str]
    """Set when the item was offered as a line of one of the customer's orders."""


AnswerSource = Literal[
    "model",
    "template",
    "template (verification failed)",
    "template (model unavailable)",
    "template (time budget)",
    "clarify",
    "confirm",
]
"""Where a turn's answer came from (``answer_source`` in ``ask --json`` and the HTTP API):
the model (verified), a template (and why the model's answer was not used), a clarifying
question, or a confirmation question."""
