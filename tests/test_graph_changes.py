"""The support actions through the real graph (scripted chat model and router): the
confirmation interrupt states the exact change, yes writes once, no writes nothing."""

from __future__ import annotations

import pytest
from factories_profiles import NOW, profile_store
from graph_common import Chat, signed_in_chat
from shopagent.tools.orders import StoreOrders
from shopagent.tools.store.db import StoreDB

EXCHANGE = "I'd like to exchange the kettle from order SA-100007 for the blue one"
SHIP = "please ship my order SA-100008 to 42 Harbor Lane instead"
GIFT = "pay for order SA-100008 with my gift card"
SWAP = "change the jacket in order SA-100008 to large"
DEFAULT = "change my default address to 7 Oak Street, Boulder, CO 80302"
CANCEL = "cancel order SA-100008, I ordered by mistake"
ROUTER = {
    EXCHANGE: "exchange_request",
    SHIP: "modify_order",
    GIFT: "modify_order",
    SWAP: "modify_order",
    DEFAULT: "change_address",
    CANCEL: "cancel_order",
}


@pytest.fixture
def db() -> StoreDB:
    return StoreDB.in_memory(profile_store())


def _as(db: StoreDB, email: str, model) -> Chat:
    return signed_in_chat(db, email, model, ROUTER, clock=lambda: NOW)


async def test_exchange_states_the_change_and_writes_once(db, scripted_model) -> None:
    chat = _as(db, "ada@example.com", scripted_model([]))
    state = await chat.say(EXCHANGE)
    (proposal,) = state["interrupts"]
    assert proposal["action"] == "exchange_items" and proposal["swaps"] == {"1": "K-100-BLU"}
    question = proposal["question"]
    assert "Brewster Gooseneck Kettle (blue)" in question and "$3.00" in question
    assert "Visa ending in 4242" in question
    assert db.actions_of("C1") == []
    state = await chat.say("yes")
    assert state["tool_calls"][-1]["name"] == "change_order" and state["tool_calls"][-1]["ok"]
    assert "exchange requested" in state["answer"]
    rows = db.actions_of("C1")
    assert len(rows) == 1 and rows[0]["kind"] == "exchange_items"
    assert StoreOrders(db).order("C1", "SA-100007").status == "exchange_requested"


async def test_no_writes_nothing(db, scripted_model) -> None:
    chat = _as(db, "ada@example.com", scripted_model([]))
    await chat.say(SHIP)
    state = await chat.say("no, never mind")
    assert "haven't made" in state["answer"] and db.actions_of("C1") == []


async def test_shipping_address_keeps_city_and_zip(db, scripted_model) -> None:
    chat = _as(db, "ada@example.com", scripted_model([]))
    state = await chat.say(SHIP)
    (proposal,) = state["interrupts"]
    assert "42 Harbor Lane, Springfield, IL 94110" in proposal["question"]
    state = await chat.say("yes")
    order = StoreOrders(db).order("C1", "SA-100008")
    assert order.shipping_address.line1 == "42 Harbor Lane"
    assert "will ship to 42 Harbor Lane" in state["answer"]


async def test_gift_card_short_is_explained_without_asking(db, scripted_model) -> None:
    chat = _as(db, "ada@example.com", scripted_model([]))
    state = await chat.say(GIFT)
    assert state["interrupts"] == [] and "balance" in state["answer"]
    assert db.actions_of("C1") == []


async def test_item_swap_out_of_stock_then_default_address(db, scripted_model) -> None:
    chat = _as(db, "ada@example.com", scripted_model([]))
    state = await chat.say(SWAP)
    assert state["interrupts"] == [] and "out of stock" in state["answer"]
    state = await chat.say(DEFAULT)
    (proposal,) = state["interrupts"]
    assert "7 Oak Street, Boulder, CO 80302" in proposal["question"]
    await chat.say("yes")
    assert db.default_address_of("C1").city == "Boulder"


async def test_another_customers_order_is_not_found(db, scripted_model) -> None:
    chat = _as(db, "ben@example.com", scripted_model([]))
    state = await chat.say(SHIP)
    assert state["interrupts"] == [] and db.actions_of("C2") == []
    assert "42 Harbor" not in state["answer"]


async def test_cancel_with_reason(db, scripted_model) -> None:
    chat = _as(db, "ada@example.com", scripted_model([]))
    state = await chat.say(CANCEL)
    (proposal,) = state["interrupts"]
    assert proposal["reason"] == "ordered by mistake"
    await chat.say("yes")
    assert StoreOrders(db).order("C1", "SA-100008").cancel_reason == "ordered by mistake"


async def test_an_exchange_asked_for_a_pending_order_is_an_item_change(db, scripted_model) -> None:
    """The router may take "swap the kettle in my order N for the blue one" for an exchange;
    an order not shipped yet has its items changed instead (an exchange needs a delivery)."""
    swap = "swap the kettle in my order SA-100008 for the blue one"
    chat = signed_in_chat(
        db,
        "ada@example.com",
        scripted_model([]),
        {**ROUTER, swap: "exchange_request"},
        clock=lambda: NOW,
    )
    state = await chat.say(swap)
    (proposal,) = state["interrupts"]
    assert proposal["action"] == "modify_items" and proposal["swaps"] == {"1": "K-100-BLU"}
    await chat.say("yes")
    order = StoreOrders(db).order("C1", "SA-100008")
    assert order.status == "pending" and order.items[0].sku == "K-100-BLU" and order.modified
    # a delivered order's exchange stays an exchange
    state = await chat.say(EXCHANGE)
    assert state["interrupts"][0]["action"] == "exchange_items"


async def test_several_actions_in_one_thread_never_hand_over(db, scripted_model) -> None:
    """Each proposed or made change helps the shopper: a fourth action in the same thread is
    proposed, not passed to a person (unhelpful turns count towards a handoff)."""
    payment = "pay for order SA-100008 with my paypal"
    router = {**ROUTER, payment: "modify_order"}
    chat = signed_in_chat(db, "ada@example.com", scripted_model([]), router, clock=lambda: NOW)
    for ask in (EXCHANGE, SHIP, DEFAULT):
        state = await chat.say(ask)
        assert state["interrupts"], state["answer"]
        await chat.say("yes")
    state = await chat.say(payment)
    assert [c["name"] for c in state["tool_calls"]][-1] == "check_order_change", state["answer"]
    assert state["interrupts"][0]["action"] == "modify_payment"
    await chat.say("yes")
    assert sorted(r["kind"] for r in db.actions_of("C1")) == [
        "change_default_address",
        "exchange_items",
        "modify_address",
        "modify_payment",
    ]
