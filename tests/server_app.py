"""A ShopAgent HTTP app over the tiny test store with a scripted model and a keyword router:
no real model, no embeddings. Used in-process by the server tests and as a uvicorn factory
by the two-process Postgres test and the load benchmark::

    uvicorn --factory server_app:make_app    # PYTHONPATH=tests:.

Environment (factory): ``SHOPAGENT_TEST_STORE_URL`` / ``SHOPAGENT_TEST_CHECKPOINT_URL``
(postgresql:// URLs; unset: in-memory store and checkpoints), plus the server's own
``SHOPAGENT_KEYS_URL``, ``SHOPAGENT_SHOPPER_TOKEN_SECRET``...
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import Any

from factories import IN_WINDOW, tiny_store
from langgraph.checkpoint.memory import InMemorySaver
from shopagent.agent.answering.prompts import Prompts
from shopagent.agent.graph.context import AgentContext
from shopagent.agent.models.scripted import ScriptedChatModel
from shopagent.agent.server.app import create_app
from shopagent.agent.server.config import ServerConfig
from shopagent.agent.service import ShopAgent
from shopagent.agent.understanding.intents import Understanding
from shopagent.tools.catalog import InMemoryCatalog
from shopagent.tools.handoff import StoreHandoffs
from shopagent.tools.inventory import db_quotes
from shopagent.tools.orders import StoreOrders
from shopagent.tools.policy import StorePolicy
from shopagent.tools.results import StockQuote
from shopagent.tools.store.db import StoreDB

from shopagent.settings import Settings

FAITHFUL = "The Hearth Classic Kettle is $29.49 with 3 in stock."
NOW = IN_WINDOW  # inside SA-100002's return window
RETURN_MSG = "I want to return order SA-100002, still sealed"

_RULES: list[tuple[tuple[str, ...], str]] = [
    (("cancel",), "cancel_order"),
    (("exchange",), "exchange_request"),
    (("ship my order",), "modify_order"),
    (("return order", "return my", "want to return", "start a return"), "return_request"),
    (("return policy", "can i return", "refund"), "return_policy"),
    (("where is my order", "order status", "my order"), "order_status"),
    (("human", "agent please", "talk to someone"), "human_handoff"),
    (("in stock", "how much", "price", "cost"), "price_stock"),
    (("tell me about", "details"), "product_question"),
    (("compare", " vs "), "compare"),
    (("hello", "hi ", "hey", "thanks", "thank you"), "greeting"),
]


class KeywordRouter:
    """Deterministic intents from keywords (the embedding router is tested elsewhere)."""

    def classify(self, message: str) -> Understanding:
        text = f" {message.lower()} "
        for words, intent in _RULES:
            if any(w in text for w in words):
                return Understanding(intent=intent, confidence=0.95, intents=[intent])
        if text.strip() in {"yes", "no", "hi"}:
            return Understanding(intent="greeting", confidence=0.95, intents=["greeting"])
        return Understanding(intent="product_search", confidence=0.9, intents=["product_search"])


class DbInventory:
    """Live quotes straight from any store database (SQLite or Postgres)."""

    def __init__(self, db: Any) -> None:
        self.db = db

    async def quotes(self, skus: Sequence[str]) -> dict[str, StockQuote]:
        return db_quotes(self.db, skus)


def scripted_model(turns: int = 20_000) -> ScriptedChatModel:
    """Always the same faithful kettle answer; other questions fall back to templates."""
    return ScriptedChatModel([FAITHFUL] * turns)


def build_agent(db: Any, checkpointer: Any, *, model: Any = None) -> ShopAgent:
    products = list(db.products())
    context = AgentContext(
        catalog=InMemoryCatalog(products),
        inventory=DbInventory(db),
        orders=StoreOrders(db),
        policy=StorePolicy(db.policy(), db.policy_docs()),
        handoffs=StoreHandoffs(db),
        router=KeywordRouter(),
        model=model or scripted_model(),
        prompts=Prompts.load(),
        clock=lambda: NOW,
        store_name=db.info().name,
    )
    return ShopAgent(context, checkpointer, "scripted")


def make_app():
    """uvicorn factory: the app over the backends named by the environment."""
    from shopagent.agent.server.logs import configure_logging

    config = ServerConfig.from_settings(Settings())
    configure_logging(config.log_format, os.environ.get("SHOPAGENT_LOG_LEVEL", "WARNING"))
    store_url = os.environ.get("SHOPAGENT_TEST_STORE_URL")
    checkpoint_url = os.environ.get("SHOPAGENT_TEST_CHECKPOINT_URL")

    async def open_agent() -> ShopAgent:
        stack = AsyncExitStack()
        if store_url:
            from shopagent.tools.store.pg import PgStoreDB

            db: Any = PgStoreDB.open(store_url)
        else:
            db = StoreDB.in_memory(tiny_store())
        stack.callback(db.close)
        if checkpoint_url:
            from shopagent.agent.server.backends import postgres_checkpointer

            saver: Any = await postgres_checkpointer(checkpoint_url, stack)
        else:
            saver = InMemorySaver()
        agent = build_agent(db, saver)
        agent._stack = stack
        return agent

    return create_app(None, config, open_agent=open_agent)


# --------------------------------------------------------------------------- test helpers


class TestServer:
    """A real uvicorn server (in a thread) over :func:`build_agent`, with one API key."""

    __test__ = False

    def __init__(self, tmp_path: Any, *, db: Any = None, checkpointer: Any = None,
                 **config: Any) -> None:  # fmt: skip
        from shopagent.agent.server.keys import KeyStore
        from shopagent.tools.inventory_api import serve_in_thread

        values = {
            "keys_url": str(tmp_path / "keys.sqlite"),
            "shopper_token_secret": SECRET,
            "key_cache_s": 0.0,
            "rate_limit_per_minute": 0,
            "log_format": "json",
        }
        values.update(config)
        self.config = ServerConfig(**values)
        self.keys = KeyStore(self.config.keys_url, cache_s=0)
        self.db = db if db is not None else StoreDB.in_memory(tiny_store())
        self.agent = build_agent(self.db, checkpointer or InMemorySaver())
        self.app = create_app(self.agent, self.config, keys=self.keys)
        _, self.key = self.keys.create("test-shop")
        self.server = serve_in_thread(self.app)
        self.url = self.server.url

    def headers(self, key: str | None = None, shopper: str | None = None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {key or self.key}"}
        if shopper:
            out["X-Shopper-Token"] = shopper_token(shopper)
        return out

    def close(self) -> None:
        self.server.stop()
        self.keys.close()


SECRET = "test-shopper-secret-0123456789abcdef"


def shopper_token(email: str, **kwargs: Any) -> str:
    from shopagent.agent.server.shopper import issue_shopper_token

    return issue_shopper_token(email, kwargs.pop("secret", SECRET), **kwargs)


def sse_events(text: str, *, strict: bool = True) -> list[tuple[str, Any]]:
    """Parse a ``text/event-stream`` body into ``(event, data)`` pairs (JSON data); with
    ``strict=False`` data that is not JSON comes back as ``("unparsable", raw)``."""
    import json

    out = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        event, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            raw = "\n".join(data)
            try:
                out.append((event, raw if raw == "[DONE]" else json.loads(raw)))
            except ValueError:
                if strict:
                    raise
                out.append(("unparsable", raw))
    return out


# --------------------------------------------------------------------------- PostgreSQL

PG_URL = os.environ.get("SHOPAGENT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def pg_available() -> str | None:
    """None when PostgreSQL answers at ``PG_URL``, else why not."""
    import psycopg

    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_URL}: {str(exc).strip().splitlines()[0]}"
    return None


class PgSchema:
    """A fresh schema ``test_<hex>`` and a URL whose connections use it (search_path)."""

    __test__ = False

    def __init__(self) -> None:
        import uuid
        from urllib.parse import quote

        import psycopg

        self.name = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {self.name}")
        sep = "&" if "?" in PG_URL else "?"
        self.url = f"{PG_URL}{sep}options={quote(f'-csearch_path={self.name}')}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
