"""Seeded demo-store generator: a plausible catalog, customers, orders and return policy.

Everything is drawn from one ``random.Random(seed)``, so the same arguments always give the
same store. The only notion of time is the ``today`` argument.
"""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from shopagent.tools.store import generate_products, generate_profiles, vocab
from shopagent.tools.store.files import gc_paused
from shopagent.tools.store.policy_docs import render_policy_docs
from shopagent.tools.store.schema import (
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    Product,
    ReturnPolicy,
    ReturnRule,
    StockLevel,
    StoreData,
    StoreInfo,
)
from shopagent.tools.store.writer import write_store

STORE_INFO = StoreInfo(
    name="Northwind Goods",
    currency="USD",
    timezone="America/Chicago",
    support_email="help@northwindgoods.example",
    support_hours="Mon–Fri 8am–6pm CT, Sat 9am–1pm CT",
)

RETURN_POLICY = ReturnPolicy(
    default=ReturnRule(window_days=30, condition="unused"),
    categories={
        "Electronics": ReturnRule(
            window_days=30, condition="unopened", restocking_fee_pct=Decimal(15)
        ),
        "Audio": ReturnRule(window_days=30, condition="unopened", restocking_fee_pct=Decimal(10)),
        "Apparel": ReturnRule(window_days=60, condition="unused"),
        "Footwear": ReturnRule(window_days=60, condition="unused"),
        "Outdoor & Camping": ReturnRule(window_days=45, condition="unused"),
        "Sports & Fitness": ReturnRule(window_days=45, condition="unused"),
        "Toys & Games": ReturnRule(window_days=45, condition="unopened"),
        "Beauty & Personal Care": ReturnRule(window_days=30, condition="unopened"),
        "Home Decor": ReturnRule(window_days=30, condition="unused", refund_method="store_credit"),
        "Bedding & Bath": ReturnRule(
            window_days=30, condition="unopened", refund_method="store_credit"
        ),
        "Pet Supplies": ReturnRule(window_days=30, condition="any"),
    },
)

ZERO_STOCK_SHARE = 0.08
LOW_STOCK_SHARE = 0.12
ORDER_NUMBER_START = 100001
STATUS_WEIGHTS: dict[OrderStatus, int] = {
    "pending": 5,
    "processing": 7,
    "shipped": 10,
    "delivered": 60,
    "cancelled": 8,
    "returned": 10,
}


def generate_store(
    *,
    seed: int = 7,
    n_products: int = 1200,
    n_customers: int = 250,
    n_orders: int = 1500,
    today: date,
) -> StoreData:
    """A complete demo store, identical for identical arguments.

    Every customer gets at least one order, so ``n_orders`` must be >= ``n_customers``.
    """
    if n_products < 1 or n_customers < 1 or n_orders < n_customers:
        raise ValueError("need n_products >= 1, n_customers >= 1 and n_orders >= n_customers")
    with gc_paused():
        data = _generate(random.Random(seed), n_products, n_customers, n_orders, today)
        customers, orders = generate_profiles.enrich(seed, data.customers, data.orders)
        return data.model_copy(update={"customers": customers, "orders": orders})


def _generate(
    rng: random.Random, n_products: int, n_customers: int, n_orders: int, today: date
) -> StoreData:
    products = generate_products.products(rng, n_products)
    customers = _customers(rng, n_customers)
    categories = [c.name for c in vocab.CATEGORIES]
    return StoreData(
        info=STORE_INFO,
        products=products,
        stock=_stock(rng, products),
        customers=customers,
        orders=_orders(rng, products, customers, n_orders, today),
        policy=RETURN_POLICY,
        policy_docs=render_policy_docs(RETURN_POLICY, categories, STORE_INFO),
    )


def write_demo_store(
    directory: Path,
    *,
    seed: int = 7,
    n_products: int = 1200,
    today: date,
    profile: str | None = None,
) -> StoreData:
    """Generate the demo store and write it to ``directory`` (replacing any store there);
    ``profile`` rewrites it as another language's shop (tools/store/profiles.py)."""
    data = generate_store(seed=seed, n_products=n_products, today=today)
    if profile:
        from shopagent.tools.store.profiles import apply_profile

        data = apply_profile(data, profile)
    write_store(data, directory)
    return data


# --- stock ---------------------------------------------------------------------------


def _stock(rng: random.Random, products: list[Product]) -> list[StockLevel]:
    levels = []
    for product in products:
        for variant in product.variants:
            roll = rng.random()
            if roll < ZERO_STOCK_SHARE:
                units = 0
            elif roll < ZERO_STOCK_SHARE + LOW_STOCK_SHARE:
                units = rng.randint(1, 5)
            else:
                units = rng.randint(6, 250)
            levels.append(StockLevel(sku=variant.sku, stock=units))
    return levels


# --- customers ------------------------------------------------------------------------


def _customers(rng: random.Random, count: int) -> list[Customer]:
    emails: set[str] = set()
    customers = []
    for number in range(1, count + 1):
        first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
        customers.append(
            Customer(
                id=f"C-{number:05d}",
                name=f"{first} {last}",
                email=_email(rng, first, last, emails),
                zip=rng.choice(vocab.ZIP_PREFIXES) + f"{rng.randrange(100):02d}",
            )
        )
    return customers


def _email(rng: random.Random, first: str, last: str, taken: set[str]) -> str:
    f, la = _ascii_lower(first), _ascii_lower(last)
    local = rng.choice((f"{f}.{la}", f"{f}{la}", f"{f[0]}{la}", f"{f}_{la}", f"{f}{la[0]}"))
    if rng.random() < 0.3:
        local += str(rng.choice((rng.randint(1, 99), rng.randint(1960, 2005))))
    domain = rng.choice(vocab.EMAIL_DOMAINS)
    email = f"{local}@{domain}"
    while email in taken:
        email = f"{local}{rng.randint(1, 999)}@{domain}"
    taken.add(email)
    return email


def _ascii_lower(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", plain.lower())


# --- orders ---------------------------------------------------------------------------


def _orders(
    rng: random.Random,
    products: list[Product],
    customers: list[Customer],
    count: int,
    today: date,
) -> list[Order]:
    ids = [c.id for c in customers]
    loyalty = [rng.expovariate(1.0) for _ in ids]
    owners = ids + rng.choices(ids, weights=loyalty, k=count - len(ids))
    rng.shuffle(owners)
    drafts = [_order_fields(rng, owner, products, today) for owner in owners]
    drafts.sort(key=lambda d: d["placed_at"])
    return [Order(number=f"SA-{ORDER_NUMBER_START + i}", **draft) for i, draft in enumerate(drafts)]


def _order_fields(
    rng: random.Random, customer_id: str, products: list[Product], today: date
) -> dict[str, Any]:
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    dates = _lifecycle_dates(rng, status, today)
    placed = dates.pop("placed")
    clock = time(rng.randint(6, 22), rng.randint(0, 59), rng.randint(0, 59))
    fields: dict[str, Any] = {
        "customer_id": customer_id,
        "status": status,
        "placed_at": datetime.combine(placed, clock, tzinfo=UTC),
        "items": _items(rng, products),
        **dates,
    }
    if "shipped_at" in dates:
        fields["carrier"] = rng.choice(vocab.CARRIERS)
        fields["tracking_number"] = _tracking_number(rng, fields["carrier"])
    return fields


def _lifecycle_dates(rng: random.Random, status: OrderStatus, today: date) -> dict[str, date]:
    """Dates for an order of ``status``, counted back from ``today`` so they stay in order."""

    def back(start: date, low: int, high: int) -> date:
        return start - timedelta(days=rng.randint(low, high))

    if status == "pending":
        return {"placed": back(today, 0, 1)}
    if status == "processing":
        return {"placed": back(today, 0, 3)}
    if status == "cancelled":
        cancelled = back(today, 0, 110)
        return {"placed": back(cancelled, 0, 2), "cancelled_at": cancelled}
    dates: dict[str, date] = {}
    if status == "returned":
        dates["returned_at"] = back(today, 0, 40)
        dates["delivered_at"] = back(dates["returned_at"], 1, 40)
    elif status == "delivered":
        dates["delivered_at"] = back(today, 0, 120)
    dates["shipped_at"] = back(dates.get("delivered_at", today), 0 if status == "shipped" else 1, 5)
    dates["placed"] = back(dates["shipped_at"], 0, 2)
    return dates


def _tracking_number(rng: random.Random, carrier: str) -> str:
    digits = "0123456789"
    if carrier == "UPS":
        return "1Z" + "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ" + digits, k=16))
    if carrier == "USPS":
        return "9400" + "".join(rng.choices(digits, k=18))
    return "".join(rng.choices(digits, k=12))


def _items(rng: random.Random, products: list[Product]) -> list[OrderItem]:
    count = rng.choices((1, 2, 3, 4), weights=(55, 25, 13, 7))[0]
    items = []
    for product in rng.sample(products, min(count, len(products))):
        variant = rng.choice(product.variants)
        label = " / ".join(variant.attributes.values())
        items.append(
            OrderItem(
                sku=variant.sku,
                product_id=product.id,
                name=f"{product.name} ({label})" if label else product.name,
                quantity=rng.choices((1, 2, 3), weights=(80, 15, 5))[0],
                unit_price=variant.price,
            )
        )
    return items
