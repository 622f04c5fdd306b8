"""Questions over several of the customer's own orders: the order set a message points at,
the lines it names in them, and the graph answering from the products' own data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from factories import CUSTOMERS, ORDERS, PRODUCTS, STOCK, make_context, tiny_store
from graph_common import Chat
from shopagent.agent.understanding.clarification import asked_again
from shopagent.agent.understanding.order_sets import (
    MAX_LINES,
    OrderSetRef,
    item_words,
    order_set_reference,
    pick_lines,
    resolve_order_set,
)
from shopagent.tools.catalog import InMemoryCatalog
from shopagent.tools.orders import StoreOrders
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.schema import Order, OrderItem, Product, StockLevel, Variant

TODAY = date(2026, 11, 20)


def _shirt(pid: str, name: str, sku: str, material: str, color: str) -> Product:
    return Product(
        id=pid,
        name=name,
        brand=name.split()[0],
        category="Apparel",
        description=f"A soft everyday tee in {material}.",
        attributes={"material": material},
        variants=[Variant(sku=sku, price=Decimal("24.00"), attributes={"color": color})],
    )


SHIRTS = [
    _shirt("P7", "Loom Crew T-Shirt", "T-700", "organic cotton", "white"),
    _shirt("P8", "Ridge Trail T-Shirt", "T-800", "merino wool", "grey"),
]


def _line(sku: str, pid: str, name: str) -> OrderItem:
    return OrderItem(sku=sku, product_id=pid, name=name, quantity=1, unit_price=Decimal("24.00"))


SHIRT_ORDER = Order(
    number="SA-100007",
    customer_id="C1",
    status="delivered",
    placed_at=datetime(2026, 9, 10, 9),
    items=[
        _line("T-700", "P7", "Loom Crew T-Shirt"),
        _line("T-800", "P8", "Ridge Trail T-Shirt"),
        _line("W-300", "P3", "ThermaCup Desk Mug Warmer"),
    ],
    delivered_at=date(2026, 9, 14),
)
OTHERS_SHIRT = SHIRT_ORDER.model_copy(update={"number": "SA-100008", "customer_id": "C2"})


def _store():
    data = tiny_store()
    return data.model_copy(
        update={
            "products": [*PRODUCTS, *SHIRTS],
            "stock": [
                StockLevel(sku=s, stock=n) for s, n in {**STOCK, "T-700": 3, "T-800": 2}.items()
            ],
            "orders": [*ORDERS, SHIRT_ORDER, OTHERS_SHIRT],
            "customers": CUSTOMERS,
        }
    )


# -- pure: which orders, which lines ----------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kind", "n", "count"),
    [
        ("the two t-shirts in my other order: what are they made of?", "other", None, 2),
        ("What are the items in my last two orders made of?", "last_n", 2, None),
        ("what are the things in my 3 most recent orders made of", "last_n", 3, None),
        ("is the kettle in the order with the lamp dishwasher safe?", "named", None, None),
        ("are both mugs from my orders dishwasher safe?", "all", None, 2),
        ("what is the jacket made of?", None, None, None),
    ],
)
def test_the_order_set_a_message_points_at(text, kind, n, count) -> None:
    ref = order_set_reference(text)
    if kind is None:
        assert ref is None
        return
    assert ref is not None and (ref.kind, ref.n, ref.count) == (kind, n, count)
    assert ref.phrase.casefold() not in item_words(text, ref).casefold()


def test_orders_and_lines_resolve_against_the_customers_own_orders() -> None:
    mine = [o for o in _store().orders if o.customer_id == "C1"]  # 11-15, 10-01, 09-10
    other = OrderSetRef(kind="other", phrase="my other order", count=2)
    kw = {"text": "", "query": "", "latest": False, "today": TODAY}
    picked = resolve_order_set(mine, other, current=None, **kw)
    assert [o.number for o in picked] == ["SA-100002", "SA-100007"]  # not the newest
    assert [o.number for o in resolve_order_set(mine, other, current="sa-100007", **kw)] == [
        "SA-100001",
        "SA-100002",
    ]
    last2 = OrderSetRef(kind="last_n", phrase="my last two orders", n=2)
    assert [o.number for o in resolve_order_set(mine, last2, current=None, **kw)] == [
        "SA-100001",
        "SA-100002",
    ]
    lines = pick_lines(picked, other, "the two t-shirts : what are they made of?", {})
    assert [line.sku for _, line in lines] == ["T-700", "T-800"]
    grey = pick_lines(picked, other, "the grey t-shirt", {"T-800": {"color": "grey"}})
    assert [line.sku for _, line in grey] == ["T-800"]
    # no word names a line: every line (a product once), at most MAX_LINES or the count named
    everything = OrderSetRef(kind="all", phrase="my orders")
    assert len(pick_lines(mine, everything, "what are they made of", {})) == MAX_LINES == 4
    three = OrderSetRef(kind="all", phrase="my orders", count=3)
    assert len(pick_lines(mine, three, "what are they made of", {})) == 3
    assert pick_lines([], everything, "t-shirts", {}) == []
    # the words of the question name no item: a line whose name carries "of" or "the" must
    # not win on them
    last2_ref = order_set_reference("What are the things in my last two orders made of?")
    words = item_words("What are the things in my last two orders made of?", last2_ref)
    assert words == ""
    assert len(pick_lines(mine, last2_ref, words, {})) == 4


# -- the graph: ownership-checked lookups, answered from the products' data --------------
async def test_the_t_shirts_in_my_other_order_are_answered_per_product(scripted_model) -> None:
    data = _store()
    db = StoreDB.in_memory(data)
    message = "the two t-shirts in my other order: what are they made of?"
    ada = StoreOrders(db).customer_by_email("ada@example.com")
    context = make_context(
        db,
        scripted_model([]),
        {message: "product_question"},
        catalog=InMemoryCatalog(data.products),
        authenticated=ada,
    )
    state = await Chat(context).say(message)
    calls = state["tool_calls"]
    assert [c["name"] for c in calls] == [
        "get_order_status",
        "get_product_details",
        "get_product_details",
    ]
    assert calls[0]["args"] == {"order_number": None} and calls[0]["ok"]
    assert {o["number"] for o in calls[0]["result"]["orders"]} == {
        "SA-100001",
        "SA-100002",
        "SA-100007",
    }  # only Ada's orders: never SA-100008
    assert [c["args"]["product_id"] for c in calls[1:]] == ["P7", "P8"]
    answer = state["messages"][-1].content.casefold()
    assert "organic cotton" in answer and "merino wool" in answer
    assert "mug warmer" not in answer


async def test_an_anonymous_shopper_gets_no_order_lines(scripted_model) -> None:
    data = _store()
    db = StoreDB.in_memory(data)
    message = "the two t-shirts in my other order: what are they made of?"
    context = make_context(
        db,
        scripted_model([]),
        {message: "product_question"},
        catalog=InMemoryCatalog(data.products),
    )
    state = await Chat(context).say(message)
    assert "get_order_status" not in [c["name"] for c in state["tool_calls"]]
    assert "sa-100007" not in state["messages"][-1].content.casefold()


# -- no clarification loop: the same question is never asked twice in a row --------------
def test_a_question_asked_again_says_how_to_answer() -> None:
    question = "Which order would you like to return?\n1. SA-1 (Mug)\n2. SA-2 (Lamp)"
    assert asked_again(question, "Here are your orders") == question
    again = asked_again(question, question)
    assert again != question and again.endswith("1. SA-1 (Mug)\n2. SA-2 (Lamp)")
    assert "number" in again and "person" in again
    assert asked_again("Which size?", "Which size?") != "Which size?"


async def test_an_unresolved_answer_does_not_get_the_same_question(scripted_model) -> None:
    data = _store()
    db = StoreDB.in_memory(data)
    first, second = "I want to return something", "hmm, the one I liked least"
    ada = StoreOrders(db).customer_by_email("ada@example.com")
    context = make_context(
        db,
        scripted_model([]),
        {first: "return_request", second: "return_request"},
        catalog=InMemoryCatalog(data.products),
        authenticated=ada,
        clock=lambda: datetime(2026, 10, 20, tzinfo=UTC),
    )
    chat = Chat(context)
    asked = (await chat.say(first))["messages"][-1].content
    assert asked.startswith("Which order would you like to return?")
    again = (await chat.say(second))["messages"][-1].content
    assert again.strip() != asked.strip()
    assert "SA-100002" in again and "SA-100007" in again  # the list is still there
