"""Faults through the real HTTP service: each test runs ``ShopAgent.open`` (SQLite store file,
SQLite checkpoints under a tmp home) behind the FastAPI app on a real uvicorn server, with the
real inventory API (fault injection), a loopback OpenAI-compatible model server (fault modes),
a real ``chroma run`` server, and other SQLite connections holding write locks.

For every fault: a graceful, honest answer (no invented price or stock, no stack trace; a
503 with a clear message only where no answer can be given), a log line naming the fault, no
thread state lost (earlier messages all still there, the next turn works once the fault is
gone), and the turn back within its budget (a correctness bound with a generous margin).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import IN_WINDOW, tiny_store
from openai_server import FakeOpenAI, serve_fake_openai
from server_app import FAITHFUL, SECRET, KeywordRouter, shopper_token
from shopagent.agent.answering.templates import INVENTORY_DOWN
from shopagent.agent.models.providers import build_chat_model
from shopagent.agent.server.app import create_app
from shopagent.agent.server.config import ServerConfig
from shopagent.agent.server.keys import KeyStore
from shopagent.agent.service import ShopAgent
from shopagent.agent.understanding.model_router import LLMRouter
from shopagent.tools.catalog import InMemoryCatalog
from shopagent.tools.inventory_api import FaultConfig, RunningServer, serve_in_thread
from shopagent.tools.inventory_api import create_app as inventory_app
from shopagent.tools.store.db import StoreDB
from test_server_serve import CHROMA, _free_port, _stop, _wait

from shopagent.settings import Settings

MARGIN_S = 4.0
"""Slack on top of the turn budget for the HTTP round trip and a loaded CPU (2 shared cores)."""
MONEY = re.compile(r"\$\s?(\d+(?:\.\d{2})?)")
KETTLE = "how much is the Hearth Classic Kettle?"
ROUTE_PRICE = {"intents": ["price_stock"], "confidence": 0.9}


class Service:
    """The HTTP service over real parts, each of which a test can break and mend.

    * ``inventory``: the price/stock API (``faults`` is its live FaultConfig; ``stop`` /
      ``start`` take it down and bring it back on the same port);
    * ``fake``: the OpenAI-compatible model server (``set_fault`` / ``clear_fault``);
    * ``store_path`` / ``checkpoints``: SQLite files other connections can lock.
    """

    def __init__(
        self, tmp_path: Path, fake: FakeOpenAI, *, budget: float, chroma_url: str | None = None
    ) -> None:
        self.home, self.fake, self.budget = tmp_path, fake, budget
        self.store_path = tmp_path / "store.db"
        StoreDB(self.store_path).load(tiny_store())
        self.inventory_db = StoreDB(self.store_path)
        self.faults = FaultConfig(retry_after_s=None)
        self.inventory: RunningServer | None = None
        self.start_inventory()
        self.settings = Settings(
            home=tmp_path,
            model="openai:test-model",
            openai_api_key="test",
            openai_base_url=fake.url,
            inventory_url=self.inventory.url,
            inventory_timeout_s=1.0,
            inventory_retries=2,
            turn_budget_s=budget,
            now=IN_WINDOW.isoformat(),
            chroma_url=chroma_url,
        )
        self.checkpoints = self.settings.checkpoints
        model = build_chat_model(self.settings.model, self.settings)
        catalog = None if chroma_url else InMemoryCatalog(tiny_store().products)

        async def open_agent() -> ShopAgent:
            return await ShopAgent.open(
                self.settings,
                model=model,
                router=LLMRouter(model, KeywordRouter()),
                catalog=catalog,
            )

        config = ServerConfig(
            keys_url=str(tmp_path / "keys.sqlite"),
            shopper_token_secret=SECRET,
            key_cache_s=0.0,
            rate_limit_per_minute=0,
        )
        self.keys = KeyStore(config.keys_url, cache_s=0)
        _, key = self.keys.create("faults")
        self.server = serve_in_thread(
            create_app(None, config, open_agent=open_agent, keys=self.keys), startup_timeout=60
        )
        self.client = httpx.Client(
            base_url=self.server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120
        )

    def start_inventory(self, port: int = 0) -> None:
        app = inventory_app(self.inventory_db, faults=self.faults)
        self.inventory = serve_in_thread(app, port=port or 0)

    def stop_inventory(self) -> None:
        assert self.inventory is not None
        self.inventory.stop()

    def close(self) -> None:
        self.client.close()
        self.server.stop()
        self.keys.close()
        if self.inventory is not None:
            self.inventory.stop()
        self.inventory_db.close()

    # -- the HTTP API --------------------------------------------------------------------
    def thread(self, shopper: str | None = None) -> str:
        response = self.client.post("/v1/threads", headers=_shopper(shopper))
        assert response.status_code == 201, response.text
        return response.json()["thread_id"]

    def say(self, thread: str, message: str, shopper: str | None = None) -> Turn:
        return self._timed(
            f"/v1/threads/{thread}/messages", {"message": message}, _shopper(shopper)
        )

    def confirm(self, thread: str, approve: bool, shopper: str | None = None) -> Turn:
        return self._timed(
            f"/v1/threads/{thread}/confirmation", {"approve": approve}, _shopper(shopper)
        )

    def history(self, thread: str, shopper: str | None = None) -> list[dict[str, str]]:
        response = self.client.get(f"/v1/threads/{thread}/messages", headers=_shopper(shopper))
        assert response.status_code == 200, response.text
        return response.json()["messages"]

    def _timed(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Turn:
        started = time.monotonic()
        response = self.client.post(path, json=body, headers=headers)
        turn = Turn(response, time.monotonic() - started)
        assert "Traceback" not in response.text and 'File "' not in response.text
        return turn

    def within_budget(self, turn: Turn) -> None:
        assert turn.seconds < self.budget + MARGIN_S, (
            f"turn took {turn.seconds:.1f}s, budget {self.budget}s"
        )


class Turn:
    """One HTTP turn: status, body and wall time."""

    def __init__(self, response: httpx.Response, seconds: float) -> None:
        self.status = response.status_code
        self.body: dict[str, Any] = response.json()
        self.seconds = seconds

    @property
    def answer(self) -> str:
        assert self.status == 200, self.body
        return self.body["answer"]

    def calls(self, name: str) -> list[dict[str, Any]]:
        return [c for c in self.body.get("tool_calls", []) if c["name"] == name]


def _shopper(email: str | None) -> dict[str, str]:
    return {"X-Shopper-Token": shopper_token(email)} if email else {}


def served_prices(turn: Turn) -> set[str]:
    """Every price the inventory API served in this turn."""
    calls = [c for c in turn.calls("check_price_stock") if c["ok"]]
    return {q["price"] for c in calls for q in c["result"]["quotes"]}


def assert_no_invented_numbers(turn: Turn) -> None:
    """Any amount in the answer is a price the API served this turn (none when it served none)."""
    said = set(MONEY.findall(turn.answer))
    assert said <= served_prices(turn), (turn.answer, served_prices(turn))
    if not served_prices(turn):
        assert not re.search(r"\d+ (?:in stock|left|units?)", turn.answer), turn.answer


def logged(caplog: pytest.LogCaptureFixture, *needles: str) -> list[str]:
    """Log lines (any logger, WARNING or INFO) that contain every needle."""
    lines = [f"{r.name}: {r.getMessage()}" for r in caplog.records]
    return [line for line in lines if all(n in line for n in needles)]


def messages_kept(before: list[dict[str, str]], after: list[dict[str, str]]) -> None:
    """Every earlier message is still in the thread, in order, at the start of it."""
    assert after[: len(before)] == before, (before, after)


@pytest.fixture
def fake():
    with serve_fake_openai() as server:
        yield server


@pytest.fixture
def service(tmp_path, fake, request):
    """A Service with the budget from ``@pytest.mark.parametrize("service", [...], indirect)``."""
    svc = Service(tmp_path, fake, budget=getattr(request, "param", 6.0))
    yield svc
    svc.close()


@pytest.fixture(autouse=True)
def _logs(caplog):
    """INFO from every ShopAgent logger, whatever an earlier in-process CLI run set them to
    (the CLIs quiet chatty loggers; caplog restores the levels afterwards)."""
    caplog.set_level(logging.INFO)
    names = [n for n in logging.root.manager.loggerDict if n.startswith("shopagent")]
    for name in {"shopagent", *names}:
        caplog.set_level(logging.INFO, logger=name)


def healthy_model_turn(svc: Service, thread: str, message: str = KETTLE) -> Turn:
    """A turn the model routes and answers faithfully (the healthy baseline)."""
    svc.fake.tool_call("RouteDecision", ROUTE_PRICE)
    svc.fake.reply({"content": FAITHFUL})
    turn = svc.say(thread, message)
    assert turn.body["answer_source"] == "model", turn.body
    assert "$29.49" in turn.answer
    return turn


# -- inventory API ----------------------------------------------------------------------------
def test_inventory_down_answers_honestly_and_recovers(service, caplog) -> None:
    thread = service.thread()
    healthy_model_turn(service, thread)
    before = service.history(thread)

    port = service.inventory.port
    service.stop_inventory()
    # the model would invent a price; nothing can confirm it, so it must not ship
    service.fake.tool_call("RouteDecision", ROUTE_PRICE)
    service.fake.reply({"content": "The ThermaCup Desk Mug Warmer is $19.00 with 12 in stock."})
    turn = service.say(thread, "how much is the ThermaCup Desk Mug Warmer?")  # nothing cached
    assert turn.status == 200
    assert INVENTORY_DOWN in turn.answer and "$" not in turn.answer
    assert_no_invented_numbers(turn)
    assert turn.calls("check_price_stock")[0]["result"]["error"] == "InventoryUnavailable"
    service.within_budget(turn)
    assert logged(caplog, "check_price_stock", "InventoryUnavailable")
    assert logged(caplog, "shopagent.http", "ConnectError")

    service.start_inventory(port)  # back on the same URL
    turn = service.say(thread, "is it in stock?")
    assert "$24.99" in turn.answer and "40" in turn.answer
    assert turn.calls("check_price_stock")[0]["args"] == {"skus": ["W-300"]}  # "it" resolved
    after = service.history(thread)
    messages_kept(before, after)
    assert len(after) == len(before) + 4


@pytest.mark.parametrize(
    ("service", "gives_up"),
    [(8.0, "failed after 3 attempt(s)"), (2.5, "time budget")],
    indirect=["service"],
    ids=["client-retries-run-out", "turn-budget-runs-out"],
)
def test_inventory_slower_than_its_timeout(service, gives_up, caplog) -> None:
    """Each attempt times out (1 s); three attempts fit a 8 s budget, not a 2.5 s one: either
    way the turn ends within its budget with an honest answer."""
    thread = service.thread()
    service.faults.latency_s = 30.0
    turn = service.say(thread, KETTLE)
    assert INVENTORY_DOWN in turn.answer
    assert_no_invented_numbers(turn)
    service.within_budget(turn)
    failure = turn.calls("check_price_stock")[0]["result"]["message"]
    assert gives_up in failure, failure
    assert logged(caplog, "check_price_stock failed")
    if service.budget > 5:
        assert logged(caplog, "shopagent.http", "ReadTimeout")

    service.faults.latency_s = 0.0
    turn = service.say(thread, "is it in stock?")
    assert "$29.49" in turn.answer
    assert len(service.history(thread)) == 4


def test_flaky_inventory_never_yields_a_wrong_number(service, caplog) -> None:
    """Half the requests fail (503 or a dropped connection): bounded retries get most answers
    through, the rest say so; every price shown is the one the API served."""
    service.faults.fail_rate, service.faults.drop_rate, service.faults.seed = 0.4, 0.2, 11
    service.faults.reset()
    thread = service.thread()
    prices = {"Hearth Classic Kettle": "29.49", "ThermaCup Desk Mug Warmer": "24.99",
              "Brewster Gooseneck Kettle": "49.99", "Trailhead Rain Jacket": "89.99"}  # fmt: skip
    confirmed = 0
    for name, price in [*prices.items(), *prices.items()]:
        turn = service.say(thread, f"how much is the {name}?")
        service.within_budget(turn)
        assert_no_invented_numbers(turn)
        if f"${price}" in turn.answer:
            confirmed += 1
        else:
            assert INVENTORY_DOWN in turn.answer, turn.answer
    assert confirmed >= 4, confirmed
    # the client caches quotes for a moment, so repeated questions may not reach the API:
    # at least one request must have failed, and been retried
    assert service.faults.failed + service.faults.dropped >= 1, service.faults
    assert logged(caplog, "shopagent.http", "attempt 1/3 failed")
    assert len(service.history(thread)) == 2 * 2 * len(prices)


# -- the model backend ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fault", "needle"),
    [
        ({"delay_s": 300.0}, "timed out"),
        ({"status": 429, "retry_after_ms": 100}, "RateLimitError"),
        ({"status": 500}, "Error code: 500"),
    ],
    ids=["timeout", "429", "500"],
)
def test_model_backend_fault_falls_back_to_facts(service, fault, needle, caplog) -> None:
    """The router falls back to the keyword router and the answer to the template, built
    from the live price; the model's turn share cannot starve the tools."""
    thread = service.thread()
    healthy_model_turn(service, thread)
    before = service.history(thread)

    service.fake.set_fault(**fault)
    turn = service.say(thread, "is it in stock?")
    assert turn.status == 200
    assert turn.body["answer_source"].startswith("template"), turn.body
    assert "$29.49" in turn.answer and "3" in turn.answer  # the live facts still made it
    assert_no_invented_numbers(turn)
    service.within_budget(turn)
    assert logged(caplog, "router falling back", needle)
    assert logged(caplog, "shopagent.compose", "template")

    service.fake.clear_fault()
    healthy_model_turn(service, thread, "is it in stock?")
    after = service.history(thread)
    messages_kept(before, after)
    assert len(after) == len(before) + 4


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
