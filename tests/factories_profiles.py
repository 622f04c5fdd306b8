"""The tiny store (tests/factories.py) plus the profile fields of the support actions:
saved payment methods, default addresses, shipping addresses, payments, per-unit lines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from factories import STOCK, tiny_store
from shopagent.tools.store.schema import (
    Address,
    Order,
    OrderItem,
    Payment,
    PaymentMethod,
    StockLevel,
    StoreData,
)

HOME = Address(line1="12 Elm Street", city="Springfield", state="IL", zip="94110")
HARBOR = Address(line1="42 Harbor Lane", city="Portland", state="OR", zip="97201")
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)

METHODS = {
    "C1": [
        PaymentMethod(id="card-1", kind="card", brand="Visa", last4="4242"),
        PaymentMethod(id="paypal-1", kind="paypal", email="ada@example.com"),
        PaymentMethod(id="gift-1", kind="gift_card", balance=Decimal("10.00")),
    ],
    "C2": [PaymentMethod(id="card-2", kind="card", brand="Mastercard", last4="5555")],
}


def _unit(item_id: str, sku: str, pid: str, name: str, price: str) -> OrderItem:
    return OrderItem(
        item_id=item_id, sku=sku, product_id=pid, name=name, quantity=1, unit_price=Decimal(price)
    )


def _paid(total: str, method: str = "card-1") -> list[Payment]:
    return [Payment(kind="payment", amount=Decimal(total), method_id=method)]


EXTRA_ORDERS = [
    Order(  # delivered 10 days ago: a kettle and two identical jackets on per-unit lines
        number="SA-100007",
        customer_id="C1",
        status="delivered",
        placed_at=datetime(2026, 11, 5, 9),
        items=[
            _unit("1", "K-100-BLK", "P1", "Brewster Gooseneck Kettle (black)", "49.99"),
            _unit("2", "J-500-M", "P5", "Trailhead Rain Jacket (medium)", "89.99"),
            _unit("3", "J-500-M", "P5", "Trailhead Rain Jacket (medium)", "89.99"),
        ],
        shipped_at=date(2026, 11, 7),
        delivered_at=date(2026, 11, 10),
        shipping_address=HOME,
        payments=_paid("229.97"),
    ),
    Order(  # pending: every change allowed
        number="SA-100008",
        customer_id="C1",
        status="pending",
        placed_at=datetime(2026, 11, 19, 9),
        items=[
            _unit("1", "K-100-BLK", "P1", "Brewster Gooseneck Kettle (black)", "49.99"),
            _unit("2", "J-500-M", "P5", "Trailhead Rain Jacket (medium)", "89.99"),
        ],
        shipping_address=HOME,
        payments=_paid("139.98"),
    ),
]


def profile_store() -> StoreData:
    base = tiny_store()
    customers = [
        c.model_copy(
            update={
                "payment_methods": METHODS.get(c.id, []),
                "default_address": HOME if c.id == "C1" else None,
            }
        )
        for c in base.customers
    ]
    stock = {**STOCK, "K-100-BLU": 4}
    return base.model_copy(
        update={
            "customers": customers,
            "orders": [*base.orders, *EXTRA_ORDERS],
            "stock": [StockLevel(sku=s, stock=n) for s, n in stock.items()],
        }
    )
