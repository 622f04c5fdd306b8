"""'Do you have a black kettle?' asks whether the store has a kind of product: a search, even
when the intent model reads a price/stock question (issue 13). A message that names one of
the store's products stays a price/stock question. Decided against the store's own catalog
(agent/understanding/availability.py)."""

from __future__ import annotations

import pytest
from factories import make_context, tiny_store
from graph_common import Chat, names
from shopagent.agent.understanding.availability import (
    asks_availability,
    asks_price_or_stock_only,
    availability_search,
)
from shopagent.agent.understanding.slots import extract
from shopagent.agent.understanding.vocabulary import StoreVocabulary
from shopagent.tools.store.db import StoreDB


@pytest.fixture(scope="module")
def vocabulary() -> StoreVocabulary:
    data = tiny_store()
    return StoreVocabulary.from_store(data.products, data.policy)


def _routes_to_search(text: str, vocabulary: StoreVocabulary) -> bool:
    slots = extract(text, None, vocabulary.protect)
    return availability_search(text, slots.query, vocabulary)


@pytest.mark.parametrize(
    ("text", "search"),
    [
        # a kind of product, with attributes: two kettles fit, none is named
        ("Do you have a black kettle?", True),
        ("do you sell kettles", True),
        ("have you got a kettle in blue?", True),
        # one product named by its own words: a price/stock question about it
        ("Do you have a Brewster gooseneck kettle?", False),
        ("do you carry a Hearth kettle", False),
        ("have you got a rain jacket in large?", False),  # "rain": only one product's word
        ("Do you have the Brewster Gooseneck Kettle in black?", False),
        # "the kettle": one the shopper has in mind, not the store's range
        ("do you have the kettle in blue", False),
        # no availability cue, or no product type of the store
        ("how much is a black kettle?", False),
        ("do you have a gift card?", False),
    ],
)
def test_availability_of_a_kind_is_a_search(text, search, vocabulary) -> None:
    assert _routes_to_search(text, vocabulary) is search


def test_marks_come_from_the_names_not_the_generic_words(vocabulary) -> None:
    marks = vocabulary.marks.words
    assert {"brewster", "hearth", "gooseneck"} <= marks
    assert not marks & {"kettle", "black", "blue", "kitchen", "large"}  # type, colour, size


def test_asks_availability_reads_the_cue_words() -> None:
    assert asks_availability("Do u have any of these?")
    assert not asks_availability("how much is the kettle")


async def _chat(text: str, intent: str, scripted_model) -> dict:
    data = tiny_store()
    context = make_context(
        StoreDB.in_memory(data),
        scripted_model(["x"]),
        {text: intent},
        vocabulary=StoreVocabulary.from_store(data.products, data.policy),
    )
    return await Chat(context).say(text)


async def test_a_kind_asked_for_is_searched_with_its_colour(scripted_model) -> None:
    state = await _chat("Do you have a black kettle?", "price_stock", scripted_model)
    assert state["intent"] == "product_search"
    search = next(c for c in state["tool_calls"] if c["name"] == "search_products")
    assert search["args"]["filters"]["attributes"] == {"color": "black"}


async def test_a_named_product_stays_a_price_question(scripted_model) -> None:
    state = await _chat("Do you have a Brewster gooseneck kettle?", "price_stock", scripted_model)
    assert state["intent"] == "price_stock"
    assert "check_price_stock" in names(state)
    quoted = next(c for c in state["tool_calls"] if c["name"] == "check_price_stock")
    assert quoted["args"]["skus"][0].startswith("K-100")


@pytest.mark.parametrize(
    ("text", "price"),
    [
        # a feature word inside the product's own name is not a product question
        ("Is the Pulse Noise-Cancelling Headphones in stock?", True),
        ("How much does the Brewster Gooseneck Kettle go for?", True),
        # an attribute cue or an attribute name of the store keeps it a product question
        ("What is the Brewster Gooseneck Kettle made of, is it in stock?", False),
        ("what size is the Trailhead Rain Jacket, is it available?", False),
        ("Tell me about the Hearth Classic Kettle", False),  # no price or stock asked
    ],
)
def test_only_price_or_stock_outside_the_name(text, price, vocabulary) -> None:
    slots = extract(text, None, vocabulary.protect)
    assert asks_price_or_stock_only(text, slots.query, vocabulary) is price


async def test_a_stock_question_read_as_a_product_question_is_quoted(scripted_model) -> None:
    text = "Is the Pulse Noise-Cancelling Headphones in stock?"
    state = await _chat(text, "product_question", scripted_model)
    assert state["intent"] == "price_stock"
    quoted = next(c for c in state["tool_calls"] if c["name"] == "check_price_stock")
    assert quoted["args"]["skus"] == ["H-400"]
