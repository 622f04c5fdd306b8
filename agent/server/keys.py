"""Integrator API keys (stored hashed) and thread ownership, in SQLite or PostgreSQL.

A key looks like ``sa_<id>_<secret>``: ``id`` (8 hex) names it in logs and in the CLI, the
secret is 256 random bits. Only ``sha256(key)`` is stored: the key is high-entropy, so a
fast hash is safe and costs nothing per request (bcrypt is for guessable passwords).

The same database records which key (and which shopper) owns each thread, so every server
process sharing it enforces the same ownership.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shopagent.agent.server.config import is_postgres
from shopagent.tools.store.engine import BUSY_TIMEOUT_S, Engine, SqliteEngine

from shopagent.errors import ConfigError

KEY_PREFIX = "sa_"
KEYS_DATABASE = "the keys database"

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL, revoked_at TEXT, rate_limit_per_minute REAL,
  origins TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS api_threads (
  thread_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, customer TEXT,
  created_at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the secret itself)."""

    id: str
    name: str
    created_at: str
    revoked_at: str | None = None
    rate_limit_per_minute: float | None = None
    origins: tuple[str, ...] = field(default_factory=tuple)

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class ThreadOwner:
    thread_id: str
    key_id: str
    customer: str | None
    created_at: str


MAX_NAME = 100
"""Longest key name (names are labels for operators)."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _key(row: Any) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        rate_limit_per_minute=row["rate_limit_per_minute"],
        origins=tuple(json.loads(row["origins"] or "[]")),
    )


def _engine(url: str, busy_timeout_s: float) -> Engine:
    """The store's engines: a busy or unreachable keys database is StorageUnavailable (503)."""
    if is_postgres(url):
        from shopagent.tools.store.pg import PgEngine

        return PgEngine(url, schema=SCHEMA, what=KEYS_DATABASE)
    return SqliteEngine(url, schema=SCHEMA, what=KEYS_DATABASE, busy_timeout_s=busy_timeout_s)


class KeyStore:
    """API keys and thread owners. Thread-safe; verified keys are cached ``cache_s``."""

    def __init__(
        self, url: str, *, cache_s: float = 5.0, busy_timeout_s: float = BUSY_TIMEOUT_S
    ) -> None:
        self.url = url
        self._db = _engine(url, busy_timeout_s)
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}
        self._owners: dict[str, tuple[float, ThreadOwner]] = {}

    def close(self) -> None:
        self._db.close()

    def ping(self) -> None:
        self._db.rows("SELECT 1 AS ok")

    # -- keys ------------------------------------------------------------------------------
    def create(
        self,
        name: str,
        *,
        rate_limit_per_minute: float | None = None,
        origins: Sequence[str] = (),
    ) -> tuple[ApiKey, str]:
        """A new key: ``(record, secret)``. The secret is shown once and never stored."""
        if not name.strip():
            raise ConfigError("a key needs a name", hint="e.g. `shopagent keys create my-shop`")
        if len(name) > MAX_NAME or not name.isprintable():
            # names are printed back to operators (`keys list`): no terminal escape codes
            raise ConfigError(
                f"a key name must be at most {MAX_NAME} printable characters",
                hint="use letters, digits, spaces and punctuation, e.g. `my-shop (staging)`",
            )
        key_id = secrets.token_hex(4)
        secret = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKey(
            id=key_id,
            name=name.strip(),
            created_at=_now(),
            rate_limit_per_minute=rate_limit_per_minute,
            origins=tuple(o.rstrip("/") for o in origins),
        )
        self._db.write(
            "INSERT INTO api_keys (id, name, hash, created_at, rate_limit_per_minute, origins) "
            "VALUES (?,?,?,?,?,?)",
            (
                record.id,
                record.name,
                hash_key(secret),
                record.created_at,
                rate_limit_per_minute,
                json.dumps(list(record.origins)),
            ),
        )
        return record, secret

    def revoke(self, key_id: str) -> bool:
        """Revoke a key by id (or full key); False when there is no such active key."""
        if key_id.startswith(KEY_PREFIX):
            key_id = key_id[len(KEY_PREFIX) :].split("_", 1)[0]
        changed = self._db.write(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (_now(), key_id),
        )
        self._cache.clear()
        return changed > 0

    def list(self) -> list[ApiKey]:
        return [_key(r) for r in self._db.rows("SELECT * FROM api_keys ORDER BY created_at, id")]

    def verify(self, presented: str) -> ApiKey | None:
        """The active key matching ``presented``, else None."""
        if not presented.startswith(KEY_PREFIX) or len(presented) > 200:
            return None
        digest = hash_key(presented)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and now - cached[0] < self.cache_s:
            return cached[1]
        rows = self._db.rows("SELECT * FROM api_keys WHERE hash = ?", (digest,))
        found = _key(rows[0]) if rows else None
        if found is not None and not (
            found.active and hmac.compare_digest(rows[0]["hash"], digest)
        ):
            found = None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now, found)
        return found

    # -- thread ownership ------------------------------------------------------------------
    def claim_thread(self, thread_id: str, key_id: str, customer: str | None) -> bool:
        """Record a new thread for this key (and shopper); False when it exists already."""
        changed = self._db.write(
            "INSERT INTO api_threads (thread_id, key_id, customer, created_at) VALUES (?,?,?,?) "
            "ON CONFLICT (thread_id) DO NOTHING",
            (thread_id, key_id, customer, _now()),
        )
        return changed > 0

    def thread(self, thread_id: str) -> ThreadOwner | None:
        """The thread's owner. Owners of signed-in threads never change, so they are
        cached for good; anonymous ones for ``cache_s`` (another process may bind them)."""
        now = time.monotonic()
        cached = self._owners.get(thread_id)
        if cached is not None and (
            cached[1].customer is not None or now - cached[0] < self.cache_s
        ):
            return cached[1]
        rows = self._db.rows("SELECT * FROM api_threads WHERE thread_id = ?", (thread_id,))
        owner = ThreadOwner(**dict(rows[0])) if rows else None
        if owner is not None:
            if len(self._owners) > 100_000:
                self._owners.clear()
            self._owners[thread_id] = (now, owner)
        return owner

    def bind_customer(self, thread_id: str, customer: str) -> None:
        """An anonymous thread continues signed in: it belongs to that shopper from now on."""
        self._db.write(
            "UPDATE api_threads SET customer = ? WHERE thread_id = ? AND customer IS NULL",
            (customer, thread_id),
        )
        self._owners.pop(thread_id, None)
