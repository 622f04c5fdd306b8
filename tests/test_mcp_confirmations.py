"""Confirmation tokens of the MCP two-step writes, and what a confirm re-checks (the SDK's
client, connected in-process, over the tiny store in SQLite)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from factories import IN_WINDOW, tiny_store
from mcp import Client
from shopagent.agent.mcp.confirmations import (
    ConfirmationExpired,
    Confirmations,
    InvalidConfirmation,
    derive_key,
)
from shopagent.agent.mcp.deps import OpenedDeps
from shopagent.agent.mcp.identity import HostIdentity
from shopagent.agent.mcp.tools import build_server
from shopagent.tools.catalog import InMemoryCatalog
from shopagent.tools.inventory import InMemoryInventory
from shopagent.tools.orders import StoreOrders
from shopagent.tools.policy import StorePolicy
from shopagent.tools.store.db import StoreDB


def issue(conf: Confirmations, customer: str = "C1") -> str:
    token, _ = conf.issue(customer_id=customer, action="cancel_order",
                          order_number="SA-1", refund_amount=Decimal("5.00"))  # fmt: skip
    return token


def test_a_token_checks_only_for_its_customer_action_and_key() -> None:
    conf = Confirmations(derive_key("s" * 40))
    proposed = conf.check(issue(conf), customer_id="C1", action="cancel_order")
    assert (proposed.order_number, proposed.refund_amount) == ("SA-1", Decimal("5.00"))
    with pytest.raises(InvalidConfirmation):
        conf.check(issue(conf), customer_id="C2", action="cancel_order")
    with pytest.raises(InvalidConfirmation):
        conf.check(issue(conf), customer_id="C1", action="start_return")
    with pytest.raises(InvalidConfirmation):  # another shop's secret
        Confirmations(derive_key("t" * 40)).check(issue(conf), customer_id="C1",
                                                  action="cancel_order")  # fmt: skip
    # processes sharing the shop's secret agree; without one every process has its own key
    assert Confirmations(derive_key("s" * 40)).check(issue(conf), customer_id="C1",
                                                     action="cancel_order")  # fmt: skip
    assert derive_key(None) != derive_key(None)


def test_an_expired_token_says_to_propose_again() -> None:
    conf = Confirmations(derive_key("s" * 40), ttl_s=-60)
    with pytest.raises(ConfirmationExpired) as caught:
        conf.check(issue(conf), customer_id="C1", action="cancel_order")
    assert "propose" in caught.value.hint


async def test_confirm_rechecks_the_policy_and_writes_nothing_when_it_changed() -> None:
    data = tiny_store()
    db = StoreDB.in_memory(data)
    clock = [IN_WINDOW]
    deps = OpenedDeps(
        catalog=InMemoryCatalog(data.products),
        inventory=InMemoryInventory(db),
        orders=StoreOrders(db),
        policy=StorePolicy(data.policy, data.policy_docs),
        clock=lambda: clock[0],
    )
    server = build_server(lambda: deps, HostIdentity("ada@example.com"),
                          Confirmations(derive_key(None)))  # fmt: skip
    async with Client(server) as client:
        proposed = await client.call_tool("propose_return", {"order_number": "SA-100002"})
        token = proposed.structured_content["confirmation_token"]
        clock[0] = IN_WINDOW + timedelta(days=60)  # the return window closed meanwhile
        late = await client.call_tool("confirm_return", {"confirmation_token": token})
    assert late.is_error
    assert late.structured_content["error"]["code"] == "not_allowed"
    assert db.returns_of("C1") == []
