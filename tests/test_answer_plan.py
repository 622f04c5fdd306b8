"""Answer plans and their template realisation, from recorded tool calls."""

from answer_fixtures import (
    BASKET,
    BASKET_DETAILS,
    FOOTWEAR_RULE,
    MUG_A,
    MUG_B,
    details,
    order,
    orders,
    policy,
    quotes,
    search,
)
from shopagent.agent.answering.facts import collect, focus_products
from shopagent.agent.answering.plan import build_plan
from shopagent.agent.answering.realise import join_list, realise
from shopagent.agent.answering.verify import complete_sentences


def plan_of(intent: str, question: str, calls: list[dict], **kw):
    facts = collect(calls)
    focus_products(facts, intent, kw.get("targets", []), calls)
    return build_plan([intent], question, facts, calls, **kw)


def test_price_question_plans_and_states_the_price() -> None:
    calls = [search(MUG_A), quotes(("M-1", "33.50", 153))]
    plan = plan_of("price_stock", "How much is the Crema Lab Slow Brew Travel Mug?", calls)
    (claim,) = plan.claims
    assert claim.kind == "price_stock" and claim.asks == "price"
    assert str(claim.product.price) == "33.50" and claim.product.stock == 153
    text = realise(plan)
    assert "$33.50" in text and "Crema Lab Slow Brew Travel Mug" in text


def test_stock_question_for_a_sold_out_item_says_so() -> None:
    calls = [search(MUG_A), quotes(("M-1", "34.99", 0))]
    plan = plan_of("price_stock", "Is the Crema Lab Slow Brew Travel Mug in stock?", calls)
    assert plan.claims[0].asks == "stock"
    assert "out of stock" in realise(plan)


def test_comparison_names_the_cheaper_with_both_prices() -> None:
    calls = [search(MUG_A, MUG_B), quotes(("M-1", "34.99", 3), ("M-2", "31.99", 5))]
    plan = plan_of("compare", "which is cheaper?", calls)
    (claim,) = plan.claims
    assert claim.cheaper.name == MUG_B["name"] and claim.dearer.name == MUG_A["name"]
    text = realise(plan)
    assert text.startswith("The Bean & Bough Daybreak 3 Travel Mug is cheaper at $31.99")
    assert "$34.99" in text


def _mug_details(mug: dict, highlights: str, material: str) -> dict:
    return {
        **{k: mug[k] for k in ("product_id", "name", "brand", "category")},
        "description": f"A travel mug. Highlights: {highlights}.",
        "attributes": {"color": "Black", "material": material},
        "variants": [{"sku": mug["sku"], "color": "Black"}],
        "final_sale": False,
    }


def test_which_is_better_adds_what_sets_each_apart() -> None:
    """ "Which is better?" compares more than price: each product's own features, the most
    relevant to the need first, never one both share (both are black)."""
    a = _mug_details(MUG_A, "leak-proof lid, one-hand opening and car cup holder fit", "steel")
    b = _mug_details(MUG_B, "ceramic lining and a 16 oz capacity", "ceramic-lined steel")
    calls = [
        search(MUG_A, MUG_B),
        quotes(("M-1", "34.99", 3), ("M-2", "31.99", 5)),
        details(a),
        details(b),
    ]
    plan = plan_of("compare", "Which of these two is better?", calls, need="a mug for my car")
    comparison, first, second = plan.claims
    assert comparison.kind == "comparison" and comparison.cheaper.name == MUG_B["name"]
    assert first.kind == second.kind == "features"
    assert {first.product.name, second.product.name} == {MUG_A["name"], MUG_B["name"]}
    mine = first if first.product.name == MUG_A["name"] else second
    assert mine.features[0] == "car cup holder fit"  # the need first
    assert all("Black" not in f for c in (first, second) for f in c.features)
    text = realise(plan)
    assert "$31.99" in text and "car cup holder fit" in text and "ceramic lining" in text
    # a price question stays a price answer
    (only,) = plan_of("compare", "which is cheaper?", calls).claims
    assert only.cheaper.name == MUG_B["name"]


def test_yes_no_attribute_from_a_listing_sentence() -> None:
    calls = [search(BASKET), details(BASKET_DETAILS)]
    plan = plan_of("product_question", "is the Saltmarsh air fryer basket dishwasher safe?", calls)
    (claim,) = plan.claims
    assert claim.kind == "attribute" and claim.verdict == "yes"
    assert "dishwasher-safe" in (claim.evidence or "")
    assert realise(plan).startswith("Yes.")


def test_attribute_value_from_the_attributes() -> None:
    calls = [search(BASKET), details(BASKET_DETAILS)]
    plan = plan_of("product_question", "what material is it?", calls)
    assert plan.claims[0].value == "aluminum"
    assert "aluminum" in realise(plan)


def test_missing_attribute_says_the_listing_does_not_say() -> None:
    calls = [search(BASKET), details(BASKET_DETAILS)]
    plan = plan_of("product_question", "is the basket oven safe up to 500 degrees?", calls)
    claim = plan.claims[0]
    assert claim.value is None
    assert "doesn't say" in realise(plan)


def test_colours_come_from_the_variants() -> None:
    calls = [search(BASKET), details(BASKET_DETAILS)]
    plan = plan_of("product_question", "What colors does it come in?", calls)
    assert "Black and Silver" in realise(plan)


def test_tell_me_more_picks_features_relevant_to_the_need() -> None:
    calls = [search(BASKET), details(BASKET_DETAILS)]
    plan = plan_of(
        "product_question", "tell me more about it", calls, need="I need a big capacity basket"
    )
    (claim,) = plan.claims
    assert claim.kind == "features" and len(claim.features) == 3
    assert "capacity" in claim.features[0]
    assert "stands out for" in realise(plan)


def test_policy_uses_the_category_rule() -> None:
    plan = plan_of("return_policy", "return policy for shoes", [policy("Footwear", FOOTWEAR_RULE)])
    (claim,) = plan.claims
    assert claim.window_days == 60 and claim.category == "Footwear"
    assert "60 days" in realise(plan)


def test_final_sale_product_cannot_be_returned() -> None:
    target = {"product_id": "P9", "name": "Clearance Scarf", "category": "Apparel", "sku": "S"}
    plan = plan_of(
        "return_policy",
        "Can I return it?",
        [policy("Apparel", FOOTWEAR_RULE)],
        targets=[target],
        info=lambda pid: {"final_sale": True, "brand": "Knit Co"},
    )
    assert plan.claims[0].final_sale
    assert "can't be returned" in realise(plan)


def test_latest_order_is_only_the_newest() -> None:
    calls = [
        orders(
            order("SA-2", "delivered", delivered_at="2026-11-10"),
            order("SA-1", "returned", returned_at="2026-10-01"),
        )
    ]
    plan = plan_of("order_status", "where is my latest order?", calls)
    (claim,) = plan.claims
    assert claim.number == "SA-2" and claim.status == "delivered"
    text = realise(plan)
    assert "SA-2 was delivered on 2026-11-10" in text and "return" in text
    assert "SA-1" not in text


def test_lists_are_summarised_and_model_tails_cut() -> None:
    assert join_list(list("abcdefg")) == "a, b, c, d and 3 more"
    assert join_list(["x", "y"]) == "x and y"
    assert complete_sentences("It costs $5.00. It is also great for trav") == "It costs $5.00."
    assert complete_sentences("No full sentence here") == ""
