"""The other support actions end to end through the CLI, on SQLite and PostgreSQL: the
order history, an exchange, a pending order's shipping address, payment method and items,
the default address, and a cancellation with its reason.

``shopagent chat`` runs them all in one thread of one real process (a shopper doing several
things in a row); ``shopagent ask`` runs each turn as its own command (in this process, so
the model loads once): the thread resumes from its checkpoint between the question and the
yes. Each write is checked in the store database the CLI used."""

from __future__ import annotations

from decimal import Decimal

import cli_actions_common
import pytest

pytestmark = [pytest.mark.real_model, pytest.mark.timeout(1200)]

shop = cli_actions_common.shop

HISTORY = "show my orders"
EXCHANGE = "I'd like to exchange the kettle from order SA-100007 for the blue one"
SHIP = "please ship my order SA-100008 to 42 Harbor Lane instead"
PAY = "pay for order SA-100008 with my paypal"
SWAP = "swap the kettle in my order SA-100008 for the blue one"
CANCEL_MODIFIED = "cancel order SA-100008, I ordered by mistake"
DEFAULT = "change my default address to 7 Oak Street, Boulder, CO 80302"
CANCEL = "cancel order SA-100010 because I no longer need it"

# (message, the confirmation's action or None, words its answer must hold)
SCRIPT: list[tuple[str, str | None, tuple[str, ...]]] = [
    (EXCHANGE, "exchange_items", ("Brewster Gooseneck Kettle (blue)", "$3.00", "Visa")),
    ("yes", None, ("exchange for order SA-100007 is requested",)),
    (SHIP, "modify_address", ("42 Harbor Lane, Springfield, IL 94110",)),
    ("yes", None, ("order SA-100008 will ship to 42 Harbor Lane",)),
    (PAY, "modify_payment", ("PayPal", "$139.98")),
    ("yes", None, ("order SA-100008 is now paid with PayPal",)),
    (SWAP, "modify_items", ("Brewster Gooseneck Kettle (blue)", "$3.00")),
    ("yes", None, ("the items of order SA-100008 are changed",)),
    (CANCEL_MODIFIED, None, ("can't be cancelled", "already changed")),
    (DEFAULT, "change_default_address", ("7 Oak Street, Boulder, CO 80302",)),
    ("yes", None, ("your default address is now 7 Oak Street",)),
    (CANCEL, "cancel_order", ("SA-100010", "$29.49", "no longer needed")),
    ("yes", None, ("order SA-100010 is cancelled",)),
]


def _check_store(shop) -> None:
    """What the script must have written, once each."""
    actions = shop.actions()
    kinds = sorted(a["kind"] for a in actions)
    assert kinds == [
        "change_default_address",
        "exchange_items",
        "modify_address",
        "modify_items",
        "modify_payment",
    ], actions
    exchange = next(a for a in actions if a["kind"] == "exchange_items")
    assert exchange["status"] == "requested" and exchange["method_id"] == "card-1"
    assert [(s["item_id"], s["new_sku"]) for s in exchange["details"]["swaps"]] == [
        ("1", "K-100-BLU")
    ]
    delivered = shop.order("SA-100007")
    assert delivered.status == "exchange_requested"
    assert [p.amount for p in delivered.payments if p.purpose == "difference"] == [Decimal(3)]

    pending = shop.order("SA-100008")
    assert pending.status == "pending" and pending.modified
    assert pending.shipping_address.line1 == "42 Harbor Lane"
    assert [i.sku for i in pending.items] == ["K-100-BLU", "J-500-M"]
    moves = [(p.kind, p.method_id, p.amount) for p in pending.payments]
    assert moves[:3] == [
        ("payment", "card-1", Decimal("139.98")),
        ("refund", "card-1", Decimal("139.98")),
        ("payment", "paypal-1", Decimal("139.98")),
    ]
    assert moves[3][0] == "payment" and moves[3][2] == Decimal(3)  # the blue kettle's extra

    assert shop.db.default_address_of("C1").city == "Boulder"
    cancelled = shop.order("SA-100010")
    assert cancelled.status == "cancelled" and cancelled.cancel_reason == "no longer needed"
    assert [(p.kind, p.method_id) for p in cancelled.payments] == [
        ("payment", "card-1"),
        ("refund", "card-1"),
    ]
    assert shop.balance("gift-1") == Decimal("10.00")  # no gift card was used
    assert shop.db.actions_of("C2") == []


def _own_orders_only(answer: str) -> None:
    for number in ("SA-100001", "SA-100002", "SA-100007", "SA-100008", "SA-100009"):
        assert number in answer, answer
    for number in ("SA-100003", "SA-100004", "SA-100005"):  # other customers' orders
        assert number not in answer, answer


def test_chat_runs_every_action_in_one_thread(shop) -> None:
    answers = shop.chat([HISTORY, *(message for message, _, _ in SCRIPT)], "c1")
    _own_orders_only(answers[0])
    for answer, (message, _, words) in zip(answers[1:], SCRIPT, strict=True):
        for word in words:
            assert word in answer, (message, answer)
        assert "passed your conversation" not in answer, (message, answer)
    _check_store(shop)


def test_ask_runs_every_action_turn_by_turn(shop) -> None:
    _own_orders_only(shop.ask_here(HISTORY, "a1")["answer"])
    for message, action, words in SCRIPT:
        before = len(shop.actions())
        result = shop.ask_here(message, "a1")
        confirmation = result["confirmation"]
        assert (confirmation or {}).get("action") == action, (message, result["answer"])
        for word in words:
            assert word in result["answer"], (message, result["answer"])
        if action is not None:
            assert len(shop.actions()) == before  # a question writes nothing
    _check_store(shop)
