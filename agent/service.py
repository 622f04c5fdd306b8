"""ShopAgent as a running service: dependencies built once from settings, turns run through
the graph with a checkpointer. The CLI, evals and the HTTP server all use this."""

from __future__ import annotations

import time
import uuid
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from pydantic import BaseModel, Field

from agent.context import AgentContext
from agent.errors import ConfigError
from agent.graph import build_graph
from agent.prompts import Prompts
from agent.router import EmbeddingRouter
from agent.settings import Settings
from agent.state import ToolCall


class TurnResult(BaseModel):
    """One answered turn, as ``shopagent ask --json`` prints it."""

    answer: str
    intent: str
    intents: list[str] = Field(default_factory=list)
    slots: dict[str, Any] = Field(default_factory=dict)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    answer_source: str = ""
    clarify: bool = False
    model: str
    latency_ms: float
    llm_calls: int = 0
    tokens: int = 0
    thread_id: str


def fixed_clock(iso: str | None):
    """A clock returning ``iso`` (demos, evals) or the real UTC time."""
    if iso is None:
        return lambda: datetime.now(UTC)
    moment = datetime.fromisoformat(iso)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return lambda: moment


class ShopAgent:
    """The assistant: a compiled graph plus the context its nodes run with."""

    def __init__(
        self,
        context: AgentContext,
        checkpointer: BaseCheckpointSaver | None,
        model_name: str,
        stack: AsyncExitStack | None = None,
    ) -> None:
        self.context = context
        self.graph = build_graph(checkpointer)
        self.model_name = model_name
        self._stack = stack

    @classmethod
    async def open(cls, settings: Settings, *, model: BaseChatModel | None = None) -> ShopAgent:
        """Build every dependency from ``settings`` (starting the inventory API if needed)."""
        from agent.llm import build_chat_model, capabilities
        from tools.catalog import open_catalog
        from tools.embeddings import get_embedder
        from tools.handoff import StoreHandoffs
        from tools.inventory import inventory_from_url
        from tools.orders import StoreOrders
        from tools.policy import StorePolicy
        from tools.store.db import StoreDB

        stack = AsyncExitStack()
        try:
            db = StoreDB.open(settings.database)
            stack.callback(db.close)
            url = settings.inventory_url
            if not url:
                from tools.inventory_api import create_app, serve_in_thread

                server = serve_in_thread(create_app(StoreDB.open(settings.database)))
                stack.callback(server.stop)
                url = server.url
            inventory = inventory_from_url(url, settings)
            if hasattr(inventory, "aclose"):
                stack.push_async_callback(inventory.aclose)
            embedder = get_embedder()
            chat_model = model or build_chat_model(settings.model, settings)
            caps = capabilities(chat_model)
            settings.checkpoints.parent.mkdir(parents=True, exist_ok=True)
            saver = await stack.enter_async_context(
                AsyncSqliteSaver.from_conn_string(str(settings.checkpoints))
            )
            context = AgentContext(
                catalog=open_catalog(settings),
                inventory=inventory,
                orders=StoreOrders(db),
                policy=StorePolicy(db.policy(), db.policy_docs(), embed=embedder.embed),
                handoffs=StoreHandoffs(db),
                router=EmbeddingRouter(embedder.embed),
                model=chat_model,
                prompts=Prompts.load(),
                clock=fixed_clock(settings.now),
                store_name=db.info().name,
                search_k=settings.search_k,
                history_turns=settings.history_turns,
                compose_attempts=1 if caps.local else 2,
            )
        except BaseException:
            await stack.aclose()
            raise
        return cls(context, saver, caps.name, stack)

    async def aclose(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()

    async def __aenter__(self) -> ShopAgent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def ask(
        self, message: str, *, thread_id: str | None = None, customer_email: str | None = None
    ) -> TurnResult:
        """Answer one shopper message in a thread (a new thread when ``thread_id`` is None)."""
        message = message.strip()
        if not message:
            raise ConfigError("the message is empty", hint="type a question for the assistant")
        thread_id = thread_id or uuid.uuid4().hex[:12]
        context = self.context
        if customer_email:
            customer = context.orders.customer_by_email(customer_email)
            if customer is None:
                raise ConfigError(
                    f"no customer with email {customer_email!r}",
                    hint="pass the email of a customer in the store (see customers.jsonl)",
                )
            context = replace(context, authenticated=customer)
        started = time.perf_counter()
        state = await self.graph.ainvoke(
            {"messages": [HumanMessage(message)]},
            {"configurable": {"thread_id": thread_id}},
            context=context,
        )
        return TurnResult(
            answer=state.get("answer", ""),
            intent=state.get("intent", ""),
            intents=state.get("intents", []),
            slots={k: v for k, v in state.get("slots", {}).items() if v not in (None, False, "")},
            tool_calls=state.get("tool_calls", []),
            answer_source=state.get("answer_source", ""),
            clarify=state.get("answer_source") == "clarify",
            model=self.model_name,
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            llm_calls=state.get("llm_calls", 0),
            tokens=state.get("tokens", 0),
            thread_id=thread_id,
        )
