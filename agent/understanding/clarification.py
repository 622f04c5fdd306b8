"""When a turn must ask back: pure rules over intent, slots and what is already known."""

from __future__ import annotations

from typing import Any

from shopagent.agent.records import FocusItem
from shopagent.agent.understanding.slots import Slots

ORDER_INTENTS = frozenset(
    {
        "order_status",
        "return_request",
        "cancel_order",
        "exchange_request",
        "modify_order",
        "change_address",
    }
)

ASK_VERIFY = (
    "To look up an order I first need to verify it's you: please tell me the email address "
    "on the order and the order number (or your zip code)."
)
ASK_VERIFY_AGAIN = (
    "I couldn't verify those details. Please check the email address and the order number "
    "(or zip code) and try again."
)
ASK_SIGN_IN = (
    "To look up an order, please sign in to your account on our site first; then I can help "
    "with it here."
)
ASK_PRODUCT = "Which product do you mean? Tell me its name or describe it."
ASK_COMPARE = "Which products would you like me to compare?"
ASK_NEED = "What are you looking for? Describe it, and a price range if you have one."


def missing_slot_question(
    intent: str,
    slots: Slots,
    targets: list[FocusItem],
    *,
    verified: bool,
    verification_failed: bool,
    chat_verification: bool = True,
) -> str | None:
    """The one focused question to ask, or None when the turn can proceed.

    ``chat_verification`` False: shoppers cannot verify in the chat, so an anonymous one is
    asked to sign in on the shop's site (the host then vouches for them)."""
    if intent in ORDER_INTENTS and not verified:
        if not chat_verification:
            return ASK_SIGN_IN
        return ASK_VERIFY_AGAIN if verification_failed else ASK_VERIFY
    has_filters = slots.max_price is not None or slots.min_price is not None or slots.color
    if intent in {"price_stock", "product_question"} and not targets and not slots.query:
        return ASK_PRODUCT
    if intent == "compare" and len(targets) < 2 and not slots.query:
        return ASK_COMPARE
    vague = not slots.query and not has_filters and not targets
    if intent == "product_search" and vague and not verified:
        return ASK_NEED  # a verified customer gets recommendations from their history
    return None


def choose_question(options: list[FocusItem], notes: dict[str, list[str]] | None = None) -> str:
    """Ask which of several matching products the shopper means; ``notes`` (by SKU) name
    what tells each apart ("color: Blue")."""
    names = []
    for i, o in enumerate(options, 1):
        note = (notes or {}).get(str(o.get("sku")), [])
        names.append(f"{i}. {o['name']}" + (f" ({', '.join(note)})" if note else ""))
    return "I found several that match. Which one do you mean?\n" + "\n".join(names)


def choose_order_question(orders: list[Any], what: str) -> str:
    """Ask which of the customer's orders a return or cancellation is about."""
    lines = []
    for i, order in enumerate(orders, 1):
        items = ", ".join(item.name for item in order.items[:2])
        lines.append(f"{i}. {order.number} ({items})")
    return f"Which order would you like to {what}?\n" + "\n".join(lines)
