"""The fault suites' service (tests/test_faults*.py): ``ShopAgent.open`` behind the FastAPI
app on a real uvicorn server, with the real inventory API and a loopback OpenAI-compatible
model server; turns, the checks on them, and the fixtures."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import IN_WINDOW, tiny_store
from openai_server import FakeOpenAI, serve_fake_openai
from server_app import FAITHFUL, SECRET, KeywordRouter, shopper_token
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
