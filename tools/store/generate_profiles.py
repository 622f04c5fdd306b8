"""Demo-store profiles: default addresses, saved payment methods, shipping addresses,
payment histories and per-unit order lines.

Drawn from their own ``random.Random`` (seeded from the store's seed), after everything
else, so the rest of the demo store is exactly what it was before these fields existed.
"""

from __future__ import annotations

import random
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from shopagent.tools.store import vocab
from shopagent.tools.store.schema import (
    Address,
    Customer,
    Order,
    OrderItem,
    Payment,
    PaymentMethod,
)

_DATA: dict[str, Any] = vocab._frozen(vocab._load("profiles.yaml"))
SPLIT_SHARE = 0.25
"""Share of delivered orders with a repeated unit whose units become separate lines."""
REQUESTED_SHARE = 0.03
"""Share of delivered orders already awaiting an exchange, and as many awaiting a return."""


def enrich(seed: int, customers: list[Customer], orders: list[Order]) -> tuple[list, list]:
    """The customers and orders with every profile field filled in."""
    rng = random.Random(f"{seed}-profiles")
    customers = [_customer(rng, c) for c in customers]
    by_id = {c.id: c for c in customers}
    return customers, [_order(rng, o, by_id[o.customer_id]) for o in orders]


def _address(rng: random.Random, zip_code: str) -> Address:
    city, state = rng.choice(_DATA["cities"])
    street = f"{rng.randint(1, 9999)} {rng.choice(_DATA['street_names'])} "
    street += rng.choice(_DATA["street_kinds"])
    line2 = None
    if rng.random() < 0.25:
        line2 = f"{rng.choice(_DATA['unit_prefixes'])} {rng.randint(1, 40)}"
    return Address(line1=street, line2=line2, city=city, state=state, zip=zip_code)


def _customer(rng: random.Random, customer: Customer) -> Customer:
    suffix = customer.id.split("-")[-1]
    methods = [
        PaymentMethod(
            id=f"card-{suffix}",
            kind="card",
            brand=rng.choice(_DATA["card_brands"]),
            last4=f"{rng.randrange(10_000):04d}",
        )
    ]
    if rng.random() < 0.5:
        methods.append(PaymentMethod(id=f"paypal-{suffix}", kind="paypal", email=customer.email))
    if rng.random() < 0.6:
        balance = Decimal(rng.choice(_DATA["gift_card_balances"]))
        methods.append(PaymentMethod(id=f"gift-{suffix}", kind="gift_card", balance=balance))
    return customer.model_copy(
        update={"default_address": _address(rng, customer.zip), "payment_methods": methods}
    )


def _order(rng: random.Random, order: Order, customer: Customer) -> Order:
    items = list(order.items)
    repeated = [i for i in items if i.quantity > 1]
    if order.status == "delivered" and repeated and rng.random() < SPLIT_SHARE:
        items = [
            unit for item in items for unit in ([item] if item.quantity == 1 else _units(item))
        ]
    items = [i.model_copy(update={"item_id": str(n)}) for n, i in enumerate(items, 1)]
    method = rng.choice([m for m in customer.payment_methods if m.kind != "gift_card"])
    payments = [
        Payment(kind="payment", amount=order.total, method_id=method.id, at=order.placed_at)
    ]
    if order.status in ("cancelled", "returned"):
        day = order.cancelled_at or order.returned_at
        at = datetime.combine(day, time(12), tzinfo=order.placed_at.tzinfo) if day else None
        payments.append(Payment(kind="refund", amount=order.total, method_id=method.id, at=at))
    shipping = customer.default_address
    if rng.random() < 0.15:
        shipping = _address(rng, customer.zip)
    update: dict[str, Any] = {"items": items, "payments": payments, "shipping_address": shipping}
    draw = rng.random()
    if order.status == "delivered" and draw < 2 * REQUESTED_SHARE:
        update["status"] = "exchange_requested" if draw < REQUESTED_SHARE else "return_requested"
    return order.model_copy(update=update)


def _units(item: OrderItem) -> list[OrderItem]:
    return [item.model_copy(update={"quantity": 1}) for _ in range(item.quantity)]
