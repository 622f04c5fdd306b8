"""The store database on SQLite: catalog, stock, customers, orders (the default engine).

Loaded from a store directory (``StoreData``); the inventory API, order tools and policy read
it. The queries live in :class:`shopagent.tools.store.queries.StoreQueries`, shared with PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from shopagent.tools.store.queries import SCHEMA, StoreQueries
from shopagent.tools.store.schema import StoreData
from shopagent.tools.store.unavailable import unavailable_when_locked

from shopagent.errors import StoreNotFound

BUSY_TIMEOUT_S = 5.0
"""How long a statement waits for another connection's write lock before StorageUnavailable
(the event loop of the HTTP service waits with it, so it stays well below a turn's budget)."""


class StoreDB(StoreQueries):
    """A SQLite store database. Safe to share between threads (one lock per instance)."""

    def __init__(self, path: Path | str, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.path = str(path)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=busy_timeout_s)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.executescript(SCHEMA)

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
        with self._lock:
            self._conn.close()

    # -- engine ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything inside commits together or not at all."""
        with self._lock, unavailable_when_locked("the store database"):
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # BEGIN itself may have failed (locked)
                    self._conn.execute("ROLLBACK")
                raise

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Run one read query."""
        with self._lock, unavailable_when_locked("the store database"):
            return self._conn.execute(sql, params).fetchall()
