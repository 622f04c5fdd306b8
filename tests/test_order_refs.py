"""Orders a message points at without their number: newest, by date, by contents."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import graph_common
import pytest
from factories import make_context
from graph_common import Chat
from shopagent.agent.understanding.order_refs import date_window, narrow_orders
from shopagent.tools.orders import StoreOrders
from shopagent.tools.store.schema import Order, OrderItem

db = graph_common.db
TODAY = date(2026, 11, 20)  # a Friday


def _order(number: str, placed: date, *names: str) -> Order:
    return Order(
        number=number,
        customer_id="C9",
        status="delivered",
        placed_at=datetime(placed.year, placed.month, placed.day, 10),
        items=[
            OrderItem(
                sku=f"{number}-{i}", product_id="P", name=n, quantity=1, unit_price=Decimal("10")
            )
            for i, n in enumerate(names)
        ],
    )


ORDERS = [
    _order("A-1", date(2026, 11, 18), "Brass Table Lamp", "Wool Throw"),
    _order("A-2", date(2026, 11, 11), "Smart Thermostat"),
    _order("A-3", date(2026, 10, 2), "Smart Watch", "Canvas Tote"),
]


@pytest.mark.parametrize(
    ("text", "query", "latest", "expected"),
    [
        ("where is my latest order?", "", True, ["A-1"]),
        ("the one from last week", "", False, ["A-2"]),
        ("the order I placed 2 days ago", "", False, ["A-1"]),
        ("my order from October", "", False, ["A-3"]),
        ("the order with the lamp", "lamp", False, ["A-1"]),
        ("the order with the smart watch", "smart watch", False, ["A-3"]),
        ("where is my stuff", "stuff", False, ["A-1", "A-2", "A-3"]),
    ],
)
def test_narrow_orders(text, query, latest, expected) -> None:
    picked = narrow_orders(ORDERS, text=text, query=query, latest=latest, today=TODAY)
    assert [o.number for o in picked] == expected


def test_date_windows_read_as_shoppers_say_them() -> None:
    assert date_window("yesterday", TODAY) == (date(2026, 11, 19), date(2026, 11, 19))
    assert date_window("on monday", TODAY) == (date(2026, 11, 16), date(2026, 11, 16))
    assert date_window("in march", TODAY) == (date(2026, 3, 1), date(2026, 3, 31))
    assert date_window("where is my order", TODAY) is None


async def test_the_order_with_an_item_is_looked_up_in_the_graph(db, scripted_model) -> None:
    """Ada has SA-100001 (a kettle, Nov 15) and SA-100002 (headphones, Oct 1)."""
    ada = StoreOrders(db).customer_by_email("ada@example.com")
    router = {
        "where is the order with the headphones?": "order_status",
        "and the one from last week?": "order_status",
    }
    context = make_context(
        db,
        scripted_model([]),
        router,
        authenticated=ada,
        clock=lambda: datetime(2026, 11, 20, 12, tzinfo=UTC),
    )
    chat = Chat(context)
    state = await chat.say("where is the order with the headphones?")
    assert state["tool_calls"][-1]["args"] == {"order_number": "SA-100002"}
    state = await chat.say("and the one from last week?")
    assert state["tool_calls"][-1]["args"] == {"order_number": "SA-100001"}
