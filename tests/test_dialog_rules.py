"""Pure dialog rules: reference resolution, clarification, routers."""

from shopagent.agent.graph.routing import after_act, after_understand
from shopagent.agent.understanding.clarification import (
    ASK_COMPARE,
    ASK_NEED,
    ASK_PRODUCT,
    ASK_SIGN_IN,
    ASK_VERIFY,
    ASK_VERIFY_AGAIN,
    missing_slot_question,
)
from shopagent.agent.understanding.references import is_follow_up, resolve_targets
from shopagent.agent.understanding.slots import Slots, extract

FOCUS = [
    {"product_id": "p1", "name": "Alpha Kettle", "sku": "A-1", "price": "40.00", "category": "K"},
    {"product_id": "p2", "name": "Beta Kettle", "sku": "B-1", "price": "25.00", "category": "K"},
    {"product_id": "p3", "name": "Gamma Kettle", "sku": "C-1", "price": "60.00", "category": "K"},
]


def test_ordinal_picks_from_focus() -> None:
    assert resolve_targets(extract("and the second?"), FOCUS, "price_stock") == [FOCUS[1]]
    assert resolve_targets(extract("the last one"), FOCUS, "price_stock") == [FOCUS[2]]
    assert resolve_targets(extract("the fifth"), FOCUS, "price_stock") == []


def test_comparatives_pick_by_price() -> None:
    assert resolve_targets(extract("the cheaper one"), FOCUS, "price_stock") == [FOCUS[1]]
    assert resolve_targets(extract("the most expensive"), FOCUS, "price_stock") == [FOCUS[2]]


def test_pronoun_refers_to_first_focus_item() -> None:
    assert resolve_targets(extract("is it in stock?"), FOCUS, "price_stock") == [FOCUS[0]]


def test_new_product_words_refer_to_nothing_old() -> None:
    assert resolve_targets(extract("how much is the espresso grinder"), FOCUS, "price_stock") == []
    assert resolve_targets(extract("is it in stock?"), [], "price_stock") == []


def test_compare_takes_two() -> None:
    assert resolve_targets(extract("which is better"), FOCUS, "compare") == FOCUS[:2]


def test_follow_up_detection() -> None:
    assert is_follow_up(extract("what about in blue?"), FOCUS)
    assert not is_follow_up(extract("what about in blue?"), [])
    assert not is_follow_up(extract("show me tents"), FOCUS)


def _ask(intent: str, message: str, targets=(), verified=False, failed=False):
    return missing_slot_question(
        intent, extract(message), list(targets), verified=verified, verification_failed=failed
    )


def test_order_intents_need_verification() -> None:
    assert _ask("order_status", "where is my order") == ASK_VERIFY
    assert _ask("order_status", "a@b.co SA-1234", failed=True) == ASK_VERIFY_AGAIN
    assert _ask("order_status", "where is my order", verified=True) is None
    no_chat = missing_slot_question(
        "order_status", extract("a@b.co SA-1234"), [], verified=False,
        verification_failed=False, chat_verification=False,
    )  # fmt: skip
    assert no_chat == ASK_SIGN_IN


def test_product_intents_need_a_product() -> None:
    assert _ask("price_stock", "how much is it") == ASK_PRODUCT
    assert _ask("price_stock", "how much is it", targets=FOCUS[:1]) is None
    assert _ask("price_stock", "how much is the travel mug") is None
    assert _ask("compare", "compare them", targets=FOCUS[:1]) == ASK_COMPARE
    assert _ask("product_search", "show me something") == ASK_NEED
    assert _ask("product_search", "something under $30") is None


def test_routers_are_pure_functions_of_state() -> None:
    assert after_understand({"clarify": "which?", "intent": "price_stock"}) == "clarify"
    assert after_understand({"intent": "greeting"}) == "compose"
    assert after_understand({"intent": "out_of_scope"}) == "compose"
    assert after_understand({"intent": "price_stock"}) == "act"
    assert after_act({"clarify": "which?"}) == "clarify"
    assert after_act({}) == "compose"


def test_slots_model_defaults_mean_nothing_said() -> None:
    assert Slots().model_dump(exclude_defaults=True) == {}


def test_variant_value_matches_the_products_own_options() -> None:
    from factories import PRODUCTS
    from shopagent.agent.understanding.references import variant_value

    kettle, jacket = PRODUCTS[0], PRODUCTS[4]
    assert variant_value(kettle, "blue") == "blue"
    assert variant_value(jacket, "large") == "large"
    assert variant_value(jacket, "purple") is None
    assert variant_value(None, "blue") is None


def test_pronoun_prefers_the_current_product() -> None:
    chosen = FOCUS[2]
    assert resolve_targets(extract("is it in stock?"), FOCUS, "price_stock", chosen) == [chosen]
    assert resolve_targets(extract("the second"), FOCUS, "price_stock", chosen) == [FOCUS[1]]
