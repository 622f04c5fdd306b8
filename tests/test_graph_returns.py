"""Multi-item returns through the real graph (scripted chat model and router): one
interrupt states every item, quantity and the refund; yes writes once, no writes nothing."""

from __future__ import annotations

import pytest
from factories_profiles import NOW, profile_store
from graph_common import Chat, signed_in_chat
from shopagent.tools.orders import StoreOrders
from shopagent.tools.store.db import StoreDB

BOTH = "return the kettle and one of the jackets from order SA-100007, refund to my gift card"
ALL = "I want to return everything from order SA-100007 to my gift card"
PENDING = "return the kettle and the jacket from order SA-100008"
ROUTER = {BOTH: "return_request", ALL: "return_request", PENDING: "return_request"}


@pytest.fixture
def db() -> StoreDB:
    return StoreDB.in_memory(profile_store())


def _as(db: StoreDB, email: str, model) -> Chat:
    return signed_in_chat(db, email, model, ROUTER, clock=lambda: NOW)


async def test_one_confirmation_states_every_unit_and_writes_once(db, scripted_model) -> None:
    chat = _as(db, "ada@example.com", scripted_model([]))
    state = await chat.say(BOTH)
    (proposal,) = state["interrupts"]
    assert proposal["action"] == "return_items" and proposal["picks"] == {"1": 1, "2": 1}
    question = proposal["question"]
    assert "1 × Brewster Gooseneck Kettle (black)" in question
    assert "1 × Trailhead Rain Jacket (medium)" in question
    assert "$139.98" in question and "gift card gift-1" in question
    assert db.actions_of("C1") == []
    state = await chat.say("yes")
    assert state["tool_calls"][-1]["name"] == "change_order" and state["tool_calls"][-1]["ok"]
    assert "return requested" in state["answer"] and "$139.98" in state["answer"]
    rows = db.actions_of("C1")
    assert len(rows) == 1 and rows[0]["kind"] == "return_items"
    assert StoreOrders(db).order("C1", "SA-100007").status == "return_requested"


async def test_no_writes_nothing(db, scripted_model) -> None:
    chat = _as(db, "ada@example.com", scripted_model([]))
    state = await chat.say(ALL)
    (proposal,) = state["interrupts"]
    assert proposal["picks"] == {"1": 1, "2": 1, "3": 1}
    state = await chat.say("no, never mind")
    assert "haven't made the return" in state["answer"] and db.actions_of("C1") == []
    assert StoreOrders(db).order("C1", "SA-100007").status == "delivered"


async def test_ineligible_order_is_explained_without_asking(db, scripted_model) -> None:
    chat = _as(db, "ada@example.com", scripted_model([]))
    state = await chat.say(PENDING)
    assert state["interrupts"] == [] and "not been delivered" in state["answer"]
    assert db.actions_of("C1") == []


async def test_another_customers_order_is_not_found(db, scripted_model) -> None:
    chat = _as(db, "ben@example.com", scripted_model([]))
    state = await chat.say(BOTH)
    assert state["interrupts"] == [] and db.actions_of("C2") == [] and db.actions_of("C1") == []
    assert "Kettle" not in state["answer"]


@pytest.mark.parametrize(
    "text",
    [
        "return one of the jackets from order SA-100007",
        "I want to return the jacket from order SA-100007",
    ],
)
async def test_identical_units_are_not_a_question(db, scripted_model, text) -> None:
    """Two units of one SKU are interchangeable: one of them is returned without asking
    "which one" between two identical lines."""
    chat = signed_in_chat(
        db, "ada@example.com", scripted_model([]), {text: "return_request"}, clock=lambda: NOW
    )
    state = await chat.say(text)
    (proposal,) = state["interrupts"]
    assert proposal["sku"] == "J-500-M" and proposal["quantity"] == 1
    assert proposal["refund_amount"] == "89.99"
    state = await chat.say("yes")
    (row,) = db.returns_of("C1", "SA-100007")
    assert row["sku"] == "J-500-M" and row["quantity"] == 1
