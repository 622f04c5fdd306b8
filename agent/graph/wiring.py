"""Every dependency a turn needs, built once from settings: the graph's runtime context."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from shopagent.agent.answering.prompts import Prompts
from shopagent.agent.graph.clock import fixed_clock
from shopagent.agent.graph.context import AgentContext
from shopagent.agent.understanding.intents import IntentRouter
from shopagent.agent.understanding.model_router import make_router
from shopagent.tools.protocols import Catalog, Inventory
from shopagent.tools.store.db import StoreDB

from shopagent.settings import Settings


async def build_context(
    settings: Settings,
    stack: AsyncExitStack,
    *,
    model: BaseChatModel | None = None,
    db: StoreDB | None = None,
    inventory: Inventory | None = None,
    catalog: Catalog | None = None,
    router: IntentRouter | None = None,
    checkpointer: BaseCheckpointSaver | None = None,
    clock: Callable[[], datetime] | None = None,
) -> tuple[AgentContext, BaseCheckpointSaver, str]:
    """The context, the checkpointer and the model's name; any passed dependency is used
    instead of building it. Whatever is opened is closed by ``stack``.

    Without ``inventory`` and ``settings.inventory_url`` the price/stock API is started on
    loopback over the store database.
    """
    from shopagent.agent.models.probe import probed
    from shopagent.agent.models.providers import build_chat_model
    from shopagent.agent.understanding.classifier import load_router
    from shopagent.agent.understanding.entities import order_shapes_of
    from shopagent.agent.understanding.vocabulary import vocabulary_of
    from shopagent.tools.catalog import CatalogConfig, open_catalog
    from shopagent.tools.catalog.lexicon import warm_lexicons
    from shopagent.tools.embeddings import MULTILINGUAL_BACKEND, get_embedder, shared_embedder
    from shopagent.tools.handoff import StoreHandoffs
    from shopagent.tools.inventory import inventory_from_url
    from shopagent.tools.orders import StoreOrders
    from shopagent.tools.policy import StorePolicy

    if db is None:
        db = open_store(settings)
        stack.callback(db.close)
    if inventory is None:
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
    if settings.embedder == MULTILINGUAL_BACKEND:  # zh/es shoppers (issue 16)
        embedder = shared_embedder(MULTILINGUAL_BACKEND)  # router as the evals run it
        # the dictionaries behind the search glossaries load while the service starts
        threading.Thread(target=warm_lexicons, name="lexicons", daemon=True).start()
    chat_model = model or build_chat_model(settings.model, settings)
    # what the model can actually do (probed once per model and endpoint, cached): routing,
    # history, retries and the act mode follow it, never the backend class
    caps = probed(chat_model, settings)
    if checkpointer is None:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        settings.checkpoints.parent.mkdir(parents=True, exist_ok=True)
        checkpointer = await stack.enter_async_context(
            AsyncSqliteSaver.from_conn_string(str(settings.checkpoints))
        )
    context = AgentContext(
        catalog=catalog or open_catalog(CatalogConfig.of(settings)),
        inventory=inventory,
        orders=StoreOrders(db),
        policy=StorePolicy(db.policy(), db.policy_docs(), embed=embedder.embed),
        handoffs=StoreHandoffs(db),
        router=router
        or make_router(
            chat_model, load_router(settings.home, embedder.embed, embedder.identity), caps
        ),
        model=chat_model,
        prompts=Prompts.load(),
        clock=clock or fixed_clock(settings.now),
        store_name=db.info().name,
        search_k=settings.search_k,
        chat_verification=settings.chat_verification,
        verification_methods=tuple(settings.verification_methods),
        verification_max_failures=settings.verification_max_failures,
        verification_lockout_s=settings.verification_lockout_s,
        # history confuses tiny models; the facts carry what they need
        history_turns=settings.history_turns if caps.tool_calling else 0,
        # a capable (tool-calling) model gets a second try; the tiny default one call
        compose_attempts=2 if caps.tool_calling else 1,
        tool_calling_act=settings.act_mode == "tools" and caps.tool_calling,
        max_tool_calls=settings.max_tool_calls,
        order_shapes=order_shapes_of(db),
        vocabulary=vocabulary_of(db),
    )
    return context, checkpointer, caps.name


def open_store(settings: Settings) -> StoreDB:
    """The store database ``settings`` name: PostgreSQL at ``store_url`` when it is set (as
    ``shopagent serve`` and the MCP server use it), else the SQLite file under ``home``."""
    if settings.store_url:
        from shopagent.tools.store.pg import PgStoreDB

        return PgStoreDB.open(str(settings.store_url))  # type: ignore[return-value]
    return StoreDB.open(settings.database)
