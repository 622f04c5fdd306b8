"""The support actions over MCP (streamable HTTP, real uvicorn, the SDK's client) on the
profile store: exchange, address, payment, default address, multi-item return and a
cancellation with a reason; each proposed exactly, confirmed once, replays write nothing, a
token stands for its own change only. The real rows are checked after every write."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import mcp_changes_common as sc
import pytest
from factories_profiles import HARBOR, profile_store
from server_app import TestServer
from shopagent.tools.store.db import StoreDB
from test_mcp_http import ADA, connect


@pytest.fixture
def server(tmp_path: Any) -> Iterator[TestServer]:
    srv = TestServer(tmp_path, db=StoreDB.in_memory(profile_store()))
    yield srv
    srv.close()


async def test_exchange_is_confirmed_once(server: TestServer) -> None:
    async with connect(server, shopper=ADA) as client:
        await sc.exchange_and_replay(client, server.db)


async def test_shipping_address_change(server: TestServer) -> None:
    async with connect(server, shopper=ADA) as client:
        await sc.address_change(client, server.db)


async def test_multi_item_return(server: TestServer) -> None:
    async with connect(server, shopper=ADA) as client:
        await sc.multi_item_return(client, server.db)


async def test_a_token_confirms_only_its_own_change(server: TestServer) -> None:
    async with connect(server, shopper=ADA) as client:
        await sc.token_of_one_change_confirms_no_other(client, server.db)


async def test_a_change_that_is_no_longer_the_proposed_one_is_refused(
    server: TestServer,
) -> None:
    """The blue kettle sells out between the proposal and the yes: the re-checked change is
    not the signed one, so nothing is written and the client is told to propose again."""
    async with connect(server, shopper=ADA) as client:
        proposed = sc.ok(await client.call_tool("propose_exchange", sc.KETTLE_TO_BLUE))
        server.db.set_stock("K-100-BLU", 0)
        token = proposed["confirmation_token"]
        stale = await client.call_tool("confirm_exchange", {"confirmation_token": token})
    error = sc.refused(stale)
    assert "propose_exchange" in error["hint"]
    assert sc.actions(server.db) == []


async def test_payment_and_default_address_changes(server: TestServer) -> None:
    async with connect(server, shopper=ADA) as client:
        saved = sc.ok(await client.call_tool("list_payment_methods", {}))["methods"]
        assert sorted((m["id"], m["label"], m["balance"]) for m in saved) == [
            ("card-1", "Visa ending in 4242", None),
            ("gift-1", "gift card gift-1", "10.00"),
            ("paypal-1", "PayPal", None),
        ]
        assert "ada@example.com" not in str(saved)  # a PayPal account is never shown
        pay = sc.ok(
            await client.call_tool(
                "propose_payment_change",
                {"order_number": "SA-100008", "payment_method_id": "paypal-1"},
            )
        )
        assert pay["change"]["method_id"] == "paypal-1" and pay["change"]["amount"] == "139.98"
        paid = sc.ok(
            await client.call_tool(
                "confirm_payment_change", {"confirmation_token": pay["confirmation_token"]}
            )
        )
        home = sc.ok(
            await client.call_tool(
                "propose_default_address", {"address": HARBOR.model_dump(mode="json")}
            )
        )
        moved = sc.ok(
            await client.call_tool(
                "confirm_default_address", {"confirmation_token": home["confirmation_token"]}
            )
        )
        gift = await client.call_tool(  # 139.98 is more than the gift card's 10.00
            "propose_payment_change", {"order_number": "SA-100008", "payment_method_id": "gift-1"}
        )
    assert paid["created"] and moved["created"] and moved["order_number"] is None
    payments = server.db.order_of("C1", "SA-100008").payments
    assert [(p.kind, p.method_id, p.amount) for p in payments[-2:]] == [
        ("refund", "card-1", Decimal("139.98")),
        ("payment", "paypal-1", Decimal("139.98")),
    ]
    assert server.db.default_address_of("C1") == HARBOR
    assert "balance" in sc.refused(gift)["message"]


async def test_cancel_with_a_reason(server: TestServer) -> None:
    async with connect(server, shopper=ADA) as client:
        bad = await client.call_tool(
            "propose_cancel", {"order_number": "SA-100008", "reason": "because"}
        )
        proposed = sc.ok(
            await client.call_tool(
                "propose_cancel", {"order_number": "SA-100008", "reason": "ordered by mistake"}
            )
        )
        token = proposed["confirmation_token"]
        done = sc.ok(await client.call_tool("confirm_cancel", {"confirmation_token": token}))
    assert "ordered by mistake" in sc.refused(bad)["message"]
    assert proposed["reason"] == "ordered by mistake"
    assert "Reason: ordered by mistake." in proposed["question"]
    assert done["cancelled"] is True
    order = server.db.order_of("C1", "SA-100008")
    assert order.status == "cancelled" and order.cancel_reason == "ordered by mistake"


async def test_a_replayed_item_change_returns_the_recorded_change(server: TestServer) -> None:
    """After the swap the order's line is the new variant, so the re-check finds no change to
    make: the replay is answered from the recorded action, nothing is written twice."""
    async with connect(server, shopper=ADA) as client:
        proposed = sc.ok(
            await client.call_tool(
                "propose_item_change",
                {"order_number": "SA-100008", "items": [{"item_id": "1", "new_sku": "K-100-BLU"}]},
            )
        )
        assert proposed["change"]["amount"] == "3.00"
        token = {"confirmation_token": proposed["confirmation_token"]}
        first = sc.ok(await client.call_tool("confirm_item_change", token))
        replay = sc.ok(await client.call_tool("confirm_item_change", token))
    assert first["created"] is True and replay["created"] is False
    assert replay["action_id"] == first["action_id"] == proposed["change_id"]
    order = server.db.order_of("C1", "SA-100008")
    assert [i.sku for i in order.items] == ["K-100-BLU", "J-500-M"] and order.modified
    assert [p.amount for p in order.payments if p.purpose == "difference"] == [Decimal("3.00")]
    assert len(sc.actions(server.db, "SA-100008")) == 1
