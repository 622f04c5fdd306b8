"""The support actions' words: the confirmation question that states the exact change, and
the answer after it (from the tool results only; nothing is invented)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, get_args

from shopagent.agent.answering.facts import Facts, money
from shopagent.tools.results_changes import ChangeAction

CHANGE_INTENTS = frozenset({"exchange_request", "modify_order", "change_address"})
CHANGE_ACTIONS = frozenset(get_args(ChangeAction))
CHECK_TOOLS = frozenset({"check_exchange", "check_order_change", "check_return_items"})
NOUNS = {
    "exchange_items": "exchange",
    "modify_items": "item change",
    "modify_address": "address change",
    "modify_payment": "payment change",
    "change_default_address": "address change",
    "return_items": "return",
}


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key)


def _address_text(address: Any) -> str:
    parts = [_get(address, k) for k in ("line1", "line2", "city")]
    tail = " ".join(p for p in (_get(address, "state"), _get(address, "zip")) if p)
    return ", ".join(p for p in [*parts, tail] if p)


def _money_move(amount: Decimal, label: str | None) -> str:
    where = label or "your original payment method"
    if amount > 0:
        return f"{money(amount)} will be charged to {where}"
    if amount < 0:
        return f"{money(-amount)} will be refunded to {where}"
    return "there is no price difference"


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def change_question(check: Any) -> str:
    """State exactly what will change and ask for a yes/no."""
    action, number = _get(check, "action"), _get(check, "order_number")
    amount = Decimal(str(_get(check, "amount")))
    label = _get(check, "method_label")
    if action in ("exchange_items", "modify_items"):
        swaps = "; ".join(
            f"{_get(s, 'name')} → {_get(s, 'new_name')}" for s in _get(check, "swaps")
        )
        what = "exchange" if action == "exchange_items" else "change"
        after = (
            " The order becomes exchange requested; send the item back once you get the label."
            if action == "exchange_items"
            else " After this, the order's items can't be changed again and it can't be cancelled."
        )
        return (
            f"I can {what} in order {number}: {swaps}. {_first_upper(_money_move(amount, label))}."
            f"{after} Shall I go ahead? (yes/no)"
        )
    if action == "return_items":
        return _returns_question(check, number, amount, label)
    if action == "modify_address":
        return (
            f"I can change the shipping address of order {number} to "
            f"{_address_text(_get(check, 'address'))}. Shall I go ahead? (yes/no)"
        )
    if action == "modify_payment":
        return (
            f"I can pay order {number} with {label} instead: {money(amount)} will be charged to "
            f"it and the original payment refunded. Shall I go ahead? (yes/no)"
        )
    return (
        f"I can change your default address to {_address_text(_get(check, 'address'))}. "
        "Shall I go ahead? (yes/no)"
    )


def _returns_question(check: Any, number: str, amount: Decimal, label: str | None) -> str:
    """Every unit going back, the fees, the refund and where it goes."""
    items = []
    for unit in _get(check, "returns"):
        fee = Decimal(str(_get(unit, "restocking_fee")))
        kept = f", less a {money(fee)} restocking fee" if fee else ""
        items.append(
            f"{_get(unit, 'quantity')} × {_get(unit, 'name')} "
            f"(refund {money(Decimal(str(_get(unit, 'refund'))))}{kept})"
        )
    return (
        f"I can return from order {number}: {'; '.join(items)}. A refund of {money(-amount)} "
        f"will go to {label or 'your original payment method'} once the items arrive. The "
        "order becomes return requested. Shall I go ahead? (yes/no)"
    )


def change_answer(facts: Facts, decision: str | None, proposal: dict | None) -> str | None:
    """The answer of a support-action turn, or None when it has nothing to say."""
    if proposal and decision:
        noun = NOUNS.get(proposal["action"], "change")
        if decision == "no":
            return f"Okay, I haven't made the {noun}. Is there anything else I can do?"
        if decision == "unclear":
            return (
                f"I didn't get a clear yes, so I haven't made the {noun}. "
                "If you'd like to go ahead, just ask again."
            )
        if facts.change_done:
            return _done(facts.change_done, proposal)
        reason = facts.failures[0]["message"] if facts.failures else "something went wrong"
        return f"I couldn't complete the {noun}: {reason}."
    check = facts.change_check
    if check and not check["eligible"]:
        if check["action"] == "return_items":
            return (
                f"I can't return those items from order {check['order_number']}: "
                + "; ".join(check["reasons"])
                + "."
            )
        where = f"Order {check['order_number']}" if check.get("order_number") else "That"
        return f"{where} can't be changed that way: " + "; ".join(check["reasons"]) + "."
    if facts.failures:
        return f"I couldn't do that: {facts.failures[0]['message']}."
    return None


def _done(done: dict[str, Any], proposal: dict[str, Any]) -> str:
    again = "" if done["created"] else " (this was already recorded)"
    number = done.get("order_number")
    if done["action"] == "exchange_items":
        return (
            f"Done{again}: the exchange for order {number} is requested "
            f"(reference {done['action_id']}). The order is now exchange requested."
        )
    if done["action"] == "return_items":
        return (
            f"Done{again}: the return for order {number} is requested (reference "
            f"{done['action_id']}). A refund of {money(-Decimal(str(done['amount'])))} will go "
            f"to {done['method_label'] or 'your original payment method'} once the items "
            "arrive. The order is now return requested."
        )
    if done["action"] == "change_default_address":
        return f"Done{again}: your default address is now {_address_text(proposal['address'])}."
    if done["action"] == "modify_address":
        return f"Done{again}: order {number} will ship to {_address_text(proposal['address'])}."
    if done["action"] == "modify_payment":
        return f"Done{again}: order {number} is now paid with {done['method_label']}."
    return f"Done{again}: the items of order {number} are changed."
