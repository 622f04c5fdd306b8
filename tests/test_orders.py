"""Order access: verification and ownership enforced in the data layer and the tool."""

import pytest
from factories import tiny_store
from shopagent.tools.functions import get_order_status
from shopagent.tools.orders import StoreOrders
from shopagent.tools.store.db import StoreDB

from shopagent.errors import NotVerified


@pytest.fixture
def orders() -> StoreOrders:
    return StoreOrders(StoreDB.in_memory(tiny_store()))


def test_verify_needs_email_plus_own_order_or_zip(orders: StoreOrders) -> None:
    assert orders.verify("ada@example.com", order_number="SA-100001").id == "C1"
    assert orders.verify("ADA@example.com ", zip_code="94110").id == "C1"
    assert orders.verify("ada@example.com", zip_code="94110-1234").id == "C1"
    assert orders.verify("ada@example.com") is None
    assert orders.verify("ada@example.com", order_number="SA-100003") is None  # Ben's order
    assert orders.verify("ada@example.com", zip_code="10001") is None  # Ben's zip
    assert orders.verify("nobody@example.com", zip_code="94110") is None


def test_other_customers_orders_are_not_found(orders: StoreOrders) -> None:
    assert orders.order("C1", "SA-100001").status == "shipped"
    assert orders.order("C1", "sa-100001").number == "SA-100001"
    for foreign in ("SA-100003", "SA-100004", "SA-100005", "SA-999999"):
        assert orders.order("C1", foreign) is None


def test_orders_for_lists_only_own_newest_first(orders: StoreOrders) -> None:
    assert [o.number for o in orders.orders_for("C1")] == ["SA-100001", "SA-100002"]
    assert orders.orders_for("nope") == []


def test_order_view_carries_category_and_final_sale(orders: StoreOrders) -> None:
    view = orders.order("C3", "SA-100005")
    assert view.items[0].category == "Electronics"
    assert view.items[0].final_sale is True
    assert str(orders.order("C2", "SA-100003").total) == "49.98"


def test_tool_refuses_unverified_and_hides_foreign_orders(orders: StoreOrders) -> None:
    with pytest.raises(NotVerified):
        get_order_status(orders, None, "SA-100001")
    ada = orders.customer_by_email("ada@example.com")
    assert get_order_status(orders, ada, "SA-100003").orders == []
    result = get_order_status(orders, ada, "SA-100002")
    assert [o.number for o in result.orders] == ["SA-100002"]
    assert result.orders[0].delivered_at.isoformat() == "2026-10-06"
