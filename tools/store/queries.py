"""The store's tables and every query on them, shared by the SQLite and PostgreSQL databases.

:class:`StoreQueries` holds the SQL (SQLite flavour: ``?`` placeholders, ``datetime('now')``);
a database class provides three things: :meth:`~StoreQueries.rows` for reads,
:meth:`~StoreQueries.transaction` for atomic writes (a connection with ``execute`` and
``executemany``), and the row-lock clause its engine needs. Ownership of orders is enforced in
the SQL itself: every order query and write filters by the customer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from shopagent.tools.store.changes import ChangeQueries, credit_if_gift_card, load_profiles
from shopagent.tools.store.schema import (
    Customer,
    Order,
    Payment,
    Product,
    ReturnPolicy,
    StoreData,
    StoreInfo,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, brand TEXT NOT NULL, category TEXT NOT NULL,
  final_sale INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS skus (
  sku TEXT PRIMARY KEY, product_id TEXT NOT NULL REFERENCES products(id),
  price TEXT NOT NULL, currency TEXT NOT NULL, stock INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT);
CREATE INDEX IF NOT EXISTS skus_product ON skus(product_id);
CREATE TABLE IF NOT EXISTS customers (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE, zip TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
  number TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers(id),
  status TEXT NOT NULL, placed_at TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS orders_customer ON orders(customer_id);
CREATE TABLE IF NOT EXISTS returns (
  id TEXT PRIMARY KEY, order_number TEXT NOT NULL REFERENCES orders(number),
  customer_id TEXT NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL,
  restocking_fee TEXT NOT NULL, refund_amount TEXT NOT NULL, refund_method TEXT NOT NULL,
  status TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (order_number, sku));
CREATE TABLE IF NOT EXISTS handoffs (
  id TEXT PRIMARY KEY, customer_id TEXT, thread_id TEXT NOT NULL, summary TEXT NOT NULL,
  reason TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payment_methods (
  id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers(id),
  kind TEXT NOT NULL, label TEXT NOT NULL, balance TEXT, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS payment_methods_customer ON payment_methods(customer_id);
CREATE TABLE IF NOT EXISTS addresses (
  customer_id TEXT PRIMARY KEY REFERENCES customers(id), data TEXT NOT NULL,
  updated_at TEXT);
CREATE TABLE IF NOT EXISTS order_actions (
  id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, order_number TEXT, kind TEXT NOT NULL,
  details TEXT NOT NULL, amount TEXT NOT NULL, method_id TEXT, status TEXT NOT NULL,
  created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS order_actions_customer ON order_actions(customer_id);
"""

TABLES = (
    "meta",
    "products",
    "skus",
    "customers",
    "orders",
    "returns",
    "handoffs",
    "payment_methods",
    "addresses",
    "order_actions",
)
"""Every table, parents before children (insert in this order, delete in reverse)."""


class Connection(Protocol):
    """What a transaction yields: SQLite-flavoured ``execute`` and ``executemany``."""

    def execute(self, sql: str, params: Sequence[object] = ..., /) -> Any: ...

    def executemany(self, sql: str, params: Iterable[Sequence[object]], /) -> Any: ...


class StoreQueries(ChangeQueries):
    """Every read and write of the store; subclasses supply the engine."""

    FOR_UPDATE = ""
    """The clause that locks selected rows until the transaction ends ("" where the
    transaction already holds the write lock, as SQLite's BEGIN IMMEDIATE does)."""

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        """Run one read query; rows support ``row["column"]`` and ``dict(row)``."""
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[Connection]:
        """One atomic write: everything inside commits together or not at all."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # -- loading -----------------------------------------------------------------------
    def load(self, data: StoreData) -> None:
        """Replace the whole store with ``data`` in one transaction."""
        stock = {s.sku: s.stock for s in data.stock}
        with self.transaction() as conn:
            for table in reversed(TABLES):
                conn.execute(f"DELETE FROM {table}")
            conn.executemany(
                "INSERT INTO products VALUES (?,?,?,?,?,?)",
                [
                    (p.id, p.name, p.brand, p.category, int(p.final_sale), p.model_dump_json())
                    for p in data.products
                ],
            )
            conn.executemany(
                "INSERT INTO skus (sku, product_id, price, currency, stock) VALUES (?,?,?,?,?)",
                [
                    (v.sku, p.id, str(v.price), v.currency, stock.get(v.sku, 0))
                    for p in data.products
                    for v in p.variants
                ],
            )
            conn.executemany(
                "INSERT INTO customers VALUES (?,?,?,?)",
                [(c.id, c.name, c.email.casefold(), c.zip) for c in data.customers],
            )
            load_profiles(conn, data.customers)
            conn.executemany(
                "INSERT INTO orders VALUES (?,?,?,?,?)",
                [
                    (
                        o.number,
                        o.customer_id,
                        o.status,
                        o.placed_at.isoformat(),
                        o.model_dump_json(),
                    )
                    for o in data.orders
                ],
            )
            meta = {
                "store": data.info.model_dump_json(),
                "policy": data.policy.model_dump_json(),
                "policy_docs": json.dumps(data.policy_docs),
            }
            conn.executemany("INSERT INTO meta VALUES (?,?)", list(meta.items()))

    def copy_rows_to(self, target: StoreQueries) -> None:
        """Replace everything in ``target`` with this store's rows, in one transaction."""
        with target.transaction() as dst:
            for table in reversed(TABLES):
                dst.execute(f"DELETE FROM {table}")
            for table in TABLES:
                rows = [dict(r) for r in self.rows(f"SELECT * FROM {table}")]
                if rows:
                    cols = list(rows[0])
                    marks = ",".join("?" * len(cols))
                    dst.executemany(
                        f"INSERT INTO {table} ({','.join(cols)}) VALUES ({marks})",
                        [tuple(r[c] for c in cols) for r in rows],
                    )

    # -- meta --------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        rows = self.rows("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def info(self) -> StoreInfo:
        return StoreInfo.model_validate_json(self.meta("store") or "{}")

    def policy(self) -> ReturnPolicy:
        return ReturnPolicy.model_validate_json(self.meta("policy") or "{}")

    def policy_docs(self) -> dict[str, str]:
        return json.loads(self.meta("policy_docs") or "{}")

    # -- catalog -----------------------------------------------------------------------
    def product(self, product_id: str) -> Product | None:
        rows = self.rows("SELECT data FROM products WHERE id = ?", (product_id,))
        return Product.model_validate_json(rows[0]["data"]) if rows else None

    def products(self) -> Iterator[Product]:
        """Every product, in id order."""
        for row in self.rows("SELECT data FROM products ORDER BY id"):
            yield Product.model_validate_json(row["data"])

    def product_of_sku(self, sku: str) -> Product | None:
        rows = self.rows(
            "SELECT p.data FROM products p JOIN skus s ON s.product_id = p.id WHERE s.sku = ?",
            (sku,),
        )
        return Product.model_validate_json(rows[0]["data"]) if rows else None

    # -- price and stock ---------------------------------------------------------------
    def sku_rows(self, skus: Iterable[str]) -> list[Any]:
        """Price, currency and stock rows for the given SKUs (unknown ones are absent)."""
        wanted = list(dict.fromkeys(skus))
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        return self.rows(
            f"SELECT sku, price, currency, stock, updated_at FROM skus WHERE sku IN ({marks})",
            wanted,
        )

    def set_stock(self, sku: str, stock: int, *, price: Decimal | None = None) -> None:
        """Change one SKU's stock (and optionally price); KeyError for an unknown SKU."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE skus SET stock = ?, price = COALESCE(?, price), "
                "updated_at = datetime('now') WHERE sku = ?",
                (stock, None if price is None else str(price), sku),
            )
            if cur.rowcount == 0:
                raise KeyError(sku)

    # -- customers and orders (ownership enforced in SQL) ------------------------------
    def customer_by_email(self, email: str) -> Customer | None:
        rows = self.rows("SELECT * FROM customers WHERE email = ?", (email.strip().casefold(),))
        return Customer(**dict(rows[0])) if rows else None

    def customers_with_zip(self, zip_code: str) -> list[Customer]:
        """Customers whose zip code is ``zip_code`` (a ZIP+4 on file matches its 5 digits)."""
        code = zip_code.strip().split("-")[0]
        rows = self.rows("SELECT * FROM customers WHERE zip = ? OR zip LIKE ?", (code, f"{code}-%"))
        return [Customer(**dict(r)) for r in rows]

    def customer(self, customer_id: str) -> Customer | None:
        rows = self.rows("SELECT * FROM customers WHERE id = ?", (customer_id,))
        return Customer(**dict(rows[0])) if rows else None

    def orders_of(self, customer_id: str) -> list[Order]:
        rows = self.rows(
            "SELECT data FROM orders WHERE customer_id = ? ORDER BY placed_at DESC, number DESC",
            (customer_id,),
        )
        return [Order.model_validate_json(r["data"]) for r in rows]

    def order_of(self, customer_id: str, number: str) -> Order | None:
        rows = self.rows(
            "SELECT data FROM orders WHERE customer_id = ? AND number = ?",
            (customer_id, number.strip().upper()),
        )
        return Order.model_validate_json(rows[0]["data"]) if rows else None

    # -- writes (ownership checked inside the same transaction) ----------------------------
    def create_return(
        self,
        *,
        customer_id: str,
        order_number: str,
        sku: str,
        quantity: int,
        restocking_fee: Decimal,
        refund_amount: Decimal,
        refund_method: str,
        created_at: datetime,
    ) -> tuple[dict[str, Any], bool]:
        """Open a return for one order line; (row, created).

        Idempotent: a second call for the same order line returns the existing return
        with ``created`` False. Raises KeyError when the order is not this customer's.
        """
        number = order_number.strip().upper()
        with self.transaction() as conn:
            owned = conn.execute(
                f"SELECT 1 FROM orders WHERE number = ? AND customer_id = ?{self.FOR_UPDATE}",
                (number, customer_id),
            ).fetchone()
            if owned is None:
                raise KeyError(order_number)
            cur = conn.execute(
                "INSERT INTO returns VALUES (?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (order_number, sku) DO NOTHING",
                (
                    f"R-{number}-{sku}",
                    number,
                    customer_id,
                    sku,
                    quantity,
                    str(restocking_fee),
                    str(refund_amount),
                    refund_method,
                    "open",
                    created_at.isoformat(),
                ),
            )
            row = conn.execute(
                "SELECT * FROM returns WHERE order_number = ? AND sku = ?", (number, sku)
            ).fetchone()
        return dict(row), cur.rowcount == 1

    def returns_of(self, customer_id: str, order_number: str | None = None) -> list[dict[str, Any]]:
        """The customer's returns (of one order when given), oldest first."""
        sql = "SELECT * FROM returns WHERE customer_id = ?"
        params: list[object] = [customer_id]
        if order_number:
            sql += " AND order_number = ?"
            params.append(order_number.strip().upper())
        return [dict(r) for r in self.rows(sql + " ORDER BY created_at, id", params)]

    def cancel_order(
        self,
        customer_id: str,
        number: str,
        *,
        on: date,
        reason: str | None = None,
        statuses: Sequence[str] = ("pending",),
    ) -> Order | None:
        """Cancel an order of this customer in one of ``statuses`` (the shop's
        ``actions.cancellable_statuses``); idempotent. None when not theirs.

        The order is returned as it is afterwards (unchanged unless its status was one of
        ``statuses`` on the locked row).
        """
        with self.transaction() as conn:
            row = conn.execute(
                f"SELECT data FROM orders WHERE customer_id = ? AND number = ?{self.FOR_UPDATE}",
                (customer_id, number.strip().upper()),
            ).fetchone()
            if row is None:
                return None
            order = Order.model_validate_json(row["data"])
            if order.status not in statuses:
                return order
            before = order.status
            update: dict[str, Any] = {
                "status": "cancelled",
                "cancelled_at": on,
                "cancel_reason": reason,
            }
            if order.payment_method_id:
                refund = Payment(
                    kind="refund", amount=order.total, method_id=order.payment_method_id
                )
                update["payments"] = [*order.payments, refund]
                credit_if_gift_card(
                    conn, customer_id, order.payment_method_id, order.total, self.FOR_UPDATE
                )
            order = order.model_copy(update=update)
            conn.execute(
                "UPDATE orders SET status = ?, data = ? WHERE number = ? AND status = ?",
                ("cancelled", order.model_dump_json(), order.number, before),
            )
        return order
