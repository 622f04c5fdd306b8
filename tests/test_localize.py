"""Spanish and Chinese phrasings reach the slots (agent/data/lang/*.yaml); Unicode survives
slot extraction and BM25 tokenisation; the multilingual embedder puts a Chinese and a Spanish
query next to the English product they mean."""

from __future__ import annotations

from decimal import Decimal

import pytest
from shopagent.agent.understanding.localize import localize
from shopagent.agent.understanding.search_request import parse_search_request
from shopagent.agent.understanding.slots import extract
from shopagent.tools.catalog.text import tokenize


def slots(text: str, lang: str):
    return extract(localize(text, lang))


@pytest.mark.parametrize(
    ("text", "lang", "low", "high"),
    [
        ("auriculares por menos de 50", "es", None, "50"),
        ("entre 20 y 40 euros", "es", "20", "40"),
        ("200元以下的咖啡研磨机", "zh", None, "200"),
        ("不超过100块", "zh", None, "100"),
        ("50到80元之间的台灯", "zh", "50", "80"),
    ],
)
def test_localised_prices(text: str, lang: str, low: str | None, high: str | None) -> None:
    s = slots(text, lang)
    assert s.min_price == (Decimal(low) if low else None)
    assert s.max_price == (Decimal(high) if high else None)


def test_localised_words() -> None:
    assert slots("便宜一点的", "zh").cheaper
    assert slots("el segundo", "es").ordinal == 2
    assert slots("第三个", "zh").ordinal == 3
    assert slots("sartén antiadherente roja", "es").color == "red"
    assert slots("黑色无线耳机", "zh").color == "black"
    assert slots("sí, por favor", "es").yes
    assert slots("不", "zh").no
    assert not slots("不粘锅", "zh").no  # a product word, not an answer


def test_unicode_survives_slots_and_parser() -> None:
    assert slots("auriculares inalámbricos por menos de 50", "es").query == (
        "auriculares inalámbricos"
    )
    assert parse_search_request("sartén antiadherente").query == "sartén antiadherente"
    assert slots("200元以下的咖啡研磨机", "zh").query == "咖啡研磨机"


def test_english_and_unknown_languages_are_unchanged() -> None:
    assert localize("under 50 please", "en") == "under 50 please"
    assert localize("menos de 50", "xx") == "menos de 50"
    assert localize("menos de 50", "../etc") == "menos de 50"


def test_bm25_tokens_for_cjk_and_accents() -> None:
    assert tokenize("Insulated travel mugs WH-1000XM5") == [
        "insulated",
        "travel",
        "mug",
        "wh1000xm5",
        "wh",
        "1000xm5",
    ]
    assert "inalambrico" in tokenize("auriculares inalámbricos")
    assert {"保温", "温杯"} <= set(tokenize("不锈钢保温杯"))
    assert tokenize("杯") == ["杯"]


def test_multilingual_embedder_is_cross_lingual() -> None:
    from shopagent.tools.embeddings import make_embedder

    embedder = make_embedder("use-multilingual")
    products = ["insulated stainless steel travel mug", "wool house slippers", "usb-c hub"]
    vectors = embedder.embed(products)
    assert vectors.shape == (3, 512)
    for query in ("保温杯", "taza térmica de viaje"):
        scores = vectors @ embedder.embed_one(query)
        assert int(scores.argmax()) == 0, query
    assert embedder.identity != make_embedder("static").identity


def test_language_phrasings_train_only_a_multilingual_embedder() -> None:
    from shopagent.agent.understanding.training_data import load_phrasings
    from shopagent.tools.embeddings import make_embedder
    from shopagent.tools.embeddings.multilingual import is_multilingual

    english = load_phrasings(languages=False)
    every = load_phrasings(languages=True)
    extra = set(every["product_search"]["templates"]) - set(english["product_search"]["templates"])
    assert any("{noun}" in t and "吗" in t for t in extra)
    assert any(t.startswith("¿tienen") for t in extra)
    assert is_multilingual(make_embedder("use-multilingual").identity)
    assert not is_multilingual(make_embedder("static").identity)


def test_chinese_store_profile() -> None:
    from datetime import date

    from shopagent.tools.store.generate import generate_store
    from shopagent.tools.store.profiles import apply_profile

    english = generate_store(
        seed=7, n_products=200, n_customers=20, n_orders=100, today=date(2026, 11, 20)
    )
    shop = apply_profile(english, "zh")
    assert shop.info.name == "拾光生活馆" and shop.products
    assert {p.category for p in shop.products} <= {
        "厨房用品",
        "咖啡与茶",
        "数码电子",
        "影音设备",
        "鞋靴",
    }
    for product in shop.products:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in product.name), product.name
        assert any("\u4e00" <= ch <= "\u9fff" for ch in product.description)
    names = {v.sku: p.name for p in shop.products for v in p.variants}
    for order in shop.orders:
        assert all(item.name == names[item.sku] for item in order.items)
    assert "数码电子" in shop.policy.categories and "退货政策" in shop.policy_docs["returns"]


def test_latin_runs_inside_chinese_text_are_words() -> None:
    s = slots("查一下订单SA-100378的状态，我的邮箱是yfoster76@example.net", "zh")
    assert s.order_number == "SA-100378" and s.email == "yfoster76@example.net"
    assert slots("订单SA-100157我要退货", "zh").order_number == "SA-100157"
    assert slots("200元以下的磨豆机", "zh").max_price == Decimal("200")
