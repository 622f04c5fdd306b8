"""Per-key token buckets: in this process (:class:`RateLimiter`), or shared by every worker
and server through PostgreSQL (:class:`SharedRateLimiter`, chosen when the keys live there).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol


def take(tokens: float, last: float, now: float, per_s: float, burst: int) -> tuple[float, float]:
    """One request against a bucket that held ``tokens`` at ``last``, refilled at ``per_s``
    up to ``burst``: (tokens left, seconds to wait; 0.0 when the request is allowed)."""
    tokens = min(float(burst), tokens + max(0.0, now - last) * per_s)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / per_s


class Limiter(Protocol):
    """``allow(key, rate_per_minute, burst)`` -> seconds to wait (0.0: allowed now)."""

    def allow(self, key: str, rate_per_minute: float, burst: int) -> float: ...

    def close(self) -> None: ...


class RateLimiter:
    """Buckets in this process: N workers (or servers) allow N times the rate."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last)
        self._lock = threading.Lock()

    def allow(self, key: str, rate_per_minute: float, burst: int) -> float:
        if rate_per_minute <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(burst), now))
            tokens, wait = take(tokens, last, now, rate_per_minute / 60.0, burst)
            self._buckets[key] = (tokens, now)
            return wait

    def close(self) -> None:
        return None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_buckets (
    key_id TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL
)
"""
_NOW = "SELECT extract(epoch FROM clock_timestamp())::float8 AS now"


class SharedRateLimiter:
    """Buckets in PostgreSQL (table ``rate_buckets``): one limit per key across every worker
    and server. Each request locks its key's row for one short transaction; the database's
    clock is the only clock, so servers need not agree on the time."""

    def __init__(self, url: str) -> None:
        from shopagent.tools.store.pg import connect, create_schema

        self._conn = connect(url)
        self._lock = threading.Lock()
        with self._lock:
            create_schema(self._conn, _SCHEMA)

    def allow(self, key: str, rate_per_minute: float, burst: int) -> float:
        if rate_per_minute <= 0:
            return 0.0
        with self._lock, self._conn.transaction():
            row = self._conn.execute(
                "SELECT tokens, updated, extract(epoch FROM clock_timestamp())::float8 AS now "
                "FROM rate_buckets WHERE key_id = %s FOR UPDATE",
                (key,),
            ).fetchone()
            if row is None:
                now = self._conn.execute(_NOW).fetchone()["now"]
                row = {"tokens": float(burst), "updated": now, "now": now}
            tokens, wait = take(
                row["tokens"], row["updated"], row["now"], rate_per_minute / 60.0, burst
            )
            self._conn.execute(
                "INSERT INTO rate_buckets (key_id, tokens, updated) VALUES (%s, %s, %s) "
                "ON CONFLICT (key_id) DO UPDATE SET tokens = EXCLUDED.tokens, "
                "updated = EXCLUDED.updated",
                (key, tokens, row["now"]),
            )
            return wait

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def limiter_for(keys_url: str) -> Limiter:
    """The shared limiter when the keys live in PostgreSQL, else the in-process one."""
    from shopagent.agent.server.config import is_postgres

    return SharedRateLimiter(keys_url) if is_postgres(keys_url) else RateLimiter()


def retry_after_header(wait_s: float) -> str:
    return str(max(1, math.ceil(wait_s)))
