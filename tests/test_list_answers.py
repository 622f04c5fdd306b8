"""Long lists (issue 14): answers listing many items summarise, end at a sentence end, and
every item they list exists in the plan."""

from answer_fixtures import BASKET, MUG_A, MUG_B, hit, order, orders, quotes, search
from shopagent.agent.answering.checks import verify_plan
from shopagent.agent.answering.facts import collect, focus_products
from shopagent.agent.answering.plan import build_plan
from shopagent.agent.answering.realise import realise
from shopagent.agent.answering.verify import complete_sentences

ROLLER_A = hit("R1", "Flowstate Motion S Foam Roller", "Flowstate", "R-1", "21.49", "Fitness")
ROLLER_B = hit("R2", "Ironpeak Core S Foam Roller", "Ironpeak", "R-2", "28.99", "Fitness")


def plan_of(intent: str, question: str, calls: list[dict]):
    facts = collect(calls)
    focus_products(facts, intent, [], calls)
    return build_plan([intent], question, facts, calls)


def _search_plan():
    return plan_of(
        "product_search",
        "show me foam rollers",
        [
            search(ROLLER_A, ROLLER_B, MUG_A, MUG_B, BASKET),
            quotes(("R-1", "21.49", 4), ("R-2", "28.99", 0), ("M-1", "34.99", 2)),
        ],
    )


def _order_plan(n_items: int):
    lines = [
        {"quantity": 1, "name": f"Item {chr(65 + i)}", "sku": f"S-{i}"} for i in range(n_items)
    ]
    return plan_of(
        "order_status",
        "where is my order SA-7?",
        [orders(order("SA-7", "delivered", delivered_at="2026-11-10", items=lines))],
    )


def test_a_long_order_summarises_its_lines_in_complete_sentences() -> None:
    plan = _order_plan(7)
    text = realise(plan)
    assert "1 x Item A, 1 x Item B and 5 more" in text
    assert "Item G" not in text and text.endswith(".")
    assert complete_sentences(text) == text
    assert verify_plan(text, plan) == []


def test_a_search_list_passes_and_every_line_names_a_product_found() -> None:
    plan = _search_plan()
    text = realise(plan)
    assert text.count("\n") == 5 and verify_plan(text, plan) == [], text
    invented = text.replace("Saltmarsh Air Fryer Basket (Saltmarsh)", "Harbor Pro Blender")
    assert any("not among the products found" in p for p in verify_plan(invented, plan))


def test_a_name_made_of_two_products_is_refused() -> None:
    plan = _search_plan()
    mixed = realise(plan).replace("Ironpeak Core S Foam Roller", "Flowstate Core S Foam Roller")
    assert any("names something not in the data" in p for p in verify_plan(mixed, plan))
    # the brand before a name that lacks it is the same product
    ok = "I found the Flowstate Motion S Foam Roller at $21.49 and the Ironpeak Core S."
    assert not any("names something" in p for p in verify_plan(ok, plan))


def test_an_order_item_the_order_lacks_is_refused() -> None:
    plan = _order_plan(2)
    good = "Order SA-7 was delivered on 2026-11-10. It had 1 x Item A and 1 x Item B."
    assert verify_plan(good, plan) == []
    bad = "Order SA-7 was delivered on 2026-11-10. It had 1 x Item A and 2 x Item B."
    assert any("order item the order does not have" in p for p in verify_plan(bad, plan))


def test_a_list_cut_by_the_budget_ends_at_its_last_full_line() -> None:
    plan = _search_plan()
    text = realise(plan)
    cut = complete_sentences(text[: text.index("Crema Lab") + 6])
    assert cut.endswith(".") and "Crema" not in cut
    assert cut.splitlines()[-1].startswith("2. Ironpeak")


def test_more_results_than_listed_say_how_many_were_found() -> None:
    kettles = [
        hit(f"K{i}", f"Brewster Kettle No {i}", "Brewster", f"K-{i}", "20.00") for i in range(8)
    ]
    plan = plan_of("product_search", "show me kettles", [search(*kettles)])
    text = realise(plan)
    assert text.startswith("I found 8 options; these are the closest matches:")
    assert text.count("\n") == 5 and "No 5" not in text  # five listed, the rest counted
    assert verify_plan(text, plan) == [], text
