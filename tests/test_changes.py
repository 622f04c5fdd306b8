"""Support actions: the pure eligibility rules (tables), then the tools on SQLite and
PostgreSQL (ownership, idempotency, gift card balance, recorded rows)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import profile_dbs
import pytest
from factories import tiny_store
from factories_profiles import HARBOR, HOME, NOW
from profile_dbs import world
from shopagent.tools import changes as ch
from shopagent.tools import functions as fn
from shopagent.tools.change_rules import (
    cancel_reason_problems,
    exchange_problems,
    modify_problems,
    payment_problems,
)
from shopagent.tools.orders import StoreOrders
from shopagent.tools.policy import StorePolicy
from shopagent.tools.results import OrderView, VerifiedCustomer
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.schema import ActionRules, PaymentMethod

from shopagent.errors import ActionNotAllowed

ADA = VerifiedCustomer(id="C1", name="Ada Park", email="ada@example.com")
BEN = VerifiedCustomer(id="C2", name="Ben Cruz", email="ben@example.com")
RULES = ActionRules()


def _view(status: str, delivered: date | None = None, modified: bool = False) -> OrderView:
    return OrderView(
        number="SA-1",
        status=status,
        placed_at=datetime(2026, 11, 1),
        items=[],
        total=Decimal(10),
        delivered_at=delivered,
        modified=modified,
    )


# -- pure rules ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "delivered", "today", "allowed"),
    [
        ("delivered", date(2026, 11, 1), date(2026, 11, 1), True),
        ("delivered", date(2026, 11, 1), date(2026, 12, 1), True),  # day 30: last day
        ("delivered", date(2026, 11, 1), date(2026, 12, 2), False),  # day 31
        ("shipped", None, date(2026, 11, 2), False),
        ("pending", None, date(2026, 11, 2), False),
        ("exchange_requested", date(2026, 11, 1), date(2026, 11, 2), False),
        ("returned", date(2026, 11, 1), date(2026, 11, 2), False),
    ],
)
def test_exchange_window_table(status, delivered, today, allowed) -> None:
    assert (exchange_problems(_view(status, delivered), RULES, today=today) == []) is allowed


@pytest.mark.parametrize(
    ("status", "modified", "once", "allowed"),
    [
        ("pending", False, True, True),
        ("pending", True, True, False),
        ("pending", True, False, True),
        ("processing", False, True, False),
        ("delivered", False, True, False),
        ("cancelled", False, True, False),
    ],
)
def test_modify_table(status, modified, once, allowed) -> None:
    rules = ActionRules(modify_once=once)
    assert (modify_problems(_view(status, modified=modified), rules) == []) is allowed


def test_modify_rules_come_from_the_rules_file() -> None:
    rules = ActionRules(modifiable_statuses=["pending", "processing"])
    assert modify_problems(_view("processing"), rules) == []


@pytest.mark.parametrize(
    ("kind", "balance", "charge", "allowed"),
    [
        ("gift_card", "10.00", "10.00", True),
        ("gift_card", "10.00", "10.01", False),
        ("gift_card", "0.00", "-5.00", True),  # a refund onto a gift card
        ("card", None, "999.00", True),
    ],
)
def test_payment_table(kind, balance, charge, allowed) -> None:
    extra = {"brand": "Visa", "last4": "4242"} if kind == "card" else {}
    method = PaymentMethod(
        id="m", kind=kind, balance=None if balance is None else Decimal(balance), **extra
    )
    assert (payment_problems(method, Decimal(charge)) == []) is allowed
    assert payment_problems(None, Decimal(1))  # not one of the customer's


def test_cancel_reasons_table() -> None:
    assert cancel_reason_problems(None, RULES) == []
    assert cancel_reason_problems("ordered by mistake", RULES) == []
    assert cancel_reason_problems("because", RULES)


# -- tools on both databases ---------------------------------------------------------------------
db = profile_dbs.db


def test_profiles_are_stored(db) -> None:
    assert [m.id for m in db.payment_methods_of("C1")] == ["card-1", "gift-1", "paypal-1"]
    assert db.default_address_of("C1") == HOME and db.default_address_of("C2") is None
    order = StoreOrders(db).order("C1", "SA-100007")
    assert [i.item_id for i in order.items] == ["1", "2", "3"]
    assert order.shipping_address == HOME and order.payments[0].method_id == "card-1"


def test_exchange_writes_once_and_charges_the_gift_card(db) -> None:
    orders, policy = world(db)
    check = ch.check_swap(
        orders,
        policy,
        ADA,
        "SA-100007",
        {"1": "K-100-BLU"},
        "gift-1",
        today=NOW.date(),
        exchange=True,
    )
    assert check.eligible and check.amount == Decimal("3.00")
    assert check.swaps[0].new_name == "Brewster Gooseneck Kettle (blue)"
    done = ch.do_change(orders, policy, ADA, check, now=NOW)
    again = ch.do_change(orders, policy, ADA, check, now=NOW)  # a replayed confirmation
    assert done.created and not again.created and again.action_id == done.action_id
    assert done.order_status == "exchange_requested"
    rows = db.actions_of("C1", "SA-100007")
    assert len(rows) == 1 and rows[0]["kind"] == "exchange_items"
    assert rows[0]["status"] == "requested" and rows[0]["amount"] == "3.00"
    gift = next(m for m in db.payment_methods_of("C1") if m.id == "gift-1")
    assert gift.balance == Decimal("7.00")
    order = orders.order("C1", "SA-100007")
    assert order.payments[-1].amount == Decimal("3.00")
    assert order.payments[-1].purpose == "difference"


def test_exchange_ineligible_cases(db) -> None:
    orders, policy = world(db)
    today = NOW.date()
    out = ch.check_swap(
        orders, policy, ADA, "SA-100007", {"2": "J-500-L"}, None, today=today, exchange=True
    )
    assert not out.eligible and "out of stock" in out.reasons[0]
    other = ch.check_swap(
        orders, policy, ADA, "SA-100007", {"1": "H-400"}, None, today=today, exchange=True
    )
    assert not other.eligible  # another product
    pending = ch.check_swap(
        orders, policy, ADA, "SA-100008", {"1": "K-100-BLU"}, None, today=today, exchange=True
    )
    assert not pending.eligible
    with pytest.raises(ActionNotAllowed):
        ch.check_swap(
            orders, policy, BEN, "SA-100007", {"1": "K-100-BLU"}, None, today=today, exchange=True
        )
    with pytest.raises(ActionNotAllowed):
        ch.do_change(orders, policy, ADA, out, now=NOW)
    assert db.actions_of("C1") == []


def test_another_customers_write_is_refused_in_sql(db) -> None:
    orders, policy = world(db)
    check = ch.check_swap(
        orders,
        policy,
        ADA,
        "SA-100007",
        {"1": "K-100-BLU"},
        "card-1",
        today=NOW.date(),
        exchange=True,
    )
    with pytest.raises(ActionNotAllowed):  # Ben replays Ada's check
        ch.do_change(orders, policy, BEN, check, now=NOW)
    assert db.actions_of("C1") == [] and db.actions_of("C2") == []


def test_pending_item_swap_then_no_more_changes(db) -> None:
    orders, policy = world(db)
    check = ch.check_swap(
        orders,
        policy,
        ADA,
        "SA-100008",
        {"1": "K-100-BLU"},
        "card-1",
        today=NOW.date(),
        exchange=False,
    )
    done = ch.do_change(orders, policy, ADA, check, now=NOW)
    order = orders.order("C1", "SA-100008")
    assert done.created and order.modified and order.items[0].sku == "K-100-BLU"
    assert order.total == Decimal("142.98") and order.status == "pending"
    again = ch.check_address(orders, policy, ADA, HARBOR, "SA-100008")
    assert not again.eligible and "already changed" in again.reasons[0]
    assert not fn.check_cancel_eligibility(orders, ADA, "SA-100008", policy.rules.actions).eligible
    with pytest.raises(ActionNotAllowed):
        fn.cancel_order(orders, ADA, "SA-100008", today=NOW.date(), rules=policy.rules.actions)


def test_address_and_payment_changes(db) -> None:
    orders, policy = world(db)
    check = ch.check_address(orders, policy, ADA, HARBOR, "SA-100008")
    assert check.eligible
    ch.do_change(orders, policy, ADA, check, now=NOW)
    assert orders.order("C1", "SA-100008").shipping_address == HARBOR
    short = ch.check_payment(orders, policy, ADA, "SA-100008", "gift-1")
    assert not short.eligible and "balance" in short.reasons[0]
    paypal = ch.check_payment(orders, policy, ADA, "SA-100008", "paypal-1")
    ch.do_change(orders, policy, ADA, paypal, now=NOW)
    payments = orders.order("C1", "SA-100008").payments
    assert [(p.kind, p.method_id) for p in payments][-2:] == [
        ("refund", "card-1"),
        ("payment", "paypal-1"),
    ]
    foreign = ch.check_payment(orders, policy, ADA, "SA-100008", "card-2")
    assert not foreign.eligible  # Ben's card


def test_default_address_and_cancel_with_reason(db) -> None:
    orders, policy = world(db)
    check = ch.check_address(orders, policy, ADA, HARBOR)
    ch.do_change(orders, policy, ADA, check, now=NOW)
    ch.do_change(orders, policy, ADA, check, now=NOW)
    assert db.default_address_of("C1") == HARBOR
    assert [r["kind"] for r in db.actions_of("C1")] == ["change_default_address"]
    done = fn.cancel_order(orders, ADA, "SA-100008", today=NOW.date(), reason="ordered by mistake")
    order = orders.order("C1", "SA-100008")
    assert done.cancelled and order.cancel_reason == "ordered by mistake"
    assert order.payments[-1].kind == "refund"


def test_an_old_format_store_loads_with_clear_defaults() -> None:
    db = StoreDB.in_memory(tiny_store())  # no profile fields at all
    orders, policy = StoreOrders(db), StorePolicy(tiny_store().policy, {})
    order = orders.order("C1", "SA-100002")
    assert order.shipping_address is None and order.payments == [] and not order.modified
    assert [i.item_id for i in order.items] == ["1"]
    assert db.payment_methods_of("C1") == [] and db.default_address_of("C1") is None
    assert policy.rules.actions == ActionRules()
    pay = ch.check_payment(orders, policy, BEN, "SA-100003", "card-x")
    assert not pay.eligible and "not one of your saved" in pay.reasons[0]
