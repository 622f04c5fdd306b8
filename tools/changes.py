"""The support actions' tools: check (what would change, may it?) and do (after a yes).

Every ``do_*`` checks again whatever the caller says, records the action under an id derived
from its inputs (a replayed confirmation returns the recorded action, nothing is written
twice) and writes through :meth:`OrderChanges.apply`, where ownership is checked in SQL and
the order is re-checked on its locked row.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shopagent.tools.change_rules import (
    exchange_problems,
    modify_problems,
    payment_problems,
    swap_problems,
    variant_label,
)
from shopagent.tools.protocols import OrderChanges, Policy
from shopagent.tools.results import OrderView, VerifiedCustomer
from shopagent.tools.results_changes import ChangeCheck, ChangeDone, ItemSwap
from shopagent.tools.store.changes import Change
from shopagent.tools.store.schema import ActionRules, Address, Order, Payment, paid_with

from shopagent.errors import ActionNotAllowed, NotVerified


def _customer(customer: VerifiedCustomer | None) -> VerifiedCustomer:
    if customer is None:
        raise NotVerified("order changes need a verified customer")
    return customer


def _order(orders: OrderChanges, customer: VerifiedCustomer, number: str) -> OrderView:
    order = orders.order(customer.id, number)
    if order is None:
        raise ActionNotAllowed(f"no order {number} on your account", hint="check the order number")
    return order


def _method(orders: OrderChanges, customer_id: str, method_id: str | None) -> Any:
    return next((m for m in orders.payment_methods(customer_id) if m.id == method_id), None)


def _swaps(
    orders: OrderChanges, order: OrderView, wanted: dict[str, str]
) -> tuple[list[ItemSwap], list[str]]:
    lines = {line.item_id: line for line in order.items}
    stock = orders.stock(list(wanted.values()))
    swaps, reasons = [], []
    for item_id, new_sku in wanted.items():
        line = lines.get(item_id)
        if line is None:
            reasons.append(f"order {order.number} has no item {item_id}")
            continue
        product = orders.product(line.product_id)
        problems = swap_problems(line, product, new_sku, stock.get(new_sku, 0))
        reasons += problems
        if product is not None and not problems:
            variant = next(v for v in product.variants if v.sku == new_sku)
            swaps.append(
                ItemSwap(
                    item_id=item_id,
                    sku=line.sku,
                    name=line.name,
                    new_sku=new_sku,
                    new_name=variant_label(product, new_sku),
                    paid=line.unit_price,
                    new_price=variant.price,
                )
            )
    if not wanted:
        reasons.append("say which item to change and to which variant")
    return swaps, reasons


def check_swap(
    orders: OrderChanges,
    policy: Policy,
    customer: VerifiedCustomer | None,
    order_number: str,
    swaps: dict[str, str],
    method_id: str | None,
    *,
    today: date,
    exchange: bool,
) -> ChangeCheck:
    """Check exchanging delivered items (``exchange``) or swapping a pending order's items
    for other variants of the same products; ``swaps`` maps item ids to new SKUs."""
    who = _customer(customer)
    order = _order(orders, who, order_number)
    rules = policy.rules.actions
    reasons = (
        exchange_problems(order, rules, today=today) if exchange else modify_problems(order, rules)
    )
    found, swap_reasons = _swaps(orders, order, swaps)
    if swaps or not reasons:  # an ineligible order needs no item named to say so
        reasons += swap_reasons
    amount = sum((s.difference for s in found), Decimal(0))
    method = _method(orders, who.id, method_id or paid_with(order.payments))
    if method_id is not None or amount != 0:
        reasons += payment_problems(method, amount)
    return ChangeCheck(
        action="exchange_items" if exchange else "modify_items",
        eligible=not reasons,
        reasons=reasons,
        order_number=order.number,
        swaps=found,
        method_id=method.id if method else None,
        method_label=method.label() if method else None,
        amount=amount,
        new_status="exchange_requested" if exchange else order.status,
    )


def check_address(
    orders: OrderChanges,
    policy: Policy,
    customer: VerifiedCustomer | None,
    address: Address,
    order_number: str | None = None,
) -> ChangeCheck:
    """Check changing a pending order's shipping address (``order_number``) or else the
    customer's default address."""
    who = _customer(customer)
    if order_number is None:
        return ChangeCheck(action="change_default_address", eligible=True, address=address)
    order = _order(orders, who, order_number)
    reasons = modify_problems(order, policy.rules.actions)
    if order.shipping_address == address:
        reasons.append("the order already ships to that address")
    return ChangeCheck(
        action="modify_address",
        eligible=not reasons,
        reasons=reasons,
        order_number=order.number,
        address=address,
        new_status=order.status,
    )


def check_payment(
    orders: OrderChanges,
    policy: Policy,
    customer: VerifiedCustomer | None,
    order_number: str,
    method_id: str,
) -> ChangeCheck:
    """Check paying a pending order with another saved method (the old one is refunded)."""
    who = _customer(customer)
    order = _order(orders, who, order_number)
    reasons = modify_problems(order, policy.rules.actions)
    method = _method(orders, who.id, method_id)
    old = paid_with(order.payments)
    if method is not None and method.id == old:
        reasons.append(f"the order is already paid with {method.label()}")
    reasons += payment_problems(method, order.total)
    return ChangeCheck(
        action="modify_payment",
        eligible=not reasons,
        reasons=reasons,
        order_number=order.number,
        method_id=method.id if method else None,
        method_label=method.label() if method else None,
        amount=order.total,
        new_status=order.status,
    )


def action_id(customer_id: str, check: ChangeCheck) -> str:
    """The id the action is recorded under: the same inputs always give the same id."""
    key = {
        "action": check.action,
        "order": check.order_number,
        "customer": customer_id,
        "swaps": sorted((s.item_id, s.new_sku) for s in check.swaps),
        "address": check.address.model_dump(mode="json") if check.address else None,
        "method": check.method_id,
    }
    if check.returns:  # only when present: the other actions keep their ids
        key["returns"] = sorted((u.item_id, u.quantity) for u in check.returns)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return f"A-{check.order_number or customer_id}-{digest}"


def do_change(
    orders: OrderChanges,
    policy: Policy,
    customer: VerifiedCustomer | None,
    check: ChangeCheck,
    *,
    now: datetime,
) -> ChangeDone:
    """Write the change ``check`` describes (call ``check_*`` again first: never trust a
    caller's check). Idempotent: a change already recorded is returned as it was."""
    who = _customer(customer)
    key = action_id(who.id, check)
    row = orders.action(who.id, key)
    created = False
    if row is None:
        if not check.eligible:
            raise ActionNotAllowed("this change is not allowed: " + "; ".join(check.reasons))
        kinds = {m.id: m.kind for m in orders.payment_methods(who.id)}
        before = orders.order(who.id, check.order_number) if check.order_number else None
        debits = _debits(check, kinds, paid_with(before.payments) if before else None)
        try:
            change = _change(key, who.id, check, policy.rules.actions, now)
            change.gift_card_debits = debits
            row, created = orders.apply(change)
        except KeyError as exc:
            raise ActionNotAllowed(f"{exc.args[0]} is not on your account") from None
    return _done(orders, who.id, row, created, check.method_label)


def recorded_change(
    orders: OrderChanges,
    customer: VerifiedCustomer | None,
    key: str,
    *,
    method_label: str | None = None,
) -> ChangeDone | None:
    """The change recorded under ``key`` (an :func:`action_id`) for this customer, as a
    replayed confirmation sees it (``created`` False); None when nothing was recorded."""
    who = _customer(customer)
    row = orders.action(who.id, key)
    return None if row is None else _done(orders, who.id, row, False, method_label)


def _done(
    orders: OrderChanges,
    customer_id: str,
    row: dict[str, Any],
    created: bool,
    method_label: str | None,
) -> ChangeDone:
    number = row.get("order_number")
    after = orders.order(customer_id, number) if number else None
    return ChangeDone(
        action_id=row["id"],
        action=row["kind"],
        order_number=number,
        status=row["status"],
        created=created,
        amount=Decimal(row["amount"]),
        method_label=method_label,
        order_status=after.status if after else None,
    )


def _change(
    key: str, customer_id: str, check: ChangeCheck, rules: ActionRules, now: datetime
) -> Change:
    method_id = check.method_id
    details: dict[str, Any] = {
        "swaps": [s.model_dump(mode="json") for s in check.swaps],
        "address": check.address.model_dump(mode="json") if check.address else None,
        "method_id": method_id,
    }
    if check.returns:
        details["returns"] = [u.model_dump(mode="json") for u in check.returns]
    if check.action == "change_default_address":
        return Change(
            key,
            check.action,
            customer_id,
            now,
            details,
            default_address=check.address,
            status="done",
        )

    def update(order: Order) -> Order:
        return _updated(order, check, rules, now)

    return Change(
        key,
        check.action,
        customer_id,
        now,
        details,
        order_number=check.order_number,
        amount=check.amount,
        method_id=method_id,
        status="requested" if check.action in ("exchange_items", "return_items") else "done",
        update_order=update,
    )


def _debits(check: ChangeCheck, kinds: dict[str, str], old: str | None) -> dict[str, Decimal]:
    """Gift card balance changes: the amount charged to (or refunded on) a gift card, and
    on a payment change the order total given back to an old gift card."""
    debits: dict[str, Decimal] = {}
    if check.action == "return_items":
        return debits  # a return's refund is paid when the items arrive
    if check.method_id and kinds.get(check.method_id) == "gift_card" and check.amount:
        debits[check.method_id] = check.amount
    if check.action == "modify_payment" and old and kinds.get(old) == "gift_card":
        debits[old] = debits.get(old, Decimal(0)) - check.amount
    return debits


def _updated(order: Order, check: ChangeCheck, rules: ActionRules, now: datetime) -> Order:
    """``order`` after the change; raises when the locked order no longer qualifies."""
    view_status = order.status
    requested = check.action in ("exchange_items", "return_items")
    if requested and view_status != "delivered":
        raise ActionNotAllowed(f"order {order.number} is {view_status.replace('_', ' ')} now")
    if check.action == "return_items":
        return order.model_copy(update={"status": "return_requested"})
    if not requested and (
        view_status not in rules.modifiable_statuses or (rules.modify_once and order.modified)
    ):
        raise ActionNotAllowed(f"order {order.number} can no longer be changed")
    update: dict[str, Any] = {"status": check.new_status or order.status}
    payments = list(order.payments)
    if check.action in ("exchange_items", "modify_items") and check.amount and check.method_id:
        kind = "payment" if check.amount > 0 else "refund"
        payments.append(
            Payment(
                kind=kind,
                amount=abs(check.amount),
                method_id=check.method_id,
                at=now,
                purpose="difference",
            )
        )
    if check.action == "modify_items":
        by_id = {s.item_id: s for s in check.swaps}
        items = []
        for item, item_id in zip(order.items, order.item_ids(), strict=True):
            swap = by_id.get(item_id)
            if swap:
                new = {"sku": swap.new_sku, "name": swap.new_name, "unit_price": swap.new_price}
                item = item.model_copy(update={**new, "item_id": item_id})
            items.append(item)
        update |= {"items": items, "modified": True}
    if check.action == "modify_address":
        update["shipping_address"] = check.address
    if check.action == "modify_payment" and check.method_id:
        old = order.payment_method_id
        if old:
            payments.append(Payment(kind="refund", amount=order.total, method_id=old, at=now))
        payments.append(
            Payment(kind="payment", amount=order.total, method_id=check.method_id, at=now)
        )
    update["payments"] = payments
    return order.model_copy(update=update)
