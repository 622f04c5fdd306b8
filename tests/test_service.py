"""The ShopAgent service API over in-memory parts: ask, confirm, stream, history, errors."""

from __future__ import annotations

import pytest
from factories import IN_WINDOW, make_context, tiny_store
from langgraph.checkpoint.memory import InMemorySaver
from shopagent.agent.service import MAX_MESSAGE_CHARS, ShopAgent
from shopagent.tools.store.db import StoreDB

from shopagent.errors import ConfigError

RETURN = "I want to return order SA-100002, still sealed"
ROUTES = {
    "hello": "greeting",
    RETURN: "return_request",
    "price of the hearth classic kettle": "price_stock",
}


@pytest.fixture
def db() -> StoreDB:
    return StoreDB.in_memory(tiny_store())


def make_agent(db: StoreDB, model) -> ShopAgent:
    context = make_context(db, model, ROUTES, clock=lambda: IN_WINDOW)
    return ShopAgent(context, InMemorySaver(), "scripted")


async def test_ask_returns_a_complete_turn_result(db, scripted_model) -> None:
    agent = make_agent(db, scripted_model([]))
    result = await agent.ask("hello", thread_id="t")
    assert result.intent == "greeting" and result.thread_id == "t"
    assert result.tool_calls == [] and result.llm_calls == 0 and result.latency_ms >= 0
    assert await agent.history("t") == [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": result.answer},
    ]


async def test_new_thread_id_when_none_given(db, scripted_model) -> None:
    agent = make_agent(db, scripted_model([]))
    a, b = await agent.ask("hello"), await agent.ask("hello")
    assert a.thread_id != b.thread_id


async def test_confirmation_round_trip_and_explicit_confirm(db, scripted_model) -> None:
    agent = make_agent(db, scripted_model([]))
    first = await agent.ask(RETURN, thread_id="r", customer_email="ada@example.com")
    assert first.confirmation["action"] == "start_return"
    assert first.answer == first.confirmation["question"] and first.answer_source == "confirm"
    assert await agent.pending_confirmation("r") == first.confirmation
    done = await agent.confirm("r", True, customer_email="ada@example.com")
    assert done.confirmation is None and "R-SA-100002-H-400" in done.answer
    assert await agent.pending_confirmation("r") is None
    with pytest.raises(ConfigError, match="nothing waiting"):
        await agent.confirm("r", True, customer_email="ada@example.com")
    roles = [m["role"] for m in await agent.history("r")]
    assert roles == ["user", "assistant", "user", "assistant"]


async def test_stream_yields_node_events_then_the_final_result(db, scripted_model) -> None:
    agent = make_agent(db, scripted_model(["The Hearth Classic Kettle is $29.49, 3 in stock."]))
    events = [e async for e in agent.stream("price of the hearth classic kettle", thread_id="s")]
    nodes = [e["node"] for e in events if e["type"] == "node"]
    assert nodes == ["understand", "act", "compose"]
    act = next(e for e in events if e.get("node") == "act")
    assert [c["name"] for c in act["tool_calls"]] == ["search_products", "check_price_stock"]
    final = events[-1]
    assert final["type"] == "final"
    assert final["result"]["answer"] == "The Hearth Classic Kettle is $29.49, 3 in stock."
    tokens = "".join(e["text"] for e in events if e["type"] == "token")
    assert tokens in ("", final["result"]["answer"])  # scripted model may not stream


@pytest.mark.parametrize("bad", ["", "   ", "x" * (MAX_MESSAGE_CHARS + 1)])
async def test_bad_messages_are_refused_clearly(db, scripted_model, bad) -> None:
    agent = make_agent(db, scripted_model([]))
    with pytest.raises(ConfigError) as err:
        await agent.ask(bad, thread_id="t")
    assert err.value.hint
    assert await agent.history("t") == []


async def test_unknown_customer_is_a_clear_error(db, scripted_model) -> None:
    agent = make_agent(db, scripted_model([]))
    with pytest.raises(ConfigError, match="no customer"):
        await agent.ask("hello", customer_email="nobody@example.com")
