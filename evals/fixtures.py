"""Per-dialog isolation: a private store copy, a real inventory API over it, a fresh agent.

Heavy parts (embedder, router, catalog index, chat model) are built once per run and shared
(:class:`SharedParts`); everything a dialog can change is its own (:func:`dialog_world`):

1. the eval store's database is cloned in memory and the dialog's store overrides applied;
2. the inventory API is served over the clone on loopback (real HTTP), with the dialog's
   injected faults, and reached through the production client (:func:`inventory_from_url`);
3. the agent is opened over the clone with an in-memory checkpointer and a fixed clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.memory import InMemorySaver

from agent.router import IntentRouter
from agent.service import ShopAgent, fixed_clock
from agent.settings import Settings
from evals.format import Fixtures
from evals.store import EvalStore
from tools.inventory import inventory_from_url
from tools.inventory_api import FaultConfig, create_app, serve_in_thread
from tools.store.db import StoreDB


@dataclass
class SharedParts:
    """What every dialog of a run shares."""

    settings: Settings
    store: EvalStore
    router: IntentRouter
    model: BaseChatModel
    model_name: str


@dataclass
class DialogWorld:
    """One dialog's agent and the store copy it writes to."""

    agent: ShopAgent
    db: StoreDB
    faults: FaultConfig | None
    clock: Callable[[], datetime]


def apply_overrides(db: StoreDB, fixtures: Fixtures) -> None:
    """Set stock and prices of the dialog's store copy (KeyError names an unknown SKU)."""
    overrides = fixtures.store
    for sku in {*overrides.stock, *overrides.price}:
        rows = db.sku_rows([sku])
        if not rows:
            raise KeyError(f"store override names unknown SKU {sku!r}")
        stock = overrides.stock.get(sku, int(rows[0]["stock"]))
        price = overrides.price.get(sku)
        db.set_stock(sku, stock, price=Decimal(price) if price is not None else None)


def dialog_clock(fixtures: Fixtures, store: EvalStore) -> Callable[[], datetime]:
    """The dialog's fixed clock: its ``clock`` fixture, else noon UTC on the store's today."""
    return fixed_clock(fixtures.clock or f"{store.spec.today.isoformat()}T12:00:00+00:00")


@asynccontextmanager
async def dialog_world(shared: SharedParts, fixtures: Fixtures) -> AsyncIterator[DialogWorld]:
    """Build an isolated world for one dialog; tear everything down afterwards."""
    db = shared.store.clone()
    server = inventory = agent = None
    try:
        apply_overrides(db, fixtures)
        faults = FaultConfig(**fixtures.inventory.model_dump()) if fixtures.inventory else None
        server = serve_in_thread(create_app(db, faults=faults))
        inventory = inventory_from_url(server.url, shared.settings)
        clock = dialog_clock(fixtures, shared.store)
        agent = await ShopAgent.open(
            shared.settings,
            model=shared.model,
            db=db,
            inventory=inventory,
            catalog=shared.store.catalog,
            router=shared.router,
            checkpointer=InMemorySaver(),
            clock=clock,
        )
        agent.model_name = shared.model_name  # the wrapped model's name, not the cassette's
        yield DialogWorld(agent=agent, db=db, faults=faults, clock=clock)
    finally:
        if agent is not None:
            await agent.aclose()
        if inventory is not None:
            await inventory.aclose()
        if server is not None:
            server.stop()
        db.close()
