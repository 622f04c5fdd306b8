"""Tool-calling act mode through the whole graph, with a real OpenAI client against the
loopback OpenAI-compatible server returning scripted tool calls: the happy path, a
confirmed return, a wrong tool, hostile arguments, an endless loop, a malformed call; on the
profile store, the order history, a multi-item return and an address change the model
proposes (written only after the yes), and a change left to the deterministic handler."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from factories import IN_WINDOW, make_context, tiny_store
from factories_profiles import HARBOR, profile_store
from langgraph.checkpoint.memory import InMemorySaver
from openai_server import FakeOpenAI, serve_fake_openai
from shopagent.agent.graph.nodes.act_tools import TOOLS
from shopagent.agent.models.providers import build_chat_model
from shopagent.agent.service import ShopAgent
from shopagent.tools.store.db import StoreDB

from shopagent.settings import Settings

ADA = "ada@example.com"  # C1: SA-100001 (shipped), SA-100002 (delivered, returnable)
SEARCH = "any gooseneck kettle under $60?"
RETURN = "I want to return order SA-100002, still sealed"
BEN_PENDING = "cancel order SA-100003"  # Ben's (C2) pending order
ROUTES = {SEARCH: "product_search", RETURN: "return_request", BEN_PENDING: "cancel_order"}


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with serve_fake_openai() as fake:
        yield fake


@pytest.fixture
def db() -> StoreDB:
    return StoreDB.in_memory(tiny_store())


@pytest.fixture
def agent(server: FakeOpenAI, db: StoreDB) -> ShopAgent:
    model = build_chat_model(
        "openai:test", Settings(openai_base_url=server.url, openai_timeout_s=10)
    )
    context = make_context(
        db, model, ROUTES, clock=lambda: IN_WINDOW, tool_calling_act=True, max_tool_calls=4
    )
    return ShopAgent(context, InMemorySaver(), "openai:test")


def sent_messages(server: FakeOpenAI, index: int) -> str:
    return json.dumps(server.requests[index]["body"]["messages"])


async def test_happy_path_the_model_searches(agent: ShopAgent, server: FakeOpenAI) -> None:
    server.tool_call("search_products", {"query": "gooseneck kettle", "max_price": 60})
    server.reply({"content": "done"})
    result = await agent.ask(SEARCH)  # compose: script exhausted -> the verified template
    assert [c["name"] for c in result.tool_calls] == ["search_products"]
    assert result.tool_calls[0]["args"]["max_price"] == "60"
    assert "Brewster Gooseneck Kettle" in result.answer
    assert result.llm_calls == 2
    offered = {t["function"]["name"] for t in server.requests[0]["body"]["tools"]}
    assert offered == set(TOOLS)
    assert not offered & {"start_return", "cancel_order"}  # writes are never offered


async def test_a_return_needs_the_shoppers_yes(
    agent: ShopAgent, server: FakeOpenAI, db: StoreDB
) -> None:
    server.tool_call("propose_return", {"order_number": "SA-100002", "condition": "unopened"})
    asked = await agent.ask(RETURN, customer_email=ADA, thread_id="t1")
    assert asked.confirmation and asked.confirmation["action"] == "start_return"
    assert db.returns_of("C1") == []  # proposed, not written
    assert len(server.requests) == 1  # the proposal ends the loop
    done = await agent.confirm("t1", True, customer_email=ADA)
    assert [c["name"] for c in done.tool_calls][-1] == "start_return"
    assert len(db.returns_of("C1")) == 1


async def test_a_write_tool_the_model_invents_never_runs(
    agent: ShopAgent, server: FakeOpenAI, db: StoreDB
) -> None:
    server.tool_call("start_return", {"order_number": "SA-100002", "sku": "H-400"})
    server.tool_call("cancel_order", {"order_number": "SA-100001"}, call_id="call_2")
    server.reply({"content": "done"})
    result = await agent.ask(RETURN, customer_email=ADA)
    assert result.tool_calls == [] and result.confirmation is None
    assert db.returns_of("C1") == []
    assert db.order_of("C1", "SA-100001").status == "shipped"
    assert "unknown tool" in sent_messages(server, 1)


async def test_hostile_arguments_reach_no_other_customer(
    agent: ShopAgent, server: FakeOpenAI, db: StoreDB
) -> None:
    server.tool_call("get_order_status", {"order_number": "SA-100003"})
    server.tool_call("propose_cancel", {"order_number": "SA-100003"}, call_id="c2")
    server.tool_call(
        "get_order_status", {"order_number": "SA-100003", "customer_email": "ben@example.com"},
        call_id="c3",
    )  # fmt: skip
    server.reply({"content": "done"})
    result = await agent.ask(BEN_PENDING, customer_email=ADA)
    assert result.confirmation is None
    assert db.order_of("C2", "SA-100003").status == "pending"
    seen = json.dumps(result.model_dump(mode="json")) + "".join(
        sent_messages(server, i) for i in range(len(server.requests))
    )
    assert "ThermaCup" not in seen and "Ben Cruz" not in seen and "W-300" not in seen
    assert "extra" in sent_messages(server, 3).lower()  # the extra argument was refused


async def test_an_endless_loop_stops_at_the_limit(agent: ShopAgent, server: FakeOpenAI) -> None:
    for i in range(8):
        server.tool_call("search_products", {"query": "kettle"}, call_id=f"call_{i}")
    result = await agent.ask(SEARCH)
    assert [c["name"] for c in result.tool_calls] == ["search_products"] * 4
    assert len(server.requests) == 5  # 4 in the loop, then compose (template: not verified)
    assert result.answer


async def test_a_malformed_call_is_answered_not_run(agent: ShopAgent, server: FakeOpenAI) -> None:
    server.tool_call("search_products", '{"query": "gooseneck kettle"')  # broken JSON
    server.tool_call("search_products", {"query": "gooseneck kettle"}, call_id="call_2")
    server.reply({"content": "done"})
    result = await agent.ask(SEARCH)
    assert [c["args"]["query"] for c in result.tool_calls] == ["gooseneck kettle"]
    assert "malformed" in sent_messages(server, 1)


def test_the_mode_is_off_by_default() -> None:
    settings = Settings()
    assert settings.act_mode == "deterministic" and settings.max_tool_calls == 4


async def test_a_failing_tool_tells_the_model_what_failed_not_the_internals(
    server: FakeOpenAI, db: StoreDB
) -> None:
    """The model reads the error class's own description; the details (the API's address,
    timings) stay in the turn's record, so nothing internal reaches a prompt and a recorded
    run replays byte for byte."""
    model = build_chat_model(
        "openai:test", Settings(openai_base_url=server.url, openai_timeout_s=10)
    )
    context = make_context(
        db, model, ROUTES, clock=lambda: IN_WINDOW, tool_calling_act=True, max_tool_calls=4
    )
    context.inventory.fail = True
    agent = ShopAgent(context, InMemorySaver(), "openai:test")
    server.tool_call("check_price_stock", {"skus": ["KET-1"]})
    server.reply({"content": "done"})
    result = await agent.ask(SEARCH)
    (call,) = [c for c in result.tool_calls if c["name"] == "check_price_stock"]
    assert not call["ok"] and "InMemoryInventory" in call["result"]["message"]  # the record
    told = sent_messages(server, 1)
    assert "The price/stock API did not answer in time or returned an error." in told
    assert "InMemoryInventory" not in told


# -- the profile store: order history, multi-item returns, changes ---------------------------
HISTORY = "show me my order history"
RETURN_TWO = "return the kettle and one jacket from order SA-100007, refund to my gift card"
SHIP = "please ship my order SA-100008 to 42 Harbor Lane instead"
PROFILE_ROUTES = {HISTORY: "order_status", RETURN_TWO: "return_request", SHIP: "modify_order"}


@pytest.fixture
def profile_db() -> StoreDB:
    return StoreDB.in_memory(profile_store())


@pytest.fixture
def profile_agent(server: FakeOpenAI, profile_db: StoreDB) -> ShopAgent:
    model = build_chat_model(
        "openai:test", Settings(openai_base_url=server.url, openai_timeout_s=10)
    )
    context = make_context(profile_db, model, PROFILE_ROUTES, clock=lambda: IN_WINDOW,
                           tool_calling_act=True, max_tool_calls=4)  # fmt: skip
    return ShopAgent(context, InMemorySaver(), "openai:test")


async def test_the_model_lists_the_order_history(
    profile_agent: ShopAgent, server: FakeOpenAI
) -> None:
    server.tool_call("list_orders", {})
    server.tool_call("list_orders", {"customer_id": "C2"}, call_id="c2")  # refused, not run
    server.reply({"content": "done"})
    result = await profile_agent.ask(HISTORY, customer_email=ADA)
    (call,) = result.tool_calls
    assert call["name"] == "list_orders" and call["ok"] and call["result"]["count"] == 4
    mine = ["SA-100008", "SA-100001", "SA-100007", "SA-100002"]
    assert [o["number"] for o in call["result"]["orders"]] == mine
    assert all(number in result.answer for number in mine)
    told = sent_messages(server, 2)
    assert "SA-100007" in told and "extra" in told.lower()
    assert "SA-100003" not in told and "Ben Cruz" not in told  # only Ada's orders


async def test_a_multi_item_return_the_model_proposes_needs_the_yes(
    profile_agent: ShopAgent, server: FakeOpenAI, profile_db: StoreDB
) -> None:
    server.tool_call(
        "propose_return_items",
        {"order_number": "SA-100007",
         "items": [{"item_id": "1", "quantity": 1}, {"item_id": "2", "quantity": 1}],
         "refund_to_gift_card": True},
    )  # fmt: skip
    asked = await profile_agent.ask(RETURN_TWO, customer_email=ADA, thread_id="t2")
    proposal = asked.confirmation
    assert proposal and proposal["action"] == "return_items"
    assert proposal["picks"] == {"1": 1, "2": 1} and proposal["refund_amount"] == "139.98"
    assert profile_db.actions_of("C1") == []  # proposed, not written
    done = await profile_agent.confirm("t2", True, customer_email=ADA)
    assert done.tool_calls[-1]["name"] == "change_order" and done.tool_calls[-1]["ok"]
    (row,) = profile_db.actions_of("C1", "SA-100007")
    assert row["kind"] == "return_items"
    assert profile_db.order_of("C1", "SA-100007").status == "return_requested"


async def test_an_address_change_the_model_proposes_needs_the_yes(
    profile_agent: ShopAgent, server: FakeOpenAI, profile_db: StoreDB
) -> None:
    server.tool_call(  # Ben's order first: refused, nothing proposed
        "propose_item_change",
        {"order_number": "SA-100003", "items": [{"item_id": "1", "new_sku": "W-300"}]},
    )
    address = HARBOR.model_dump(mode="json")
    server.tool_call("propose_shipping_address", {"order_number": "SA-100008",
                                                  "address": address}, call_id="c2")  # fmt: skip
    asked = await profile_agent.ask(SHIP, customer_email=ADA, thread_id="t3")
    assert asked.confirmation and asked.confirmation["action"] == "modify_address"
    assert asked.confirmation["order_number"] == "SA-100008"
    told = sent_messages(server, 1)
    assert "Ben Cruz" not in told and "ThermaCup" not in told
    assert profile_db.order_of("C1", "SA-100008").shipping_address != HARBOR
    await profile_agent.confirm("t3", True, customer_email=ADA)
    assert profile_db.order_of("C1", "SA-100008").shipping_address == HARBOR
    assert profile_db.order_of("C2", "SA-100003").status == "pending"


async def test_a_change_the_model_does_not_propose_is_left_to_the_handler(
    profile_agent: ShopAgent, server: FakeOpenAI, profile_db: StoreDB
) -> None:
    server.reply({"content": "done"})  # the model calls no tool
    asked = await profile_agent.ask(SHIP, customer_email=ADA)
    assert asked.confirmation and asked.confirmation["action"] == "modify_address"
    assert asked.confirmation["address"]["line1"] == "42 Harbor Lane"
    assert profile_db.actions_of("C1") == []
