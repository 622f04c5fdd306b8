"""Resolving what a turn refers to ("it", "the second", "the cheaper one") from the focus."""

from __future__ import annotations

from decimal import Decimal

from agent.slots import Slots
from agent.state import FocusItem

PRODUCT_INTENTS = frozenset({"product_search", "product_question", "price_stock", "compare"})
FOLLOW_UP_INTENTS = frozenset({"product_question", "price_stock", "compare", "return_policy"})


def resolve_targets(slots: Slots, focus: list[FocusItem], intent: str) -> list[FocusItem]:
    """The focus products this turn refers to; empty when it names new products.

    Pure function: positional ("the second"), comparative ("the cheaper one") and pronoun
    references pick from ``focus``; a message with its own product words refers to none.
    """
    if not focus:
        return []
    if slots.ordinal is not None:
        index = slots.ordinal - 1 if slots.ordinal > 0 else len(focus) - 1
        return [focus[index]] if 0 <= index < len(focus) else []
    if slots.cheaper or slots.pricier:
        ranked = sorted(focus, key=lambda f: Decimal(f["price"]))
        return [ranked[0] if slots.cheaper else ranked[-1]]
    if slots.query and intent == "product_search":
        return []
    if slots.query and not slots.reference:
        return []
    if intent == "compare":
        return focus[:2]
    if intent in FOLLOW_UP_INTENTS or slots.reference or slots.color or slots.size:
        return focus[:1]
    return []


def is_follow_up(slots: Slots, focus: list[FocusItem]) -> bool:
    """A short message that only makes sense about the products already shown."""
    return (
        bool(focus)
        and not slots.query
        and (
            slots.reference
            or slots.ordinal is not None
            or slots.cheaper
            or slots.pricier
            or bool(slots.color)
            or bool(slots.size)
        )
    )
