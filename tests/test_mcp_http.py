"""MCP over streamable HTTP: the SDK's client against ``/mcp`` on a real uvicorn (loopback),
with serve's identity (API key, signed shopper token) over the tiny test store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from server_app import TestServer, shopper_token

ADA, BEN = "ada@example.com", "ben@example.com"  # C1 owns SA-100001/2, C2 SA-100003/4

TOOLS = {
    "search_catalog",
    "get_product",
    "check_price_stock",
    "get_return_policy",
    "list_orders",
    "list_payment_methods",
    "get_order",
    "propose_return",
    "confirm_return",
    "propose_cancel",
    "confirm_cancel",
    "propose_return_items",
    "confirm_return_items",
    "propose_exchange",
    "confirm_exchange",
    "propose_item_change",
    "confirm_item_change",
    "propose_shipping_address",
    "confirm_shipping_address",
    "propose_payment_change",
    "confirm_payment_change",
    "propose_default_address",
    "confirm_default_address",
}


@pytest.fixture
def server(tmp_path: Any) -> Iterator[TestServer]:
    srv = TestServer(tmp_path)
    yield srv
    srv.close()


@asynccontextmanager
async def connect(srv: TestServer, shopper: str | None = None) -> AsyncIterator[Client]:
    async with httpx2.AsyncClient(headers=srv.headers(shopper=shopper), timeout=30) as http:
        transport = streamable_http_client(f"{srv.url}/mcp", http_client=http)
        async with Client(transport) as client:
            yield client


def returns_of(srv: TestServer) -> int:
    """Every return in the store, whoever's."""
    return sum(len(srv.db.returns_of(c)) for c in ("C1", "C2", "C3"))


async def test_lists_tools_and_searches(server: TestServer) -> None:
    async with connect(server) as client:
        listed = await client.list_tools()
        assert {t.name for t in listed.tools} == TOOLS
        search = next(t for t in listed.tools if t.name == "search_catalog")
        assert search.output_schema and "hits" in search.output_schema["properties"]
        found = await client.call_tool("search_catalog", {"query": "kettle", "max_price": 40})
    assert not found.is_error
    hits = found.structured_content["hits"]
    assert hits and all(float(h["price"]) <= 40 for h in hits)
    assert any("Kettle" in h["name"] for h in hits)


async def test_order_lookup_for_the_signed_in_shopper(server: TestServer) -> None:
    async with connect(server, shopper=ADA) as client:
        mine = await client.call_tool("list_orders", {})
        one = await client.call_tool("get_order", {"order_number": "SA-100001"})
    assert {o["number"] for o in mine.structured_content["orders"]} == {"SA-100001", "SA-100002"}
    assert one.structured_content["status"] == "shipped"
    assert one.structured_content["tracking_number"] == "1Z999AA10123456784"


async def test_personal_tools_need_a_shopper_token(server: TestServer) -> None:
    async with connect(server) as client:
        refused = await client.call_tool("list_orders", {})
    assert refused.is_error
    assert refused.structured_content["error"]["code"] == "not_verified"
    assert "X-Shopper-Token" in refused.structured_content["error"]["hint"]


async def test_confirmed_return_and_replay_writes_nothing_new(server: TestServer) -> None:
    before = returns_of(server)
    async with connect(server, shopper=ADA) as client:
        proposed = await client.call_tool(
            "propose_return", {"order_number": "SA-100002", "condition": "unopened"}
        )
        assert not proposed.is_error, proposed.content
        assert returns_of(server) == before  # a proposal writes nothing
        change = proposed.structured_content["change"]
        assert change["sku"] == "H-400" and change["eligible"]
        token = proposed.structured_content["confirmation_token"]
        first = await client.call_tool("confirm_return", {"confirmation_token": token})
        replay = await client.call_tool("confirm_return", {"confirmation_token": token})
    assert first.structured_content["created"] is True
    assert first.structured_content["refund_amount"] == change["refund_amount"]
    assert replay.structured_content["created"] is False
    assert replay.structured_content["return_id"] == first.structured_content["return_id"]
    assert returns_of(server) == before + 1


async def test_missing_or_bad_api_key_is_refused_before_mcp(server: TestServer) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    async with httpx2.AsyncClient(timeout=10) as http:
        none = await http.post(f"{server.url}/mcp", json=body)
        bad = await http.post(f"{server.url}/mcp", json=body,
                              headers={"Authorization": "Bearer sa_wrong"})  # fmt: skip
        forged = await http.post(
            f"{server.url}/mcp",
            json=body,
            headers={**server.headers(), "X-Shopper-Token": shopper_token(ADA, secret="x" * 40)},
        )
    assert none.status_code == bad.status_code == 401
    assert none.json()["error"]["code"] == "invalid_api_key"
    assert forged.status_code == 401
    assert forged.json()["error"]["code"] == "invalid_shopper_token"
