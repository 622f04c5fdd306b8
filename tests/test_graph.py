"""The graph with in-memory dependencies: topology, routes, clarification, context, safety.

A scripted router isolates graph logic from classification (the real router is tested in
test_router.py); the scripted chat model fails loudly on any unexpected or unused call.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from factories import IN_WINDOW, make_context, tiny_store
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from shopagent.agent.graph.build import build_graph
from shopagent.agent.graph.context import AgentContext
from shopagent.tools.handoff import StoreHandoffs
from shopagent.tools.inventory import InMemoryInventory
from shopagent.tools.orders import StoreOrders
from shopagent.tools.policy import StorePolicy
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
    assert "1Z999AA10123456784" in state["answer"] and "has shipped" in state["answer"]


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


# -- returns and cancellations: confirmation through an interrupt ------------------------
def _returns(db: StoreDB) -> list[dict]:
    return [dict(r) for r in db.rows("SELECT * FROM returns")]


def _as(db: StoreDB, email: str, model, router: dict) -> Chat:
    customer = StoreOrders(db).customer_by_email(email)
    return Chat(make_context(db, model, router, authenticated=customer, clock=lambda: IN_WINDOW))


RETURN_MSG = "I want to return order SA-100002, still sealed"


async def test_return_confirmed_with_yes_is_written_once(db, scripted_model) -> None:
    router = {RETURN_MSG: "return_request"}
    chat = _as(db, "ada@example.com", scripted_model([]), router)
    state = await chat.say(RETURN_MSG)
    (proposal,) = state["interrupts"]
    assert proposal["action"] == "start_return" and proposal["order_number"] == "SA-100002"
    # Electronics: 15% restocking fee on 129.00 -> 19.35; refund 109.65
    assert "$109.65" in proposal["question"] and "$19.35" in proposal["question"]
    assert _returns(db) == []
    state = await chat.say("yes please")
    assert [c["name"] for c in state["tool_calls"]][-1] == "start_return"
    assert "R-SA-100002-H-400" in state["answer"] and "$109.65" in state["answer"]
    rows = _returns(db)
    assert len(rows) == 1 and rows[0]["refund_amount"] == "109.65"
    # asking again: the item already has an open return; nothing new is written
    state = await chat.say(RETURN_MSG)
    assert state["interrupts"] == [] and "already open" in state["answer"]
    assert len(_returns(db)) == 1


async def test_replayed_yes_never_writes_twice(db, scripted_model) -> None:
    from shopagent.tools.functions import start_return

    ada = StoreOrders(db).customer_by_email("ada@example.com")
    policy = StorePolicy(tiny_store().policy, {})
    when = datetime(2026, 10, 20, tzinfo=UTC)
    first = start_return(StoreOrders(db), policy, ada, "SA-100002", "H-400", now=when)
    again = start_return(StoreOrders(db), policy, ada, "SA-100002", "H-400", now=when)
    assert first.created and not again.created and first.return_id == again.return_id
    assert len(_returns(db)) == 1


@pytest.mark.parametrize(
    ("reply", "word"),
    [("no", "haven't started"), ("what's the weather?", "didn't get a clear yes")],
)
async def test_no_or_unrelated_reply_writes_nothing(db, scripted_model, reply, word) -> None:
    chat = _as(db, "ada@example.com", scripted_model([]), {RETURN_MSG: "return_request"})
    await chat.say(RETURN_MSG)
    state = await chat.say(reply)
    assert word in state["answer"] and _returns(db) == []
    assert state["interrupts"] == []


async def test_return_outside_window_is_refused_without_asking(db, scripted_model) -> None:
    late = dict(clock=lambda: datetime(2026, 12, 1, tzinfo=UTC))
    ada = StoreOrders(db).customer_by_email("ada@example.com")
    context = make_context(
        db, scripted_model([]), {RETURN_MSG: "return_request"}, authenticated=ada, **late
    )
    state = await Chat(context).say(RETURN_MSG)
    assert state["interrupts"] == [] and "window ended on 2026-11-05" in state["answer"]
    assert _returns(db) == []


async def test_cannot_return_another_customers_order(db, scripted_model) -> None:
    chat = _as(db, "ben@example.com", scripted_model([]), {RETURN_MSG: "return_request"})
    state = await chat.say(RETURN_MSG)
    assert state["interrupts"] == [] and _returns(db) == []
    assert "Pulse" not in state["answer"] and "129" not in state["answer"]


async def test_return_it_with_one_delivered_order_needs_no_number(db, scripted_model) -> None:
    chat = _as(db, "ada@example.com", scripted_model([]), {"return it": "return_request"})
    state = await chat.say("return it")
    assert state["interrupts"][0]["order_number"] == "SA-100002"


async def test_cancel_pending_order_after_yes(db, scripted_model) -> None:
    router = {"cancel my order": "cancel_order"}
    chat = _as(db, "ben@example.com", scripted_model([]), router)
    state = await chat.say("cancel my order")
    assert state["interrupts"][0]["order_number"] == "SA-100003"
    state = await chat.say("yes")
    assert "is cancelled" in state["answer"] and "$49.98" in state["answer"]
    assert StoreOrders(db).order("C2", "SA-100003").status == "cancelled"


async def test_processing_order_cannot_be_cancelled(db, scripted_model) -> None:
    router = {"cancel order SA-100006": "cancel_order"}
    chat = _as(db, "cy@example.com", scripted_model([]), router)
    state = await chat.say("cancel order SA-100006")
    assert state["interrupts"] == [] and "being prepared" in state["answer"]
    assert StoreOrders(db).order("C3", "SA-100006").status == "processing"


async def test_three_unhelpful_turns_hand_over_to_a_person(db, scripted_model) -> None:
    router = {
        "how much is it": "price_stock",
        "where is my order": "order_status",
        "show me zzzqqq": "product_search",
        "hmm": "product_search",
    }
    chat = Chat(make_context(db, scripted_model([]), router))
    for message in ("how much is it", "where is my order", "show me zzzqqq"):
        state = await chat.say(message)
        assert "ticket" not in state["answer"]
    state = await chat.say("hmm")
    assert state["intent"] == "human_handoff"
    (ticket,) = StoreHandoffs(db).tickets()
    assert ticket["reason"] == "assistant could not help after several tries"
    assert ticket["id"] in state["answer"] and "sorry" in state["answer"].casefold()
    assert state["strikes"] == 0


async def test_recommendations_use_order_history_and_say_so(db, scripted_model) -> None:
    router = {"recommend me something": "product_search"}
    chat = _as(db, "ada@example.com", scripted_model(["x"]), router)
    state = await chat.say("recommend me something")
    assert state["tool_calls"][0]["name"] == "recommend_for_customer"
    names = [h["name"] for h in state["tool_calls"][0]["result"]["hits"]]
    assert "ThermaCup Desk Mug Warmer" in names
    assert not {"Hearth Classic Kettle", "Brewster Gooseneck Kettle"} & set(names)
    assert "Based on your recent order of Hearth Classic Kettle" in state["answer"]


async def test_search_leaves_out_what_the_customer_just_bought(db, scripted_model) -> None:
    chat = _as(db, "ada@example.com", scripted_model(["x"]), {"show me kettles": "product_search"})
    state = await chat.say("show me kettles")
    names = [h["name"] for h in state["tool_calls"][0]["result"]["hits"]]
    assert names == ["Brewster Gooseneck Kettle"]
    assert "I left out Hearth Classic Kettle" in state["answer"]


async def test_anonymous_vague_request_asks_what_they_need(db, scripted_model) -> None:
    chat = Chat(make_context(db, scripted_model([]), {"recommend me something": "product_search"}))
    state = await chat.say("recommend me something")
    assert state["answer_source"] == "clarify"


async def test_turn_budget_bounds_slow_tools_and_model(db, scripted_model) -> None:
    import asyncio
    import time

    from shopagent.agent.models.scripted import ScriptedChatModel

    class SlowInventory(InMemoryInventory):
        async def quotes(self, skus):
            await asyncio.sleep(5)
            return await super().quotes(skus)

    class SlowModel(ScriptedChatModel):
        async def _agenerate(self, *args, **kwargs):
            await asyncio.sleep(5)
            raise AssertionError("never reached")

    router = {"price of the hearth classic kettle": "price_stock"}
    context = make_context(
        db, SlowModel([]), router, inventory=SlowInventory(db), deadline=time.monotonic() + 1.5
    )
    started = time.monotonic()
    state = await Chat(context).say("price of the hearth classic kettle")
    assert time.monotonic() - started < 3
    assert state["tool_calls"][-1]["result"]["error"] == "TurnTimeout"
    assert "can't confirm live price and stock" in state["answer"] and "$" not in state["answer"]


async def test_it_means_the_product_chosen_last_not_the_first_shown(db, scripted_model) -> None:
    router = {
        "how much is the kettle?": "price_stock",
        "the second one": "price_stock",
        "is it in stock?": "price_stock",
        "the cheaper one": "compare",
    }
    chat = Chat(make_context(db, scripted_model(["x", "y", "z"]), router))
    options = (await chat.say("how much is the kettle?"))["focus"]
    await chat.say("the second one")
    state = await chat.say("is it in stock?")
    assert state["tool_calls"][0]["args"]["skus"] == [options[1]["sku"]]
    state = await chat.say("the cheaper one")  # routed to compare, but picks one product
    cheapest = min(options, key=lambda o: float(o["price"]))
    assert state["intent"] == "price_stock"
    assert state["tool_calls"][0]["args"]["skus"] == [cheapest["sku"]]


async def test_prompt_history_is_bounded_and_can_be_off(db, scripted_model) -> None:
    router = {"hello": "greeting", "price of the hearth classic kettle": "price_stock"}
    for turns, expected in ((0, 2), (1, 4)):
        model = scripted_model(["x"])
        chat = Chat(make_context(db, model, router, history_turns=turns))
        for _ in range(3):
            await chat.say("hello")
        await chat.say("price of the hearth classic kettle")
        assert len(model.calls[0]) == expected  # system + history + facts message
