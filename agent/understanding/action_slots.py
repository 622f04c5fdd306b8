"""Slots of the support actions, from the shopper's words: a postal address, a payment
method, a cancellation reason. Pure functions over ``agent/data/actions.yaml``."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel


class AddressSlot(BaseModel):
    """The parts of an address the shopper said (city, state, zip may be missing)."""

    line1: str
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None


class PaymentSlot(BaseModel):
    kind: str
    last4: str | None = None
    brand: str | None = None


@cache
def _data() -> dict[str, Any]:
    raw = resources.files("shopagent.agent").joinpath("data/actions.yaml").read_text("utf-8")
    return yaml.safe_load(raw)


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@cache
def _address_re() -> re.Pattern[str]:
    data = _data()
    kinds = _alternation(data["street_kinds"])
    units = _alternation(data["unit_words"])
    return re.compile(
        rf"(?<![\w-])(?P<line1>\d{{1,6}}[A-Za-z]?\s+"
        rf"(?:(?!(?:to|at|for|from|in|on|my|the)\b)[A-Za-z0-9'.-]+\s+){{0,4}}?(?:{kinds})\b\.?)"
        rf"(?:[,\s]+(?P<line2>(?:{units})\s*[A-Za-z0-9-]+))?"
        r"(?:,\s*(?P<city>[A-Za-z][A-Za-z .'-]{1,40}?))?"
        r"(?:,?\s+(?P<state>[A-Z]{2}))?"
        r"(?:,?\s+(?P<zip>\d{5}(?:-\d{4})?))?(?=$|[\s,.;!?)])",
        re.I,
    )


def extract_address(text: str) -> AddressSlot | None:
    """The street address in ``text`` ("42 Harbor Lane, Portland, OR 97201"), or None."""
    match = _address_re().search(text)
    if match is None:
        return None
    parts = {k: (v.strip().rstrip(".") if v else None) for k, v in match.groupdict().items()}
    if parts["state"] and not parts["state"].isupper():
        parts["state"] = None
    if parts["city"] and parts["city"].casefold() in {"instead", "please", "thanks"}:
        parts["city"] = None
    return AddressSlot(**parts)


def extract_payment(text: str) -> PaymentSlot | None:
    """The payment method the shopper names ("my gift card", "the Visa ending 4242")."""
    lowered = text.casefold()
    for kind, words in _data()["payment"].items():
        found = [w for w in words if re.search(rf"\b{re.escape(w)}\b", lowered)]
        if found:
            last4 = re.search(r"\b(\d{4})\b", text) if kind == "card" else None
            return PaymentSlot(kind=kind, last4=last4.group(1) if last4 else None)
    return None


def extract_cancel_reason(text: str) -> str | None:
    """One of the shop's cancel reasons, when the shopper's words give it."""
    lowered = text.casefold()
    for reason, words in _data()["cancel_reasons"].items():
        if reason in lowered or any(w in lowered for w in words):
            return reason
    return None


def says_default_address(text: str) -> bool:
    lowered = text.casefold()
    return any(w in lowered for w in _data()["default_address_words"])


_CHANGES = frozenset({"modify_order", "change_address"})
_MISROUTED = frozenset({"order_status", "cancel_order", "return_request", "product_search"})


def action_intent(intent: str, text: str, has_order_number: bool) -> str:
    """A street address in an order message is a change of address: ``modify_order`` (of
    the named order) or ``change_address`` (the default one), whatever else it mentions."""
    asks_return = has_order_number and _asks_return(text)
    if intent in _CHANGES and asks_return and not _asks_change(text):
        return "return_request"  # "can I send back order N? I want a refund"
    if intent == "return_policy" and asks_return and not _asks_rule(text):
        return "return_request"  # "return the X and the Y from order N, refund to my gift card"
    if intent not in _MISROUTED:
        return intent
    if intent == "product_search" and asks_return:
        return "return_request"  # "return the mug and the jacket from order N"
    if intent == "cancel_order" and asks_return and not _says(text, "cancel_words"):
        return "return_request"  # "return order N immediately": no cancel word was said
    if extract_address(text) is None:
        return "modify_order" if has_order_number and _asks_change(text) else intent
    if not has_order_number and says_default_address(text):
        return "change_address"
    return "modify_order" if has_order_number else "change_address"


CHANGE_INTENTS = frozenset({"modify_order", "change_address", "exchange_request"})


def asked_for(intent: str, clause: str) -> bool:
    """Whether ``clause`` (the words a secondary intent came from) asks for that intent: a
    change must be asked for with a change word, an address or a payment method. "Where is
    my order X? My email is Y" gives an email to verify with; it changes nothing."""
    if intent not in CHANGE_INTENTS:
        return True
    return _asks_change(clause) or bool(extract_address(clause) or extract_payment(clause))


def asks_return_rule(text: str) -> bool:
    """ "Can I return the X if it doesn't fit?": a hypothetical return, which the return rule
    answers (the caller checks that no order is named)."""
    lowered, data = text.casefold(), _data()

    def says(words: list[str]) -> bool:
        return any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in words)

    return says(data["return_words"]) and says(data["hypothetical_words"])


def without_condition(query: str, text: str) -> str:
    """``query`` without the words of the condition ("...Phone Case doesn't fit" of "can I
    return the Phone Case if it doesn't fit?" -> "Phone Case"): what a return is conditional on
    is not the product's name."""
    lowered = text.casefold()
    words = sorted(_data()["hypothetical_words"], key=len, reverse=True)
    found = re.search(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", lowered)
    if not found or not any(w in lowered[: found.start()] for w in _data()["return_words"]):
        return query  # no "return X if Y" ("if I return X, do I get...": X is not a condition)
    head = set(re.findall(r"[\w'’]+", lowered[: found.start()]))
    tail = set(re.findall(r"[\w'’]+", lowered[found.start() :])) - head
    return " ".join(w for w in query.split() if w.casefold() not in tail)


def without_policy_terms(query: str) -> str:
    """``query`` without the return rule's own terms ("final sale", "store credit"): what is
    left names the product or category a policy question is about, if anything."""
    terms = sorted(_data()["policy_terms"], key=len, reverse=True)
    pattern = r"\b(?:" + "|".join(re.escape(t) for t in terms) + r")\b"
    return " ".join(re.sub(pattern, " ", query, flags=re.IGNORECASE).split())


def exchange_if_delivered(orders: Any, customer_id: str, number: str, text: str) -> str:
    """An item change of a delivered order is an exchange (no address or payment named)."""
    if extract_address(text) is not None or extract_payment(text) is not None:
        return "modify_order"
    order = orders.order(customer_id, number)
    delivered = order is not None and order.status == "delivered"
    return "exchange_request" if delivered else "modify_order"


def _says(text: str, words: str) -> bool:
    """Whether ``text`` says one of the ``words`` list of actions.yaml, as whole words."""
    lowered = text.casefold()
    return any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in _data()[words])


def _asks_return(text: str) -> bool:
    return _says(text, "return_words")


def _asks_rule(text: str) -> bool:
    return asks_return_rule(text) or _says(text, "rule_words")


def _asks_change(text: str) -> bool:
    lowered = text.casefold()
    if any(w in lowered for w in _data()["cancel_words"]):
        return False
    return _says(text, "change_words")
