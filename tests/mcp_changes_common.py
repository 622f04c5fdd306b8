"""Scenarios of the MCP support-action tools, run by the HTTP and the stdio tests alike: each
takes the SDK's connected client and the store database (to check the real rows after the
writes), over the profile store (tests/factories_profiles.py): Ada (C1) owns SA-100007
(delivered: a kettle, two jackets) and SA-100008 (pending: a kettle, a jacket)."""

from __future__ import annotations

import base64
import json
from typing import Any

from factories_profiles import HARBOR
from mcp import Client
from mcp.types import CallToolResult

KETTLE_TO_BLUE = {"order_number": "SA-100007", "items": [{"item_id": "1", "new_sku": "K-100-BLU"}]}
SHIP_TO_HARBOR = {"order_number": "SA-100008", "address": HARBOR.model_dump(mode="json")}
KETTLE_AND_JACKET = {
    "order_number": "SA-100007",
    "items": [{"item_id": "1", "quantity": 1}, {"item_id": "2", "quantity": 1}],
    "refund_to_gift_card": True,  # the jacket refunds store credit only, the kettle may follow
}


def ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def refused(result: CallToolResult, code: str = "not_allowed") -> dict[str, Any]:
    assert result.is_error, result.structured_content
    error = (result.structured_content or {})["error"]
    assert error["code"] == code, error
    assert error["hint"], error
    return error


def actions(db: Any, number: str | None = None) -> list[dict[str, Any]]:
    return db.actions_of("C1", number)


async def exchange_and_replay(client: Client, db: Any) -> None:
    """An exchange is proposed exactly, confirmed once, and a replayed confirm writes nothing."""
    proposed = ok(await client.call_tool("propose_exchange", KETTLE_TO_BLUE))
    change = proposed["change"]
    assert proposed["action"] == "exchange_items" and change["eligible"]
    (swap,) = change["swaps"]
    assert swap["new_name"] == "Brewster Gooseneck Kettle (blue)" and swap["new_sku"] == "K-100-BLU"
    assert change["amount"] == "3.00" and change["method_label"]  # charged: 52.99 - 49.99
    assert "Brewster Gooseneck Kettle (blue)" in proposed["question"]
    assert actions(db) == []  # a proposal writes nothing
    token = proposed["confirmation_token"]
    first = ok(await client.call_tool("confirm_exchange", {"confirmation_token": token}))
    replay = ok(await client.call_tool("confirm_exchange", {"confirmation_token": token}))
    assert first["created"] is True and first["order_status"] == "exchange_requested"
    assert first["action_id"] == proposed["change_id"]
    assert replay["created"] is False and replay["action_id"] == first["action_id"]
    (row,) = actions(db, "SA-100007")
    assert row["kind"] == "exchange_items" and row["id"] == first["action_id"]
    assert db.order_of("C1", "SA-100007").status == "exchange_requested"


async def address_change(client: Client, db: Any) -> None:
    proposed = ok(await client.call_tool("propose_shipping_address", SHIP_TO_HARBOR))
    assert proposed["change"]["address"]["line1"] == "42 Harbor Lane"
    assert "42 Harbor Lane" in proposed["question"]
    assert db.order_of("C1", "SA-100008").shipping_address != HARBOR
    token = proposed["confirmation_token"]
    done = ok(await client.call_tool("confirm_shipping_address", {"confirmation_token": token}))
    again = ok(await client.call_tool("confirm_shipping_address", {"confirmation_token": token}))
    assert done["created"] is True and again["created"] is False
    assert db.order_of("C1", "SA-100008").shipping_address == HARBOR
    assert [r["kind"] for r in actions(db, "SA-100008")] == ["modify_address"]


async def multi_item_return(client: Client, db: Any) -> None:
    proposed = ok(await client.call_tool("propose_return_items", KETTLE_AND_JACKET))
    change = proposed["change"]
    assert [(u["sku"], u["quantity"]) for u in change["returns"]] == [
        ("K-100-BLK", 1),
        ("J-500-M", 1),
    ]
    assert change["amount"] == "-139.98" and change["method_label"]  # refunded
    token = proposed["confirmation_token"]
    done = ok(await client.call_tool("confirm_return_items", {"confirmation_token": token}))
    again = ok(await client.call_tool("confirm_return_items", {"confirmation_token": token}))
    assert done["created"] is True and done["order_status"] == "return_requested"
    assert again["created"] is False and again["action_id"] == done["action_id"]
    (row,) = actions(db, "SA-100007")
    assert row["kind"] == "return_items" and row["amount"] == "-139.98"
    assert json.loads(row["details"])["returns"][1]["item_id"] == "2"
    assert db.order_of("C1", "SA-100007").status == "return_requested"


def tampered(token: str, **claims: Any) -> str:
    """``token`` with its payload changed and its signature kept."""
    head, body, sig = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data.update(claims)
    raw = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{head}.{raw}.{sig}"


async def token_of_one_change_confirms_no_other(client: Client, db: Any) -> None:
    """A token for change A (an address change) never confirms change B (an exchange, a
    return, another address): refused, nothing written."""
    address = ok(await client.call_tool("propose_shipping_address", SHIP_TO_HARBOR))
    exchange = ok(await client.call_tool("propose_exchange", KETTLE_TO_BLUE))
    a, b = address["confirmation_token"], exchange["confirmation_token"]
    elsewhere = {**SHIP_TO_HARBOR["address"], "line1": "1 Attacker Road"}
    attempts = [
        ("confirm_exchange", a),
        ("confirm_shipping_address", b),
        ("confirm_return_items", b),
        ("confirm_return", a),
        ("confirm_shipping_address", tampered(a, chg={"address": elsewhere})),
        ("confirm_exchange", tampered(b, chg={"swaps": {"2": "J-500-L"}})),
        ("confirm_shipping_address", tampered(a, ord="SA-100007")),
    ]
    for tool, token in attempts:
        refused(await client.call_tool(tool, {"confirmation_token": token}))
    assert actions(db) == []
    assert db.order_of("C1", "SA-100008").shipping_address != HARBOR
    assert db.order_of("C1", "SA-100007").status == "delivered"
