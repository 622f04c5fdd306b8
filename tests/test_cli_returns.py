"""Multi-item returns end to end through ``shopagent ask`` and ``shopagent chat`` (real
processes, the real bundled models, the store on SQLite and on PostgreSQL): one
confirmation states every item, unit and where the refund goes; yes records exactly one
return with those units and that refund method; the order becomes return requested; the
refund is recorded, not paid: no refund payment and no gift card credit until the items
arrive (docs/store-format.md, "What ShopAgent writes back")."""

from __future__ import annotations

from decimal import Decimal

import cli_actions_common
import pytest

pytestmark = [pytest.mark.real_model, pytest.mark.timeout(1200)]

shop = cli_actions_common.shop

ONE_AND_KETTLE = "return one of the mug warmers and the kettle from order SA-100009"
ALL_TO_GIFT = "I want to return everything from order SA-100009 to my gift card"
KETTLE_AND_JACKET = (
    "return the kettle and one of the jackets from order SA-100007, refund to my gift card"
)


def _units(action: dict) -> list[tuple[str, str, int]]:
    return [(u["item_id"], u["sku"], u["quantity"]) for u in action["details"]["returns"]]


def _nothing_paid(shop, number: str) -> None:
    """The refund waits for the items: the order's payments are as placed, the gift card's
    balance as it was."""
    payments = shop.order(number).payments
    assert [p.kind for p in payments] == ["payment"], payments
    assert shop.balance("gift-1") == Decimal("10.00")


def test_ask_returns_some_units_to_the_original_payment_method(shop) -> None:
    asked = shop.ask(ONE_AND_KETTLE, "r1")
    confirmation = asked["confirmation"]
    assert confirmation is not None and confirmation["action"] == "return_items", asked
    assert confirmation["picks"] == {"1": 1, "2": 1}
    assert confirmation["method_id"] == "paypal-1" and confirmation["refund_amount"] == "54.48"
    assert "$54.48 will go to PayPal once the items arrive" in asked["answer"]
    assert shop.actions() == []  # nothing before the yes

    done = shop.ask("yes", "r1")  # another process resumes the thread from its checkpoint
    assert done["confirmation"] is None
    assert "return for order SA-100009 is requested" in done["answer"], done["answer"]
    (action,) = shop.actions()
    assert action["kind"] == "return_items" and action["status"] == "requested"
    assert action["order_number"] == "SA-100009" and action["method_id"] == "paypal-1"
    assert Decimal(action["amount"]) == Decimal("-54.48")
    assert _units(action) == [("1", "W-300", 1), ("2", "K-200", 1)]
    assert shop.order("SA-100009").status == "return_requested"
    assert shop.order("SA-100007").status == "delivered"
    _nothing_paid(shop, "SA-100009")


def test_chat_returns_every_unit_to_the_gift_card_and_lists_it(shop) -> None:
    question, done, history = shop.chat([ALL_TO_GIFT, "yes", "show my orders"], "c1")
    assert "2 × ThermaCup Desk Mug Warmer" in question and "$79.47" in question, question
    assert "gift card gift-1 once the items arrive" in question
    assert "is requested" in done and "The order is now return requested" in done, done
    assert "SA-100009" in history and "return requested" in history, history
    (action,) = shop.actions()
    assert action["kind"] == "return_items" and action["method_id"] == "gift-1"
    assert action["details"]["method_id"] == "gift-1"
    assert Decimal(action["amount"]) == Decimal("-79.47")
    assert _units(action) == [("1", "W-300", 2), ("2", "K-200", 1)]
    assert shop.order("SA-100009").status == "return_requested"
    _nothing_paid(shop, "SA-100009")


def test_chat_no_then_yes_returns_one_of_two_identical_units(shop) -> None:
    asked, declined, again, done = shop.chat(
        [KETTLE_AND_JACKET, "no", KETTLE_AND_JACKET, "yes"], "c2"
    )
    assert asked == again and "1 × Trailhead Rain Jacket (medium)" in asked, asked
    assert "haven't made the return" in declined, declined
    assert "is requested" in done, done
    (action,) = shop.actions()  # the "no" wrote nothing, the "yes" once
    assert _units(action) == [("1", "K-100-BLK", 1), ("2", "J-500-M", 1)]
    # the jacket's category refunds store credit only: the refund goes to the gift card
    assert action["method_id"] == "gift-1" and Decimal(action["amount"]) == Decimal("-139.98")
    order = shop.order("SA-100007")
    assert order.status == "return_requested" and len(order.items) == 3
    _nothing_paid(shop, "SA-100007")
