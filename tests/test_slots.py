"""Slot extraction: pure patterns from agent/data/slots.yaml."""

from decimal import Decimal

import pytest
from shopagent.agent.understanding.slots import extract


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("how much is the pour-over kettle?", {"query": "pour-over kettle"}),
        ("is it in stock?", {"reference": True, "in_stock_only": True}),
        ("keep coffee hot on my desk under $40", {"max_price": Decimal(40)}),
        ("between 20 and 40 dollars", {"min_price": Decimal(20), "max_price": Decimal(40)}),
        ("between $40 and $20", {"min_price": Decimal(20), "max_price": Decimal(40)}),
        ("over $100 please", {"min_price": Decimal(100)}),
        ("max $50", {"max_price": Decimal(50)}),
        ("the Nimbus Max 2 power bank", {"max_price": None}),
        ("and the second?", {"ordinal": 2}),
        ("the last one", {"ordinal": -1}),
        ("the cheaper one", {"cheaper": True}),
        ("what about in blue?", {"color": "blue"}),
        ("do you have it in gray", {"color": "grey"}),
        ("size large", {"size": "large"}),
        ("yes please", {"yes": True}),
        ("no thanks", {"no": True}),
        ("still sealed in the box", {"condition": "unopened"}),
        ("never worn, tags on", {"condition": "unused"}),
        ("I wore it twice", {"condition": "used"}),
    ],
)
def test_extracts(message: str, expected: dict) -> None:
    slots = extract(message).model_dump()
    for key, value in expected.items():
        assert slots[key] == value, (key, slots)


def test_identity_slots_are_normalised_and_removed_from_query() -> None:
    slots = extract("Where is order sa-100234? My email is Jo.Doe@Example.com, zip code 94110")
    assert slots.order_number == "SA-100234"
    assert slots.email == "jo.doe@example.com"
    assert slots.zip_code == "94110"
    assert slots.query == ""


def test_bare_number_after_from_is_not_a_price() -> None:
    assert extract("a gift from 2 kids").min_price is None


def test_product_words_survive_filters() -> None:
    slots = extract("blue waterproof jacket between 20 and 40 dollars size large")
    assert slots.query == "waterproof jacket"
    assert (slots.color, slots.size) == ("blue", "large")


@pytest.mark.parametrize("message", ["", "   ", "\x00\x01", "💥" * 500, "$" * 10_000])
def test_odd_input_never_raises(message: str) -> None:
    extract(message)
