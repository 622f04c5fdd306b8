"""Red team over MCP (streamable HTTP, real uvicorn): a shopper token for one customer never
reaches another customer's data, and never writes to another customer's orders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from factories_profiles import HARBOR, profile_store
from mcp.types import CallToolResult
from server_app import TestServer
from shopagent.tools.store.db import StoreDB
from test_mcp_http import ADA, BEN, connect, returns_of

# Ben's (C2) orders and what identifies them; Ada (C1) is the attacker
BEN_ORDERS = ("SA-100003", "SA-100004")
BEN_SECRETS = ("SA-100003", "SA-100004", "W-300", "J-500-M", "Ben Cruz", "ben@example.com")
BEN_CARD = ("card-2", "Mastercard", "5555")  # Ben's saved card (profile store)
# the support actions' propose tools, with arguments that would fit Ben's orders
CHANGE_PROPOSALS = [
    ("propose_exchange", {"items": [{"item_id": "1", "new_sku": "J-500-L"}]}),
    ("propose_item_change", {"items": [{"item_id": "1", "new_sku": "J-500-L"}]}),
    ("propose_shipping_address", {"address": HARBOR.model_dump(mode="json")}),
    ("propose_payment_change", {"payment_method_id": "card-2"}),
    ("propose_return_items", {"items": [{"item_id": "1", "quantity": 1}]}),
    ("propose_cancel", {"reason": "ordered by mistake"}),
]


@pytest.fixture
def server(tmp_path: Any) -> Iterator[TestServer]:
    srv = TestServer(tmp_path)
    yield srv
    srv.close()


@pytest.fixture
def profiles(tmp_path: Any) -> Iterator[TestServer]:
    """The profile store: saved payment methods, addresses, Ada's SA-100007/8."""
    srv = TestServer(tmp_path, db=StoreDB.in_memory(profile_store()))
    yield srv
    srv.close()


def text_of(result: CallToolResult) -> str:
    parts = [getattr(c, "text", "") for c in result.content]
    return "\n".join(parts) + json.dumps(result.structured_content or {})


def assert_no_leak(result: CallToolResult, *, asked: str) -> None:
    """Nothing of Ben's in the answer except the order number the attacker typed."""
    body = text_of(result)
    for secret in BEN_SECRETS:
        if secret != asked:
            assert secret not in body, f"{secret} leaked: {body}"


async def test_someone_elses_order_looks_like_no_order(server: TestServer) -> None:
    async with connect(server, shopper=ADA) as client:
        theirs = await client.call_tool("get_order", {"order_number": "SA-100003"})
        missing = await client.call_tool("get_order", {"order_number": "SA-999999"})
        listed = await client.call_tool("list_orders", {})
    assert theirs.is_error and missing.is_error
    assert theirs.structured_content["error"]["code"] == "not_found"
    # the same answer as for an order that does not exist: existence is not revealed
    assert text_of(theirs).replace("SA-100003", "X") == text_of(missing).replace("SA-999999", "X")
    assert_no_leak(theirs, asked="SA-100003")
    assert_no_leak(listed, asked="")


async def test_no_proposal_or_write_on_someone_elses_order(server: TestServer) -> None:
    before = returns_of(server)
    async with connect(server, shopper=ADA) as client:
        for number in BEN_ORDERS:
            ret = await client.call_tool("propose_return", {"order_number": number})
            cancel = await client.call_tool("propose_cancel", {"order_number": number})
            for result in (ret, cancel):
                assert result.is_error, text_of(result)
                assert "confirmation_token" not in (result.structured_content or {})
                assert_no_leak(result, asked=number)
    assert returns_of(server) == before
    assert server.db.order_of("C2", "SA-100003").status == "pending"


async def test_a_token_proposed_to_one_shopper_is_refused_for_another(server: TestServer) -> None:
    async with connect(server, shopper=BEN) as ben:
        proposed = await ben.call_tool("propose_cancel", {"order_number": "SA-100003"})
    assert not proposed.is_error, text_of(proposed)
    token = proposed.structured_content["confirmation_token"]
    async with connect(server, shopper=ADA) as ada:
        stolen = await ada.call_tool("confirm_cancel", {"confirmation_token": token})
        wrong_tool = await ada.call_tool("confirm_return", {"confirmation_token": token})
        forged = await ada.call_tool("confirm_cancel", {"confirmation_token": token[:-4] + "AAAA"})
    for result in (stolen, wrong_tool, forged):
        assert result.is_error
        assert result.structured_content["error"]["code"] == "not_allowed"
        assert_no_leak(result, asked="")
    assert server.db.order_of("C2", "SA-100003").status == "pending"  # nothing cancelled


async def test_a_customer_named_in_arguments_is_not_trusted(server: TestServer) -> None:
    async with connect(server, shopper=ADA) as client:
        result = await client.call_tool(
            "list_orders", {"customer": BEN, "customer_email": BEN, "customer_id": "C2"}
        )
    if not result.is_error:
        numbers = {o["number"] for o in result.structured_content["orders"]}
        assert numbers == {"SA-100001", "SA-100002"}
    assert_no_leak(result, asked="")


async def test_without_a_token_no_personal_data_at_all(server: TestServer) -> None:
    async with connect(server) as client:
        for tool, args in [
            ("list_orders", {}),
            ("get_order", {"order_number": "SA-100003"}),
            ("propose_return", {"order_number": "SA-100003"}),
            ("propose_cancel", {"order_number": "SA-100003"}),
        ]:
            result = await client.call_tool(tool, args)
            assert result.is_error
            assert result.structured_content["error"]["code"] == "not_verified"
            assert_no_leak(result, asked="SA-100003")


async def test_support_actions_never_reach_someone_elses_order(profiles: TestServer) -> None:
    async with connect(profiles, shopper=ADA) as client:
        for number in BEN_ORDERS:
            for tool, args in CHANGE_PROPOSALS:
                result = await client.call_tool(tool, {"order_number": number, **args})
                assert result.is_error, (tool, text_of(result))
                assert "confirmation_token" not in (result.structured_content or {})
                assert_no_leak(result, asked=number)
                missing = await client.call_tool(tool, {"order_number": "SA-999999", **args})
                # the same answer as for an order that does not exist
                same = text_of(missing).replace("SA-999999", number)
                assert text_of(result) == same, (tool, text_of(result), same)
        # Ben's saved card on Ada's own pending order
        card = await client.call_tool(
            "propose_payment_change", {"order_number": "SA-100008", "payment_method_id": "card-2"}
        )
    assert card.is_error
    assert not any(s in text_of(card) for s in BEN_CARD[1:])
    assert profiles.db.actions_of("C1") == profiles.db.actions_of("C2") == []
    ben = profiles.db.order_of("C2", "SA-100003")
    assert ben.status == "pending" and ben.shipping_address is None and not ben.cancel_reason


async def test_a_support_action_token_is_refused_for_another_shopper(profiles: TestServer) -> None:
    async with connect(profiles, shopper=BEN) as ben:
        proposed = await ben.call_tool(
            "propose_shipping_address",
            {"order_number": "SA-100003", "address": HARBOR.model_dump(mode="json")},
        )
    assert not proposed.is_error, text_of(proposed)
    token = proposed.structured_content["confirmation_token"]
    async with connect(profiles, shopper=ADA) as ada:
        for tool in ("confirm_shipping_address", "confirm_exchange", "confirm_cancel"):
            stolen = await ada.call_tool(tool, {"confirmation_token": token})
            assert stolen.is_error and stolen.structured_content["error"]["code"] == "not_allowed"
            assert_no_leak(stolen, asked="")
        listed = await ada.call_tool("list_orders", {})
    numbers = {o["number"] for o in listed.structured_content["orders"]}
    assert numbers == {"SA-100001", "SA-100002", "SA-100007", "SA-100008"}
    assert profiles.db.order_of("C2", "SA-100003").shipping_address is None
    assert profiles.db.actions_of("C2") == []


async def test_without_a_token_no_support_action(profiles: TestServer) -> None:
    async with connect(profiles) as client:
        for tool, args in CHANGE_PROPOSALS:
            result = await client.call_tool(tool, {"order_number": "SA-100003", **args})
            assert result.structured_content["error"]["code"] == "not_verified"
            assert_no_leak(result, asked="SA-100003")
        home = await client.call_tool(
            "propose_default_address", {"address": HARBOR.model_dump(mode="json")}
        )
        saved = await client.call_tool("list_payment_methods", {})
    assert home.structured_content["error"]["code"] == "not_verified"
    assert "card-1" not in str(saved) and saved.structured_content["error"]["code"] == (
        "not_verified"
    )
