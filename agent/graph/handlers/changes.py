"""Handlers of the support actions: exchanges, changes to pending orders, the default address,
cancellations with a reason. Each collects what the action needs from the shopper's words
(which item, which variant, which address, which payment method), asks back only for what is
missing, checks eligibility with a tool and proposes the exact change for a yes/no."""

from __future__ import annotations

import re
from typing import Any

from shopagent.agent.answering.change_templates import change_question
from shopagent.agent.graph.handlers.orders import _order_for, cancel_order
from shopagent.agent.graph.handlers.turn import Turn, user_text
from shopagent.agent.understanding.action_slots import (
    AddressSlot,
    extract_address,
    extract_cancel_reason,
    extract_payment,
    says_default_address,
)
from shopagent.agent.understanding.lines import Line, best_lines
from shopagent.tools import changes as ch
from shopagent.tools.change_rules import exchange_problems, modify_problems
from shopagent.tools.store.schema import Address

_TARGET = re.compile(
    r"^(.*)\b(?:for|to|into|with|in)\s+(?:(?:the|a|an)\s+)?([^,.;!?]+)$", re.I | re.S
)
ASK_ADDRESS = "What's the new address? Please give the street, city and ZIP code."
ASK_CHANGE = (
    "What would you like to change on order {number}: the shipping address, the payment "
    "method, or an item's size or colour?"
)


def _split(text: str) -> tuple[str, str]:
    """(the words naming the item, the words naming what it should become)."""
    match = _TARGET.match(text.strip())
    return (match.group(1), match.group(2)) if match else (text, "")


def _wanted_words(turn: Turn, target: str) -> set[str]:
    slots = turn.slots
    words = {w.casefold() for w in (slots.color, slots.size, slots.variant) if w}
    words |= {w.casefold() for w in re.findall(r"[^\W_]+", target) if len(w) > 1}
    return words - {"one", "version", "instead", "please", "colour", "color", "size"}


def _pick_line(turn: Turn, order: Any, said: str) -> Any | None:
    """The order line the shopper means (one of identical units is as good as another)."""
    lines = list(order.items)
    if len(lines) == 1 or len({line.sku for line in lines}) == 1:
        return lines[0]
    picked = best_lines(said, [Line(line.item_id, line.name) for line in lines])
    skus = {line.sku for line in lines if line.item_id in {p.key for p in picked}}
    if len(skus) == 1:
        return next(line for line in lines if line.sku in skus)
    names = "\n".join(f"{i}. {line.name}" for i, line in enumerate(lines, 1))
    turn.clarify = f"Which item of order {order.number} do you mean?\n{names}"
    return None


def _pick_variant(turn: Turn, line: Any, words: set[str]) -> str | None:
    """The SKU the line should become: the other variant of the product the words name."""
    product = turn.ctx.orders.product(line.product_id)
    others = [v for v in (product.variants if product else []) if v.sku != line.sku]
    if not others:
        turn.clarify = f"{line.name} comes in no other variant, so it can't be swapped."
        return None

    def named(variant: Any) -> bool:
        values = " ".join(variant.attributes.values()).casefold()
        return any(w in values.split() or w == values for w in words)

    matches = [v for v in others if named(v)]
    if len(matches) == 1 or (not words and len(others) == 1):
        return (matches or others)[0].sku
    options = ", ".join(" / ".join(v.attributes.values()) or v.sku for v in (matches or others))
    turn.clarify = f"Which variant of {line.name} would you like instead: {options}?"
    return None


def _method_id(turn: Turn, text: str) -> str | None:
    """The saved payment method the shopper names (None: not named; "?": none of theirs)."""
    said = extract_payment(text)
    if said is None or turn.customer is None:
        return None
    for method in turn.ctx.orders.payment_methods(turn.customer.id):
        if method.kind == said.kind and (said.last4 is None or method.last4 == said.last4):
            return str(method.id)
    return "?"


async def _swap(turn: Turn, number: str, exchange: bool) -> None:
    order = turn.ctx.orders.order(turn.customer.id, number) if turn.customer else None
    if order is None:
        return
    text = user_text(turn)
    rules = turn.ctx.policy.rules.actions
    today = turn.ctx.clock().date()
    barred = (
        exchange_problems(order, rules, today=today) if exchange else modify_problems(order, rules)
    )
    swaps: dict[str, str] = {}
    method = None
    if not barred:  # an order that cannot change needs no item or variant asked for
        item_words, target = _split(text)
        line = _pick_line(turn, order, item_words)
        new_sku = _pick_variant(turn, line, _wanted_words(turn, target)) if line else None
        if line is None or new_sku is None:
            return
        method = _method_id(turn, text)
        swaps = {line.item_id: new_sku}
    name = "check_exchange" if exchange else "check_order_change"
    args = {"order_number": number, "swaps": swaps, "payment_method": method}
    check = await turn.call(
        name,
        args,
        lambda: ch.check_swap(
            turn.ctx.orders,
            turn.ctx.policy,
            turn.customer,
            number,
            swaps,
            method,
            today=turn.ctx.clock().date(),
            exchange=exchange,
        ),
    )
    _propose(turn, check)


def _propose(turn: Turn, check: Any) -> None:
    if check is not None and check.eligible:
        turn.proposal = change_proposal(check)


def change_proposal(check: Any) -> dict[str, Any]:
    """The change waiting for a yes: exactly what ``change_order`` will write."""
    return {
        "action": check.action,
        "order_number": check.order_number,
        "swaps": {s.item_id: s.new_sku for s in check.swaps},
        "method_id": check.method_id,
        "address": check.address.model_dump(mode="json") if check.address else None,
        "amount": str(check.amount),
        "method_label": check.method_label,
        "items": [
            {
                "item_id": s.item_id,
                "name": s.name,
                "new_sku": s.new_sku,
                "new_name": s.new_name,
                "price_difference": str(s.difference),
            }
            for s in check.swaps
        ],
        "question": change_question(check),
    }


def _complete(said: AddressSlot, current: Address | None) -> Address | None:
    """The full address: what was said, the rest (city, state, ZIP) from ``current``."""
    if said.city and said.zip:
        return Address(**said.model_dump())
    if current is None:
        return None
    filled = {k: v for k, v in said.model_dump().items() if v}
    keep = {"city": current.city, "state": current.state, "zip": current.zip}
    if said.city:  # a new city: its ZIP and state are unknown
        return None
    return Address(**{**keep, **filled, "country": current.country})


async def exchange_request(turn: Turn) -> None:
    number = await _order_for(turn, ["delivered"], "exchange")
    if number is not None:
        await _swap(turn, number, exchange=True)


async def modify_order(turn: Turn) -> None:
    text = user_text(turn)
    if not turn.slots.order_number and says_default_address(text):
        await change_address(turn)
        return
    number = await _order_for(turn, ["pending"], "change")
    if number is None or turn.customer is None:
        return
    said = extract_address(text)
    method = _method_id(turn, text)
    order = turn.ctx.orders.order(turn.customer.id, number)
    if order is not None and order.status == "delivered" and said is None and method is None:
        await _swap(turn, number, exchange=True)  # a delivered item changes by exchange
        return
    if said is not None:
        order = turn.ctx.orders.order(turn.customer.id, number)
        address = _complete(said, order.shipping_address if order else None)
        if address is None:
            turn.clarify = ASK_ADDRESS
            return
        args = {"order_number": number, "address": address.model_dump(mode="json")}
        check = await turn.call(
            "check_order_change",
            args,
            lambda: ch.check_address(
                turn.ctx.orders, turn.ctx.policy, turn.customer, address, number
            ),
        )
        _propose(turn, check)
    elif method is not None:
        check = await turn.call(
            "check_order_change",
            {"order_number": number, "payment_method": method},
            lambda: ch.check_payment(
                turn.ctx.orders, turn.ctx.policy, turn.customer, number, method
            ),
        )
        _propose(turn, check)
    elif _wanted_words(turn, _split(text)[1]) or turn.slots.color or turn.slots.size:
        await _swap(turn, number, exchange=False)
    else:
        turn.clarify = ASK_CHANGE.format(number=number)


async def change_address(turn: Turn) -> None:
    text = user_text(turn)
    if turn.slots.order_number and not says_default_address(text):
        await modify_order(turn)
        return
    if turn.customer is None:
        return
    said = extract_address(text)
    current = turn.ctx.orders.default_address(turn.customer.id)
    address = _complete(said, current) if said else None
    if address is None:
        turn.clarify = ASK_ADDRESS
        return
    check = await turn.call(
        "check_order_change",
        {"order_number": None, "address": address.model_dump(mode="json")},
        lambda: ch.check_address(turn.ctx.orders, turn.ctx.policy, turn.customer, address),
    )
    _propose(turn, check)


async def cancel_with_reason(turn: Turn) -> None:
    """Cancel as before, with the shopper's reason (when given) in the proposal."""
    await cancel_order(turn)
    reason = extract_cancel_reason(user_text(turn))
    if turn.proposal and reason:
        question = with_reason(turn.proposal["question"], reason)
        turn.proposal = {**turn.proposal, "reason": reason, "question": question}


def with_reason(question: str, reason: str) -> str:
    """The cancellation question with the shopper's reason stated."""
    return question.replace(" Shall I cancel it?", f" Reason: {reason}. Shall I cancel it?")
