"""Eligibility of the support actions (exchange, order changes, payment): pure functions.

Each takes the facts (the order as the customer sees it, the product's variants and their
stock, the customer's payment methods, the ``actions`` rules of ``policy/rules.yaml``) and
an injected date, and returns the reasons the action is not allowed (empty: allowed). The
reasons are said to the shopper as they are.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from shopagent.tools.results import OrderLine, OrderView
from shopagent.tools.store.schema import ActionRules, PaymentMethod, Product


def _status_words(status: str) -> str:
    return status.replace("_", " ")


def exchange_problems(order: OrderView, rules: ActionRules, *, today: date) -> list[str]:
    """An exchange needs a delivered order inside the exchange window (inclusive)."""
    if order.status != "delivered" or order.delivered_at is None:
        if order.status in ("exchange_requested", "return_requested"):
            return [f"an {_status_words(order.status)} is already open for this order"]
        return [
            f"the order is {_status_words(order.status)}; only delivered items can be exchanged"
        ]
    ends = order.delivered_at + timedelta(days=rules.exchange_window_days)
    if today > ends:
        return [f"the {rules.exchange_window_days}-day exchange window ended on {ends.isoformat()}"]
    return []


def modify_problems(order: OrderView, rules: ActionRules) -> list[str]:
    """Address, payment and item changes need a modifiable status and, under
    ``modify_once``, an order whose items were not changed before."""
    reasons = []
    if order.status not in rules.modifiable_statuses:
        allowed = " or ".join(_status_words(s) for s in rules.modifiable_statuses)
        reasons.append(
            f"the order is {_status_words(order.status)}; only {allowed} orders can be changed"
        )
    if rules.modify_once and order.modified:
        reasons.append("the order's items were already changed once, so it cannot be changed again")
    return reasons


def swap_problems(line: OrderLine, product: Product | None, new_sku: str, stock: int) -> list[str]:
    """A line may become another variant of the same product that is in stock."""
    if product is None or product.id != line.product_id:
        return [f"{line.name} can only be swapped for another variant of the same product"]
    variant = next((v for v in product.variants if v.sku == new_sku), None)
    if variant is None:
        return [f"{new_sku} is not a variant of {product.name}"]
    if new_sku == line.sku:
        return [f"that is the variant already ordered ({line.name})"]
    if stock < 1:
        return [f"{variant_label(product, new_sku)} is out of stock"]
    return []


def variant_label(product: Product, sku: str) -> str:
    """``Name (Blue / M)``: how a variant is named to the shopper."""
    variant = next((v for v in product.variants if v.sku == sku), None)
    label = " / ".join(variant.attributes.values()) if variant else ""
    return f"{product.name} ({label})" if label else product.name


def payment_problems(method: PaymentMethod | None, charge: Decimal) -> list[str]:
    """The method must be one of the customer's; a gift card must cover ``charge``."""
    if method is None:
        return ["that payment method is not one of your saved payment methods"]
    if method.kind == "gift_card" and charge > 0 and (method.balance or Decimal(0)) < charge:
        return [
            f"the gift card's balance ({method.balance or 0:.2f}) does not cover {charge:.2f}; "
            "choose another payment method"
        ]
    return []


def cancel_reason_problems(reason: str | None, rules: ActionRules) -> list[str]:
    """A cancellation reason, when given, must be one the shop accepts."""
    if reason is None or reason in rules.cancel_reasons:
        return []
    return [f"the reason must be one of: {', '.join(rules.cancel_reasons)}"]
