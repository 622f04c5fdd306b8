"""Multi-item returns: several items and quantities of one order in one confirmation.

:func:`check_returns` says exactly what would go back, the refund and where it goes; the
write is :func:`shopagent.tools.changes.do_change` (idempotent under an id derived from the
units and the refund method, ownership checked in SQL, the order re-checked on its locked
row). The order becomes ``return_requested``; the refund is recorded on the action and paid
when the items arrive.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shopagent.tools.changes import _customer, _order
from shopagent.tools.protocols import OrderChanges, Policy
from shopagent.tools.results import ItemCondition, VerifiedCustomer
from shopagent.tools.results_changes import ChangeCheck
from shopagent.tools.return_rules import refund_to, return_units
from shopagent.tools.store.schema import paid_with


def check_returns(
    orders: OrderChanges,
    policy: Policy,
    customer: VerifiedCustomer | None,
    order_number: str,
    picks: dict[str, int],
    *,
    today: date,
    condition: ItemCondition | None = None,
    to_gift_card: bool = False,
) -> ChangeCheck:
    """Check returning ``picks`` (order item id -> units) of the verified customer's order.

    Args:
        order_number: the order (e.g. "SA-100234").
        picks: which lines and how many of their units go back.
        condition: what the shopper says about the items: "unopened", "unused" or "used".
        to_gift_card: the shopper asks for the refund on their gift card.
    """
    who = _customer(customer)
    order = _order(orders, who, order_number)
    rules = policy.rules
    units, reasons = return_units(
        order,
        picks,
        rules,
        today=today,
        condition=condition,
        returned_skus=orders.returned_skus(who.id, order.number),
    )
    method, why = refund_to(
        units,
        orders.payment_methods(who.id),
        paid_with(order.payments),
        rules.actions,
        wants_gift_card=to_gift_card,
    )
    refund = sum((u.refund for u in units), Decimal(0))
    return ChangeCheck(
        action="return_items",
        eligible=not (reasons or why),
        reasons=reasons + why,
        order_number=order.number,
        returns=units,
        method_id=method.id if method else None,
        method_label=method.label() if method else _fallback_label(units),
        amount=-refund,
        new_status="return_requested",
    )


def _fallback_label(units: list) -> str:
    if any(u.refund_method == "store_credit" for u in units):
        return "store credit"
    return "your original payment method"
