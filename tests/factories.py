"""A tiny hand-written store with known values, for precise tests of the layers above it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from shopagent.agent.answering.prompts import Prompts
from shopagent.agent.graph.context import AgentContext
from shopagent.agent.understanding.intents import Understanding
from shopagent.tools.catalog import InMemoryCatalog
from shopagent.tools.handoff import StoreHandoffs
from shopagent.tools.inventory import InMemoryInventory
from shopagent.tools.orders import StoreOrders
from shopagent.tools.policy import StorePolicy
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.schema import (
    Customer,
    Order,
    OrderItem,
    Product,
    ReturnPolicy,
    ReturnRule,
    StockLevel,
    StoreData,
    StoreInfo,
    Variant,
)

TODAY = date(2026, 11, 20)

RETURNS_MD = """# Returns

## How returns work
Start a return within the window for your item's category. Items must be unused.

## Refunds
Refunds go back to the original payment method within 5 business days.

## Final sale
Clearance items marked final sale cannot be returned.
"""

ELECTRONICS_MD = """# Electronics returns

## Electronics
Electronics can be returned within 30 days of delivery if unopened. A 15% restocking fee applies.
"""


def _p(pid, name, brand, category, desc, variants, final_sale=False, **attrs) -> Product:
    return Product(
        id=pid,
        name=name,
        brand=brand,
        category=category,
        description=desc,
        attributes=attrs,
        final_sale=final_sale,
        variants=[Variant(sku=s, price=Decimal(p), attributes=a) for s, p, a in variants],
    )


PRODUCTS = [
    _p(
        "P1",
        "Brewster Gooseneck Kettle",
        "Brewster",
        "Kitchen",
        "A pour-over kettle with a precise gooseneck spout and a built-in thermometer.",
        [("K-100-BLK", "49.99", {"color": "black"}), ("K-100-BLU", "52.99", {"color": "blue"})],
        material="stainless steel",
    ),
    _p(
        "P2",
        "Hearth Classic Kettle",
        "Hearth",
        "Kitchen",
        "A classic stovetop kettle that whistles when the water boils.",
        [("K-200", "29.49", {})],
        material="enamel",
    ),
    _p(
        "P3",
        "ThermaCup Desk Mug Warmer",
        "ThermaCup",
        "Kitchen",
        "Keeps your coffee hot on your desk all morning with a gentle warming plate.",
        [("W-300", "24.99", {})],
    ),
    _p(
        "P4",
        "Pulse Noise-Cancelling Headphones",
        "Pulse",
        "Electronics",
        "Wireless over-ear headphones with active noise cancelling and 30-hour battery.",
        [("H-400", "129.00", {"color": "black"})],
    ),
    _p(
        "P5",
        "Trailhead Rain Jacket",
        "Trailhead",
        "Apparel",
        "A waterproof, breathable rain jacket for hiking.",
        [("J-500-M", "89.99", {"size": "medium"}), ("J-500-L", "89.99", {"size": "large"})],
    ),
    _p(
        "P6",
        "Clearance Phone Case",
        "Pulse",
        "Electronics",
        "A slim protective phone case.",
        [("C-600", "9.99", {})],
        final_sale=True,
    ),
]

STOCK = {
    "K-100-BLK": 12,
    "K-100-BLU": 0,
    "K-200": 3,
    "W-300": 40,
    "H-400": 5,
    "J-500-M": 7,
    "J-500-L": 0,
    "C-600": 100,
}

CUSTOMERS = [
    Customer(id="C1", name="Ada Park", email="ada@example.com", zip="94110"),
    Customer(id="C2", name="Ben Cruz", email="ben@example.com", zip="10001"),
    Customer(id="C3", name="Cy Noor", email="cy@example.com", zip="60601"),
]


def _item(sku: str, pid: str, name: str, price: str, qty: int = 1) -> OrderItem:
    return OrderItem(sku=sku, product_id=pid, name=name, quantity=qty, unit_price=Decimal(price))


ORDERS = [
    Order(
        number="SA-100001",
        customer_id="C1",
        status="shipped",
        placed_at=datetime(2026, 11, 15, 10),
        items=[_item("K-200", "P2", "Hearth Classic Kettle", "29.49")],
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        shipped_at=date(2026, 11, 17),
    ),
    Order(
        number="SA-100002",
        customer_id="C1",
        status="delivered",
        placed_at=datetime(2026, 10, 1, 9),
        items=[_item("H-400", "P4", "Pulse Noise-Cancelling Headphones", "129.00")],
        carrier="FedEx",
        tracking_number="7712",
        shipped_at=date(2026, 10, 3),
        delivered_at=date(2026, 10, 6),
    ),
    Order(
        number="SA-100003",
        customer_id="C2",
        status="pending",
        placed_at=datetime(2026, 11, 19, 8),
        items=[_item("W-300", "P3", "ThermaCup Desk Mug Warmer", "24.99", 2)],
    ),
    Order(
        number="SA-100004",
        customer_id="C2",
        status="cancelled",
        placed_at=datetime(2026, 9, 1, 8),
        items=[_item("J-500-M", "P5", "Trailhead Rain Jacket", "89.99")],
        cancelled_at=date(2026, 9, 2),
    ),
    Order(
        number="SA-100005",
        customer_id="C3",
        status="returned",
        placed_at=datetime(2026, 8, 1, 8),
        items=[_item("C-600", "P6", "Clearance Phone Case", "9.99")],
        shipped_at=date(2026, 8, 2),
        delivered_at=date(2026, 8, 5),
        returned_at=date(2026, 8, 20),
    ),
    Order(
        number="SA-100006",
        customer_id="C3",
        status="processing",
        placed_at=datetime(2026, 11, 18, 8),
        items=[_item("K-100-BLK", "P1", "Brewster Gooseneck Kettle", "49.99")],
    ),
]

POLICY = ReturnPolicy(
    default=ReturnRule(window_days=30, condition="unused"),
    categories={
        "Electronics": ReturnRule(
            window_days=30, condition="unopened", restocking_fee_pct=Decimal(15)
        ),
        "Apparel": ReturnRule(window_days=60, condition="unused", refund_method="store_credit"),
    },
)


def tiny_store() -> StoreData:
    """Six products, three customers, one order per status (and known values for all)."""
    return StoreData(
        info=StoreInfo(name="Test Goods"),
        products=PRODUCTS,
        stock=[StockLevel(sku=s, stock=n) for s, n in STOCK.items()],
        customers=CUSTOMERS,
        orders=ORDERS,
        policy=POLICY,
        policy_docs={"returns": RETURNS_MD, "returns-electronics": ELECTRONICS_MD},
    )


# -- an agent context over the tiny store -------------------------------------------------
IN_WINDOW = datetime(2026, 10, 20, tzinfo=UTC)
"""A clock inside SA-100002's return window (delivered 2026-10-06)."""


class ScriptedRouter:
    """Returns the intents a test declares for each message; unknown messages fail."""

    def __init__(self, table: dict[str, str | list[str]]) -> None:
        self.table = table

    def classify(self, message: str) -> Understanding:
        intents = self.table[message]
        intents = [intents] if isinstance(intents, str) else intents
        return Understanding(intent=intents[0], confidence=0.9, intents=intents)


def make_context(db: StoreDB, model, router: dict | Any, **overrides) -> AgentContext:
    """A context over ``db``; ``router`` is a message -> intent(s) table or a real router."""
    data = tiny_store()
    values = dict(
        catalog=InMemoryCatalog(data.products),
        inventory=InMemoryInventory(db),
        orders=StoreOrders(db),
        policy=StorePolicy(data.policy, data.policy_docs),
        handoffs=StoreHandoffs(db),
        router=ScriptedRouter(router) if isinstance(router, dict) else router,
        model=model,
        prompts=Prompts.load(),
        clock=lambda: datetime(2026, 11, 20, tzinfo=UTC),
        store_name="Test Goods",
    )
    values.update(overrides)
    return AgentContext(**values)
