"""Read a store directory (the layout of docs/store-format.md).

Reading validates every record and cross-reference and raises ``StoreFormatError`` naming the
file, line and field of the first problem (one file at a time: :mod:`.parsing`). Writing, in
:mod:`.writer`, is atomic.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from shopagent.tools.store.parsing import Numbered, read_jsonl, read_text, read_yaml
from shopagent.tools.store.schema import (
    Customer,
    Order,
    Product,
    ReturnPolicy,
    StockLevel,
    StoreData,
    StoreInfo,
)

from shopagent.errors import StoreFormatError

STORE_FILE = "store.yaml"
PRODUCTS_FILE = "products.jsonl"
STOCK_FILE = "stock.jsonl"
CUSTOMERS_FILE = "customers.jsonl"
ORDERS_FILE = "orders.jsonl"
POLICY_DIR = "policy"
RULES_FILE = f"{POLICY_DIR}/rules.yaml"
_LIFECYCLE_DATES = ("shipped_at", "delivered_at", "returned_at")
_STATUS_DATE = {
    "shipped": "shipped_at",
    "delivered": "delivered_at",
    "returned": "returned_at",
    "cancelled": "cancelled_at",
    "exchange_requested": "delivered_at",
    "return_requested": "delivered_at",
}


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects.

    Bulk reads and generation allocate hundreds of thousands of records that all stay
    alive; without this, repeated full collections make them several times slower.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_store(directory: Path) -> StoreData:
    """Read and validate the store in ``directory``.

    Raises ``StoreFormatError`` (with ``file``, ``line`` and ``field`` set where known) for a
    missing file, invalid JSON/YAML, a record that breaks the schema, a duplicate id, SKU,
    email or order number, or a reference to an unknown SKU or customer.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise StoreFormatError(f"store directory {directory} does not exist")
    with gc_paused():
        return _read_all(directory)


def _read_all(directory: Path) -> StoreData:
    info = read_yaml(directory, STORE_FILE, StoreInfo)
    products = read_jsonl(directory, PRODUCTS_FILE, Product)
    sku_owner = _check_products(products)
    stock = read_jsonl(directory, STOCK_FILE, StockLevel)
    _check_stock(stock, sku_owner)
    customers = read_jsonl(directory, CUSTOMERS_FILE, Customer)
    _check_customers(customers)
    orders = read_jsonl(directory, ORDERS_FILE, Order)
    methods = {c.id: {m.id for m in c.payment_methods} for _, c in customers}
    _check_orders(orders, sku_owner, methods)
    return StoreData(
        info=info,
        products=[p for _, p in products],
        stock=[s for _, s in stock],
        customers=[c for _, c in customers],
        orders=[o for _, o in orders],
        policy=read_yaml(directory, RULES_FILE, ReturnPolicy),
        policy_docs=_read_policy_docs(directory),
    )


def _check_unique(rows: Iterable[tuple[int, str, str]], file: str, what: str) -> None:
    """Raise on the first repeated key in ``(line, key, field)`` rows."""
    seen: dict[str, int] = {}
    for line, key, field in rows:
        if key in seen:
            raise StoreFormatError(
                f"duplicate {what} {key!r} (first on line {seen[key]})",
                file=file,
                line=line,
                field=field,
            )
        seen[key] = line


def _check_products(products: Numbered[Product]) -> dict[str, str]:
    """Unique product ids and SKUs; returns SKU -> product id."""
    _check_unique(((n, p.id, "id") for n, p in products), PRODUCTS_FILE, "product id")
    _check_unique(
        ((n, v.sku, f"variants.{i}.sku") for n, p in products for i, v in enumerate(p.variants)),
        PRODUCTS_FILE,
        "SKU",
    )
    return {v.sku: p.id for _, p in products for v in p.variants}


def _check_stock(stock: Numbered[StockLevel], sku_owner: dict[str, str]) -> None:
    _check_unique(((n, s.sku, "sku") for n, s in stock), STOCK_FILE, "stock row for SKU")
    for line, level in stock:
        if level.sku not in sku_owner:
            raise StoreFormatError(
                f"unknown SKU {level.sku!r} (not in {PRODUCTS_FILE})",
                file=STOCK_FILE,
                line=line,
                field="sku",
            )


def _check_customers(customers: Numbered[Customer]) -> None:
    _check_unique(((n, c.id, "id") for n, c in customers), CUSTOMERS_FILE, "customer id")
    _check_unique(((n, c.email.casefold(), "email") for n, c in customers), CUSTOMERS_FILE, "email")
    _check_unique(
        (
            (n, m.id, f"payment_methods.{i}.id")
            for n, c in customers
            for i, m in enumerate(c.payment_methods)
        ),
        CUSTOMERS_FILE,
        "payment method id",
    )


def _check_orders(
    orders: Numbered[Order], sku_owner: dict[str, str], customer_ids: dict[str, set[str]]
) -> None:
    _check_unique(((n, o.number, "number") for n, o in orders), ORDERS_FILE, "order number")
    for line, order in orders:
        problem = _order_problem(order, sku_owner, customer_ids)
        if problem:
            raise StoreFormatError(problem[0], file=ORDERS_FILE, line=line, field=problem[1])


def _order_problem(
    order: Order, sku_owner: dict[str, str], customer_ids: dict[str, set[str]]
) -> tuple[str, str] | None:
    """The first broken reference or lifecycle date in ``order`` as (message, field).

    ``customer_ids`` maps each customer to the ids of their payment methods.
    """
    if order.customer_id not in customer_ids:
        return f"unknown customer {order.customer_id!r} (not in {CUSTOMERS_FILE})", "customer_id"
    return (
        _line_problem(order, sku_owner)
        or _payment_problem(order, customer_ids[order.customer_id])
        or _lifecycle_problem(order)
    )


def _payment_problem(order: Order, methods: set[str]) -> tuple[str, str] | None:
    for i, payment in enumerate(order.payments):
        if payment.method_id not in methods:
            return (
                f"payment method {payment.method_id!r} is not one of customer "
                f"{order.customer_id!r}'s payment_methods",
                f"payments.{i}.method_id",
            )
    return None


def _line_problem(order: Order, sku_owner: dict[str, str]) -> tuple[str, str] | None:
    seen: set[str] = set()
    for i, item in enumerate(order.items):
        owner = sku_owner.get(item.sku)
        if owner is None:
            return f"unknown SKU {item.sku!r} (not in {PRODUCTS_FILE})", f"items.{i}.sku"
        if owner != item.product_id:
            return (
                f"SKU {item.sku!r} belongs to product {owner!r}, not {item.product_id!r}",
                f"items.{i}.product_id",
            )
        if item.item_id is not None:
            if item.item_id in seen:
                return f"duplicate item_id {item.item_id!r} in this order", f"items.{i}.item_id"
            seen.add(item.item_id)
    return None


def _lifecycle_problem(order: Order) -> tuple[str, str] | None:
    """A status without its date, or lifecycle dates out of order, as (message, field)."""
    required = _STATUS_DATE.get(order.status)
    if required and getattr(order, required) is None:
        return f"{required} is required when status is {order.status!r}", required
    previous, previous_name = order.placed_at.date(), "placed_at"
    for name in _LIFECYCLE_DATES:
        value = getattr(order, name)
        if value is not None:
            if value < previous:
                return f"{name} ({value}) is before {previous_name} ({previous})", name
            previous, previous_name = value, name
    if order.cancelled_at is not None and order.cancelled_at < order.placed_at.date():
        return f"cancelled_at ({order.cancelled_at}) is before placed_at", "cancelled_at"
    return None


def _read_policy_docs(directory: Path) -> dict[str, str]:
    policy_dir = directory / POLICY_DIR
    return {
        path.stem: read_text(directory, f"{POLICY_DIR}/{path.name}")
        for path in sorted(policy_dir.glob("*.md"))
    }
