"""The store database on SQLite: catalog, stock, customers, orders (the default engine).

Loaded from a store directory (``StoreData``); the inventory API, order tools and policy read
it. The queries live in :class:`shopagent.tools.store.queries.StoreQueries`, shared with PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from shopagent.tools.store.engine import BUSY_TIMEOUT_S, SqliteEngine
from shopagent.tools.store.queries import SCHEMA, StoreQueries
from shopagent.tools.store.schema import StoreData

from shopagent.errors import StoreNotFound


class StoreDB(StoreQueries):
    """A SQLite store database. Safe to share between threads (one lock per instance)."""

    def __init__(self, path: Path | str, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.path = str(path)
        self.engine = SqliteEngine(
            path, schema=SCHEMA, what="the store database", busy_timeout_s=busy_timeout_s
        )
        self._conn, self._lock = self.engine.conn, self.engine.lock

    # -- construction -------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path) -> StoreDB:
        """Open an existing, loaded database; StoreNotFound when there is none."""
        if not Path(path).exists():
            raise StoreNotFound(f"no store database at {path}")
        db = cls(path)
        if db.meta("store") is None:
            raise StoreNotFound(f"store database {path} is empty")
        return db

    @classmethod
    def in_memory(cls, data: StoreData) -> StoreDB:
        """A database in memory loaded with ``data`` (tests, evals)."""
        db = cls(":memory:")
        db.load(data)
        return db

    def clone_to(self, path: Path | str) -> StoreDB:
        """A full copy of this database at ``path`` (``":memory:"`` for an in-memory copy)."""
        copy = StoreDB(path)
        with self._lock, copy._lock:
            self._conn.backup(copy._conn)
        return copy

    def close(self) -> None:
        self.engine.close()

    # -- engine ---------------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One atomic write: everything inside commits together or not at all."""
        return self.engine.transaction()

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Run one read query."""
        return self.engine.rows(sql, params)
