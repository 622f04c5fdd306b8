"""The database engines every ShopAgent database shares: the store, the integrator keys.

An engine runs SQL behind one lock per connection and turns "busy or unreachable" into
:class:`~shopagent.errors.StorageUnavailable` naming the database (HTTP 503 with a hint, an
honest answer in the chat). :class:`SqliteEngine` is here; its PostgreSQL twin,
:class:`shopagent.tools.store.pg.PgEngine`, needs the ``postgres`` extra.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from shopagent.tools.store.unavailable import unavailable_when_locked

BUSY_TIMEOUT_S = 5.0
"""How long a statement waits for another connection's write lock before StorageUnavailable
(the event loop of the HTTP service waits with it, so it stays well below a turn's budget)."""


class Engine(Protocol):
    """What a database needs from its engine."""

    what: str

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Any]: ...

    def write(self, sql: str, params: Sequence[object] = ()) -> int: ...

    def transaction(self) -> Any: ...

    def close(self) -> None: ...


class SqliteEngine:
    """A SQLite database file (or ``:memory:``). Thread-safe: one lock per connection.

    Statements outside :meth:`transaction` commit at once; a transaction takes the write
    lock up front (``BEGIN IMMEDIATE``) so it never fails half-way on a busy database.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        schema: str,
        what: str,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
    ) -> None:
        self.path, self.what = str(path), what
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(
            self.path, check_same_thread=False, timeout=busy_timeout_s, isolation_level=None
        )
        self.conn.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        with self.lock, unavailable_when_locked(what):
            self.conn.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.executescript(schema)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything inside commits together or not at all."""
        with self.lock, unavailable_when_locked(self.what):
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:  # BEGIN itself may have failed (locked)
                    self.conn.execute("ROLLBACK")
                raise

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Run one read query."""
        with self.lock, unavailable_when_locked(self.what):
            return self.conn.execute(sql, params).fetchall()

    def write(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one write statement (committed at once); the number of rows it changed."""
        with self.lock, unavailable_when_locked(self.what):
            return self.conn.execute(sql, params).rowcount

    def close(self) -> None:
        with self.lock:
            self.conn.close()
