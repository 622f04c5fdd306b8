"""'show my orders': which messages ask for the history (table), the tool on SQLite and
PostgreSQL (only the verified customer's orders), and the graph with the scripted model."""

from __future__ import annotations

import profile_dbs
import pytest
from factories import make_context
from factories_profiles import NOW, profile_store
from graph_common import Chat
from shopagent.agent.understanding.order_refs import asks_order_history
from shopagent.tools import functions as fn
from shopagent.tools.orders import StoreOrders
from shopagent.tools.results import VerifiedCustomer
from shopagent.tools.store.db import StoreDB

from shopagent.errors import NotVerified

ADA = VerifiedCustomer(id="C1", name="Ada Park", email="ada@example.com")
BEN = VerifiedCustomer(id="C2", name="Ben Cruz", email="ben@example.com")


@pytest.mark.parametrize(
    ("text", "history"),
    [
        ("show my orders", True),
        ("can you list all my orders?", True),
        ("my order history please", True),
        ("what have I ordered?", True),
        ("show me my past orders", True),
        ("where is my order SA-100007?", False),
        ("what are my recent orders?", False),  # the recent ones, in detail
        ("show me blue kettles", False),
        ("cancel my order", False),
    ],
)
def test_history_phrases(text, history) -> None:
    assert asks_order_history(text) is history


db = profile_dbs.db


def test_only_own_orders_newest_first(db) -> None:
    orders = StoreOrders(db)
    mine = fn.list_orders(orders, ADA)
    owned = {o.number for o in orders.orders_for("C1")}
    assert {o.number for o in mine.orders} == owned and mine.count == len(owned) >= 3
    assert [o.placed_at for o in mine.orders] == sorted(
        (o.placed_at for o in mine.orders), reverse=True
    )
    first = next(o for o in mine.orders if o.number == "SA-100007")
    assert first.units == 3 and str(first.total) == "229.97"
    theirs = fn.list_orders(orders, BEN)
    assert not owned & {o.number for o in theirs.orders}
    short = fn.list_orders(orders, ADA, limit=1)
    assert len(short.orders) == 1 and short.count == mine.count
    with pytest.raises(NotVerified):
        fn.list_orders(orders, None)


async def test_graph_lists_the_history(scripted_model) -> None:
    db = StoreDB.in_memory(profile_store())
    customer = StoreOrders(db).customer_by_email("ada@example.com")
    ctx = make_context(
        db,
        scripted_model([]),
        {"show my orders": "order_status"},
        authenticated=customer,
        clock=lambda: NOW,
    )
    state = await Chat(ctx).say("show my orders")
    assert [c["name"] for c in state["tool_calls"]] == ["list_orders"]
    for order in StoreOrders(db).orders_for("C1"):
        assert order.number in state["answer"]
    for order in StoreOrders(db).orders_for("C2"):
        assert order.number not in state["answer"]
