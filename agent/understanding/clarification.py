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

VERIFY_WAYS = {
    "email_order": "the email address on the order and the order number",
    "email_zip": "the email address and your zip code",
    "name_zip": "your full name and zip code",
}
"""What the shopper is asked for, per verification method the shop allows."""
ALL_METHODS = ("email_order", "email_zip", "name_zip")


def ask_verify(methods: tuple[str, ...] = ALL_METHODS) -> str:
    """Ask for the details of the verification methods the shop allows."""
    ways = [VERIFY_WAYS[m] for m in ALL_METHODS if m in methods]
    listed = ways[0] if len(ways) == 1 else ", ".join(ways[:-1]) + ", or " + ways[-1]
    return f"To look up an order I first need to verify it's you: please tell me {listed}."


def ask_verify_again(methods: tuple[str, ...] = ALL_METHODS) -> str:
    """After a failed attempt: ask again for the allowed details."""
    ways = [VERIFY_WAYS[m] for m in ALL_METHODS if m in methods]
    listed = ways[0] if len(ways) == 1 else ", ".join(ways[:-1]) + ", or " + ways[-1]
    return f"I couldn't verify those details. Please check {listed}, and try again."


ASK_VERIFY = ask_verify()
ASK_VERIFY_AGAIN = ask_verify_again()
VERIFY_LOCKED = (
    "I couldn't verify those details, and there have been too many attempts in this "
    "conversation, so I can't check more right now. Please try again later, or ask for a "
    "person to help you."
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
    refining: bool = False,
    methods: tuple[str, ...] = ALL_METHODS,
    locked: bool = False,
) -> str | None:
    """The one focused question to ask, or None when the turn can proceed.

    ``chat_verification`` False: shoppers cannot verify in the chat, so an anonymous one is
    asked to sign in on the shop's site (the host then vouches for them). ``refining``: the
    message refines the previous search ("cheaper ones"), which says what is wanted.
    ``methods``: the in-chat verifications the shop allows; ``locked``: the thread used up its
    attempts."""
    if intent in ORDER_INTENTS and not verified:
        if not chat_verification:
            return ASK_SIGN_IN
        if locked:
            return VERIFY_LOCKED
        return ask_verify_again(methods) if verification_failed else ask_verify(methods)
    has_filters = slots.max_price is not None or slots.min_price is not None or slots.color
    if intent in {"price_stock", "product_question"} and not targets and not slots.query:
        return ASK_PRODUCT
    if intent == "compare" and len(targets) < 2 and not slots.query:
        return ASK_COMPARE
    vague = not slots.query and not has_filters and not targets
    if intent == "product_search" and vague and not verified and not refining:
        return ASK_NEED  # a verified customer gets recommendations from their history
    return None


ASK_AGAIN = {
    ASK_VERIFY: (
        "I still need two details to find your order: the email address you ordered with, "
        "and the order number or the zip code it was shipped to. If you don't have them, "
        "I can connect you with a person."
    ),
    ASK_VERIFY_AGAIN: (
        "Those details still don't match an order. Please check the spelling of the email "
        "address and the order number (or zip code), or ask me for a person."
    ),
    ASK_SIGN_IN: (
        "I can only look up orders for signed-in shoppers. Please sign in on our site, or "
        "ask me for a person."
    ),
}
"""A second wording for a question that may have to be asked again (never twice the same)."""

PROCEED_INSTEAD = frozenset({ASK_PRODUCT, ASK_COMPARE, ASK_NEED})
"""Questions not asked twice in a row: the turn goes ahead with what the shopper said."""


def not_again(question: str | None, last_answer: str) -> str | None:
    """``question``, unless it is exactly what the assistant just asked: then its second
    wording, or none (the turn proceeds with what it has) for the product questions."""
    if question is None or question.strip() != last_answer.strip():
        return question
    if question in PROCEED_INSTEAD or question.startswith("I found several"):
        return None
    again = ASK_AGAIN.get(question)
    return again if again and again.strip() != last_answer.strip() else None


ASK_LIST_AGAIN = (
    "I still can't tell which one you mean from that. Please reply with its number from "
    "this list, or ask me for a person:"
)


def asked_again(question: str, last_answer: str) -> str:
    """A handler's question, never the one just asked word for word: asked again, it says
    what did not work and how to answer (the number from its list, or a person), keeping
    the list."""
    if question.strip() != last_answer.strip():
        return question
    listed = question.partition("\n")[2]
    if listed.strip():
        return f"{ASK_LIST_AGAIN}\n{listed}"
    return f"{question} (If you're not sure, I can connect you with a person.)"


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
