"""The graph with in-memory dependencies: topology, routes, clarification, context, safety.

A scripted router isolates graph logic from classification (the real router is tested in
test_router.py); the scripted chat model fails loudly on any unexpected or unused call.
"""

from __future__ import annotations

import graph_common
from factories import make_context
from graph_common import Chat, names
from shopagent.agent.graph.build import build_graph
from shopagent.tools.handoff import StoreHandoffs
from shopagent.tools.inventory import InMemoryInventory
from shopagent.tools.orders import StoreOrders

# shared fixtures
db = graph_common.db


def test_topology() -> None:
    graph = build_graph().get_graph()
    edges = {(e.source, e.target) for e in graph.edges}
    assert {
        ("__start__", "understand"),
        ("understand", "clarify"),
        ("understand", "act"),
        ("understand", "compose"),
        ("act", "clarify"),
        ("act", "compose"),
        ("act", "confirm"),
        ("confirm", "compose"),
        ("clarify", "__end__"),
        ("compose", "__end__"),
    } == edges


async def test_greeting_needs_no_model_and_no_tools(db, scripted_model) -> None:
    chat = Chat(make_context(db, scripted_model([]), {"hello": "greeting"}))
    state = await chat.say("hello")
    assert state["tool_calls"] == [] and state["llm_calls"] == 0
    assert "Test Goods" in state["answer"]


async def test_price_answer_from_model_when_faithful(db, scripted_model) -> None:
    model = scripted_model([("$29.49", "The Hearth Classic Kettle is $29.49 with 3 in stock.")])
    chat = Chat(make_context(db, model, {"how much is the hearth classic kettle?": "price_stock"}))
    state = await chat.say("how much is the hearth classic kettle?")
    assert names(state) == ["search_products", "check_price_stock"]
    assert state["answer_source"] == "model" and state["llm_calls"] == 1
    assert state["answer"] == "The Hearth Classic Kettle is $29.49 with 3 in stock."


async def test_invented_price_is_replaced_by_template(db, scripted_model) -> None:
    model = scripted_model(["The Hearth Classic Kettle is only $19.99 today!"])
    chat = Chat(make_context(db, model, {"price of the hearth classic kettle": "price_stock"}))
    state = await chat.say("price of the hearth classic kettle")
    assert state["answer_source"].startswith("template")
    assert "$29.49" in state["answer"] and "19.99" not in state["answer"]
    assert "3 in stock" in state["answer"]


async def test_follow_up_resolves_it_from_the_previous_turn(db, scripted_model) -> None:
    model = scripted_model(["nonsense 1", "nonsense 2"])
    router = {
        "tell me about the pulse headphones": "product_question",
        "is it in stock?": "price_stock",
    }
    chat = Chat(make_context(db, model, router))
    await chat.say("tell me about the pulse headphones")
    state = await chat.say("is it in stock?")
    assert state["tool_calls"][0]["args"] == {"skus": ["H-400"]}
    assert "Pulse Noise-Cancelling Headphones" in state["answer"]
    assert "5 in stock" in state["answer"]


async def test_ambiguous_product_asks_then_continues_with_the_choice(db, scripted_model) -> None:
    model = scripted_model(["x"])
    router = {"how much is the kettle?": "price_stock", "the second one": "price_stock"}
    chat = Chat(make_context(db, model, router))
    state = await chat.say("how much is the kettle?")
    assert state["answer_source"] == "clarify" and state["llm_calls"] == 0
    assert "Brewster Gooseneck Kettle" in state["answer"]
    assert "Hearth Classic Kettle" in state["answer"]
    options = [f["name"] for f in state["focus"]]
    state = await chat.say("the second one")
    quoted = state["tool_calls"][0]["args"]["skus"]
    chosen = next(f for f in state["focus"] if f["name"] == options[1])
    assert quoted == [chosen["sku"]]


async def test_colour_follow_up_quotes_that_variant(db, scripted_model) -> None:
    model = scripted_model(["x", "y"])
    router = {
        "tell me about the brewster gooseneck kettle": "product_question",
        "is it in stock in blue?": "price_stock",
    }
    chat = Chat(make_context(db, model, router))
    await chat.say("tell me about the brewster gooseneck kettle")
    state = await chat.say("is it in stock in blue?")
    assert state["tool_calls"][-1]["args"] == {"skus": ["K-100-BLU"]}
    assert "out of stock" in state["answer"] and "$52.99" in state["answer"]


async def test_order_status_asks_for_verification_then_answers(db, scripted_model) -> None:
    model = scripted_model(["x"])
    router = {
        "where is my order?": "order_status",
        "ada@example.com and SA-100001": "greeting",
    }  # router is unsure; state knows
    chat = Chat(make_context(db, model, router))
    state = await chat.say("where is my order?")
    assert state["answer_source"] == "clarify" and state["tool_calls"] == []
    state = await chat.say("ada@example.com and SA-100001")
    assert names(state) == ["get_order_status"]
    assert "1Z999AA10123456784" in state["answer"] and "shipped on" in state["answer"]


async def test_wrong_verification_reveals_nothing(db, scripted_model) -> None:
    chat = Chat(make_context(db, scripted_model([]), {"ben@example.com SA-100001": "order_status"}))
    state = await chat.say("ben@example.com SA-100001")
    assert state["tool_calls"] == [] and state["customer"] is None
    assert "couldn't verify" in state["answer"] and "SA-100001" not in state["answer"]


async def test_verified_customer_cannot_read_another_customers_order(db, scripted_model) -> None:
    router = {
        "ada@example.com zip code 94110": "order_status",
        "what about order SA-100003?": "order_status",
    }
    chat = Chat(make_context(db, scripted_model(["x"]), router))
    await chat.say("ada@example.com zip code 94110")
    state = await chat.say("what about order SA-100003?")
    assert state["tool_calls"][0]["result"]["orders"] == []
    assert "couldn't find that order" in state["answer"]
    assert "Ben" not in state["answer"] and "ThermaCup" not in state["answer"]


async def test_without_chat_verification_only_the_host_identifies(db, scripted_model) -> None:
    """With chat verification off (the HTTP service's default), email + order number in the
    chat verify nobody: the shopper is asked to sign in and no order tool runs."""
    router = {"ada@example.com SA-100001 where is it?": "order_status"}
    chat = Chat(make_context(db, scripted_model([]), router, chat_verification=False))
    state = await chat.say("ada@example.com SA-100001 where is it?")
    assert state["tool_calls"] == [] and state["customer"] is None
    assert "sign in" in state["answer"] and "1Z999AA10123456784" not in state["answer"]


async def test_authenticated_customer_from_host_needs_no_verification(db, scripted_model) -> None:
    ada = StoreOrders(db).customer_by_email("ada@example.com")
    context = make_context(
        db, scripted_model(["x"]), {"where is my stuff": "order_status"}, authenticated=ada
    )
    state = await Chat(context).say("where is my stuff")
    numbers = [o["number"] for o in state["tool_calls"][0]["result"]["orders"]]
    assert numbers == ["SA-100001", "SA-100002"]


async def test_inventory_down_gives_honest_answer_without_prices(db, scripted_model) -> None:
    context = make_context(
        db,
        scripted_model([]),
        {"how much is the thermacup mug warmer": "price_stock"},
        inventory=InMemoryInventory(db, fail=True),
    )
    state = await Chat(context).say("how much is the thermacup mug warmer")
    assert state["tool_calls"][-1]["ok"] is False
    assert "can't confirm live price and stock" in state["answer"]
    assert "$" not in state["answer"]


async def test_multi_intent_turn_calls_both_tools(db, scripted_model) -> None:
    message = "is the pulse headphones in stock and can I return it if I don't like it?"
    chat = Chat(
        make_context(db, scripted_model(["x"]), {message: ["price_stock", "return_policy"]})
    )
    state = await chat.say(message)
    assert names(state) == ["search_products", "check_price_stock", "lookup_return_policy"]
    assert state["tool_calls"][-1]["args"]["category"] == "Electronics"
    assert "5 in stock" in state["answer"] and "15% restocking fee" in state["answer"]


async def test_handoff_writes_a_ticket(db, scripted_model) -> None:
    chat = Chat(make_context(db, scripted_model([]), {"get me a human": "human_handoff"}))
    state = await chat.say("get me a human", thread="thread-9")
    tickets = StoreHandoffs(db).tickets()
    assert len(tickets) == 1 and tickets[0]["thread_id"] == "thread-9"
    assert tickets[0]["id"] in state["answer"]


async def test_model_failure_falls_back_to_template(db) -> None:
    from shopagent.agent.models.scripted import ScriptedChatModel

    class Broken(ScriptedChatModel):
        async def _agenerate(self, *args, **kwargs):
            raise TimeoutError("model timed out")

    chat = Chat(make_context(db, Broken([]), {"price of the hearth classic kettle": "price_stock"}))
    state = await chat.say("price of the hearth classic kettle")
    assert state["answer_source"] == "template (model unavailable)"
    assert "$29.49" in state["answer"]


async def test_memory_is_bounded(db, scripted_model) -> None:
    from shopagent.agent.graph.state import MAX_MESSAGES

    chat = Chat(make_context(db, scripted_model([]), {"hi": "greeting"}))
    for _ in range(MAX_MESSAGES):
        state = await chat.say("hi")
    assert len(state["messages"]) == MAX_MESSAGES
