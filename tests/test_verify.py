"""The answer verifier and the deterministic templates, over known facts."""

from shopagent.agent.answering.facts import collect, money
from shopagent.agent.answering.templates import INVENTORY_DOWN, rule_sentence, template_answer
from shopagent.agent.answering.verify import numbers, verify_answer

HIT = {
    "product_id": "P1",
    "name": "Brewster Gooseneck Kettle",
    "brand": "Brewster",
    "category": "Kitchen",
    "sku": "K-1",
    "skus": ["K-1"],
    "price": "49.99",
    "currency": "USD",
    "score": 1.0,
    "reason": "",
}
QUOTE = {"sku": "K-1", "price": "44.99", "currency": "USD", "stock": 12, "as_of": None}


def _calls(stock: int = 12, inventory_ok: bool = True) -> list[dict]:
    search = {
        "name": "search_products",
        "args": {"query": "kettle"},
        "ok": True,
        "result": {"query": "kettle", "filters": {}, "hits": [HIT]},
    }
    if not inventory_ok:
        quote = {
            "name": "check_price_stock",
            "args": {"skus": ["K-1"]},
            "ok": False,
            "result": {"error": "InventoryUnavailable", "message": "down"},
        }
    else:
        quote = {
            "name": "check_price_stock",
            "args": {"skus": ["K-1"]},
            "ok": True,
            "result": {"quotes": [{**QUOTE, "stock": stock}], "unknown": []},
        }
    return [search, quote]


def _check(answer: str, **kw) -> list[str]:
    facts = collect(_calls(**kw))
    evidence = template_answer("price_stock", facts, store="S")
    return verify_answer(answer, facts, evidence=evidence, user_message="how much?")


def test_numbers_are_normalised() -> None:
    assert numbers("$1,299.00 and 34.90, 007") == {"1299", "34.9", "7"}


def test_faithful_answer_passes() -> None:
    assert _check("The Brewster Gooseneck Kettle is $44.99 and we have 12 in stock.") == []


def test_live_price_wins_over_catalog_price() -> None:
    # 49.99 is the catalog list price; the live API said 44.99.
    assert any("numbers" in p for p in _check("The Brewster Gooseneck Kettle is $49.99."))


def test_invented_stock_and_wrong_availability_fail() -> None:
    assert _check("The Brewster Gooseneck Kettle: 13 left!")
    assert _check("Sorry, the Brewster Gooseneck Kettle is out of stock.")
    assert _check("The Brewster Gooseneck Kettle is in stock.", stock=0)


def test_answer_must_name_the_product() -> None:
    assert "does not name the product" in _check("It costs $44.99.")


def test_no_price_when_inventory_is_down() -> None:
    problems = _check("The Brewster Gooseneck Kettle is $49.99.", inventory_ok=False)
    assert any("unavailable" in p for p in problems)


def test_template_states_exactly_the_tool_values() -> None:
    text = template_answer("price_stock", collect(_calls()), store="S")
    assert "$44.99" in text and "12 in stock" in text and "Brewster Gooseneck Kettle" in text
    down = template_answer("price_stock", collect(_calls(inventory_ok=False)), store="S")
    assert INVENTORY_DOWN in down and "$" not in down


def test_order_status_claims_are_checked() -> None:
    order = {
        "number": "SA-1",
        "status": "shipped",
        "items": [{"quantity": 1, "name": "Mug"}],
        "total": "9.99",
        "currency": "USD",
        "shipped_at": "2026-11-17",
        "tracking_number": "1Z9",
        "carrier": "UPS",
    }
    calls = [
        {
            "name": "get_order_status",
            "args": {},
            "ok": True,
            "result": {"customer_name": "Ada Park", "orders": [order]},
        }
    ]
    facts = collect(calls)
    evidence = template_answer("order_status", facts, store="S")
    assert "1Z9" in evidence and "has shipped" in evidence
    assert verify_answer("Your order was delivered.", facts, evidence=evidence, user_message="")
    assert not verify_answer("Order SA-1 has shipped.", facts, evidence=evidence, user_message="")


def test_rule_sentence_and_money() -> None:
    rule = {
        "window_days": 30,
        "condition": "unopened",
        "final_sale": False,
        "restocking_fee_pct": "15",
        "refund_method": "original_payment",
    }
    assert rule_sentence(rule, "Electronics") == (
        "For Electronics, returns are accepted within 30 days of delivery, unopened, with a "
        "15% restocking fee; refunds go to the original payment."
    )
    assert money("5") == "$5.00" and money("5", "EUR") == "5.00 EUR"


def test_generation_loops_are_rejected() -> None:
    loop = "The Brewster Gooseneck Kettle is great because it is great " * 4
    assert "repeats itself" in _check(loop)


def test_price_answer_must_state_price_or_stock() -> None:
    facts = collect(_calls())
    text = "The Brewster Gooseneck Kettle is a lovely kettle with a gooseneck spout."
    evidence = template_answer("price_stock", facts, store="S")
    problems = verify_answer(text, facts, evidence=evidence, user_message="", intent="price_stock")
    assert "states neither price nor stock" in problems


def test_partial_names_of_another_product_do_not_count() -> None:
    assert "does not name the product" in _check("The Brewster Kettle is $44.99, 12 in stock.")


def test_no_availability_claims_while_stock_is_unknown() -> None:
    for claim in ("is available now", "is in stock", "is out of stock"):
        problems = _check(f"The Brewster Gooseneck Kettle {claim}.", inventory_ok=False)
        assert "states availability while live stock is unknown" in problems
