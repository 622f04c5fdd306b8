"""``langgraph.json`` names a real graph factory; the bound graph runs without a context
and pauses for confirmation with the checkpointer LangGraph Server would supply."""

from __future__ import annotations

import importlib
import importlib.util
import json
from pathlib import Path

from factories import tiny_store
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from server_app import RETURN_MSG, build_agent
from shopagent.agent.server import langgraph_entry
from shopagent.tools.store.db import StoreDB

REPO = Path(__file__).resolve().parents[1]


def test_langgraph_json_points_at_the_factory() -> None:
    config = json.loads((REPO / "langgraph.json").read_text())
    path, _, attr = config["graphs"]["shopagent"].partition(":")
    assert (REPO / path).exists()
    # LangGraph loads the file by its path, under a module name of its own
    spec = importlib.util.spec_from_file_location("langgraph_graph_module", REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(getattr(module, attr))


async def test_bound_graph_runs_without_a_context(monkeypatch) -> None:
    db = StoreDB.in_memory(tiny_store())
    context = build_agent(db, None).context
    ada = context.orders.customer_by_email("ada@example.com")

    async def opened():
        return context

    monkeypatch.setattr(langgraph_entry, "_open_context", opened)
    graph = await langgraph_entry.make_graph()
    graph.checkpointer = InMemorySaver()  # what LangGraph Server does
    config = {"configurable": {"thread_id": "lg-1"}}
    state = await graph.ainvoke({"messages": [HumanMessage("hello")]}, config)
    assert "Test Goods" in state["answer"]
    state = await graph.ainvoke(
        {"messages": [HumanMessage("how much is the hearth classic kettle?")]}, config
    )
    assert "$29.49" in state["answer"]
    # a run may still pass its own context (here: a signed-in customer)
    from dataclasses import replace

    signed_in = replace(context, authenticated=ada)
    state = await graph.ainvoke(
        {"messages": [HumanMessage(RETURN_MSG)]},
        {"configurable": {"thread_id": "lg-2"}},
        context=signed_in,
    )
    assert state["__interrupt__"][0].value["order_number"] == "SA-100002"
