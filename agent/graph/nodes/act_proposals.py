"""The write tools of tool-calling mode: each checks eligibility with the deterministic mode's
tool and, when allowed, sets the turn's proposal exactly as the deterministic handler would
(``return_proposal``, ``returns_proposal``, ``change_proposal``). The confirm node then puts
it to the shopper (a LangGraph interrupt) and writes only after their yes, re-checking the
change from the proposal's inputs (``confirm_changes.check_proposal``). The model never
writes, and the verified customer is the state's, never one the model names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from shopagent.agent.answering.templates import cancel_question
from shopagent.agent.graph.handlers.changes import change_proposal
from shopagent.agent.graph.handlers.orders import return_proposal
from shopagent.agent.graph.handlers.returns import returns_proposal
from shopagent.agent.graph.handlers.turn import Turn
from shopagent.tools import changes as ch
from shopagent.tools import functions as fn
from shopagent.tools.results import ItemCondition
from shopagent.tools.returns import check_returns
from shopagent.tools.store.schema import Address


class ProposeArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReturnArgs(ProposeArgs):
    order_number: str = Field(min_length=1, max_length=64)
    sku: str | None = Field(None, max_length=200)
    condition: ItemCondition | None = None


class CancelArgs(ProposeArgs):
    order_number: str = Field(min_length=1, max_length=64)


class Pick(ProposeArgs):
    item_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(1, ge=1, le=100)


class ReturnItemsArgs(ProposeArgs):
    order_number: str = Field(min_length=1, max_length=64)
    items: list[Pick] = Field(min_length=1, max_length=20, description="item_id from the order")
    condition: ItemCondition | None = None
    refund_to_gift_card: bool = False


class Swap(ProposeArgs):
    item_id: str = Field(min_length=1, max_length=64)
    new_sku: str = Field(min_length=1, max_length=200)


class SwapArgs(ProposeArgs):
    order_number: str = Field(min_length=1, max_length=64)
    items: list[Swap] = Field(min_length=1, max_length=20, description="item_id -> new_sku")
    payment_method_id: str | None = Field(None, max_length=64)


class ShippingArgs(ProposeArgs):
    order_number: str = Field(min_length=1, max_length=64)
    address: Address


class PaymentArgs(ProposeArgs):
    order_number: str = Field(min_length=1, max_length=64)
    payment_method_id: str = Field(min_length=1, max_length=64)


class DefaultAddressArgs(ProposeArgs):
    address: Address


def _dump(result: Any) -> Any:
    return result.model_dump(mode="json") if isinstance(result, BaseModel) else result


def _args(a: BaseModel) -> dict[str, Any]:
    return a.model_dump(mode="json", exclude_none=True)


def _answer(turn: Turn, check: Any, proposal: Callable[[], dict[str, Any]]) -> Any:
    """What the model is told; the proposal is set when the check allows the change."""
    if check is None:
        return turn.calls[-1]["result"]
    if check.eligible:
        turn.proposal = proposal()
    return {**_dump(check), "proposed": check.eligible}


async def _propose_return(turn: Turn, a: ReturnArgs) -> Any:
    ctx = turn.ctx
    check = await turn.call(
        "check_return_eligibility",
        _args(a),
        lambda: fn.check_return_eligibility(
            ctx.orders,
            ctx.policy,
            turn.customer,
            a.order_number,
            today=ctx.clock().date(),
            sku=a.sku,
            condition=a.condition,
        ),
    )
    if check is None:
        return turn.calls[-1]["result"]
    if len(check.items) != 1:
        return {"error": "name the item: pass sku", "skus": [i.sku for i in check.items]}
    verdict = check.items[0]
    if verdict.eligible:
        turn.proposal = return_proposal(verdict, a.condition, turn.state.get("language"))
    return {**_dump(check), "proposed": verdict.eligible}


async def _propose_cancel(turn: Turn, a: CancelArgs) -> Any:
    check = await turn.call(
        "check_cancel_eligibility",
        _args(a),
        lambda: fn.check_cancel_eligibility(turn.ctx.orders, turn.customer, a.order_number),
    )
    return _answer(
        turn,
        check,
        lambda: {
            "action": "cancel_order",
            "order_number": check.order_number,
            "refund_amount": str(check.refund_amount),
            "question": cancel_question(check),
        },
    )


async def _propose_return_items(turn: Turn, a: ReturnItemsArgs) -> Any:
    ctx = turn.ctx
    picks = {p.item_id: p.quantity for p in a.items}
    args = {"order_number": a.order_number, "picks": picks, "condition": a.condition,
            "to_gift_card": a.refund_to_gift_card}  # fmt: skip
    check = await turn.call(
        "check_return_items",
        args,
        lambda: check_returns(
            ctx.orders,
            ctx.policy,
            turn.customer,
            a.order_number,
            picks,
            today=ctx.clock().date(),
            condition=a.condition,
            to_gift_card=a.refund_to_gift_card,
        ),
    )
    return _answer(turn, check, lambda: returns_proposal(check, a.condition, a.refund_to_gift_card))


def _swap_runner(exchange: bool) -> Callable[[Turn, SwapArgs], Any]:
    async def run(turn: Turn, a: SwapArgs) -> Any:
        ctx = turn.ctx
        swaps = {s.item_id: s.new_sku for s in a.items}
        name = "check_exchange" if exchange else "check_order_change"
        args = {"order_number": a.order_number, "swaps": swaps,
                "payment_method": a.payment_method_id}  # fmt: skip
        check = await turn.call(
            name,
            args,
            lambda: ch.check_swap(
                ctx.orders,
                ctx.policy,
                turn.customer,
                a.order_number,
                swaps,
                a.payment_method_id,
                today=ctx.clock().date(),
                exchange=exchange,
            ),
        )
        return _answer(turn, check, lambda: change_proposal(check))

    return run


async def _propose_shipping(turn: Turn, a: ShippingArgs) -> Any:
    ctx = turn.ctx
    check = await turn.call(
        "check_order_change",
        _args(a),
        lambda: ch.check_address(ctx.orders, ctx.policy, turn.customer, a.address, a.order_number),
    )
    return _answer(turn, check, lambda: change_proposal(check))


async def _propose_payment(turn: Turn, a: PaymentArgs) -> Any:
    ctx = turn.ctx
    check = await turn.call(
        "check_order_change",
        {"order_number": a.order_number, "payment_method": a.payment_method_id},
        lambda: ch.check_payment(
            ctx.orders, ctx.policy, turn.customer, a.order_number, a.payment_method_id
        ),
    )
    return _answer(turn, check, lambda: change_proposal(check))


async def _propose_default_address(turn: Turn, a: DefaultAddressArgs) -> Any:
    ctx = turn.ctx
    check = await turn.call(
        "check_order_change",
        {"order_number": None, **_args(a)},
        lambda: ch.check_address(ctx.orders, ctx.policy, turn.customer, a.address),
    )
    return _answer(turn, check, lambda: change_proposal(check))


_ASKED = " When allowed, the customer is asked to confirm it. Nothing is written without their yes."

PROPOSE_TOOLS: dict[str, tuple[type[ProposeArgs], str, Callable[[Turn, Any], Any]]] = {
    "propose_return": (
        ReturnArgs, "Check a return of one item of the customer's order." + _ASKED,
        _propose_return,
    ),
    "propose_cancel": (
        CancelArgs, "Check whether the customer's order can be cancelled." + _ASKED,
        _propose_cancel,
    ),
    "propose_return_items": (
        ReturnItemsArgs,
        "Check returning several items (item_id and quantity, from the order's items) of one "
        "order in one request, with each refund." + _ASKED,
        _propose_return_items,
    ),
    "propose_exchange": (
        SwapArgs,
        "Check exchanging delivered items for other variants (new_sku) of the same products, "
        "with the price difference." + _ASKED,
        _swap_runner(True),
    ),
    "propose_item_change": (
        SwapArgs,
        "Check swapping a pending order's items for other variants of the same products."
        + _ASKED,
        _swap_runner(False),
    ),
    "propose_shipping_address": (
        ShippingArgs, "Check changing a pending order's shipping address." + _ASKED,
        _propose_shipping,
    ),
    "propose_payment_change": (
        PaymentArgs,
        "Check paying a pending order with another saved payment method (its id)." + _ASKED,
        _propose_payment,
    ),
    "propose_default_address": (
        DefaultAddressArgs, "Check changing the customer's default address." + _ASKED,
        _propose_default_address,
    ),
}  # fmt: skip
"""name -> (arguments, description, runner) of the write tools the model may call."""

CHANGE_INTENTS = frozenset({"exchange_request", "modify_order", "change_address"})
"""Intents whose proposals the model may make; when it proposes nothing, the deterministic
handler still runs (it reads items, variants and addresses from the shopper's words)."""
