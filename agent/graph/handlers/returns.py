"""The return intent: several items of one order in one confirmation ("return the mug and
both t-shirts from order N"), else the one-item return of :mod:`.orders`."""

from __future__ import annotations

from typing import Any

from shopagent.agent.answering.change_templates import change_question
from shopagent.agent.graph.handlers.orders import _options, return_request
from shopagent.agent.graph.handlers.turn import Turn, user_text
from shopagent.agent.understanding.return_picks import Unit, return_picks, wants_gift_card
from shopagent.tools.returns import check_returns


async def return_items(turn: Turn) -> None:
    if not await _several(turn):
        await return_request(turn)


async def _several(turn: Turn) -> bool:
    """Propose one return of every unit the message names, when it names more than one."""
    number = turn.slots.order_number or turn.state.get("order_number")
    if turn.customer is None or not number:
        return False
    order = turn.ctx.orders.order(turn.customer.id, number)
    if order is None:
        return False
    text = user_text(turn)
    units = [
        Unit(line.item_id, line.sku, line.name, line.quantity, _options(turn, line))
        for line in order.items
    ]
    picks = return_picks(text, units)
    if picks is None:
        return False
    gift = wants_gift_card(text)
    args = {
        "order_number": order.number,
        "picks": picks,
        "condition": turn.slots.condition,
        "to_gift_card": gift,
    }
    check = await turn.call(
        "check_return_items",
        args,
        lambda: check_returns(
            turn.ctx.orders,
            turn.ctx.policy,
            turn.customer,
            order.number,
            picks,
            today=turn.ctx.clock().date(),
            condition=turn.slots.condition,
            to_gift_card=gift,
        ),
    )
    if check is not None and check.eligible:
        turn.proposal = returns_proposal(check, turn.slots.condition, gift)
    return True


def returns_proposal(check: Any, condition: str | None, to_gift_card: bool) -> dict[str, Any]:
    """The multi-item return waiting for a yes: exactly what ``change_order`` will write."""
    return {
        "action": "return_items",
        "order_number": check.order_number,
        "picks": {u.item_id: u.quantity for u in check.returns},
        "items": [
            {
                "item_id": u.item_id,
                "sku": u.sku,
                "name": u.name,
                "quantity": u.quantity,
                "refund": str(u.refund),
                "restocking_fee": str(u.restocking_fee),
            }
            for u in check.returns
        ],
        "refund_amount": str(-check.amount),
        "method_id": check.method_id,
        "method_label": check.method_label,
        "to_gift_card": to_gift_card,
        "condition": condition,
        "question": change_question(check),
    }
