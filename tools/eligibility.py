"""Return and cancellation eligibility: pure business rules with an injected date."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from shopagent.tools.results import (
    CancelEligibility,
    ItemCondition,
    OrderLine,
    OrderView,
    ReturnEligibility,
)
from shopagent.tools.store.schema import ActionRules, ReturnRule

_ACCEPTS: dict[str, set[str]] = {
    "any": {"unopened", "unused", "used"},
    "unused": {"unopened", "unused"},
    "unopened": {"unopened"},
}


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def return_eligibility(
    order: OrderView,
    line: OrderLine,
    rule: ReturnRule,
    *,
    today: date,
    condition: ItemCondition | None = None,
) -> ReturnEligibility:
    """Whether ``line`` of ``order`` can be returned on ``today`` under ``rule``.

    Rules, in order: the order must be delivered (not pending, in transit, cancelled or
    already returned); final-sale items never qualify; the window runs ``window_days``
    days from delivery inclusive (returnable on the last day); the item's condition must
    meet the rule (unknown condition: eligible, and the requirement is stated). The refund
    is the line total minus the restocking fee, rounded half-up to cents.
    """
    reasons: list[str] = []
    window_ends = days_left = None
    if order.status == "returned":
        reasons.append("this order was already returned")
    elif order.status == "cancelled":
        reasons.append("this order was cancelled, so there is nothing to return")
    elif order.status in ("return_requested", "exchange_requested"):
        what = order.status.replace("_requested", "")
        reasons.append(f"a {what} was already requested for this order")
    elif order.status != "delivered" or order.delivered_at is None:
        reasons.append("the order has not been delivered yet; returns open after delivery")
    if line.final_sale or rule.final_sale:
        reasons.append("the item is final sale and cannot be returned")
    if order.delivered_at is not None and order.status == "delivered":
        window_ends = order.delivered_at + timedelta(days=rule.window_days)
        days_left = (window_ends - today).days
        if days_left < 0:
            reasons.append(
                f"the {rule.window_days}-day return window ended on {window_ends.isoformat()}"
            )
    if condition is not None and condition not in _ACCEPTS[rule.condition]:
        reasons.append(f"items must be {rule.condition} to be returned")
    item_total = _cents(line.unit_price * line.quantity)
    fee = _cents(item_total * rule.restocking_fee_pct / 100)
    return ReturnEligibility(
        eligible=not reasons,
        reasons=reasons,
        order_number=order.number,
        sku=line.sku,
        name=line.name,
        quantity=line.quantity,
        window_days=rule.window_days,
        window_ends=window_ends,
        days_left=days_left,
        condition_required=rule.condition,
        item_total=item_total,
        restocking_fee=fee,
        refund_amount=item_total - fee,
        refund_method=rule.refund_method,
    )


def cancel_eligibility(order: OrderView, rules: ActionRules | None = None) -> CancelEligibility:
    """Only orders in ``rules.cancellable_statuses`` (default: ``pending``, not yet being
    prepared) can be cancelled, and, under ``modify_once``, not one whose items were changed."""
    rules = rules or ActionRules()
    reasons = {
        "pending": "",
        "processing": "the order is already being prepared for shipping",
        "shipped": "the order has already shipped; you can return it after delivery",
        "delivered": "the order was delivered; you can return it instead",
        "cancelled": "the order is already cancelled",
        "returned": "the order was returned",
        "exchange_requested": "the order was delivered and an exchange was requested",
        "return_requested": "the order was delivered and a return was requested",
    }
    reason = (
        ""
        if order.status in rules.cancellable_statuses
        else reasons.get(order.status, f"the order is {order.status.replace('_', ' ')}")
    )
    if not reason and order.status == "cancelled":
        reason = reasons["cancelled"]
    if not reason and rules.modify_once and order.modified:
        reason = "the order's items were already changed, so it can no longer be cancelled"
    return CancelEligibility(
        eligible=not reason, reason=reason, order_number=order.number, refund_amount=order.total
    )
