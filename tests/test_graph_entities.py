"""The graph over stores that differ from the demo one: order numbers of the store's own shape,
and order lines told apart by name and variant options."""

from __future__ import annotations

import pytest
from factories import IN_WINDOW, _item, make_context, tiny_store
from graph_common import Chat
from shopagent.agent.understanding.entities import order_shapes_of
from shopagent.tools.orders import StoreOrders
from shopagent.tools.store.db import StoreDB


def _chat(db: StoreDB, email: str, model, router: dict) -> Chat:
    customer = StoreOrders(db).customer_by_email(email)
    context = make_context(
        db,
        model,
        router,
        authenticated=customer,
        clock=lambda: IN_WINDOW,
        order_shapes=order_shapes_of(db),
    )
    return Chat(context)


async def test_order_number_of_the_stores_own_shape(scripted_model) -> None:
    data = tiny_store()
    orders = [
        o.model_copy(update={"number": f"#W10000{i:02d}"}) for i, o in enumerate(data.orders, 1)
    ]
    db = StoreDB.in_memory(data.model_copy(update={"orders": orders}))
    message = "pls cancel w1000003"
    chat = _chat(db, "ben@example.com", scripted_model([]), {message: "cancel_order"})
    state = await chat.say(message)
    assert state["order_number"] == "#W1000003"
    assert state["interrupts"][0]["order_number"] == "#W1000003"


@pytest.fixture
def two_kettles() -> StoreDB:
    """Ada's delivered order SA-100002 also holds the black and the blue Brewster kettle."""
    data = tiny_store()
    extra = [
        _item("K-100-BLK", "P1", "Brewster Gooseneck Kettle", "49.99"),
        _item("K-100-BLU", "P1", "Brewster Gooseneck Kettle", "52.99"),
    ]
    orders = [
        o.model_copy(update={"items": [*o.items, *extra]}) if o.number == "SA-100002" else o
        for o in data.orders
    ]
    return StoreDB.in_memory(data.model_copy(update={"orders": orders}))


async def test_variant_option_picks_the_line(two_kettles, scripted_model) -> None:
    message = "return the blue gooseneck kettle from SA-100002, still sealed"
    chat = _chat(two_kettles, "ada@example.com", scripted_model([]), {message: "return_request"})
    state = await chat.say(message)
    assert state["interrupts"], state["answer"]
    assert state["interrupts"][0]["sku"] == "K-100-BLU"


async def test_a_real_tie_asks_naming_what_differs(two_kettles, scripted_model) -> None:
    message = "return the gooseneck kettle from SA-100002, still sealed"
    chat = _chat(two_kettles, "ada@example.com", scripted_model([]), {message: "return_request"})
    state = await chat.say(message)
    assert not state["interrupts"]
    question = state["answer"]
    assert "color: black" in question and "color: blue" in question
    assert "Headphones" not in question


async def test_latest_order_is_the_newest_by_date(scripted_model) -> None:
    data = tiny_store()
    newest = max(data.orders, key=lambda o: o.placed_at)
    # give Ada every order, so "latest" has to choose by date
    orders = [o.model_copy(update={"customer_id": "C1"}) for o in data.orders]
    db = StoreDB.in_memory(data.model_copy(update={"orders": orders}))
    message = "where is my latest order?"
    chat = _chat(db, "ada@example.com", scripted_model([]), {message: "order_status"})
    state = await chat.say(message)
    looked_up = [c["args"].get("order_number") for c in state["tool_calls"]]
    assert looked_up[-1] == newest.number


@pytest.mark.parametrize(
    ("message", "low", "high"),
    [
        ("show me kettles around 50 bucks", "40.00", "60.00"),
        ("kettles, budget around 50", "40.00", "60.00"),
        ("kettles under 50 bucks", None, "50"),
    ],
)
async def test_search_takes_price_bounds_from_the_request_parser(
    scripted_model, message, low, high
) -> None:
    db = StoreDB.in_memory(tiny_store())
    chat = Chat(make_context(db, scripted_model([]), {message: "product_search"}))
    state = await chat.say(message)
    search = next(c for c in state["tool_calls"] if c["name"] == "search_products")
    assert search["args"]["query"] == "kettles"
    assert search["args"]["filters"].get("min_price") == low
    assert search["args"]["filters"].get("max_price") == high
