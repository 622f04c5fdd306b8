"""The support actions through the real HTTP service (uvicorn on loopback): the
confirmation carries the exact change, approving it writes once, the OpenAPI document
describes every confirmation."""

from __future__ import annotations

import httpx
import pytest
from factories_profiles import profile_store
from server_api_common import new_thread, say
from server_app import TestServer
from shopagent.tools.store.db import StoreDB

EXCHANGE = "I'd like to exchange the kettle from order SA-100007 for the blue one"
SHIP = "please ship my order SA-100008 to 42 Harbor Lane instead"


@pytest.fixture
def srv(tmp_path):
    server = TestServer(tmp_path, db=StoreDB.in_memory(profile_store()))
    yield server
    server.close()


@pytest.fixture
def ada(srv):
    headers = srv.headers(shopper="ada@example.com")
    with httpx.Client(base_url=srv.url, headers=headers, timeout=20) as c:
        yield c


def test_exchange_confirmation_carries_the_change_and_writes_once(srv, ada) -> None:
    thread = new_thread(ada)
    turn = say(ada, thread, EXCHANGE)
    confirmation = turn["confirmation"]
    assert confirmation["action"] == "exchange_items"
    (item,) = confirmation["items"]
    assert item["new_name"] == "Brewster Gooseneck Kettle (blue)"
    assert item["price_difference"] == "3.00" and confirmation["method_label"]
    pending = ada.get(f"/v1/threads/{thread}/confirmation").json()
    assert pending["action"] == "exchange_items"
    done = ada.post(f"/v1/threads/{thread}/confirmation", json={"approve": True})
    assert done.status_code == 200 and "exchange requested" in done.json()["answer"]
    again = ada.post(f"/v1/threads/{thread}/confirmation", json={"approve": True})
    assert again.status_code == 409
    assert len(srv.db.actions_of("C1", "SA-100007")) == 1


def test_declined_address_change_writes_nothing(srv, ada) -> None:
    thread = new_thread(ada)
    turn = say(ada, thread, SHIP)
    assert turn["confirmation"]["action"] == "modify_address"
    assert turn["confirmation"]["address"]["line1"] == "42 Harbor Lane"
    done = ada.post(f"/v1/threads/{thread}/confirmation", json={"approve": False})
    assert done.status_code == 200 and srv.db.actions_of("C1") == []


def test_openapi_describes_every_confirmation(srv) -> None:
    doc = httpx.get(f"{srv.url}/openapi.json", timeout=10).json()
    schemas = doc["components"]["schemas"]
    for name in ("ItemsConfirmation", "AddressConfirmation", "PaymentConfirmation"):
        assert name in schemas
    actions = schemas["ItemsConfirmation"]["properties"]["action"]
    assert set(actions.get("enum", [])) == {"exchange_items", "modify_items"}
