"""Cancellation on SQLite and PostgreSQL: it follows ``actions.cancellable_statuses``
down to the locked row: a shop that lists ``processing`` (docs/store-format.md, "Mapping
your backend's order states") gets its processing orders cancelled, not reported as
cancellable and then left as they were. A cancelled order paid with a gift card gets its
balance back at once (the τ²-bench retail convention), exactly once."""

from __future__ import annotations

import os
from datetime import date, datetime

import profile_dbs
import pytest
from profile_dbs import world
from shopagent.tools import functions as fn
from shopagent.tools.results import VerifiedCustomer
from shopagent.tools.store.schema import ActionRules

from shopagent.errors import ActionNotAllowed

CY = VerifiedCustomer(id="C3", name="Cy Noor", email="cy@example.com")  # SA-100006 processing
TODAY = date(2026, 11, 20)

db = profile_dbs.db


def test_a_listed_processing_order_is_cancelled_once(db) -> None:
    orders, _ = world(db)
    rules = ActionRules(cancellable_statuses=["pending", "processing"])
    assert fn.check_cancel_eligibility(orders, CY, "SA-100006", rules).eligible
    done = fn.cancel_order(
        orders, CY, "SA-100006", today=TODAY, reason="no longer needed", rules=rules
    )
    assert done.cancelled and done.status == "cancelled"
    order = orders.order("C3", "SA-100006")
    assert order.status == "cancelled" and order.cancelled_at == TODAY
    assert order.cancel_reason == "no longer needed"
    again = fn.cancel_order(orders, CY, "SA-100006", today=TODAY, rules=rules)  # a replay
    assert not again.cancelled and again.status == "cancelled"
    assert orders.order("C3", "SA-100006") == order


def test_by_default_a_processing_order_is_refused_and_kept(db) -> None:
    orders, _ = world(db)
    with pytest.raises(ActionNotAllowed):
        fn.cancel_order(orders, CY, "SA-100006", today=TODAY)
    # the row itself refuses a status the shop does not list, whatever the caller checked
    assert orders.cancel("C3", "SA-100006", on=TODAY).status == "processing"
    assert orders.order("C3", "SA-100006").status == "processing"


@pytest.fixture(params=["sqlite", "postgres"])
def gift_paid(request):
    """The profile store plus SA-100011: Ada's pending $9.99 order paid with her gift card
    (balance $10.00 left)."""
    from decimal import Decimal

    from factories_profiles import HOME, profile_store
    from server_app import PgSchema, pg_available
    from shopagent.tools.store.db import StoreDB
    from shopagent.tools.store.schema import Order, OrderItem, Payment

    order = Order(
        number="SA-100011",
        customer_id="C1",
        status="pending",
        placed_at=datetime(2026, 11, 19, 16),
        items=[
            OrderItem(
                sku="C-600",
                product_id="P6",
                name="Clearance Phone Case",
                quantity=1,
                unit_price=Decimal("9.99"),
            )
        ],
        shipping_address=HOME,
        payments=[Payment(kind="payment", amount=Decimal("9.99"), method_id="gift-1")],
    )
    data = profile_store()
    data = data.model_copy(update={"orders": [*data.orders, order]})
    if request.param == "sqlite":
        store = StoreDB.in_memory(data)
        yield store
        store.close()
        return
    if (why := pg_available()) and not os.environ.get("CI"):
        pytest.skip(why)
    from shopagent.tools.store.pg import PgStoreDB

    schema = PgSchema()
    store = PgStoreDB(schema.url)
    store.load(data)
    yield store
    store.close()
    schema.drop()


def test_cancelling_a_gift_card_order_gives_the_balance_back_once(gift_paid) -> None:
    from decimal import Decimal

    orders, _ = world(gift_paid)
    ada = VerifiedCustomer(id="C1", name="Ada Park", email="ada@example.com")

    def balance() -> Decimal | None:
        return {m.id: m.balance for m in gift_paid.payment_methods_of("C1")}["gift-1"]

    assert balance() == Decimal("10.00")
    done = fn.cancel_order(orders, ada, "SA-100011", today=TODAY, reason="ordered by mistake")
    assert done.cancelled and balance() == Decimal("19.99")
    order = orders.order("C1", "SA-100011")
    assert [(p.kind, p.method_id) for p in order.payments] == [
        ("payment", "gift-1"),
        ("refund", "gift-1"),
    ]
    fn.cancel_order(orders, ada, "SA-100011", today=TODAY)  # a replay gives nothing more
    assert balance() == Decimal("19.99")
    # a card-paid order's refund is recorded for the backend; no gift card moves
    fn.cancel_order(orders, ada, "SA-100008", today=TODAY)
    assert balance() == Decimal("19.99")
