"""The graph's product search: the one search-request parser with the store's vocabulary,
refinements over turns, the product type asked for, and the policy category of a product.

A store of its own (the tiny store plus mugs, a hand cream and bedding whose catalog
category is not named like its policy category), the real graph, the in-memory catalog.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from factories import PRODUCTS, make_context, tiny_store
from graph_common import Chat
from shopagent.agent.graph.handlers.catalog import typed_name
from shopagent.agent.understanding.vocabulary import StoreVocabulary
from shopagent.tools.catalog import InMemoryCatalog
from shopagent.tools.policy import StorePolicy
from shopagent.tools.results import ProductHit
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.schema import Product, ReturnPolicy, ReturnRule, StockLevel, Variant


def _p(pid: str, name: str, category: str, tags: list[str], prices: dict[str, str]) -> Product:
    return Product(
        id=pid,
        name=name,
        brand=name.split()[0],
        category=category,
        description=name,
        tags=tags,
        variants=[
            Variant(sku=f"{pid}-{c[:3].upper()}", price=Decimal(p), attributes={"color": c})
            for c, p in prices.items()
        ],
    )


EXTRA = [
    _p(
        "M1",
        "Roamer 16 oz Insulated Travel Mug",
        "Drinkware",
        ["insulated travel mug"],
        {"copper": "24.00", "black": "22.00"},
    ),
    _p(
        "M2",
        "Nomad 12 oz Insulated Travel Mug",
        "Drinkware",
        ["insulated travel mug"],
        {"black": "18.00"},
    ),
    _p("M3", "Budget Travel Mug Lite", "Drinkware", ["travel mug"], {"white": "9.00"}),
    _p(
        "B1",
        "Glowroot Repair Hand Cream with Travel-Size Tube",
        "Skin Care",
        ["hand cream"],
        {"cream": "12.00"},
    ),
    _p("D1", "Dreamy Linen Duvet Cover", "Bedding", ["duvet cover"], {"sand": "89.00"}),
]
POLICY = ReturnPolicy(
    default=ReturnRule(window_days=30, condition="unused"),
    categories={
        "Bedding & Bath": ReturnRule(
            window_days=30, condition="unopened", refund_method="store_credit"
        ),
        "Electronics": ReturnRule(
            window_days=30, condition="unopened", restocking_fee_pct=Decimal(15)
        ),
    },
)


@pytest.fixture
def chat_for(scripted_model):
    data = tiny_store()
    data = data.model_copy(
        update={
            "products": [*PRODUCTS, *EXTRA],
            "stock": [
                *data.stock,
                *(StockLevel(sku=v.sku, stock=4) for p in EXTRA for v in p.variants),
            ],
            "policy": POLICY,
        }
    )
    db = StoreDB.in_memory(data)
    vocabulary = StoreVocabulary.from_store(data.products, data.policy)

    def make(router: dict[str, str], steps=()) -> Chat:
        return Chat(
            make_context(
                db,
                scripted_model(list(steps)),
                router,
                catalog=InMemoryCatalog(data.products),
                policy=StorePolicy(data.policy, data.policy_docs),
                vocabulary=vocabulary,
            )
        )

    return make


def _search(state: dict) -> dict:
    return next(c for c in state["tool_calls"] if c["name"] == "search_products")


def _hits(state: dict) -> list[str]:
    return [h["name"] for h in _search(state)["result"]["hits"]]


async def test_the_product_type_asked_for_is_respected(chat_for) -> None:
    chat = chat_for({"show me travel mugs under $30": "product_search"})
    state = await chat.say("show me travel mugs under $30")
    search = _search(state)
    assert search["args"]["filters"]["max_price"] == "30"
    assert search["args"]["query"] == "travel mugs"
    assert set(_hits(state)) == {
        "Roamer 16 oz Insulated Travel Mug",
        "Nomad 12 oz Insulated Travel Mug",
        "Budget Travel Mug Lite",
    }  # not the hand cream "with Travel-Size Tube"


async def test_cheaper_ones_search_below_the_prices_just_shown(chat_for) -> None:
    first_message = "travel mugs between 15 and 30 dollars"
    chat = chat_for({first_message: "product_search", "show me cheaper ones": "compare"})
    first = await chat.say(first_message)
    shown = [Decimal(f["price"]) for f in first["focus"]]
    state = await chat.say("show me cheaper ones")
    assert state["intent"] == "product_search" and state["answer_source"] != "clarify"
    search = _search(state)
    assert Decimal(search["args"]["filters"]["max_price"]) < min(shown)
    assert search["args"]["query"] == "travel mugs"
    assert _hits(state) == ["Budget Travel Mug Lite"]


async def test_a_colour_follow_up_keeps_the_need_and_changes_the_filter(chat_for) -> None:
    router = {
        "travel mugs under 30 dollars": "product_search",
        "what about in copper?": "price_stock",
    }
    chat = chat_for(router)
    await chat.say("travel mugs under 30 dollars")
    state = await chat.say("what about in copper?")
    assert state["intent"] == "product_search"
    search = _search(state)
    assert search["args"]["query"] == "travel mugs"
    assert search["args"]["filters"]["attributes"] == {"color": "copper"}
    assert search["args"]["filters"]["max_price"] == "30"
    assert _hits(state) == ["Roamer 16 oz Insulated Travel Mug"]


@pytest.mark.parametrize(
    ("message", "low", "high"),
    [("under 50 bucks", None, "50"), ("budget around 100", "80.00", "120.00")],
)
async def test_a_price_follow_up_becomes_bounds_not_search_words(
    chat_for, message, low, high
) -> None:
    chat = chat_for({"show me kettles": "product_search", message: "out_of_scope"})
    await chat.say("show me kettles")
    state = await chat.say(message)
    search = _search(state)
    assert search["args"]["query"] == "kettles"
    assert search["args"]["filters"].get("min_price") == low
    assert search["args"]["filters"].get("max_price") == high


async def test_the_full_parser_runs_in_the_graph(chat_for) -> None:
    message = "cheapest kettles from Brewster, not blue, in stock only"
    chat = chat_for({message: "product_search"})
    search = _search(await chat.say(message))
    assert search["args"]["filters"]["brand"] == "Brewster"
    assert search["args"]["filters"]["in_stock_only"] is True
    assert search["args"]["filters"]["exclude_terms"] == ["blue"]
    assert search["args"]["sort"] == "price_asc"


async def test_words_of_a_product_name_are_not_a_colour(chat_for) -> None:
    chat = chat_for({"how much is the repair hand cream?": "price_stock"})
    state = await chat.say("how much is the repair hand cream?")
    assert state["slots"]["color"] is None
    assert "hand cream" in state["slots"]["query"].casefold()


@pytest.mark.parametrize(
    ("message", "category", "rule"),
    [
        ("can I return a duvet cover I opened?", "Bedding", POLICY.categories["Bedding & Bath"]),
        (
            "what's the restocking fee on headphones?",
            "Electronics",
            POLICY.categories["Electronics"],
        ),
    ],
)
async def test_a_product_type_gets_its_policy_categorys_rule(
    chat_for, message, category, rule
) -> None:
    chat = chat_for({message: "return_policy"})
    state = await chat.say(message)
    policy = next(c for c in state["tool_calls"] if c["name"] == "lookup_return_policy")
    assert policy["args"]["category"] == category  # the product's category
    top = policy["result"]["sections"][0]
    assert top["rule"] == rule.model_dump(mode="json")  # the rule of the category it falls under


def test_product_categories_map_to_policy_categories() -> None:
    vocabulary = StoreVocabulary.from_store([*PRODUCTS, *EXTRA], POLICY)
    assert vocabulary.policy_category("Bedding") == "Bedding & Bath"
    assert vocabulary.policy_category("electronics") == "Electronics"
    assert vocabulary.policy_category("Drinkware") is None  # the default rule


async def test_the_same_question_is_never_asked_twice_in_a_row(chat_for) -> None:
    chat = chat_for({"how much is it?": "price_stock"})
    first = await chat.say("how much is it?")
    assert first["answer_source"] == "clarify"
    second = await chat.say("how much is it?")
    assert second["answer"] != first["answer"]


@pytest.mark.parametrize(
    ("message", "sku"),
    [("how much is the white one?", "M3-WHI"), ("is the nomad one in stock?", "M2-BLA")],
)
async def test_the_one_described_is_picked_from_the_list_just_shown(chat_for, message, sku) -> None:
    chat = chat_for({"show me travel mugs": "product_search", message: "price_stock"})
    shown = await chat.say("show me travel mugs")
    assert shown["focus"][0]["sku"] != sku
    state = await chat.say(message)
    assert state["intent"] == "price_stock"
    assert state["tool_calls"][-1]["args"] == {"skus": [sku]}


async def test_a_brand_alone_after_a_list_is_not_a_refinement(chat_for) -> None:
    router = {"show me kettles": "product_search", "tell me about the Brewster": "product_question"}
    chat = chat_for(router)
    await chat.say("show me kettles")
    state = await chat.say("tell me about the Brewster")
    assert state["intent"] == "product_question"
    assert "get_product_details" in [c["name"] for c in state["tool_calls"]]


async def test_which_products_of_a_kind_are_in_stock_lists_them(chat_for) -> None:
    message = "which travel mugs do you have in stock?"
    chat = chat_for({message: "price_stock"})
    state = await chat.say(message)
    assert state["intent"] == "product_search" and state["answer_source"] != "clarify"
    assert _search(state)["args"]["filters"]["in_stock_only"] is True


async def test_the_first_one_answers_the_question_that_was_asked(chat_for) -> None:
    router = {"how much is the kettle?": "price_stock", "the first one": "product_question"}
    chat = chat_for(router)
    assert (await chat.say("how much is the kettle?"))["answer_source"] == "clarify"
    state = await chat.say("the first one")
    assert state["intent"] == "price_stock"


@pytest.mark.parametrize(
    ("message", "intent"),
    [
        ("is the clearance phone case final sale?", "product_question"),
        ("what brand is the hearth classic kettle?", "product_question"),
        ("how much is the hearth classic kettle?", "price_stock"),
    ],
)
async def test_a_question_about_an_attribute_is_a_product_question(
    chat_for, message, intent
) -> None:
    chat = chat_for({message: "price_stock"})
    assert (await chat.say(message))["intent"] == intent


async def test_a_product_choice_is_not_asked_twice_in_a_row(chat_for) -> None:
    chat = chat_for({"how much is the kettle?": "price_stock"})
    first = await chat.say("how much is the kettle?")
    assert first["answer_source"] == "clarify"
    second = await chat.say("how much is the kettle?")
    assert second["answer_source"] != "clarify"
    assert [c["name"] for c in second["tool_calls"]][-1] == "check_price_stock"


async def test_what_about_another_product_asks_the_previous_question(chat_for) -> None:
    router = {
        "how much is the hearth classic kettle?": "price_stock",
        "what about the thermacup desk mug warmer?": "product_question",
    }
    chat = chat_for(router)
    await chat.say("how much is the hearth classic kettle?")
    state = await chat.say("what about the thermacup desk mug warmer?")
    assert state["intent"] == "price_stock"
    assert state["tool_calls"][-1]["args"] == {"skus": ["W-300"]}


def _hit(name: str) -> ProductHit:
    return ProductHit(product_id=name, name=name, brand="B", category="C", sku=name, price=1)


def test_a_name_typed_in_full_is_that_product_not_a_longer_sibling() -> None:
    short, long = (
        _hit("Deskwell Pro X LED Desk Lamp"),
        _hit("Deskwell Pro X LED Desk Lamp – Touch Dimmer"),
    )
    hits = [long, short, _hit("Deskwell Lamp")]
    assert typed_name("Deskwell Pro X LED Desk Lamp 多少钱？", hits) is short
    assert typed_name("How much is the Deskwell Pro X LED Desk Lamp – Touch Dimmer?", hits) is long
    assert typed_name("how much is a deskwell desk lamp?", hits) is None  # no whole name typed
    assert typed_name("price of the lamp", [_hit("Lamp")]) is None  # one-word names are words
