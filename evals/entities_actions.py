"""Entity fields for the support-action dialogs (exchanges, order changes, payment methods).

Order fields: ``item_noun`` (what a shopper calls the first item), ``other_variant`` (a
variant value of the first item's product that is in stock, "" when none), ``oos_variant``
(one that is out of stock), ``exchangeable`` (delivered, inside the exchange window, with an
in-stock other variant), ``swappable`` (the same for a pending order), ``paid_with`` (the
label of the order's payment method), ``item_product_id`` and ``item_material`` (of the
first item), ``gift_balance`` and ``gift_short`` (the owner has a
gift card whose balance does not cover the order total), ``gift_covers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from shopagent.tools.store.schema import Order, PaymentMethod, Product, ReturnPolicy


def _label(product: Product, sku: str) -> str:
    variant = next((v for v in product.variants if v.sku == sku), None)
    return " / ".join(variant.attributes.values()) if variant else ""


def action_fields(
    order: Order,
    catalog: Mapping[str, Product],
    stock: Mapping[str, int],
    methods: list[PaymentMethod],
    policy: ReturnPolicy,
    today: date,
    noun: str,
) -> dict[str, Any]:
    first = order.items[0]
    product = catalog.get(first.product_id)
    others = [v for v in (product.variants if product else []) if v.sku != first.sku]
    labels = {v.sku: _label(product, v.sku) for v in others} if product else {}
    own = _label(product, first.sku) if product else ""
    usable = [s for s, lab in labels.items() if lab and lab.casefold() not in own.casefold()]
    in_stock = [labels[s] for s in usable if stock.get(s, 0) > 0]
    out = [labels[s] for s in usable if stock.get(s, 0) == 0]
    days = (today - order.delivered_at).days if order.delivered_at else None
    window = policy.actions.exchange_window_days
    gift = next((m for m in methods if m.kind == "gift_card"), None)
    paid = next((m for m in methods if m.id == order.payment_method_id), None)
    single = len({i.sku for i in order.items}) == 1 or len(order.items) == 1
    return {
        "item_noun": noun,
        "other_variant": in_stock[0] if in_stock else "",
        "oos_variant": out[0] if out else "",
        "has_oos_variant": bool(out),
        "exchangeable": order.status == "delivered"
        and days is not None
        and days <= window
        and bool(in_stock)
        and single,
        "swappable": order.status == "pending" and bool(in_stock) and single,
        "paid_with": paid.label() if paid else "",
        "gift_balance": str(gift.balance) if gift else "",
        "gift_short": bool(gift) and gift.balance is not None and gift.balance < order.total,
        "gift_covers": bool(gift) and gift.balance is not None and gift.balance >= order.total,
        "modified": order.modified,
        "item_product_id": first.product_id,
        "item_material": (product.attributes.get("material", "") if product else "") or "",
        **_return_fields(order, catalog, policy, days),
    }


def _noun_of(product: Product | None) -> str:
    if product is None:
        return ""
    return product.tags[0] if product.tags else product.name.split()[-1].casefold()


def _return_fields(
    order: Order, catalog: Mapping[str, Product], policy: ReturnPolicy, days: int | None
) -> dict[str, Any]:
    """``returnable_skus`` (lines the policy lets go back today), ``second_noun`` (what a
    shopper calls the second distinct product), ``multi_returnable`` (two distinct products,
    both returnable, refunded the same way), ``mixed_refund`` (two distinct returnable products
    whose rules refund differently: store credit and the original payment),
    ``pair_returnable`` (two units of one returnable SKU)."""
    ok = []
    refunds = set()
    for item in order.items:
        product = catalog.get(item.product_id)
        rule = policy.rule_for(product.category) if product else policy.default
        final = rule.final_sale or (product is not None and product.final_sale)
        fresh = days is not None and days <= rule.window_days and order.status == "delivered"
        if fresh and not final:
            ok.append(item.sku)
            refunds.add(rule.refund_method)
    distinct = list(dict.fromkeys(i.product_id for i in order.items))
    second = catalog.get(distinct[1]) if len(distinct) > 1 else None
    nouns = {_noun_of(catalog.get(p)) for p in distinct}
    units = {s: sum(i.quantity for i in order.items if i.sku == s) for s in ok}
    two = len(distinct) == 2 == len(nouns) and len(set(ok)) == 2
    return {
        "returnable_skus": ok,
        "second_noun": _noun_of(second),
        "multi_returnable": two and len(refunds) == 1,
        "mixed_refund": two and len(refunds) == 2,
        "pair_returnable": len({i.sku for i in order.items}) == 1 and sum(units.values()) >= 2,
    }


def add_recency(orders: Mapping[str, dict[str, Any]]) -> None:
    """Order fields ``recency`` (1: the customer's newest order, 2: the one before, ...) and
    ``customer_orders`` (how many orders its customer has); ``orders`` oldest first."""
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for fields in orders.values():
        by_customer.setdefault(fields["customer_id"], []).append(fields)
    for own in by_customer.values():
        for rank, fields in enumerate(reversed(own), 1):
            fields["recency"] = rank
            fields["customer_orders"] = len(own)
