"""Multi-item returns and the order history through the real HTTP service (uvicorn on
loopback): the confirmation carries every item, unit and the refund; approving writes once;
the OpenAPI document describes the confirmation; the history lists only the shopper's
orders."""

from __future__ import annotations

import httpx
import pytest
from factories_profiles import profile_store
from server_api_common import new_thread, say
from server_app import TestServer
from shopagent.tools.orders import StoreOrders
from shopagent.tools.store.db import StoreDB

RETURN = "return the kettle and one of the jackets from order SA-100007, refund to my gift card"


@pytest.fixture
def srv(tmp_path):
    server = TestServer(tmp_path, db=StoreDB.in_memory(profile_store()))
    yield server
    server.close()


def _client(srv, email: str) -> httpx.Client:
    return httpx.Client(base_url=srv.url, headers=srv.headers(shopper=email), timeout=20)


def test_return_confirmation_carries_every_unit_and_writes_once(srv) -> None:
    with _client(srv, "ada@example.com") as ada:
        thread = new_thread(ada)
        turn = say(ada, thread, RETURN)
        confirmation = turn["confirmation"]
        assert confirmation is not None and confirmation["action"] == "return_items", turn
        assert confirmation["picks"] == {"1": 1, "2": 1}
        assert [i["sku"] for i in confirmation["items"]] == ["K-100-BLK", "J-500-M"]
        assert confirmation["refund_amount"] == "139.98" and confirmation["method_label"]
        done = ada.post(f"/v1/threads/{thread}/confirmation", json={"approve": True})
        assert done.status_code == 200 and "return requested" in done.json()["answer"]
        again = ada.post(f"/v1/threads/{thread}/confirmation", json={"approve": True})
        assert again.status_code == 409
    assert len(srv.db.actions_of("C1", "SA-100007")) == 1
    assert StoreOrders(srv.db).order("C1", "SA-100007").status == "return_requested"


def test_another_customer_cannot_return_it(srv) -> None:
    with _client(srv, "ben@example.com") as ben:
        turn = say(ben, new_thread(ben), RETURN)
        assert turn["confirmation"] is None and "Kettle" not in turn["answer"]
    assert srv.db.actions_of("C1") == [] and srv.db.actions_of("C2") == []


def test_history_lists_only_own_orders(srv) -> None:
    with _client(srv, "ada@example.com") as ada:
        turn = say(ada, new_thread(ada), "show my orders")
    assert [c["name"] for c in turn["tool_calls"]] == ["list_orders"], turn
    orders = StoreOrders(srv.db)
    assert all(o.number in turn["answer"] for o in orders.orders_for("C1"))
    assert not any(o.number in turn["answer"] for o in orders.orders_for("C2"))


def test_openapi_describes_the_return_confirmation(srv) -> None:
    doc = httpx.get(f"{srv.url}/openapi.json", timeout=10).json()
    schema = doc["components"]["schemas"]["ReturnItemsConfirmation"]
    assert set(schema["properties"]) >= {"picks", "items", "refund_amount", "method_label"}
