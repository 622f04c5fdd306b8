"""Search refinements over turns, as pure functions: what carries and what changes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from shopagent.agent.understanding.refinement import (
    parse_in_store,
    refine,
    refines,
    restored,
    saved,
    wants_more,
)
from shopagent.agent.understanding.search_request import RequestFilters, SearchRequest

STORE = None  # no vocabulary: the parser still reads prices, sort, stock and negations
PREVIOUS = SearchRequest(
    "travel mugs", RequestFilters(max_price=Decimal(30), attributes={"color": "black"}), "relevance"
)


@pytest.mark.parametrize(
    ("text", "cheaper", "pricier"),
    [
        ("show me cheaper ones", True, False),
        ("anything less expensive?", True, False),
        ("got any pricier ones", False, True),
        ("the cheaper one", False, False),  # one of those shown, not a new search
        ("show me mugs", False, False),
    ],
)
def test_wants_more(text, cheaper, pricier) -> None:
    assert wants_more(text) == (cheaper, pricier)


def test_saved_requests_round_trip() -> None:
    assert restored(saved(PREVIOUS)) == PREVIOUS
    assert restored(None) is None and restored({"filters": {"max_price": "x"}}) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("under 50 bucks", True),
        ("budget around 100", True),
        ("in stock only please", True),
        ("cheapest first", True),
        ("what about kettles under $50?", False),  # a new need
        ("thanks!", False),  # no filter at all
    ],
)
def test_refines(text, expected) -> None:
    assert refines(text, saved(PREVIOUS), STORE) is expected


def test_a_new_price_bound_keeps_the_need_and_the_colour() -> None:
    out = refine(parse_in_store("under 50 bucks", STORE), PREVIOUS)
    assert out.query == "travel mugs"
    assert out.filters.max_price == Decimal(50)
    assert out.filters.attributes == {"color": "black"}


def test_around_becomes_bounds_and_drops_an_old_upper_bound_below_it() -> None:
    out = refine(parse_in_store("budget around 100", STORE), PREVIOUS)
    assert (out.filters.min_price, out.filters.max_price) == (Decimal("80.00"), Decimal("120.00"))
    assert "around" not in out.query


def test_cheaper_ones_go_below_the_lowest_price_shown() -> None:
    out = refine(
        parse_in_store("cheaper ones", STORE),
        PREVIOUS,
        shown_prices=[Decimal("24.99"), Decimal("19.99")],
        cheaper=True,
    )
    assert out.filters.max_price == Decimal("19.98") and out.filters.min_price is None


def test_pricier_ones_go_above_the_highest_price_shown() -> None:
    out = refine(
        parse_in_store("pricier ones", STORE),
        PREVIOUS,
        shown_prices=[Decimal("24.99"), Decimal("19.99")],
        pricier=True,
    )
    assert out.filters.min_price == Decimal("25.00") and out.filters.max_price is None


def test_words_in_any_script_survive_extraction() -> None:
    from shopagent.agent.understanding.slots import extract

    assert extract("how much is the crème brûlée torch under $40?").query == "crème brûlée torch"
    assert parse_in_store("crème brûlée torch, not plastic", STORE).query == "crème brûlée torch"
