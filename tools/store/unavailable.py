"""Database errors that mean "busy or unreachable, try again" as StorageUnavailable.

Shared by the store databases and the conversation checkpoints: SQLite's "database is locked"
(and disk trouble) and PostgreSQL connection failures become :class:`StorageUnavailable`
(HTTP 503, an honest answer), while bugs such as a bad query stay what they are.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from shopagent.errors import StorageUnavailable

#: SQLite primary result codes of a database that is there but cannot be used right now:
#: BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN.
_SQLITE_UNAVAILABLE = frozenset({5, 6, 8, 10, 13, 14})


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is busy or unreachable (not a bug in the query)."""
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None:  # aiosqlite/older sqlite3 may not carry the code
            return "locked" in str(exc) or "busy" in str(exc)
        return code & 0xFF in _SQLITE_UNAVAILABLE
    try:
        import psycopg
    except ImportError:  # the postgres extra is not installed: no PostgreSQL error to map
        return False
    return isinstance(exc, psycopg.OperationalError)


@contextmanager
def unavailable_when_locked(what: str) -> Iterator[None]:
    """Raise StorageUnavailable, naming ``what`` ("the store database"), for a busy or
    unreachable database (its message may reach the shopper: no paths in it)."""
    try:
        yield
    except StorageUnavailable:
        raise
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        reason = str(exc).split("\n")[0][:200]
        raise StorageUnavailable(
            f"{what} is busy or unavailable ({reason}); nothing was changed"
        ) from exc
