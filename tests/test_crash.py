"""Crash safety, proven by really killing the server: ``shopagent serve`` (the default app
factory: ``ShopAgent.open`` from settings) runs as its own process over SQLite (checkpoints,
store, keys in a tmp ``SHOPAGENT_HOME``) or PostgreSQL (a schema per test), the model on a
loopback OpenAI-compatible server that the test can make hang.

Each test ``kill -9``s the process twice and restarts it on the same storage:

1. while one thread's turn is in flight (the model server hangs) and, at the same moment,
   another thread's confirmed return has been written to the store but its answer not yet
   returned (the checkpoint storage is locked by the test, so the turn cannot finish);
2. right after a confirmed cancellation was written, the same way.

After each restart: the threads resume from their last checkpoints (history intact, "it"
still resolves, the next turn answers), and the client's retried confirmation finds the
write already made: the store rows show each return and cancellation written exactly once
(the restarted process runs a day later, so a second write would show).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import tiny_store
from openai_server import FakeOpenAI, serve_fake_openai
from server_app import SECRET, PgSchema, pg_available, shopper_token
from shopagent.agent.server.keys import KeyStore
from shopagent.tools.catalog import open_catalog
from shopagent.tools.store.db import StoreDB
from test_server_serve import REPO, SERVE, _free_port, _stop, _wait

from shopagent.settings import Settings

DAY_1, DAY_2, DAY_3 = "2026-10-20T10:00:00+00:00", "2026-10-21T10:00:00+00:00", "2026-10-22"
ADA, BEN = "ada@example.com", "ben@example.com"
RETURN_ID = "R-SA-100002-H-400"


class Deployment:
    """``shopagent serve`` over one storage backend, restartable on the same port."""

    def __init__(self, tmp_path: Path, backend: str, fake: FakeOpenAI) -> None:
        self.home, self.backend, self.fake = tmp_path, backend, fake
        self.schema = PgSchema() if backend == "postgres" else None
        data = tiny_store()
        if self.schema is not None:
            from shopagent.tools.store.pg import PgStoreDB

            db: Any = PgStoreDB(self.schema.url)
            keys_url = self.schema.url
        else:
            db = StoreDB(tmp_path / "store.db")
            keys_url = str(tmp_path / "keys.sqlite")
        db.load(data)
        db.close()
        open_catalog(Settings(home=tmp_path)).index(data.products)
        keys = KeyStore(keys_url, cache_s=0)
        _, self.key = keys.create("crash-test")
        keys.close()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "SHOPAGENT_HOME": str(tmp_path),
            "SHOPAGENT_KEYS_URL": keys_url,
            "SHOPAGENT_MODEL": "openai:test-model",
            "OPENAI_API_KEY": "test",
            "OPENAI_BASE_URL": fake.url,
            "SHOPAGENT_SHOPPER_TOKEN_SECRET": SECRET,
            "SHOPAGENT_RATE_LIMIT_PER_MINUTE": "100000",
            "SHOPAGENT_CONFIG": str(tmp_path / "none.toml"),
        }
        if self.schema is not None:
            self.env["SHOPAGENT_CHECKPOINT_URL"] = self.schema.url
            self.env["SHOPAGENT_STORE_URL"] = self.schema.url
        self.proc: subprocess.Popen | None = None
        self.log = tmp_path / "serve.log"
        self.starts = 0

    # -- the process -----------------------------------------------------------------------
    def start(self, now: str) -> None:
        """Start the server (the shop's clock at ``now``) and wait until it is ready."""
        self.starts += 1
        with self.log.open("a") as log:
            log.write(f"\n--- start {self.starts} ---\n")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, "serve", "--port", str(self.port)],
            cwd=REPO,
            env={**self.env, "SHOPAGENT_NOW": now},
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        _wait(f"{self.url}/readyz", self.proc, self.log, timeout=180)

    def kill(self) -> None:
        """``kill -9``: no shutdown, no flush, no goodbye."""
        assert self.proc is not None and self.proc.poll() is None, "server not running"
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(15) == -signal.SIGKILL
        self.proc = None

    def close(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
        if self.schema is not None:
            self.schema.drop()

    # -- the HTTP API ------------------------------------------------------------------------
    def headers(self, shopper: str | None = None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.key}"}
        if shopper:
            out["X-Shopper-Token"] = shopper_token(shopper)
        return out

    def post(self, path: str, body: dict[str, Any] | None = None, shopper: str | None = None):
        return httpx.post(
            f"{self.url}{path}", json=body, headers=self.headers(shopper), timeout=120
        )

    def get(self, path: str, shopper: str | None = None) -> Any:
        response = httpx.get(f"{self.url}{path}", headers=self.headers(shopper), timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def thread(self, shopper: str | None = None) -> str:
        response = self.post("/v1/threads", shopper=shopper)
        assert response.status_code == 201, response.text
        return response.json()["thread_id"]

    def say(self, thread: str, message: str, shopper: str | None = None) -> dict[str, Any]:
        response = self.post(f"/v1/threads/{thread}/messages", {"message": message}, shopper)
        assert response.status_code == 200, response.text
        return response.json()

    def history(self, thread: str, shopper: str | None = None) -> list[dict[str, str]]:
        return self.get(f"/v1/threads/{thread}/messages", shopper)["messages"]

    def in_flight(self, path: str, body: dict[str, Any], shopper: str | None = None) -> InFlight:
        """Send a request from another thread (it is expected never to be answered)."""
        return InFlight(lambda: self.post(path, body, shopper))

    # -- the storage, read directly -------------------------------------------------------
    def store_rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        if self.schema is not None:
            import psycopg
            from psycopg.rows import dict_row

            with psycopg.connect(self.schema.url, row_factory=dict_row) as conn:
                return conn.execute(sql.replace("?", "%s"), params).fetchall()
        with sqlite3.connect(self.home / "store.db") as conn:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(sql, params).fetchall()]

    def returns(self) -> list[dict[str, Any]]:
        return self.store_rows("SELECT * FROM returns WHERE order_number = ?", ("SA-100002",))

    def order_status(self, number: str) -> str:
        return self.store_rows("SELECT status FROM orders WHERE number = ?", (number,))[0]["status"]

    @contextmanager
    def checkpoints_locked(self):
        """Another connection holds the checkpoint storage's write lock: a turn can run (and
        write to the store) but cannot save its end; reads still work."""
        if self.schema is not None:
            import psycopg

            conn = psycopg.connect(self.schema.url)
            conn.execute(
                "LOCK TABLE checkpoints, checkpoint_blobs, checkpoint_writes IN EXCLUSIVE MODE"
            )
            try:
                yield
            finally:
                conn.rollback()
                conn.close()
            return
        conn = sqlite3.connect(self.home / "checkpoints.sqlite", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()


class InFlight:
    """A request running in a background thread; ``outcome()`` after the server died."""

    def __init__(self, send: Any) -> None:
        self.result: Any = None
        self.thread = threading.Thread(target=self._run, args=(send,), daemon=True)
        self.thread.start()

    def _run(self, send: Any) -> None:
        try:
            self.result = send()
        except httpx.TransportError as exc:
            self.result = exc

    def outcome(self, timeout: float = 30) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the request neither finished nor failed"
        return self.result


def wait_for(check: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def retry_confirmation(dep: Deployment, thread: str, shopper: str, done: str) -> None:
    """The client retries its confirmation after the crash. The write is already made, so
    either the thread still waits for the yes (the crash came before its checkpoint) and the
    replay finds the write, or the turn's end was saved (PostgreSQL may finish a statement
    sent just before the kill) and the answer is in the history: never a second write."""
    response = dep.post(f"/v1/threads/{thread}/confirmation", {"approve": True}, shopper)
    print("RETRY", dep.backend, response.status_code, response.text[:200])
    if response.status_code == 409:
        assert response.json()["error"]["code"] == "nothing_to_confirm"
        assert done in dep.history(thread, shopper)[-1]["content"]
    else:
        assert response.status_code == 200, response.text
        assert done in response.json()["answer"], response.json()
    assert dep.get(f"/v1/threads/{thread}/confirmation", shopper) is None


BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def deployment(request, tmp_path):
    if request.param == "postgres" and (why := pg_available()) and not os.environ.get("CI"):
        pytest.skip(why)
    with serve_fake_openai() as fake:
        dep = Deployment(tmp_path, request.param, fake)
        try:
            yield dep
        finally:
            dep.close()


def test_kill_9_mid_turn_and_after_writes(deployment) -> None:
    dep, fake = deployment, deployment.fake
    dep.start(DAY_1)
    # -- a conversation with history, and two actions waiting for a yes -------------------
    shop = dep.thread()
    first = dep.say(shop, "how much is the Hearth Classic Kettle?")
    assert "$29.49" in first["answer"], first
    history = dep.history(shop)
    ada = dep.thread(ADA)
    asked = dep.say(ada, "I want to return order SA-100002, still sealed", ADA)
    assert asked["confirmation"]["action"] == "start_return", asked
    ben = dep.thread(BEN)
    asked = dep.say(ben, "please cancel my order SA-100003", BEN)
    assert asked["confirmation"]["action"] == "cancel_order", asked

    # -- kill 1: a turn in flight, and a return written but not yet answered ---------------
    fake.set_fault(delay_s=120)  # the model hangs: the next turn stays in flight
    calls = len(fake.requests)
    slow = dep.in_flight(f"/v1/threads/{shop}/messages", {"message": "is it in stock?"})
    wait_for(lambda: len(fake.requests) > calls, "the turn to reach the model")
    with dep.checkpoints_locked():
        confirming = dep.in_flight(f"/v1/threads/{ada}/confirmation", {"approve": True}, ADA)
        wait_for(lambda: dep.returns(), "the return to be written")
        dep.kill()
    assert isinstance(slow.outcome(), httpx.TransportError)
    assert isinstance(confirming.outcome(), httpx.TransportError)  # no answer came back
    written = dep.returns()
    assert len(written) == 1 and written[0]["id"] == RETURN_ID

    fake.clear_fault()
    dep.start(DAY_2)
    # the thread resumes from its last checkpoint: history intact, "it" still the kettle
    resumed = dep.history(shop)
    assert resumed[: len(history)] == history
    assert all(m["role"] == "user" for m in resumed[len(history) :]), resumed
    turn = dep.say(shop, "is it in stock?")
    assert turn["tool_calls"][-1]["args"] == {"skus": ["K-200"]}, turn
    assert "$29.49" in turn["answer"] and "3" in turn["answer"], turn
    # the cancellation still waits for its yes
    assert dep.get(f"/v1/threads/{ben}/confirmation", BEN)["order_number"] == "SA-100003"
    # the client retries the confirmation it got no answer to
    retry_confirmation(dep, ada, ADA, f"return {RETURN_ID}")
    assert dep.returns() == written  # exactly once: same row, day-1 timestamp

    # -- kill 2: a cancellation written but not yet answered --------------------------------
    with dep.checkpoints_locked():
        confirming = dep.in_flight(f"/v1/threads/{ben}/confirmation", {"approve": True}, BEN)
        wait_for(lambda: dep.order_status("SA-100003") == "cancelled", "the cancellation")
        dep.kill()
    assert isinstance(confirming.outcome(), httpx.TransportError)
    cancelled = dep.store_rows("SELECT * FROM orders WHERE number = ?", ("SA-100003",))

    dep.start(DAY_3)
    retry_confirmation(dep, ben, BEN, "order SA-100003 is cancelled")
    after = dep.store_rows("SELECT * FROM orders WHERE number = ?", ("SA-100003",))
    assert after == cancelled  # one cancellation, dated day 2, never redone on day 3
    assert f'"cancelled_at":"{date(2026, 10, 21).isoformat()}"' in after[0]["data"]
    assert dep.returns() == written
    turn = dep.say(shop, "how much is the ThermaCup Desk Mug Warmer?")
    assert "$24.99" in turn["answer"]
