"""Product types in a script written without spaces (issue 16): a Chinese question is one run
of word characters, so the store's own types are found where they are typed inside it, longest
first, and a shorter type several of its types end in ("耳机" of "降噪耳机" and "真无线耳机")
stands for all their products. English is read word by word, as before."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from graph_common import store_chat
from shopagent.agent.understanding.vocabulary import StoreVocabulary
from shopagent.tools.store.generate import generate_store
from shopagent.tools.store.profiles import apply_profile
from shopagent.tools.store.schema import Product, Variant


def _product(pid: str, name: str, brand: str, category: str, tags: list[str]) -> Product:
    return Product(
        id=pid,
        name=name,
        brand=brand,
        category=category,
        description=name,
        tags=tags,
        variants=[Variant(sku=f"{pid}-1", price=Decimal("10"))],
    )


ZH = [
    _product("Z1", "Resonant Tempo 降噪耳机", "Resonant", "影音设备", ["降噪耳机", "影音设备"]),
    _product("Z2", "Resonant 真无线耳机", "Resonant", "影音设备", ["真无线耳机", "影音设备"]),
    _product("Z3", "Echo Valley 儿童耳机", "Echo Valley", "影音设备", ["儿童耳机"]),
    _product("Z4", "Pixelforge 7-in-1 USB-C扩展坞", "Pixelforge", "数码电子", ["USB-C扩展坞"]),
    _product("Z5", "Fleetfoot Drift 公路跑鞋", "Fleetfoot", "鞋靴", ["公路跑鞋", "鞋靴"]),
    _product("Z6", "Fleetfoot Trail 越野跑鞋", "Fleetfoot", "鞋靴", ["越野跑鞋", "鞋靴"]),
    _product("Z7", "Brightbake 铸铁炖锅", "Brightbake", "厨房用品", ["铸铁炖锅"]),
    _product("Z8", "Crema Lab 咖啡机", "Crema Lab", "咖啡与茶", ["咖啡机"]),
    _product("Z9", "Brightbake 厨师机", "Brightbake", "厨房用品", ["厨师机"]),
    _product("Z10", "Morningside 陶瓷茶壶", "Morningside", "咖啡与茶", ["陶瓷茶壶"]),
    _product("Z11", "Kettle & Crane 玻璃茶壶", "Kettle & Crane", "厨房用品", ["玻璃茶壶"]),
]


@pytest.fixture(scope="module")
def zh() -> StoreVocabulary:
    return StoreVocabulary.from_store(ZH)


@pytest.mark.parametrize(
    ("text", "kind", "products", "category"),
    [
        # the store's own type typed inside the question, longest first
        ("降噪耳机可以退货吗？", "降噪耳机", 1, "影音设备"),
        ("儿童耳机能退吗", "儿童耳机", 1, "影音设备"),
        # the end of a name, as in English ("glide leather sneaker")
        ("Resonant Tempo 降噪耳机可以退吗", "tempo 降噪耳机", 1, "影音设备"),
        ("铸铁炖锅可以退吗？", "铸铁炖锅", 1, "厨房用品"),
        # the localizer's spacing between Latin and Chinese is no word boundary
        ("USB-C 扩展坞可以退吗", "usb-c扩展坞", 1, "数码电子"),
        # a head several types end in: all their products, and the category they share
        ("耳机可以退货吗？", "耳机", 3, "影音设备"),
        ("跑鞋能退吗", "跑鞋", 2, "鞋靴"),
        # the unspaced end of a type written after Latin letters
        ("扩展坞可以退吗", "扩展坞", 1, "数码电子"),
        # a head shared across categories names a type but no category
        ("茶壶可以退吗", "茶壶", 2, None),
    ],
)
def test_a_type_typed_inside_unspaced_text_is_found(
    zh: StoreVocabulary, text: str, kind: str, products: int, category: str | None
) -> None:
    found = zh.product_type(text)
    assert found == kind
    assert zh.kinds(found) == products
    assert zh.type_category(found) == category


@pytest.mark.parametrize(
    "text",
    [
        "退货政策是什么？",  # no type at all
        "炖锅可以退吗",  # the end of one type only: no head the store's types share
        "机器可以退吗",  # one character ("机" of "咖啡机" and "厨师机") names no type
        "鞋子可以退吗？",  # a shared character ("鞋" of "跑鞋") is not the type
    ],
)
def test_unspaced_text_without_a_type_names_none(zh: StoreVocabulary, text: str) -> None:
    assert zh.product_type(text) is None


def test_english_types_are_read_word_by_word() -> None:
    vocab = StoreVocabulary.from_store(
        [
            _product("E1", "Brewster Gooseneck Kettle", "Brewster", "Kitchen", ["kettle"]),
            _product("E2", "Nomad Insulated Travel Mug", "Nomad", "Drinkware", ["travel mug"]),
        ]
    )
    assert vocab.heads == {}
    assert vocab.product_type("can I return a travel mug?") == "travel mug"
    assert vocab.product_type("can I return mugs?") == "mug"
    assert vocab.product_type("returns of the gooseneck kettles") == "gooseneck kettle"
    assert vocab.product_type("can I return a mugshot?") is None
    assert vocab.type_category("mug") == "Drinkware"


@pytest.fixture(scope="module")
def zh_data():
    english = generate_store(
        seed=7, n_products=200, n_customers=3, n_orders=3, today=date(2026, 11, 20)
    )
    return apply_profile(english, "zh")


async def test_a_chinese_search_for_a_head_keeps_the_products_of_that_type(
    zh_data, scripted_model
) -> None:
    """The head "耳机" names the type its products' types end in ("真无线耳机", "儿童耳机"): the
    search keeps those, and finds them in their names written without spaces."""
    message = "耳机"
    state = await store_chat(zh_data, scripted_model([]), {message: "product_search"}).say(message)
    search = next(c for c in state["tool_calls"] if c["name"] == "search_products")
    assert search["args"]["product_type"] == "耳机"
    names = [h["name"] for h in search["result"]["hits"]]
    assert names and all(n.endswith("耳机") for n in names), names
