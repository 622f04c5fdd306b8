"""Questions a router sends to the wrong handler, corrected from the shopper's own words
(issue 14): "who makes the X?" asks an attribute, not a price; "can I return the X if it
doesn't fit?" with no order named asks the return rule, not to start a return."""

from __future__ import annotations

import graph_common
import pytest
from factories import make_context
from graph_common import Chat, names
from shopagent.agent.understanding.action_slots import asks_return_rule

db = graph_common.db


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Can I return the Trailhead Rain Jacket if it doesn't fit?", True),
        ("Could I send it back in case it's too small?", True),
        ("I want to return the Trailhead Rain Jacket", False),
        ("What if the jacket is too big?", False),  # no return word
    ],
)
def test_a_hypothetical_return_asks_the_rule(text, rule) -> None:
    assert asks_return_rule(text) is rule


async def test_who_makes_it_is_answered_from_the_details(db, scripted_model) -> None:
    text = "Who makes the Brewster Gooseneck Kettle?"
    chat = Chat(make_context(db, scripted_model(["x"]), {text: "price_stock"}))
    state = await chat.say(text)
    assert state["intent"] == "product_question"
    assert "get_product_details" in names(state)
    assert "made by Brewster" in state["answer"] and "$" not in state["answer"]


async def test_how_much_stays_a_price_question(db, scripted_model) -> None:
    text = "Who makes the Brewster Gooseneck Kettle and how much is it?"
    chat = Chat(make_context(db, scripted_model(["x"]), {text: "price_stock"}))
    state = await chat.say(text)
    assert state["intent"] == "price_stock"


async def test_return_if_it_does_not_fit_gets_the_rule_not_a_verification(
    db, scripted_model
) -> None:
    text = "Can I return the Clearance Phone Case if it doesn't fit?"
    chat = Chat(make_context(db, scripted_model(["x"]), {text: "return_request"}))
    state = await chat.say(text)
    assert state["intent"] == "return_policy"
    assert state["answer_source"] != "clarify"
    assert "final sale" in state["answer"] and "can't be returned" in state["answer"]


def test_the_condition_is_not_part_of_the_product_name() -> None:
    from shopagent.agent.understanding.action_slots import without_condition

    text = "Can I return the Clearance Phone Case if it doesn't fit?"
    assert without_condition("Clearance Phone Case doesn't fit", text) == "Clearance Phone Case"
    # a word of the name said again in the condition stays
    text = "Can I return the Rain Jacket if the jacket is too big?"
    assert without_condition("Rain Jacket jacket too big", text) == "Rain Jacket jacket"
    assert without_condition("Rain Jacket", "return policy for the Rain Jacket") == "Rain Jacket"
    # the whole query is the condition: no product is named ("can I return it if...")
    assert without_condition("change mind", "Can I return it if I change my mind?") == ""
    # "if I return X, ...": X is what is asked about, not a condition
    text = "If I return the Rain Jacket, do I get my money back?"
    assert without_condition("Rain Jacket money back", text) == "Rain Jacket money back"


def test_the_rules_own_terms_name_no_product() -> None:
    from shopagent.agent.understanding.action_slots import without_policy_terms

    assert without_policy_terms("final sale") == ""
    assert without_policy_terms("Final-Sale items store credit") == "items"
    assert without_policy_terms("Clearance Phone Case") == "Clearance Phone Case"
    assert without_policy_terms("restocking fee gadgets") == "gadgets"


async def test_a_final_sale_question_gets_the_rule_not_a_tagged_product(scripted_model) -> None:
    """ "Can I return final sale items?" asks the final-sale rule: the products whose tags or
    descriptions say "final sale" are not what it is about (their category's window is not
    the answer)."""
    from factories_profiles import NOW, profile_store
    from graph_common import signed_in_chat
    from shopagent.tools.store.db import StoreDB

    text = "Can I return final sale items?"
    db = StoreDB.in_memory(profile_store())
    chat = signed_in_chat(
        db, "ada@example.com", scripted_model([]), {text: "return_policy"}, clock=lambda: NOW
    )
    state = await chat.say(text)
    assert not any(c["name"] == "search_products" for c in state["tool_calls"])
    (policy,) = [c for c in state["tool_calls"] if c["name"] == "lookup_return_policy"]
    assert policy["args"]["category"] is None
    assert "final sale" in state["answer"]


async def test_a_named_product_of_a_known_type_gets_its_own_flags(scripted_model) -> None:
    """The store's vocabulary knows "phone case" is an Electronics type; the named product is
    final sale, which the type's category rule does not say."""
    from factories import tiny_store
    from shopagent.agent.understanding.vocabulary import StoreVocabulary
    from shopagent.tools.store.db import StoreDB

    data = tiny_store()
    vocabulary = StoreVocabulary.from_store(data.products, data.policy)
    assert vocabulary.type_category("phone case") == "Electronics"
    text = "Can I return the Clearance Phone Case if it doesn't fit?"
    context = make_context(
        StoreDB.in_memory(data),
        scripted_model(["x"]),
        {text: "return_policy"},
        vocabulary=vocabulary,
    )
    state = await Chat(context).say(text)
    assert "final sale" in state["answer"] and "can't be returned" in state["answer"]
    asked = next(c for c in state["tool_calls"] if c["name"] == "lookup_return_policy")
    assert asked["args"]["category"] == "Electronics"
