"""Claim-level verification: required claims present, every stated claim supported."""

from answer_fixtures import (
    BASKET,
    BASKET_DETAILS,
    FOOTWEAR_RULE,
    MUG_A,
    MUG_B,
    details,
    hit,
    order,
    orders,
    policy,
    quotes,
    search,
)
from shopagent.agent.answering.checks import verify_plan
from shopagent.agent.answering.facts import collect, focus_products
from shopagent.agent.answering.plan import build_plan
from shopagent.agent.answering.realise import realise


def plan_of(intent: str, question: str, calls: list[dict]):
    facts = collect(calls)
    focus_products(facts, intent, [], calls)
    return build_plan([intent], question, facts, calls)


COMPARE = plan_of(
    "compare",
    "which is cheaper, the Crema Lab Slow Brew travel mug or the Bean & Bough Daybreak 3?",
    [search(MUG_A, MUG_B), quotes(("M-1", "34.99", 3), ("M-2", "31.99", 5))],
)
PRICE = plan_of(
    "price_stock",
    "How much is the Crema Lab Slow Brew Travel Mug?",
    [search(MUG_A), quotes(("M-1", "34.99", 153))],
)
SOLD_OUT = plan_of(
    "price_stock",
    "Is the Crema Lab Slow Brew Travel Mug in stock?",
    [search(MUG_A), quotes(("M-1", "34.99", 0))],
)
BASKET_Q = plan_of(
    "product_question",
    "is the Saltmarsh air fryer basket dishwasher safe?",
    [search(BASKET), details(BASKET_DETAILS)],
)


def test_every_template_passes_its_own_plan() -> None:
    for plan in (COMPARE, PRICE, SOLD_OUT, BASKET_Q):
        assert verify_plan(realise(plan), plan) == [], realise(plan)


def test_correct_paraphrases_pass() -> None:
    assert not verify_plan(
        "At $31.99, the Bean & Bough Daybreak 3 Travel Mug is less expensive than the Crema "
        "Lab Slow Brew Travel Mug, which costs $34.99.",
        COMPARE,
    )
    assert not verify_plan("The Crema Lab Slow Brew Travel Mug is $34.99 right now.", PRICE)
    assert not verify_plan(
        "Yes, the Saltmarsh Air Fryer Basket is dishwasher-safe, the listing says.", BASKET_Q
    )


def test_swapped_comparison_is_refused() -> None:
    problems = verify_plan(
        "The Crema Lab Slow Brew Travel Mug is cheaper at $34.99; the Bean & Bough Daybreak 3 "
        "Travel Mug costs $31.99.",
        COMPARE,
    )
    assert any("is not 'cheaper'" in p for p in problems)


def test_subjective_judgement_is_refused() -> None:
    problems = verify_plan(
        "The Bean & Bough Daybreak 3 Travel Mug is cheaper at $31.99 than the Crema Lab Slow "
        "Brew Travel Mug at $34.99, and is the best option.",
        COMPARE,
    )
    assert any("judgement" in p for p in problems)


def test_negated_yes_no_is_refused() -> None:
    problems = verify_plan("No, the Saltmarsh Air Fryer Basket is not dishwasher-safe.", BASKET_Q)
    assert "answers no; the data says yes" in problems


def test_price_question_needs_the_price() -> None:
    problems = verify_plan(
        "The Crema Lab Slow Brew Travel Mug is currently available at 153 in stock.", PRICE
    )
    assert "does not state the price 34.99" in problems


def test_invented_name_and_foreign_price_are_refused() -> None:
    problems = verify_plan("The Crema Lab Ultra Glide Travel Mug costs $221.99.", PRICE)
    assert any("not in tool results" in p for p in problems)
    assert any("names something not in the data" in p for p in problems)


def test_in_stock_for_a_sold_out_variant_is_refused() -> None:
    problems = verify_plan("Yes, the Crema Lab Slow Brew Travel Mug is in stock.", SOLD_OUT)
    assert any("says Crema Lab Slow Brew Travel Mug is in stock" in p for p in problems)
    assert not verify_plan("Sorry, the Crema Lab Slow Brew Travel Mug is sold out.", SOLD_OUT)


def test_wrong_colour_and_material_are_refused() -> None:
    plan = plan_of(
        "product_question", "what material is it?", [search(BASKET), details(BASKET_DETAILS)]
    )
    assert not verify_plan("The Saltmarsh Air Fryer Basket is made of aluminum.", plan)
    assert verify_plan("The Saltmarsh Air Fryer Basket is made of stainless steel.", plan)
    assert verify_plan("The Saltmarsh Air Fryer Basket is aluminum and comes in teal.", plan)


def test_wrong_policy_window_is_refused() -> None:
    plan = plan_of("return_policy", "return policy for shoes", [policy("Footwear", FOOTWEAR_RULE)])
    assert not verify_plan("You can return Footwear items within 60 days if unused.", plan)
    problems = verify_plan("You can return Footwear items within 30 days if unused.", plan)
    assert any("return window" in p for p in problems)
    assert verify_plan("Footwear items are final sale and can't be returned.", plan)


def test_order_status_and_tracking_are_checked() -> None:
    shipped = order(
        "SA-1", "shipped", carrier="UPS", tracking_number="1Z9", shipped_at="2026-11-17"
    )
    plan = plan_of("order_status", "where is my order SA-1?", [orders(shipped)])
    assert not verify_plan(realise(plan), plan)
    assert not verify_plan("Order SA-1 has shipped with UPS, tracking number 1Z9.", plan)
    problems = verify_plan("Order SA-1 was delivered, tracking 1Z9.", plan)
    assert any("status" in p for p in problems)
    assert verify_plan("Order SA-1 has shipped on 2026-11-19, tracking 1Z9.", plan)


def test_invented_features_are_refused() -> None:
    problems = verify_plan(
        "The Crema Lab Slow Brew Travel Mug is $34.99, a unique luxury piece loved by baristas "
        "everywhere.",
        PRICE,
    )
    assert any("says things the data does not" in p for p in problems)


def test_generic_checks_refuse_repeats_and_questions() -> None:
    from shopagent.agent.answering.verify import generic_problems

    twice = "- You can return shoes within 60 days.\n- You can return shoes within 60 days."
    assert "repeats itself" in generic_problems(twice)
    assert generic_problems("Anything else I can help with?")
    assert not generic_problems("The Brewster Kettle costs $44.99.")


def test_a_product_list_names_the_products_under_their_own_brands() -> None:
    plan = plan_of(
        "product_search",
        "show me travel mugs",
        [search(MUG_A, MUG_B, BASKET), quotes(("M-1", "34.99", 3), ("M-2", "31.99", 5))],
    )
    assert not verify_plan(realise(plan), plan), realise(plan)
    problems = verify_plan("I found the Crema Lab Slow Brew Travel Mug.", plan)
    assert "names too few of the products found" in problems
    mixed = (
        "I found the Crema Lab Slow Brew Travel Mug, the Crema Lab Bean & Bough Daybreak 3 "
        "Travel Mug and the Saltmarsh Air Fryer Basket."
    )
    assert any("two brands" in p for p in verify_plan(mixed, plan))


def test_a_list_cut_by_the_budget_loses_its_empty_marker() -> None:
    from shopagent.agent.answering.verify import complete_sentences

    cut = "I found 2 options:\n- 1. Crema Lab Slow Brew Travel Mug: $34.99.\n- 2."
    assert complete_sentences(cut).endswith("$34.99.")


def test_templates_answer_the_exact_question_first() -> None:
    fee = {**FOOTWEAR_RULE, "restocking_fee_pct": 15}
    plan = plan_of(
        "return_policy", "is there a restocking fee on shoes?", [policy("Footwear", fee)]
    )
    assert realise(plan).startswith("Yes, Footwear returns have a 15% restocking fee.")
    assert not verify_plan(realise(plan), plan)
    many = plan_of(
        "price_stock",
        "How many Crema Lab Slow Brew Travel Mugs are left?",
        [search(MUG_A), quotes(("M-1", "34.99", 4))],
    )
    assert realise(many).startswith("We have 4 of the Crema Lab")
    assert not verify_plan(realise(many), many)


def test_tell_me_more_gives_features_in_sentences() -> None:
    asked = "tell me more about the Saltmarsh Air Fryer Basket"
    plan = plan_of("product_question", asked, [search(BASKET), details(BASKET_DETAILS)])
    text = realise(plan)
    assert text.startswith("The Saltmarsh Air Fryer Basket by Saltmarsh stands out for ")
    assert "nonstick coating" in text and ": " not in text.split("stands out for")[1]
    assert not verify_plan(text, plan)
    plain = {**BASKET_DETAILS, "attributes": {}, "description": "It is light. It is quick."}
    plan = plan_of("product_question", asked, [search(BASKET), details(plain)])
    assert "\u201cIt is light.\u201d \u201cIt is quick.\u201d" in realise(plan)
    assert not verify_plan(realise(plan), plan)


def test_a_short_attribute_value_is_stated_as_the_data_has_it() -> None:
    bag = hit("P9", "Trailmark Horizon Sleeping Bag", "Trailmark", "S-9", "124.99", "Outdoor")
    bag_details = {
        **BASKET_DETAILS,
        "product_id": "P9",
        "name": bag["name"],
        "brand": "Trailmark",
        "description": "A warm bag with a two-way zipper.",
        "attributes": {"warranty": "2 years"},
        "variants": [{"sku": "S-9", "length": "Regular"}],
    }
    plan = plan_of(
        "product_question",
        "What's the warranty on the Trailmark Horizon Sleeping Bag?",
        [search(bag), details(bag_details)],
    )
    assert verify_plan(realise(plan), plan) == [], realise(plan)
    assert "2 years" in realise(plan)
    ok = "The Trailmark Horizon Sleeping Bag comes with a warranty of 2 years."
    assert verify_plan(ok, plan) == []
    loose = "The Trailmark Horizon Sleeping Bag, is a 2-year warranty."
    assert "does not state the warranty" in verify_plan(loose, plan)


def test_a_leading_yes_or_no_is_the_verdict() -> None:
    """ "Yes, it's final sale, so it can't be returned" answers yes (the "can't" is the
    consequence, not the verdict)."""
    final = {**BASKET_DETAILS, "final_sale": True}
    plan = plan_of(
        "product_question",
        "Is the Saltmarsh Air Fryer Basket final sale?",
        [search(BASKET), details(final)],
    )
    yes = "Yes, the Saltmarsh Air Fryer Basket is final sale, so it can't be returned."
    assert realise(plan) == yes and verify_plan(yes, plan) == []
    not_final = plan_of(
        "product_question",
        "Is the Saltmarsh Air Fryer Basket final sale?",
        [search(BASKET), details(BASKET_DETAILS)],
    )
    assert "answers yes; the data says no" in verify_plan(yes, not_final)


def test_a_policy_answer_says_why_and_on_what_condition() -> None:
    beauty = {**FOOTWEAR_RULE, "window_days": 30, "condition": "unopened"}
    plan = plan_of(
        "return_policy", "Can I return opened beauty products?", [policy("Beauty", beauty)]
    )
    assert verify_plan(realise(plan), plan) == [], realise(plan)
    assert "unopened" in realise(plan)
    bare = "You can return Beauty items within 30 days of delivery."
    assert "does not say items must be unopened" in verify_plan(bare, plan)
    final = {**FOOTWEAR_RULE, "final_sale": True}
    plan = plan_of("return_policy", "Can I return clearance items?", [policy("Clearance", final)])
    assert verify_plan(realise(plan), plan) == [], realise(plan)
    assert "does not say it is final sale" in verify_plan("No, you can't return them.", plan)


def test_an_attribute_answer_states_the_attribute_itself() -> None:
    """Seen from `local`: "No, the X is a final sale item." and "The Inkwell & Co. Atlas Plus
    Gel Pen Set from." passed a check of the verdict word and of the brand inside the name."""
    not_final = plan_of(
        "product_question",
        "Is the Saltmarsh Air Fryer Basket a final sale item?",
        [search(BASKET), details(BASKET_DETAILS)],
    )
    assert verify_plan(realise(not_final), not_final) == [], realise(not_final)
    wrong = "No, the Saltmarsh Air Fryer Basket is a final sale item."
    assert "says it is final sale; it is not" in verify_plan(wrong, not_final)
    brand = plan_of(
        "product_question",
        "Which brand is the Saltmarsh Air Fryer Basket from?",
        [search(BASKET), details(BASKET_DETAILS)],
    )
    assert verify_plan(realise(brand), brand) == [], realise(brand)
    assert "does not say who makes it" in verify_plan("The Saltmarsh Air Fryer Basket from.", brand)
    assert verify_plan("The Saltmarsh Air Fryer Basket is made by Saltmarsh.", brand) == []
