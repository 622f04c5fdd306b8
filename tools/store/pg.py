"""The store database on PostgreSQL (psycopg 3): the same public methods as ``StoreDB``.

Select it with a ``postgresql://`` store URL; a schema can be chosen in the URL itself
(``?options=-csearch_path%3Dshop``), so several stores (or tests) share one server.

Values are stored in the same text formats as the SQLite database (decimals as strings,
pydantic JSON documents), so every reader of ``StoreDB`` works unchanged. Callers that run
their own SQL through :meth:`PgStoreDB.rows` or :meth:`PgStoreDB.transaction` may keep
SQLite's ``?`` placeholders and ``datetime('now')``: :func:`to_pg` translates them.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from agent.errors import ConfigError, StoreNotFound
from tools.store.schema import Customer, Order, Product, ReturnPolicy, StoreData, StoreInfo

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
"""

_NOW_SQLITE = re.compile(r"datetime\(\s*'now'\s*\)", re.I)
_NOW_PG = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
_SCHEMA_LOCK = 741_852_963  # advisory lock id: concurrent processes create tables one at a time


def to_pg(sql: str, *, params: bool = True) -> str:
    """SQLite-flavoured SQL (``?`` placeholders, ``datetime('now')``) for psycopg.

    ``params``: the query is sent with parameters (so ``%`` must be escaped).
    """
    if params:
        sql = sql.replace("%", "%%").replace("?", "%s")
    return _NOW_SQLITE.sub(_NOW_PG, sql)


class PgConnection:
    """A psycopg connection that accepts SQLite-style SQL (see :func:`to_pg`)."""

    def __init__(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[object] | None = None) -> psycopg.Cursor:
        return self.raw.execute(to_pg(sql, params=bool(params)), list(params or ()) or None)

    def executemany(self, sql: str, params: Iterable[Sequence[object]]) -> None:
        with self.raw.cursor() as cur:
            cur.executemany(to_pg(sql), list(params))


def connect(url: str, *, autocommit: bool = True) -> psycopg.Connection[dict[str, Any]]:
    """A psycopg connection with dict rows; ConfigError with a fix when it fails."""
    try:
        return psycopg.connect(url, autocommit=autocommit, row_factory=dict_row)
    except psycopg.OperationalError as exc:
        raise ConfigError(
            f"cannot connect to PostgreSQL at {redact(url)}: {str(exc).strip().splitlines()[0]}",
            hint="check the postgresql:// URL (host, port, user, database) and that the "
            "server is running",
        ) from exc


def redact(url: str) -> str:
    """``url`` without its password."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)


def create_schema(conn: psycopg.Connection[Any], ddl: str) -> None:
    """Run ``ddl`` under a server-wide advisory lock (several processes may start at once)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        conn.execute(ddl)


class PgStoreDB:
    """The store database on PostgreSQL. Safe to share between threads (one lock each)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn = connect(url)
        self._lock = threading.RLock()
        with self._lock:
            create_schema(self._conn, SCHEMA)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def open(cls, url: str) -> PgStoreDB:
        """Open a loaded store database; StoreNotFound when it is empty."""
        db = cls(url)
        if db.meta("store") is None:
            db.close()
            raise StoreNotFound(f"store database {redact(url)} is empty")
        return db

    def clone_to(self, url: str) -> PgStoreDB:
        """A full copy of this store in the database/schema at ``url``."""
        copy = PgStoreDB(url)
        tables = ("meta", "products", "skus", "customers", "orders", "returns", "handoffs")
        with copy.transaction() as dst:
            for table in reversed(tables):
                dst.execute(f"DELETE FROM {table}")
            for table in tables:
                rows = self.rows(f"SELECT * FROM {table}")
                if rows:
                    cols = list(rows[0])
                    marks = ",".join("?" * len(cols))
                    dst.executemany(
                        f"INSERT INTO {table} ({','.join(cols)}) VALUES ({marks})",
                        [tuple(r[c] for c in cols) for r in rows],
                    )
        return copy

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """One atomic write: everything inside commits together or not at all."""
        with self._lock, self._conn.transaction():
            yield PgConnection(self._conn)

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        """Run one read query (``?`` placeholders, as with StoreDB)."""
        with self._lock:
            return self._conn.execute(
                to_pg(sql, params=bool(params)), list(params) or None
            ).fetchall()

    # -- loading -----------------------------------------------------------------------
    def load(self, data: StoreData) -> None:
        """Replace the whole store with ``data`` in one transaction."""
        stock = {s.sku: s.stock for s in data.stock}
        with self.transaction() as conn:
            for table in ("returns", "handoffs", "orders", "customers", "skus", "products", "meta"):
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
    def sku_rows(self, skus: Iterable[str]) -> list[dict[str, Any]]:
        """Price, currency and stock rows for the given SKUs (unknown ones are absent)."""
        wanted = list(dict.fromkeys(skus))
        if not wanted:
            return []
        with self._lock:
            return self._conn.execute(
                "SELECT sku, price, currency, stock, updated_at FROM skus WHERE sku = ANY(%s)",
                (wanted,),
            ).fetchall()

    def set_stock(self, sku: str, stock: int, *, price: Decimal | None = None) -> None:
        """Change one SKU's stock (and optionally price)."""
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
        return Customer(**rows[0]) if rows else None

    def customer(self, customer_id: str) -> Customer | None:
        rows = self.rows("SELECT * FROM customers WHERE id = ?", (customer_id,))
        return Customer(**rows[0]) if rows else None

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
        """Open a return for one order line; (row, created). Idempotent per order line.

        Raises KeyError when the order is not this customer's.
        """
        number = order_number.strip().upper()
        with self.transaction() as conn:
            owned = conn.execute(
                "SELECT 1 FROM orders WHERE number = ? AND customer_id = ? FOR UPDATE",
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

    def cancel_order(self, customer_id: str, number: str, *, on: date) -> Order | None:
        """Cancel a pending order of this customer; idempotent. None when not theirs."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT data FROM orders WHERE customer_id = ? AND number = ? FOR UPDATE",
                (customer_id, number.strip().upper()),
            ).fetchone()
            if row is None:
                return None
            order = Order.model_validate_json(row["data"])
            if order.status != "pending":
                return order
            order = order.model_copy(update={"status": "cancelled", "cancelled_at": on})
            conn.execute(
                "UPDATE orders SET status = ?, data = ? WHERE number = ? AND status = 'pending'",
                ("cancelled", order.model_dump_json(), order.number),
            )
        return order
