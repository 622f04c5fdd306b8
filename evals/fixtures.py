"""Per-dialog isolation: a private store copy, a real inventory API over it, a fresh agent.

Heavy parts (embedder, router, catalog index, chat model) are built once per run and shared
(:class:`SharedParts`); everything a dialog can change is its own (:func:`dialog_world`):

1. the eval store's database is cloned in memory and the dialog's store overrides applied
   (stock, prices, product text, policy documents; the shared catalog index is overlaid with
   the changed products, see :class:`OverlayCatalog`);
2. the inventory API is served over the clone on loopback (real HTTP), with the dialog's
   injected faults, and reached through the production client (:func:`inventory_from_url`);
3. the agent is opened over the clone with an in-memory checkpointer and a fixed clock.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.memory import InMemorySaver
from shopagent.agent.graph.clock import fixed_clock
from shopagent.agent.service import ShopAgent
from shopagent.agent.understanding.intents import IntentRouter
from shopagent.evals.format import Fixtures
from shopagent.evals.store import EvalStore
from shopagent.tools.inventory import inventory_from_url
from shopagent.tools.inventory_api import FaultConfig, create_app, serve_in_thread
from shopagent.tools.protocols import Catalog
from shopagent.tools.results import ProductHit, SearchFilters
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.schema import Product

from shopagent.settings import Settings


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


class OverlayCatalog:
    """The shared catalog index with some products' text replaced for one dialog.

    Search ranks over the shared index (the planted text is not indexed); every product the
    agent reads (``get``) is the dialog's version.
    """

    def __init__(self, base: Catalog, products: dict[str, Product]) -> None:
        self.base = base
        self.products = products

    def search(
        self, query: str, *, filters: SearchFilters | None = None, k: int = 5
    ) -> list[ProductHit]:
        return self.base.search(query, filters=filters, k=k)

    def get(self, product_id: str) -> Product | None:
        return self.products.get(product_id) or self.base.get(product_id)

    def __getattr__(self, name: str) -> Any:  # facets, count...: the shared index's
        return getattr(self.base, name)


def apply_overrides(db: StoreDB, fixtures: Fixtures) -> dict[str, Product]:
    """Apply the dialog's store overrides to its copy; the changed products by id.

    KeyError names an unknown SKU or product id.
    """
    overrides = fixtures.store
    for sku in {*overrides.stock, *overrides.price}:
        rows = db.sku_rows([sku])
        if not rows:
            raise KeyError(f"store override names unknown SKU {sku!r}")
        stock = overrides.stock.get(sku, int(rows[0]["stock"]))
        price = overrides.price.get(sku)
        db.set_stock(sku, stock, price=Decimal(price) if price is not None else None)
    changed: dict[str, Product] = {}
    for product_id, change in overrides.products.items():
        product = db.product(product_id)
        if product is None:
            raise KeyError(f"store override names unknown product {product_id!r}")
        update = change.model_dump(exclude_none=True)
        product = Product.model_validate({**product.model_dump(), **update})
        with db.transaction() as conn:
            conn.execute(
                "UPDATE products SET data = ? WHERE id = ?", (product.model_dump_json(), product_id)
            )
        changed[product_id] = product
    if overrides.policy_docs:
        docs = {**db.policy_docs(), **overrides.policy_docs}
        with db.transaction() as conn:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'policy_docs'", (json.dumps(docs),))
    return changed


def dialog_clock(fixtures: Fixtures, store: EvalStore) -> Callable[[], datetime]:
    """The dialog's fixed clock: its ``clock`` fixture, else noon UTC on the store's today."""
    return fixed_clock(fixtures.clock or f"{store.spec.today.isoformat()}T12:00:00+00:00")


@asynccontextmanager
async def dialog_world(shared: SharedParts, fixtures: Fixtures) -> AsyncIterator[DialogWorld]:
    """Build an isolated world for one dialog; tear everything down afterwards."""
    db = shared.store.clone()
    server = inventory = agent = None
    try:
        changed = apply_overrides(db, fixtures)
        catalog = OverlayCatalog(shared.store.catalog, changed) if changed else None
        faults = FaultConfig(**fixtures.inventory.model_dump()) if fixtures.inventory else None
        clock = dialog_clock(fixtures, shared.store)
        server = serve_in_thread(create_app(db, faults=faults, clock=clock))
        inventory = inventory_from_url(
            server.url,
            timeout_s=shared.settings.inventory_timeout_s,
            retries=shared.settings.inventory_retries,
        )
        agent = await ShopAgent.open(
            shared.settings,
            model=shared.model,
            db=db,
            inventory=inventory,
            catalog=catalog or shared.store.catalog,
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
