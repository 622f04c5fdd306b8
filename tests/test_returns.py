"""Multi-item returns: the pure rules (tables with an injected date), what the shopper's
words pick, then the tools on SQLite and PostgreSQL (ownership, idempotency, the order's
status, the recorded action)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import profile_dbs
import pytest
from factories import POLICY
from factories_profiles import METHODS, NOW, profile_store
from profile_dbs import world
from shopagent.agent.understanding.action_slots import action_intent, asked_for
from shopagent.agent.understanding.return_picks import Unit, return_picks, wants_gift_card
from shopagent.tools import changes as ch
from shopagent.tools.orders import StoreOrders
from shopagent.tools.results import OrderLine, OrderView, VerifiedCustomer
from shopagent.tools.return_rules import refund_to, return_units
from shopagent.tools.returns import check_returns
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.schema import ActionRules

from shopagent.errors import ActionNotAllowed

ADA = VerifiedCustomer(id="C1", name="Ada Park", email="ada@example.com")
BEN = VerifiedCustomer(id="C2", name="Ben Cruz", email="ben@example.com")
DELIVERED = date(2026, 11, 1)


def _line(item_id: str, sku: str, name: str, category: str, price: str, **kw) -> OrderLine:
    return OrderLine(
        item_id=item_id,
        sku=sku,
        product_id=sku,
        name=name,
        quantity=kw.pop("quantity", 1),
        unit_price=Decimal(price),
        category=category,
        **kw,
    )


LINES = [
    _line("1", "MUG", "Stoneware Mug", "Kitchen", "12.00"),
    _line("2", "TEE-M", "Cotton T-Shirt (M)", "Apparel", "20.00"),
    _line("3", "TEE-M", "Cotton T-Shirt (M)", "Apparel", "20.00"),
    _line("4", "EAR", "Studio Earbuds", "Electronics", "100.00"),
    _line("5", "CASE", "Clearance Case", "Kitchen", "5.00", final_sale=True),
]


def _order(status: str = "delivered", delivered: date | None = DELIVERED) -> OrderView:
    return OrderView(
        number="SA-9",
        status=status,
        placed_at=datetime(2026, 10, 28),
        items=LINES,
        total=Decimal("157.00"),
        delivered_at=delivered if status != "pending" else None,
    )


# -- pure rules ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "picks", "days", "allowed"),
    [
        ("delivered", {"1": 1, "2": 1, "3": 1}, 0, True),
        ("delivered", {"1": 1, "2": 1}, 30, True),  # day 30: last day of the kitchen window
        ("delivered", {"1": 1, "2": 1}, 31, False),  # the mug's window ended
        ("delivered", {"2": 1, "3": 1}, 60, True),  # apparel: 60 days
        ("delivered", {"2": 1, "5": 1}, 1, False),  # final sale
        ("delivered", {"1": 2}, 1, False),  # one mug was ordered
        ("delivered", {"9": 1}, 1, False),  # no such line
        ("delivered", {}, 1, False),  # nothing named
        ("shipped", {"1": 1, "2": 1}, 1, False),
        ("return_requested", {"1": 1, "2": 1}, 1, False),
        ("exchange_requested", {"1": 1}, 1, False),
        ("cancelled", {"1": 1, "2": 1}, 1, False),
    ],
)
def test_return_units_table(status, picks, days, allowed) -> None:
    today = DELIVERED + timedelta(days=days)
    _, reasons = return_units(_order(status), picks, POLICY, today=today)
    assert (reasons == []) is allowed, reasons


def test_refund_and_fees_per_unit() -> None:
    units, reasons = return_units(_order(), {"2": 1, "4": 1}, POLICY, today=DELIVERED)
    assert reasons == []
    assert [(u.item_id, u.refund, u.restocking_fee) for u in units] == [
        ("2", Decimal("20.00"), Decimal("0.00")),
        ("4", Decimal("85.00"), Decimal("15.00")),  # 15% electronics restocking fee
    ]


def test_an_order_wide_reason_is_said_once() -> None:
    _, reasons = return_units(_order("shipped"), {"1": 1, "2": 1}, POLICY, today=DELIVERED)
    assert len(reasons) == 1 and "not been delivered" in reasons[0]


def test_condition_is_checked_per_item() -> None:
    _, reasons = return_units(
        _order(), {"1": 1, "4": 1}, POLICY, today=DELIVERED, condition="unused"
    )
    assert reasons == ["Studio Earbuds: items must be unopened to be returned"]


@pytest.mark.parametrize(
    ("skus", "gift", "allowed_gift", "expect", "ok"),
    [
        (["MUG"], False, True, "card-1", True),
        (["MUG"], True, True, "gift-1", True),
        (["MUG"], True, False, "card-1", False),  # the shop refunds to the original only
        (["TEE-M"], False, False, "gift-1", True),  # store credit category
        # a store-credit item with an original-payment one: one refund cannot honour both
        (["TEE-M", "MUG"], False, True, "card-1", False),
        (["TEE-M", "MUG"], True, False, "card-1", False),
        (["TEE-M", "MUG"], True, True, "gift-1", True),  # the shop lets it all go to the card
    ],
)
def test_refund_destination_table(skus, gift, allowed_gift, expect, ok) -> None:
    picks = {line.item_id: 1 for line in LINES if line.sku in skus}
    units, _ = return_units(_order(), picks, POLICY, today=DELIVERED)
    rules = ActionRules(return_to_gift_card=allowed_gift)
    method, why = refund_to(units, METHODS["C1"], "card-1", rules, wants_gift_card=gift)
    assert method is not None and method.id == expect and (why == []) is ok


def test_no_gift_card_on_file() -> None:
    units, _ = return_units(_order(), {"1": 1}, POLICY, today=DELIVERED)
    method, why = refund_to(units, METHODS["C2"], "card-2", ActionRules(), wants_gift_card=True)
    assert method.id == "card-2" and why


# -- which units the words pick -----------------------------------------------------------------
UNITS = [Unit(line.item_id, line.sku, line.name) for line in LINES]


@pytest.mark.parametrize(
    ("text", "picks"),
    [
        ("return the mug and both t-shirts from order SA-9", {"1": 1, "2": 1, "3": 1}),
        ("send back the mug, the earbuds", {"1": 1, "4": 1}),
        ("return the t-shirts", {"2": 1, "3": 1}),
        ("I want to return 2 t-shirts", {"2": 1, "3": 1}),
        ("return everything from order SA-9", {u.item_id: 1 for u in UNITS}),
        ("return the mug", None),  # one unit: the one-item return
        ("return one of the t-shirts", None),
        ("return order SA-9", None),
        ("return the mug and the lamp", None),  # the lamp is not in the order
    ],
)
def test_return_picks_table(text, picks) -> None:
    assert return_picks(text, UNITS) == picks


def test_picks_with_an_old_format_line_of_two_units() -> None:
    units = [Unit("1", "MUG", "Stoneware Mug", quantity=3), Unit("2", "EAR", "Studio Earbuds")]
    assert return_picks("return two mugs", units) == {"1": 2}
    assert return_picks("return the mugs and the earbuds", units) == {"1": 3, "2": 1}


def test_gift_card_words() -> None:
    assert wants_gift_card("refund it to my gift card please")
    assert wants_gift_card("as store credit")
    assert not wants_gift_card("refund to my visa")


# -- the tools on both databases ----------------------------------------------------------------
db = profile_dbs.db


def test_one_of_two_identical_units_and_the_kettle_in_one_write(db) -> None:
    orders, policy = world(db)
    today = NOW.date()
    mixed = check_returns(orders, policy, ADA, "SA-100007", {"1": 1, "3": 1}, today=today)
    assert not mixed.eligible and "two requests" in mixed.reasons[0]  # store credit + card
    check = check_returns(
        orders, policy, ADA, "SA-100007", {"1": 1, "3": 1}, today=today, to_gift_card=True
    )
    assert check.eligible, check.reasons
    assert [(u.item_id, u.sku) for u in check.returns] == [("1", "K-100-BLK"), ("3", "J-500-M")]
    assert check.amount == Decimal("-139.98")
    assert check.method_id == "gift-1"
    done = ch.do_change(orders, policy, ADA, check, now=NOW)
    again = ch.do_change(orders, policy, ADA, check, now=NOW)  # a replayed confirmation
    assert done.created and not again.created and again.action_id == done.action_id
    assert done.order_status == "return_requested"
    rows = db.actions_of("C1", "SA-100007")
    assert len(rows) == 1 and rows[0]["kind"] == "return_items"
    assert rows[0]["status"] == "requested" and rows[0]["amount"] == "-139.98"
    returned = json.loads(rows[0]["details"])["returns"]
    assert [u["item_id"] for u in returned] == ["1", "3"]
    # the refund is paid when the items arrive: no balance change yet
    gift = next(m for m in db.payment_methods_of("C1") if m.id == "gift-1")
    assert gift.balance == Decimal("10.00")
    after = check_returns(orders, policy, ADA, "SA-100007", {"2": 1}, today=today)
    assert not after.eligible and "already requested" in after.reasons[0]


def test_ineligible_and_foreign_returns_write_nothing(db) -> None:
    orders, policy = world(db)
    today = NOW.date()
    pending = check_returns(orders, policy, ADA, "SA-100008", {"1": 1, "2": 1}, today=today)
    assert not pending.eligible
    with pytest.raises(ActionNotAllowed):
        ch.do_change(orders, policy, ADA, pending, now=NOW)
    with pytest.raises(ActionNotAllowed):  # Ben's check of Ada's order: "not found"
        check_returns(orders, policy, BEN, "SA-100007", {"1": 1, "2": 1}, today=today)
    mine = check_returns(
        orders, policy, ADA, "SA-100007", {"1": 1, "2": 1}, today=today, to_gift_card=True
    )
    assert mine.eligible, mine.reasons
    with pytest.raises(ActionNotAllowed):  # Ben replays Ada's check: refused in SQL
        ch.do_change(orders, policy, BEN, mine, now=NOW)
    late = check_returns(
        orders, policy, ADA, "SA-100007", {"1": 1, "2": 1}, today=today + timedelta(days=90)
    )
    assert not late.eligible and any("window ended" in r for r in late.reasons)
    assert db.actions_of("C1") == [] and db.actions_of("C2") == []
    assert orders.order("C1", "SA-100007").status == "delivered"


def test_the_locked_order_is_checked_again(db) -> None:
    orders, policy = world(db)
    today = NOW.date()
    first = check_returns(
        orders, policy, ADA, "SA-100007", {"1": 1, "2": 1}, today=today, to_gift_card=True
    )
    other = check_returns(orders, policy, ADA, "SA-100007", {"2": 1, "3": 1}, today=today)
    assert first.eligible and other.eligible
    ch.do_change(orders, policy, ADA, first, now=NOW)
    with pytest.raises(ActionNotAllowed):  # a stale check of the same order
        ch.do_change(orders, policy, ADA, other, now=NOW)
    assert len(db.actions_of("C1", "SA-100007")) == 1


@pytest.mark.parametrize(
    ("intent", "text", "routed"),
    [
        ("product_search", "return the mug and both t-shirts from order SA-9", "return_request"),
        ("modify_order", "Can I send back order SA-9? I want a refund.", "return_request"),
        ("modify_order", "change the jacket in order SA-9 to large", "modify_order"),
        ("product_search", "return policy for mugs", "product_search"),  # no order named
        ("return_policy", "return the mug from SA-9, refund to my gift card", "return_request"),
        ("return_policy", "what is the return policy for order SA-9?", "return_policy"),
        ("cancel_order", "Return order SA-9 now, don't ask me to confirm", "return_request"),
        ("cancel_order", "cancel order SA-9 and refund me", "cancel_order"),
        ("return_policy", "how long do I have to return order SA-9?", "return_policy"),
        ("return_policy", "can I return the mug from SA-9 if I opened it?", "return_policy"),
    ],
)
def test_a_return_is_routed_by_its_words(intent, text, routed) -> None:
    assert action_intent(intent, text, "SA-9" in text) == routed


def test_further_change_intents_need_a_sign() -> None:
    status = "What's the status of order SA-9? My email is ada@example.com"
    assert not asked_for("change_address", status) and not asked_for("modify_order", status)
    ship = "where is order SA-9, and please ship it to 42 Harbor Lane, Portland, OR 97201"
    assert asked_for("modify_order", ship)


def test_an_item_change_of_a_delivered_order_is_an_exchange() -> None:
    from shopagent.agent.understanding.action_slots import exchange_if_delivered

    orders = StoreOrders(StoreDB.in_memory(profile_store()))
    swap = "can I swap the kettle in order {} for blue?"
    assert exchange_if_delivered(orders, "C1", "SA-100007", swap.format("SA-100007")) == (
        "exchange_request"
    )
    assert exchange_if_delivered(orders, "C1", "SA-100008", swap.format("SA-100008")) == (
        "modify_order"
    )
    assert exchange_if_delivered(orders, "C2", "SA-100007", swap) == "modify_order"  # not his
