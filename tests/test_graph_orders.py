"""The graph with in-memory dependencies: returns and cancellations confirmed through an
interrupt, hand-over after unhelpful turns, recommendations, the turn budget, references to
earlier products and the prompt history."""

from __future__ import annotations

from datetime import UTC, datetime

import graph_common
import pytest
from factories import IN_WINDOW, make_context, tiny_store
from graph_common import Chat
from shopagent.tools.handoff import StoreHandoffs
from shopagent.tools.inventory import InMemoryInventory
from shopagent.tools.orders import StoreOrders
from shopagent.tools.policy import StorePolicy
from shopagent.tools.store.db import StoreDB

# shared fixtures
db = graph_common.db


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
