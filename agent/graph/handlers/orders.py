"""Handlers of the order intents: status, returns, cancellations, and handing over to a person."""

from __future__ import annotations

from typing import Any

from shopagent.agent.answering.i18n import translate
from shopagent.agent.answering.templates import cancel_question, return_question
from shopagent.agent.graph.handlers.turn import Turn, user_text
from shopagent.agent.graph.state import FocusItem
from shopagent.agent.understanding.clarification import choose_order_question, choose_question
from shopagent.agent.understanding.lines import Line, best_lines, differences
from shopagent.agent.understanding.order_refs import (
    asks_order_history,
    names_an_order,
    narrow_orders,
)
from shopagent.tools import functions as fn

from shopagent.errors import ShopAgentError


def _newest(orders: list[Any]) -> Any:
    return max(orders, key=lambda o: o.placed_at)


def _pointed(turn: Turn, orders: list[Any]) -> list[Any]:
    """The orders the message points at without a number ("my latest order", "the one from
    last week", "the order with the lamp"); all of them when it names none."""
    return narrow_orders(
        orders,
        text=user_text(turn),
        query="" if turn.state.get("order_number") else turn.slots.query,
        latest=turn.slots.latest,
        today=turn.ctx.clock().date(),
    )


def _names_order(turn: Turn) -> bool:
    """The message says which order without its number: newest, a date, or (with no order
    carried from earlier turns) the items in it."""
    slots = turn.slots
    if slots.order_number:
        return False
    query = "" if turn.state.get("order_number") else slots.query
    return names_an_order(user_text(turn), query, slots.latest, turn.ctx.clock().date())


async def order_status(turn: Turn) -> None:
    if not turn.slots.order_number and asks_order_history(user_text(turn)):
        await turn.call("list_orders", {}, lambda: fn.list_orders(turn.ctx.orders, turn.customer))
        return
    number = turn.state.get("order_number")
    if _names_order(turn):
        listed = await turn.call(
            "get_order_status",
            {"order_number": None},
            lambda: fn.get_order_status(turn.ctx.orders, turn.customer, None),
        )
        if not listed or not listed.orders:
            return
        picked = _pointed(turn, listed.orders)
        if len(picked) != 1:
            return  # the list answers; it names no single order
        number = picked[0].number
    await turn.call(
        "get_order_status",
        {"order_number": number},
        lambda: fn.get_order_status(turn.ctx.orders, turn.customer, number),
    )


def _line_focus(number: str, sku: str, name: str, price: Any, category: str, pid: str) -> FocusItem:
    return {
        "product_id": pid,
        "name": name,
        "sku": sku,
        "price": str(price),
        "category": category,
        "order_number": number,
    }


async def _order_for(turn: Turn, statuses: list[str], what: str) -> str | None:
    """The order the turn is about: referenced, named, or the only candidate; else ask."""
    targets = turn.state.get("targets", [])
    if targets and targets[0].get("order_number"):
        return targets[0]["order_number"]
    latest = turn.slots.latest and not turn.slots.order_number
    pointed = _names_order(turn)
    if not pointed and (number := turn.state.get("order_number")):
        return number
    args = {"order_number": None, "statuses": statuses}
    result = await turn.call(
        "get_order_status",
        args,
        lambda: fn.get_order_status(turn.ctx.orders, turn.customer, None, statuses),
    )
    candidates = result.orders if result else []
    if len(candidates) == 1 or (candidates and latest):
        return _newest(candidates).number
    if pointed and candidates:
        candidates = _pointed(turn, candidates) or candidates
        if len(candidates) == 1:
            return candidates[0].number
    if len(candidates) > 1:
        turn.focus = [
            _line_focus(o.number, i.sku, i.name, i.unit_price, i.category, i.product_id)
            for o in candidates
            for i in o.items[:1]
        ]
        turn.clarify = choose_order_question(candidates, what)
    return None


def _options(turn: Turn, line: Any) -> dict[str, str]:
    """The variant options of an order line (empty when the catalog cannot say)."""
    if line is None:
        return {}
    try:
        product = turn.ctx.catalog.get(line.product_id)
    except ShopAgentError:
        return {}
    for variant in getattr(product, "variants", None) or []:
        if variant.sku == line.sku:
            return {str(k): str(v) for k, v in variant.attributes.items()}
    return {}


async def return_request(turn: Turn) -> None:
    number = await _order_for(turn, ["delivered"], "return")
    if number is None:
        return
    targets = turn.state.get("targets", [])
    sku = targets[0]["sku"] if targets and targets[0].get("order_number") == number else None
    check = await turn.call(
        "check_return_eligibility",
        {"order_number": number, "sku": sku, "condition": turn.slots.condition},
        lambda: fn.check_return_eligibility(
            turn.ctx.orders,
            turn.ctx.policy,
            turn.customer,
            number,
            today=turn.ctx.clock().date(),
            sku=sku,
            condition=turn.slots.condition,
        ),
    )
    if check is None or not check.items:
        return
    items = check.items
    if len(items) > 1:
        order = turn.ctx.orders.order(turn.customer.id, number) if turn.customer else None
        lines = {line.sku: line for line in order.items} if order else {}
        candidates = [Line(i.sku, i.name, _options(turn, lines.get(i.sku))) for i in items]
        said = " ".join(
            w
            for w in (turn.slots.query, turn.slots.color, turn.slots.size, turn.slots.variant)
            if w
        )
        picked = best_lines(said, candidates)
        # units of one SKU are interchangeable: "the jacket" of two identical jackets is
        # either of them, never a question
        if len({line.key for line in picked}) != 1:
            tied = {line.key for line in picked or candidates}
            turn.focus = [
                _line_focus(
                    number,
                    i.sku,
                    i.name,
                    i.item_total,
                    lines[i.sku].category,
                    lines[i.sku].product_id,
                )
                for i in items
                if i.sku in lines and i.sku in tied
            ]
            notes = differences([c for c in candidates if c.key in tied])
            turn.clarify = choose_question(turn.focus, notes)
            return
        items = [i for i in items if i.sku == picked[0].key]
    verdict = items[0]
    if verdict.eligible:
        turn.proposal = return_proposal(verdict, turn.slots.condition, turn.state.get("language"))


async def cancel_order(turn: Turn) -> None:
    number = await _order_for(turn, ["pending", "processing"], "cancel")
    if number is None:
        return
    check = await turn.call(
        "check_cancel_eligibility",
        {"order_number": number},
        lambda: fn.check_cancel_eligibility(turn.ctx.orders, turn.customer, number),
    )
    if check is not None and check.eligible:
        turn.proposal = {
            "action": "cancel_order",
            "order_number": number,
            "refund_amount": str(check.refund_amount),
            "question": translate(cancel_question(check), turn.state.get("language")),
        }


async def human_handoff(turn: Turn) -> None:
    customer = turn.customer
    summary = user_text(turn)
    reason = turn.state.get("handoff_reason") or "customer asked for a person"
    await turn.call(
        "request_human",
        {"reason": reason},
        lambda: turn.ctx.handoffs.create(
            customer_id=customer.id if customer else None,
            thread_id=turn.thread_id,
            summary=summary,
            reason=reason,
        ),
    )


def return_proposal(
    verdict: Any, condition: str | None, language: str | None = None
) -> dict[str, Any]:
    """The return waiting for the shopper's yes: exactly what ``start_return`` will write."""
    return {
        "action": "start_return",
        "order_number": verdict.order_number,
        "sku": verdict.sku,
        "name": verdict.name,
        "quantity": verdict.quantity,
        "refund_amount": str(verdict.refund_amount),
        "restocking_fee": str(verdict.restocking_fee),
        "refund_method": verdict.refund_method,
        "condition": condition,
        "question": translate(return_question(verdict), language),
    }
