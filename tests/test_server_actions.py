"""The support actions the other server tests leave out, through the real HTTP service
(uvicorn on loopback, scripted model, keyword router) on SQLite and PostgreSQL: a pending
order's payment method and items (asked as an exchange: an order not shipped yet has its
items changed), the default address, a cancellation with its reason, a multi-item return,
then the order history; each confirmation carries the change, approving it writes once, a replayed
approval is refused."""

from __future__ import annotations

import os
from decimal import Decimal

import httpx
import pytest
from cli_actions_common import cli_store
from server_api_common import new_thread, say
from server_app import PgSchema, TestServer, pg_available
from shopagent.tools.orders import StoreOrders

# (message, the confirmation's action, the approved answer's words)
STEPS = [
    ("pay for my order SA-100008 with my paypal instead", "modify_payment", "now paid with PayPal"),
    ("exchange the kettle in my order SA-100008 for the blue one", "modify_items", "are changed"),
    ("change my default address to 7 Oak Street, Boulder, CO 80302", "change_default_address",
     "default address is now 7 Oak Street"),
    ("cancel order SA-100010 because I no longer need it", "cancel_order", "is cancelled"),
    ("return the kettle and one of the jackets from order SA-100007, refund to my gift card",
     "return_items", "return requested"),
]  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def srv(request, tmp_path):
    schema = None
    if request.param == "sqlite":
        from shopagent.tools.store.db import StoreDB

        db = StoreDB.in_memory(cli_store())
    else:
        if (why := pg_available()) and not os.environ.get("CI"):
            pytest.skip(why)
        from shopagent.tools.store.pg import PgStoreDB

        schema = PgSchema()
        db = PgStoreDB(schema.url)
        db.load(cli_store())
    server = TestServer(tmp_path, db=db)
    yield server
    server.close()
    db.close()
    if schema is not None:
        schema.drop()


def test_payment_items_default_address_cancel_and_history(srv) -> None:
    headers = srv.headers(shopper="ada@example.com")
    with httpx.Client(base_url=srv.url, headers=headers, timeout=30) as ada:
        thread = new_thread(ada)
        for message, action, words in STEPS:
            turn = say(ada, thread, message)
            assert (turn["confirmation"] or {}).get("action") == action, (message, turn)
            done = ada.post(f"/v1/threads/{thread}/confirmation", json={"approve": True})
            assert done.status_code == 200 and words in done.json()["answer"], done.json()
            again = ada.post(f"/v1/threads/{thread}/confirmation", json={"approve": True})
            assert again.status_code == 409
        history = say(ada, thread, "show my orders")
    assert [c["name"] for c in history["tool_calls"]] == ["list_orders"], history
    assert "SA-100010" in history["answer"] and "SA-100003" not in history["answer"]
    kinds = sorted(r["kind"] for r in srv.db.actions_of("C1"))
    assert kinds == ["change_default_address", "modify_items", "modify_payment", "return_items"]
    (returned,) = srv.db.actions_of("C1", "SA-100007")
    assert (returned["status"], returned["amount"]) == ("requested", "-139.98")
    orders = StoreOrders(srv.db)
    pending = orders.order("C1", "SA-100008")
    assert [i.sku for i in pending.items] == ["K-100-BLU", "J-500-M"] and pending.modified
    assert (pending.payments[2].kind, pending.payments[2].method_id) == ("payment", "paypal-1")
    assert pending.payments[-1].amount == Decimal(3)
    assert srv.db.default_address_of("C1").city == "Boulder"
    cancelled = orders.order("C1", "SA-100010")
    assert cancelled.status == "cancelled" and cancelled.cancel_reason == "no longer needed"
    assert orders.order("C1", "SA-100007").status == "return_requested"
    assert srv.db.actions_of("C2") == []
