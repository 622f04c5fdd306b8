"""What the MCP tools read and write: the same protocol objects the graph's nodes use.

On ``shopagent serve`` they are the running agent's context; ``shopagent mcp`` (stdio)
opens them from settings without a chat model (:func:`open_tool_deps`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shopagent.tools.protocols import Catalog, Inventory, Orders, Policy

from shopagent.settings import Settings


class ToolDeps(Protocol):
    """The dependencies of the tools (``AgentContext`` has them all)."""

    @property
    def catalog(self) -> Catalog: ...
    @property
    def inventory(self) -> Inventory: ...
    @property
    def orders(self) -> Orders: ...
    @property
    def policy(self) -> Policy: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...


@dataclass(frozen=True)
class OpenedDeps:
    catalog: Catalog
    inventory: Inventory
    orders: Orders
    policy: Policy
    clock: Callable[[], datetime]


async def open_tool_deps(settings: Settings, stack: AsyncExitStack) -> OpenedDeps:
    """The store, catalog index, inventory API and policy named by ``settings`` (closed by
    ``stack``). Without ``settings.inventory_url`` the price/stock API is started on loopback
    over the store database, as ``ShopAgent.open`` does."""
    from shopagent.agent.graph.clock import fixed_clock
    from shopagent.tools.catalog import CatalogConfig, open_catalog
    from shopagent.tools.embeddings import get_embedder
    from shopagent.tools.inventory import inventory_from_url
    from shopagent.tools.orders import StoreOrders
    from shopagent.tools.policy import StorePolicy
    from shopagent.tools.store.db import StoreDB

    if settings.store_url:
        from shopagent.tools.store.pg import PgStoreDB

        db = PgStoreDB.open(str(settings.store_url))
    else:
        db = StoreDB.open(settings.database)
    stack.callback(db.close)
    url = settings.inventory_url
    if not url:
        from shopagent.tools.inventory_api import create_app, serve_in_thread

        server = serve_in_thread(create_app(db))
        stack.callback(server.stop)
        url = server.url
    inventory = inventory_from_url(
        url, timeout_s=settings.inventory_timeout_s, retries=settings.inventory_retries
    )
    stack.push_async_callback(inventory.aclose)
    embedder = get_embedder()
    return OpenedDeps(
        catalog=open_catalog(CatalogConfig.of(settings)),
        inventory=inventory,
        orders=StoreOrders(db),
        policy=StorePolicy(db.policy(), db.policy_docs(), embed=embedder.embed),
        clock=fixed_clock(settings.now),
    )
