"""Fixtures and helpers of the graph tests (tests/test_graph*.py): the tiny store in memory
and :class:`Chat`, a thread of the real graph with in-memory dependencies."""

from __future__ import annotations

import pytest
from factories import tiny_store
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from shopagent.agent.graph.build import build_graph
from shopagent.agent.graph.context import AgentContext
from shopagent.tools.store.db import StoreDB


@pytest.fixture
def db() -> StoreDB:
    return StoreDB.in_memory(tiny_store())


class Chat:
    """One thread through a compiled graph with an in-memory checkpointer."""

    def __init__(self, context: AgentContext) -> None:
        self.context = context
        self.graph = build_graph(InMemorySaver())

    async def say(self, text: str, thread: str = "t1") -> dict:
        config = {"configurable": {"thread_id": thread}}
        waiting = (await self.graph.aget_state(config)).interrupts
        payload = Command(resume=text) if waiting else {"messages": [HumanMessage(text)]}
        await self.graph.ainvoke(payload, config, context=self.context)
        snapshot = await self.graph.aget_state(config)
        state = dict(snapshot.values)
        state["interrupts"] = [i.value for i in snapshot.interrupts]
        return state


def names(state: dict) -> list[str]:
    return [c["name"] for c in state["tool_calls"]]


def signed_in_chat(db: StoreDB, email: str, model, router, *, clock) -> Chat:
    """A chat whose shopper is the store's customer with ``email``, signed in by the host."""
    from factories import make_context
    from shopagent.tools.orders import StoreOrders

    customer = StoreOrders(db).customer_by_email(email)
    return Chat(make_context(db, model, router, authenticated=customer, clock=clock))


def store_chat(data, model, router: dict[str, str], *, embed=None) -> Chat:
    """A thread over a whole generated store in memory: its catalog, policy (similarity with
    ``embed`` when given) and vocabulary, as the service builds them."""
    from factories import make_context
    from shopagent.agent.understanding.vocabulary import vocabulary_of
    from shopagent.tools.catalog import InMemoryCatalog
    from shopagent.tools.policy import StorePolicy

    db = StoreDB.in_memory(data)
    context = make_context(
        db,
        model,
        router,
        catalog=InMemoryCatalog(data.products),
        policy=StorePolicy(data.policy, data.policy_docs, embed=embed),
        vocabulary=vocabulary_of(db),
    )
    return Chat(context)
