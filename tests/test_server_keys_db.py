"""The keys database runs on the store's engines: busy is a 503 with a hint, never a 500."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from server_app import TestServer
from shopagent.agent.server.keys import KeyStore

from shopagent.errors import StorageUnavailable


class WriteLock:
    """Another connection holding the write lock of a SQLite database (BEGIN IMMEDIATE)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def test_a_busy_keys_database_is_storage_unavailable(tmp_path: Path) -> None:
    keys = KeyStore(str(tmp_path / "keys.sqlite"), cache_s=0, busy_timeout_s=0.2)
    keys.create("shop")
    lock = WriteLock(tmp_path / "keys.sqlite")
    try:
        with pytest.raises(StorageUnavailable) as caught:
            keys.create("another shop")
        assert "the keys database is busy" in str(caught.value)
        assert caught.value.hint
    finally:
        lock.release()
    keys.create("another shop")  # the lock is gone: writes work again
    assert [k.name for k in keys.list()] == ["shop", "another shop"]
    keys.close()


def test_a_busy_keys_database_answers_503_with_a_hint(tmp_path: Path) -> None:
    server = TestServer(tmp_path)
    try:
        lock = WriteLock(Path(server.config.keys_url))
        try:
            response = httpx.post(f"{server.url}/v1/threads", headers=server.headers(), timeout=30)
        finally:
            lock.release()
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "storage_unavailable"
        assert "keys database" in error["message"] and error["hint"]
        again = httpx.post(f"{server.url}/v1/threads", headers=server.headers(), timeout=30)
        assert again.status_code == 201, again.text
    finally:
        server.close()
