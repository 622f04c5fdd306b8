"""Request parsing for catalog search: pure, no models."""

from __future__ import annotations

from decimal import Decimal

import pytest
from shopagent.agent.understanding.search_request import (
    RequestFilters,
    SearchRequest,
    parse_search_request,
)
from shopagent.tools.results import SearchFilters

STORE = {
    "categories": [
        "Kitchen",
        "Coffee & Tea",
        "Toys & Games",
        "Outdoor & Camping",
        "Home Decor",
        "Office",
        "Pet Supplies",
    ],
    "brands": ["Voltaic", "Bean & Bough", "Basecamp Co.", "Kettle & Crane", "Furrow"],
    "colors": [
        "black",
        "white",
        "heather gray",
        "forest green",
        "copper",
        "navy",
        "brown",
        "cream",
    ],
    "materials": ["full-grain leather", "merino wool", "solid walnut"],
    "values": ["earl gray", "english breakfast", "lavender", "brown", "tenkeyless", "hand cream"],
    "keys": ["color", "switches", "blend", "scent", "size", "material"],
}


def parse(text: str) -> SearchRequest:
    return parse_search_request(text, **STORE)


def test_returns_query_filters_and_sort() -> None:
    request = parse("something to keep coffee hot on my desk under $40")
    query, filters, sort = request
    assert query == "keep coffee hot desk"
    assert isinstance(filters, SearchFilters) and isinstance(filters, RequestFilters)
    assert filters.max_price == Decimal(40) and filters.min_price is None
    assert sort == "relevance" and filters.exclude_terms == []


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("kettle under $50", None, 50),
        ("kettle between 20 and 40 dollars", 20, 40),
        ("kettle between $40 and $20", 20, 40),
        ("kettle $20-$40", 20, 40),
        ("kettle 20 to 40 dollars", 20, 40),
        ("kettle $40 or less", None, 40),
        ("kettle over $100", 100, None),
        ("kettle $100 and up", 100, None),
        ("kettle around $50", 40, 60),
        ("kettle no more than 30 dollars", None, 30),
        ("a gift from 2 kids", None, None),
    ],
)
def test_price_ranges(text: str, low: int | None, high: int | None) -> None:
    f = parse(text).filters
    assert f.min_price == (Decimal(low) if low is not None else None)
    assert f.max_price == (Decimal(high) if high is not None else None)
    assert f.exclude_terms == []  # "no more than" is a price, not a negation


@pytest.mark.parametrize(
    ("text", "sort"),
    [
        ("cheapest travel mug", "price_asc"),
        ("travel mug, cheapest first", "price_asc"),
        ("travel mugs sorted by price", "price_asc"),
        ("travel mug price low to high", "price_asc"),
        ("most expensive espresso machine", "price_desc"),
        ("espresso machine, priciest first", "price_desc"),
        ("espresso machine", "relevance"),
    ],
)
def test_sort_phrases(text: str, sort: str) -> None:
    request = parse(text)
    assert request.sort == sort
    assert "cheapest" not in request.query and "expensive" not in request.query


@pytest.mark.parametrize(
    "text", ["dog bowl in stock", "dog bowl, in-stock only", "dog bowl available now"]
)
def test_in_stock(text: str) -> None:
    request = parse(text)
    assert request.filters.in_stock_only and request.query == "dog bowl"


@pytest.mark.parametrize(
    ("text", "query", "excluded"),
    [
        ("wallet not leather", "wallet", ["leather"]),
        ("water bottle, no plastic", "water bottle", ["plastic"]),
        ("travel mug without a lid", "travel mug", ["lid"]),
        ("something for my dog that isn't plastic", "dog", ["plastic"]),
        ("shoes, no leather or suede", "shoes", ["leather", "suede"]),
        ("hiking poles not made of aluminum", "hiking poles", ["aluminum"]),
        ("pan, not stainless steel", "pan", ["stainless steel"]),
        ("earbuds, anything but white", "earbuds", ["white"]),
        ("headphones not too expensive", "headphones", []),
        ("no-pull dog harness", "no-pull dog harness", []),
        ("non-slip yoga mat", "non-slip yoga mat", []),
    ],
)
def test_negations_become_exclusions(text: str, query: str, excluded: list[str]) -> None:
    request = parse(text)
    assert request.query == query
    assert request.filters.exclude_terms == excluded


def test_negated_colour_is_not_a_colour_filter() -> None:
    f = parse("queen sheet set, not white").filters
    assert f.exclude_terms == ["white"] and "color" not in f.attributes
    assert f.attributes == {"size": "queen"}


@pytest.mark.parametrize(
    ("text", "brand", "query"),
    [
        ("Voltaic wireless charger", "Voltaic", "wireless charger"),
        ("voltaic's charger", "Voltaic", "charger"),
        ("bean and bough french press", "Bean & Bough", "french press"),
        ("BEAN & BOUGH beans", "Bean & Bough", "beans"),
        ("basecamp co tent", "Basecamp Co.", "tent"),
        ("kettle", None, "kettle"),  # a brand's word alone is not the brand
    ],
)
def test_brands(text: str, brand: str | None, query: str) -> None:
    request = parse(text)
    assert request.filters.brand == brand and request.query == query


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("toys and games for a 5 year old", "Toys & Games"),
        ("toy & game ideas", "Toys & Games"),
        ("camping gear under $60", "Outdoor & Camping"),
        ("kitchen knife", "Kitchen"),
        ("pet supply deals", "Pet Supplies"),
        ("office chair", "Office"),
        ("home office lamp", "Office"),  # not Home Decor: "home" alone is no category
        ("coffee grinder", None),  # one word of a two-word category needs a cue ("gear")
    ],
)
def test_categories(text: str, category: str | None) -> None:
    assert parse(text).filters.category == category


def test_category_only_request_browses() -> None:
    request = parse("electronics under $30")
    assert request.filters.category is None  # not a category of this store
    request = parse("pet supplies under $30")
    assert request.filters.category == "Pet Supplies" and request.query == ""


@pytest.mark.parametrize(
    ("text", "attributes", "query"),
    [
        ("gray towels", {"color": "grey"}, "towels"),
        ("rain jacket in forest green", {"color": "forest green"}, "rain jacket"),
        ("earl grey loose tea", {}, "earl grey loose tea"),  # a blend, not a colour
        ("keyboard with brown switches", {}, "keyboard brown switches"),
        ("lavender shower gel", {}, "lavender shower gel"),  # the store sells no lavender
        ("blue or green water bottle", {}, "blue green water bottle"),
        ("navy sweater size M", {"color": "navy", "size": "m"}, "sweater"),
        ("queen size sheets", {"size": "queen"}, "sheets"),
        ("rain jacket xl", {"size": "xl"}, "rain jacket"),
        ("boots size 10.5", {"size": "10.5"}, "boots"),
        ("chinos size 32 inseam", {}, "chinos size 32 inseam"),
        ("large dog bed", {}, "large dog bed"),  # "large" without "size" stays a word
        ("a sweater made of merino wool", {"material": "merino wool"}, "sweater merino wool"),
        ("chelsea boots in white leather", {"material": "leather", "color": "white"}, None),
        ("fleece pullover", {}, "fleece pullover"),  # a product word, not a constraint
        ("french press in copper", {"color": "copper"}, "french press"),
        ("hand cream for dry hands", {}, "hand cream dry hands"),  # a product, not a colour
        ("cream stand mixer", {"color": "cream"}, "stand mixer"),
    ],
)
def test_attributes(text: str, attributes: dict[str, str], query: str | None) -> None:
    request = parse(text)
    assert request.filters.attributes == attributes
    if query is not None:
        assert request.query == query


def test_without_store_vocabulary_colours_come_from_slot_patterns() -> None:
    request = parse_search_request("black kettle under $60")
    assert request.filters.attributes == {"color": "black"}
    assert request.query == "kettle" and request.filters.max_price == Decimal(60)


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "💥" * 300, "$" * 5000, "not " * 200])
def test_odd_input_never_raises(text: str) -> None:
    request = parse(text)
    assert isinstance(request.query, str)


def test_facets_give_the_parser_its_vocabulary() -> None:
    from shopagent.tools.catalog import facets
    from shopagent.tools.store.schema import Product

    cream = Product.model_validate(
        {
            "id": "p1",
            "name": "Glowroot Repair Hand Cream",
            "brand": "Glowroot",
            "category": "Beauty & Personal Care",
            "description": "Rich cream.",
            "tags": ["repair hand cream", "hand lotion"],
            "attributes": {"scent": "Lavender", "Material": "Recycled Glass"},
            "variants": [{"sku": "S1", "price": 9, "attributes": {"color": "Cream"}}],
        }
    )
    found = facets([cream])
    assert found["categories"] == ["Beauty & Personal Care"] and found["brands"] == ["Glowroot"]
    assert found["colors"] == ["cream"] and found["materials"] == ["recycled glass"]
    assert {"lavender", "hand cream", "repair hand cream"} <= set(found["values"])
    assert found["keys"] == ["color", "material", "scent"]
    request = parse_search_request("repair hand cream in cream", **found)
    assert request.filters.attributes == {"color": "cream"}
    assert request.query == "repair hand cream"
