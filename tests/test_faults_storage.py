"""Storage faults through the real HTTP service: a real ``chroma run`` server that goes away,
and other SQLite connections holding write locks on the checkpoints and the store (see
tests/test_faults.py for what every fault must give)."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
from pathlib import Path

import faults_common
import pytest
from factories import tiny_store
from faults_common import KETTLE, Service, assert_no_invented_numbers, logged, messages_kept
from test_server_serve import CHROMA, _free_port, _stop, _wait

from shopagent.settings import Settings

# shared fixtures
_logs = faults_common._logs
fake = faults_common.fake
service = faults_common.service


# -- Chroma -----------------------------------------------------------------------------------
@pytest.fixture
def chroma(tmp_path):
    """A real ``chroma run`` server with the tiny store indexed; ``stop()``/``start()``."""
    if not CHROMA.exists():
        pytest.skip(f"{CHROMA} missing")

    class Chroma:
        def __init__(self) -> None:
            self.port = _free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.proc: subprocess.Popen | None = None

        def start(self) -> None:
            log = tmp_path / "chroma.log"
            cmd = [str(CHROMA), "run", "--path", str(tmp_path / "chroma"), "--host",
                   "127.0.0.1", "--port", str(self.port)]  # fmt: skip
            self.proc = subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT)
            _wait(f"{self.url}/api/v2/heartbeat", self.proc, log, 60)

        def stop(self) -> None:
            if self.proc is not None:
                _stop(self.proc)
                self.proc = None

    server = Chroma()
    server.start()
    from shopagent.tools.catalog import open_catalog

    open_catalog(Settings(home=tmp_path, chroma_url=server.url)).index(tiny_store().products)
    yield server
    server.stop()


def test_chroma_unavailable_search_says_so(tmp_path, fake, chroma, caplog) -> None:
    svc = Service(tmp_path, fake, budget=8.0, chroma_url=chroma.url)
    try:
        thread = svc.thread()
        first = svc.say(thread, "show me kettles")
        assert "Hearth Classic Kettle" in first.answer
        before = svc.history(thread)

        chroma.stop()
        turn = svc.say(thread, "do you have a rain jacket?")
        assert turn.status == 200
        assert "search isn't available" in turn.answer
        assert turn.calls("search_products")[0]["result"]["error"] == "CatalogUnavailable"
        svc.within_budget(turn)
        assert logged(caplog, "search_products failed", "CatalogUnavailable")
        # what needs no search still works: "it" is the first product shown
        turn = svc.say(thread, "is it in stock?")
        assert turn.status == 200 and "$" in turn.answer
        assert_no_invented_numbers(turn)
        # a variant of the product in focus needs the catalog: an honest answer, not a 5xx
        turn = svc.say(thread, "what about the blue one?")
        assert turn.status == 200, turn.body
        assert_no_invented_numbers(turn)

        chroma.start()
        turn = svc.say(thread, "do you have a rain jacket?")
        assert "Trailhead Rain Jacket" in turn.answer
        after = svc.history(thread)
        messages_kept(before, after)
        assert len(after) == len(before) + 8
    finally:
        svc.close()


# -- SQLite busy ------------------------------------------------------------------------------
class WriteLock:
    """Another connection holding the write lock of a SQLite database (BEGIN IMMEDIATE)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.close()

    def release_after(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self.release)
        timer.start()
        return timer


def test_checkpoints_locked_briefly_the_turn_waits(service, caplog) -> None:
    thread = service.thread()
    service.say(thread, KETTLE)
    lock = WriteLock(service.checkpoints)
    timer = lock.release_after(1.5)
    turn = service.say(thread, "is it in stock?")
    timer.join()
    assert "$29.49" in turn.answer
    service.within_budget(turn)
    assert len(service.history(thread)) == 4


def test_checkpoints_locked_past_the_budget_is_a_clear_503(service, caplog) -> None:
    thread = service.thread()
    service.say(thread, KETTLE)
    before = service.history(thread)
    lock = WriteLock(service.checkpoints)
    try:
        turn = service.say(thread, "is it in stock?")
    finally:
        lock.release()
    assert turn.status == 503, turn.body
    error = turn.body["error"]
    assert error["code"] == "storage_unavailable" and "conversation" in error["message"]
    assert error["hint"] and error["request_id"]
    service.within_budget(turn)
    assert logged(caplog, "turn failed", "conversation")

    turn = service.say(thread, "is it in stock?")  # the lock is gone: all works again
    assert "$29.49" in turn.answer
    messages_kept(before, service.history(thread))


def test_store_locked_during_a_confirmed_return_writes_nothing(service, caplog) -> None:
    ada = "ada@example.com"
    thread = service.thread(ada)
    asked = service.say(thread, "I want to return order SA-100002, still sealed", ada)
    assert asked.body["confirmation"]["action"] == "start_return"
    before = service.history(thread, ada)

    lock = WriteLock(service.store_path)
    try:
        turn = service.confirm(thread, True, ada)
    finally:
        lock.release()
    assert "couldn't complete the return" in turn.answer and "busy" in turn.answer
    assert turn.calls("start_return")[0]["result"]["error"] == "StorageUnavailable"
    service.within_budget(turn)
    assert logged(caplog, "start_return failed", "StorageUnavailable")
    with sqlite3.connect(service.store_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM returns").fetchone() == (0,)

    again = service.say(thread, "I want to return order SA-100002, still sealed", ada)
    assert again.body["confirmation"]["action"] == "start_return"
    done = service.confirm(thread, True, ada)
    assert "Done: return R-SA-100002-H-400 is open" in done.answer
    with sqlite3.connect(service.store_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM returns").fetchone() == (1,)
    messages_kept(before, service.history(thread, ada))
