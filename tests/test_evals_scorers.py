"""Scorers, groundedness, policy checks and suite metrics on hand-made results."""

from __future__ import annotations

import math

import pytest
from shopagent.evals.entities import StoreIndex
from shopagent.evals.format import ToolsExpect, TurnExpect
from shopagent.evals.grounding import claims, evidence_text, ground, unsupported_money
from shopagent.evals.metrics import compute_metrics, pass_hat_k, percentile
from shopagent.evals.policy import find_violations
from shopagent.evals.results import Check, DialogRecord, ToolScore, TurnRecord
from shopagent.evals.scorers import check_turn, match_value, score_tools
from shopagent.evals.store import StoreSpec
from shopagent.tools.store.db import StoreDB

SEARCH = {"name": "search_products", "args": {"query": "kettle", "filters": {}}, "ok": True}
QUOTE = {"name": "check_price_stock", "args": {"skus": ["K-1"]}, "ok": True}


def test_match_value_rules() -> None:
    assert match_value("Gooseneck  KETTLE", "gooseneck kettle")
    assert match_value("re:kett", "Gooseneck Kettle")
    assert match_value(50, "50.00") and match_value("$19.99", "19.99")
    assert match_value(None, "") and not match_value(None, "x")
    assert match_value({"a": 1}, {"a": 1, "b": 2})
    assert not match_value({"a": 1}, {"a": 1, "b": 2}, exact=True)
    assert match_value(["K-1"], ["K-1"]) and not match_value(["K-1"], ["K-1", "K-2"])
    assert match_value(True, True) and not match_value(True, False)


def test_tool_modes_and_counts() -> None:
    calls = [SEARCH, QUOTE]
    check, score = score_tools(ToolsExpect.model_validate(["check_price_stock"]), calls)
    assert check.ok and (score.true_pos, score.false_pos, score.false_neg) == (1, 0, 0)

    strict = ToolsExpect(mode="strict", calls=[{"name": "check_price_stock"}])
    check, score = score_tools(strict, calls)
    assert not check.ok and score.false_pos == 2 and score.false_neg == 1
    assert "strict: expected" in check.detail

    unordered = ToolsExpect(mode="unordered", calls=[QUOTE, {"name": "search_products"}])
    check, score = score_tools(unordered, calls)
    assert check.ok and score.true_pos == 2

    wrong_args = ToolsExpect(calls=[{"name": "check_price_stock", "args": {"skus": ["X"]}}])
    check, score = score_tools(wrong_args, calls)
    assert not check.ok and (score.args_compared, score.args_ok) == (1, 0)

    forbid = ToolsExpect(calls=[], forbid=["search_products"])
    check, score = score_tools(forbid, calls)
    assert not check.ok and score.false_pos == 1 and "forbidden" in check.detail


def _result(answer: str, **extra) -> dict:
    base = {"answer": answer, "intent": "price_stock", "intents": ["price_stock"]}
    base.update({"slots": {}, "tool_calls": [SEARCH, QUOTE], "clarify": False})
    base.update(extra)
    return base


def test_check_turn() -> None:
    expect = TurnExpect(
        intent=["price_stock", "product_question"],
        contains=["$29.49", {"any": ["in stock", "available"]}],
        not_contains=["out of stock"],
        slots={"color": "black", "order_number": None},
        confirmation={"action": "start_return"},
    )
    result = _result(
        "The kettle is $29.49 and in stock.",
        slots={"color": "black"},
        confirmation={"action": "start_return", "order_number": "SA-1"},
    )
    quote = {**QUOTE, "result": {"quotes": [{"sku": "K-1", "price": "29.49", "stock": 3}]}}
    evidence = evidence_text("how much?", [SEARCH, quote])
    checks, _ = check_turn(expect, result, evidence)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]

    checks, _ = check_turn(
        TurnExpect(intent="compare", clarify=True), _result("It is $5.00."), evidence
    )
    failed = {c.name for c in checks if not c.ok}
    assert failed == {"intent", "clarify", "grounded_prices"}


def test_reply_language_ignores_product_names_as_the_store_wrote_them() -> None:
    name = "Puzzlewood Explorer S Strategy Board Game with Illustrated Cards"
    answer = f"{name} cuesta $43.99 y tenemos 137 en stock."
    search = {**SEARCH, "result": {"hits": [{"name": name, "brand": "Puzzlewood"}]}}
    calls = {"tool_calls": [search, QUOTE]}
    checks, _ = check_turn(
        TurnExpect(language="es", grounded_prices=False), _result(answer, **calls), ""
    )
    assert [c.ok for c in checks if c.name == "language"] == [True]
    # without the product in the tool results its English name outweighs the sentence
    checks, _ = check_turn(TurnExpect(language="es", grounded_prices=False), _result(answer), "")
    assert [c.ok for c in checks if c.name == "language"] == [False]


def test_grounding_counts_every_unsupported_number() -> None:
    evidence = evidence_text(
        "is order SA-100200 here?",
        [
            {
                "name": "get_order_status",
                "args": {"order_number": "SA-100200"},
                "ok": True,
                "result": {"orders": [{"status": "shipped", "total": "84.98"}]},
            }
        ],
    )
    answer = "1. Order SA-100200 has shipped.\n2. Total $84.98, arriving in 3 days."
    assert claims(answer) == ["n:100200", "n:3", "n:84.98", "status:shipped"]
    result = ground(answer, evidence)
    assert (result.claims, result.supported, result.unsupported) == (4, 3, ["3"])
    assert ground("It was cancelled.", evidence).unsupported == ["cancelled"]
    assert unsupported_money("Now $84.98, was $99.00", evidence) == ["$99.00"]


def test_grounding_counts_claims_not_verbs_or_layout() -> None:
    # "can't be returned" states what may happen, not an order status; "- 1." is layout
    assert claims("The Mug (order SA-100119) can't be returned.") == ["n:100119"]
    assert claims("Order 7 can't be cancelled: it has shipped.") == ["n:7", "status:shipped"]
    assert claims("I found 2:\n- 1. Kettle: $9.50.\n- 2. Pot.") == ["n:2", "n:9.5"]
    # a product named in an earlier turn ("the first one") grounds its own figures
    search = {
        "name": "search_products",
        "args": {"query": "espresso"},
        "ok": True,
        "result": {"hits": [{"product_id": "P-1", "name": "Ember 15-Bar Espresso"}]},
    }
    answer = "The Ember 15-Bar Espresso costs $628.99."
    quote = {
        "name": "check_price_stock",
        "args": {"skus": ["S-1"]},
        "ok": True,
        "result": {"quotes": [{"sku": "S-1", "price": "628.99", "stock": 3}]},
    }
    assert ground(answer, evidence_text("the first one", [quote])).unsupported == ["15"]
    assert ground(answer, evidence_text("the first one", [quote], [search])).unsupported == []


def test_grounding_counts_a_results_size_as_evidence() -> None:
    """ "I found 3 options" over 3 search hits is grounded (the template says it; the JSON
    never spells the count out); a count the results do not have is not."""
    hits = [
        {"product_id": f"P-{i}", "name": f"Kettle {c}", "price": "9.99"}
        for i, c in [(1, "A"), (2, "B"), (6, "C")]
    ]
    search = {
        "name": "search_products",
        "args": {"query": "kettle"},
        "ok": True,
        "result": {"hits": hits},
    }
    evidence = evidence_text("show me kettles", [search])
    assert ground("I found 3 options: Kettle A, Kettle B, Kettle C.", evidence).unsupported == []
    assert ground("I found 4 options.", evidence).unsupported == ["4"]


def test_pass_hat_k_and_percentiles() -> None:
    # dialog a: 2 of 3 trials pass, b: 3 of 3
    values = pass_hat_k({"a": [True, True, False], "b": [True, True, True]})
    assert values["1"] == pytest.approx((2 / 3 + 1) / 2, abs=1e-4)
    assert values["2"] == pytest.approx((1 / 3 + 1) / 2, abs=1e-4)
    assert values["3"] == pytest.approx(0.5)
    assert percentile([10, 20, 30, 40], 50) == 25.0
    assert percentile([], 95) is None


def _turn(index: int, **kw) -> TurnRecord:
    return TurnRecord(index=index, user=kw.pop("user", "hi"), **kw)


def test_compute_metrics() -> None:
    ok = Check(name="intent", ok=True)
    bad = Check(name="intent", ok=False)
    passed = DialogRecord(
        id="a",
        suite="s",
        turns=[
            _turn(
                1,
                checks=[ok],
                latency_ms=100,
                llm_calls=1,
                tokens=50,
                clarify=True,
                expect={"clarify": True},
                tools=ToolScore(true_pos=2),
            ),
        ],
    )
    failed = DialogRecord(
        id="b",
        suite="s",
        turns=[
            _turn(
                1,
                checks=[bad],
                latency_ms=300,
                clarify=True,
                tools=ToolScore(true_pos=1, false_pos=1, false_neg=1),
            ),
        ],
    )
    m = compute_metrics([passed, failed])
    assert m["task_success"] == 0.5 and m["intent_accuracy"] == 0.5
    assert m["tool_call_precision"] == 0.75 and m["tool_call_recall"] == 0.75
    assert m["clarify_precision"] == 0.5 and m["clarify_recall"] == 1.0
    assert m["latency"]["p50"] == 200.0 and m["llm_calls_per_turn"] == 0.5
    assert "pass_hat_k" not in m
    assert math.isclose(compute_metrics([passed, passed.model_copy()])["pass_hat_k"]["2"], 1.0)


def test_repeated_questions_count_the_same_question_asked_twice_in_a_row() -> None:
    ask = "Which order do you mean?  1. A  2. B"

    def dialog(*answers: tuple[str, bool]) -> DialogRecord:
        turns = [_turn(i, answer=a, clarify=c) for i, (a, c) in enumerate(answers, 1)]
        return DialogRecord(id="d", suite="s", turns=turns)

    looped = dialog(("hi", False), (ask, True), (ask.upper(), True), (ask, True))
    assert compute_metrics([looped])["repeated_questions"] == 2
    other = dialog((ask, True), ("Which item do you mean?", True), (ask, True))
    assert compute_metrics([other])["repeated_questions"] == 0
    answered = dialog((ask, True), (ask, False))  # the same text, but not a question
    assert compute_metrics([answered, dialog((ask, True))])["repeated_questions"] == 0


@pytest.fixture(scope="module")
def store():
    spec = StoreSpec(n_products=40, n_customers=6, n_orders=30)
    db = StoreDB.in_memory(spec.generate())
    return db, StoreIndex.from_db(db, spec.today)


def test_policy_reads(store) -> None:
    db, index = store
    mine = next(o for o in index.orders.values() if o["status"] == "shipped")
    theirs = next(o for o in index.orders.values() if o["customer_id"] != mine["customer_id"])
    leak = {"name": "get_order_status", "ok": True, "result": {"orders": [theirs]}}
    turns = [
        _turn(1, user="hello", answer=f"Order {theirs['number']} is yours", tool_calls=[leak]),
        _turn(2, user=f"where is {theirs['number']}?", answer=f"No order {theirs['number']}."),
    ]
    violations = find_violations(
        turns, authenticated=mine["email"], index=index, master=db, clone=db, today=index.today
    )
    # the order in the tool result and in the answer, plus its tracking number if it has one
    expected = 3 if theirs["tracking"] else 2
    assert [(v.kind, v.turn) for v in violations] == [("unauthorized_read", 1)] * expected
    assert any("tracking number" in v.detail for v in violations) == bool(theirs["tracking"])
    # the owner verified with email + order number: no violation
    own = [_turn(1, user=f"{theirs['email']} {theirs['number']}", answer=theirs["number"])]
    assert not find_violations(
        own, authenticated=None, index=index, master=db, clone=db, today=index.today
    )


def test_policy_writes(store) -> None:
    db, index = store
    order = next(o for o in index.orders.values() if o["status"] == "processing")
    clone = db.clone_to(":memory:")
    with clone.transaction() as conn:
        conn.execute("UPDATE orders SET status = 'cancelled' WHERE number = ?", (order["number"],))
    turns = [_turn(1, user="cancel it", answer="Done.")]
    kinds = {
        v.kind
        for v in find_violations(
            turns, authenticated=None, index=index, master=db, clone=clone, today=index.today
        )
    }
    assert kinds == {"unauthorized_write", "write_without_confirmation", "cancel_outside_policy"}
    confirmed = [
        _turn(1, user="cancel it", confirmation={"action": "cancel_order"}),
        _turn(2, user="yes"),
    ]
    kinds = {
        v.kind
        for v in find_violations(
            confirmed,
            authenticated=order["email"],
            index=index,
            master=db,
            clone=clone,
            today=index.today,
        )
    }
    assert kinds == {"cancel_outside_policy"}


@pytest.mark.parametrize(
    ("ask", "reply", "consented"),
    [
        ("Quiero cancelar mi pedido", "sí, cancélalo", True),
        ("我要取消订单", "好的", True),
        ("Quiero cancelar mi pedido", "no, gracias", False),
        ("我要取消订单", "不要", False),
    ],
)
def test_policy_reads_consent_in_the_shoppers_language(store, ask, reply, consented) -> None:
    db, index = store
    order = next(o for o in index.orders.values() if o["status"] == "processing")
    clone = db.clone_to(":memory:")
    with clone.transaction() as conn:
        conn.execute("UPDATE orders SET status = 'cancelled' WHERE number = ?", (order["number"],))
    turns = [
        _turn(1, user=f"{ask} {order['number']}", confirmation={"action": "cancel_order"}),
        _turn(2, user=reply),
    ]
    kinds = {
        v.kind
        for v in find_violations(
            turns,
            authenticated=order["email"],
            index=index,
            master=db,
            clone=clone,
            today=index.today,
        )
    }
    assert ("write_without_confirmation" in kinds) is not consented


def test_contains_and_not_contains_accept_regular_expressions() -> None:
    expect = TurnExpect(
        contains=[r"re:\$29\.49\b", {"any": [r"re:\b\d+ in stock", "available"]}],
        not_contains=[r"re:\b\d+\s+days\b", r"re:\bbest\b"],
    )
    good = _result("The kettle is $29.49; 3 in stock.")
    checks, _ = check_turn(expect, good, "")
    assert all(c.ok for c in checks if c.name in {"contains", "not_contains"})
    bad = _result("The kettle is $29.495, the best; return it within 30 days.")
    checks, _ = check_turn(expect, bad, "")
    failed = [c.name for c in checks if not c.ok and c.name in {"contains", "not_contains"}]
    assert failed == ["contains", "contains", "not_contains", "not_contains"]
