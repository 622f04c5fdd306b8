"""The eligibility engine, table-driven: every rule and the boundary days."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from shopagent.tools.eligibility import cancel_eligibility, return_eligibility
from shopagent.tools.results import OrderLine, OrderView
from shopagent.tools.store.schema import ReturnRule

DELIVERED = date(2026, 11, 1)
RULE_30 = ReturnRule(window_days=30, condition="unused")
FEE_15 = ReturnRule(window_days=30, condition="unopened", restocking_fee_pct=Decimal(15))
ANY = ReturnRule(window_days=14, condition="any", refund_method="store_credit")
FINAL = ReturnRule(window_days=30, final_sale=True)


def line(final_sale: bool = False, price: str = "40.00", qty: int = 1) -> OrderLine:
    return OrderLine(
        sku="S-1",
        product_id="P-1",
        name="Thing",
        quantity=qty,
        unit_price=Decimal(price),
        final_sale=final_sale,
    )


def order(status: str = "delivered", delivered: date | None = DELIVERED) -> OrderView:
    return OrderView(
        number="SA-1",
        status=status,
        placed_at=datetime(2026, 10, 28),
        items=[line()],
        total=Decimal("40.00"),
        delivered_at=delivered if status in {"delivered", "returned"} else None,
    )


@pytest.mark.parametrize(
    ("days_after", "eligible", "days_left"),
    [(0, True, 30), (29, True, 1), (30, True, 0), (31, False, -1), (90, False, -60)],
)
def test_window_boundaries(days_after: int, eligible: bool, days_left: int) -> None:
    today = DELIVERED + timedelta(days=days_after)
    v = return_eligibility(order(), line(), RULE_30, today=today)
    assert (v.eligible, v.days_left) == (eligible, days_left)
    assert v.window_ends == date(2026, 12, 1)
    if not eligible:
        assert v.reasons == ["the 30-day return window ended on 2026-12-01"]


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("pending", "not been delivered"),
        ("processing", "not been delivered"),
        ("shipped", "not been delivered"),
        ("cancelled", "cancelled"),
        ("returned", "already returned"),
    ],
)
def test_only_delivered_orders_qualify(status: str, reason: str) -> None:
    v = return_eligibility(order(status), line(), RULE_30, today=DELIVERED)
    assert not v.eligible and reason in v.reasons[0]


@pytest.mark.parametrize(("item_final", "rule"), [(True, RULE_30), (False, FINAL)])
def test_final_sale_never_qualifies(item_final: bool, rule: ReturnRule) -> None:
    v = return_eligibility(order(), line(final_sale=item_final), rule, today=DELIVERED)
    assert not v.eligible and "final sale" in v.reasons[0]


@pytest.mark.parametrize(
    ("rule", "condition", "eligible"),
    [
        (RULE_30, None, True),
        (RULE_30, "unopened", True),
        (RULE_30, "unused", True),
        (RULE_30, "used", False),
        (FEE_15, "unused", False),
        (FEE_15, "unopened", True),
        (ANY, "used", True),
    ],
)
def test_condition_rules(rule: ReturnRule, condition, eligible: bool) -> None:
    v = return_eligibility(order(), line(), rule, today=DELIVERED, condition=condition)
    assert v.eligible is eligible
    assert v.condition_required == rule.condition


@pytest.mark.parametrize(
    ("rule", "price", "qty", "fee", "refund", "method"),
    [
        (RULE_30, "40.00", 1, "0.00", "40.00", "original_payment"),
        (FEE_15, "40.00", 1, "6.00", "34.00", "original_payment"),
        (FEE_15, "19.99", 3, "9.00", "50.97", "original_payment"),  # 59.97 * 15% = 8.9955
        (ANY, "10.10", 2, "0.00", "20.20", "store_credit"),
    ],
)
def test_refund_amounts(rule, price, qty, fee, refund, method) -> None:
    v = return_eligibility(order(), line(price=price, qty=qty), rule, today=DELIVERED)
    assert (str(v.restocking_fee), str(v.refund_amount), v.refund_method) == (fee, refund, method)
    assert v.item_total == v.restocking_fee + v.refund_amount


def test_several_reasons_are_all_reported() -> None:
    v = return_eligibility(
        order(),
        line(final_sale=True),
        FEE_15,
        today=DELIVERED + timedelta(days=45),
        condition="used",
    )
    assert len(v.reasons) == 3


@pytest.mark.parametrize(
    ("status", "eligible"),
    [
        ("pending", True),
        ("processing", False),
        ("shipped", False),
        ("delivered", False),
        ("cancelled", False),
        ("returned", False),
    ],
)
def test_cancel_only_pending(status: str, eligible: bool) -> None:
    v = cancel_eligibility(order(status))
    assert v.eligible is eligible and (v.reason == "") is eligible
