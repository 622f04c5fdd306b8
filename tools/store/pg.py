"""The store database on PostgreSQL (psycopg 3): the queries of ``StoreDB``, another engine.

Select it with a ``postgresql://`` store URL; a schema can be chosen in the URL itself
(``?options=-csearch_path%3Dshop``), so several stores (or tests) share one server.

Values are stored in the same text formats as the SQLite database (decimals as strings,
pydantic JSON documents), so every reader of ``StoreDB`` works unchanged. Callers that run
their own SQL through :meth:`PgStoreDB.rows` or :meth:`PgStoreDB.transaction` may keep
SQLite's ``?`` placeholders and ``datetime('now')``: :func:`to_pg` translates them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from shopagent.errors import ConfigError

try:
    import psycopg
    from psycopg.rows import dict_row
except ImportError as exc:  # pragma: no cover - depends on how ShopAgent was installed
    raise ConfigError(
        "PostgreSQL support is not installed (a postgresql:// URL was given)",
        hint="pip install 'shopagent[postgres]' (make install does), or use a SQLite path",
    ) from exc
from shopagent.tools.store.queries import SCHEMA, StoreQueries
from shopagent.tools.store.unavailable import unavailable_when_locked

from shopagent.errors import StoreNotFound

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


class PgEngine:
    """A PostgreSQL database: the twin of :class:`~shopagent.tools.store.engine.SqliteEngine`
    (same ``rows``/``write``/``transaction``, SQLite-style SQL translated by :func:`to_pg`)."""

    def __init__(self, url: str, *, schema: str, what: str) -> None:
        self.url, self.what = url, what
        self.conn = connect(url)
        self.lock = threading.RLock()
        with self.lock, unavailable_when_locked(what):
            create_schema(self.conn, schema)

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """One atomic write: everything inside commits together or not at all."""
        with self.lock, unavailable_when_locked(self.what), self.conn.transaction():
            yield PgConnection(self.conn)

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        with self.lock, unavailable_when_locked(self.what):
            return self.conn.execute(
                to_pg(sql, params=bool(params)), list(params) or None
            ).fetchall()

    def write(self, sql: str, params: Sequence[object] = ()) -> int:
        with self.lock, unavailable_when_locked(self.what):
            return self.conn.execute(to_pg(sql, params=bool(params)), list(params) or None).rowcount

    def close(self) -> None:
        with self.lock:
            self.conn.close()


class PgStoreDB(StoreQueries):
    """The store database on PostgreSQL. Safe to share between threads (one lock each)."""

    FOR_UPDATE = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = PgEngine(url, schema=SCHEMA, what="the store database")
        self._conn, self._lock = self.engine.conn, self.engine.lock

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
        self.copy_rows_to(copy)
        return copy

    def close(self) -> None:
        self.engine.close()

    # -- engine ---------------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[PgConnection]:
        """One atomic write: everything inside commits together or not at all."""
        return self.engine.transaction()

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        """Run one read query (``?`` placeholders, as with StoreDB)."""
        return self.engine.rows(sql, params)

    def sku_rows(self, skus: Iterable[str]) -> list[dict[str, Any]]:
        """Price, currency and stock rows for the given SKUs (one array parameter)."""
        wanted = list(dict.fromkeys(skus))
        if not wanted:
            return []
        with self._lock, unavailable_when_locked("the store database"):
            return self._conn.execute(
                "SELECT sku, price, currency, stock, updated_at FROM skus WHERE sku = ANY(%s)",
                (wanted,),
            ).fetchall()
