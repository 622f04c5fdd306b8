"""The support actions' writes after a yes: check again from the proposal's inputs (never
trust an old check), then write idempotently (a replayed yes finds the recorded action)."""

from __future__ import annotations

from datetime import date
from typing import Any

from shopagent.agent.graph.handlers import Turn
from shopagent.tools import changes as ch
from shopagent.tools.protocols import OrderChanges, Policy
from shopagent.tools.results import VerifiedCustomer
from shopagent.tools.results_changes import ChangeCheck
from shopagent.tools.returns import check_returns
from shopagent.tools.store.schema import Address

from shopagent.errors import ActionNotAllowed


def check_proposal(
    orders: OrderChanges,
    policy: Policy,
    who: VerifiedCustomer | None,
    proposal: dict[str, Any],
    *,
    today: date,
) -> ChangeCheck:
    """Check the change ``proposal`` names again, from its inputs (action, order, swaps,
    picks, method, address, condition, refund to gift card), as of ``today``."""
    action, number = proposal["action"], proposal.get("order_number")
    if action in ("exchange_items", "modify_items"):
        return ch.check_swap(
            orders,
            policy,
            who,
            number,
            proposal["swaps"],
            proposal.get("method_id"),
            today=today,
            exchange=action == "exchange_items",
        )
    if action == "return_items":
        return check_returns(
            orders,
            policy,
            who,
            number,
            {str(k): int(v) for k, v in proposal["picks"].items()},
            today=today,
            condition=proposal.get("condition"),
            to_gift_card=bool(proposal.get("to_gift_card")),
        )
    if action == "modify_payment":
        return ch.check_payment(orders, policy, who, number, proposal["method_id"])
    address = Address(**proposal["address"])
    if action == "modify_address":
        return ch.check_address(orders, policy, who, address, number)
    if action == "change_default_address":
        return ch.check_address(orders, policy, who, address)
    raise ActionNotAllowed(f"unknown action {action}")


def _check(turn: Turn, proposal: dict[str, Any]) -> ChangeCheck:
    ctx = turn.ctx
    return check_proposal(ctx.orders, ctx.policy, turn.customer, proposal, today=ctx.clock().date())


async def write_change(turn: Turn, proposal: dict[str, Any]) -> None:
    keys = ("action", "order_number", "swaps", "picks", "method_id", "address")
    args = {k: proposal.get(k) for k in keys if k in proposal}

    def run() -> Any:
        return ch.do_change(
            turn.ctx.orders,
            turn.ctx.policy,
            turn.customer,
            _check(turn, proposal),
            now=turn.ctx.clock(),
        )

    await turn.call("change_order", args, run)
