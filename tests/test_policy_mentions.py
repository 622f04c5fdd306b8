"""A shopper's words name a return-policy category in the store's own terms: shared words with
its policy or catalog category names, else similarity with the store's embedder (the bundled
model). Checked on the demo store and on the alder profile, whose policy says "Clothing &
Boots" and "Dogs" where the demo's says "Apparel" and "Pet Supplies"."""

from __future__ import annotations

from datetime import date

import pytest
from graph_common import store_chat
from shopagent.agent.understanding.policy_mentions import PolicyNames, policy_category_mentioned
from shopagent.agent.understanding.vocabulary import StoreVocabulary
from shopagent.tools.embeddings import get_embedder
from shopagent.tools.policy import StorePolicy
from shopagent.tools.store.generate import generate_store
from shopagent.tools.store.profile import generate_profile_store, load_profile


def _names(data) -> PolicyNames:
    vocab = StoreVocabulary.from_store(data.products, data.policy)
    general = StorePolicy(data.policy, data.policy_docs).general_text()
    return PolicyNames.of_store(data.policy.categories, vocab.policy_categories, general)


@pytest.fixture(scope="module")
def alder_data():
    return generate_profile_store(load_profile("alder"), today=date(2026, 11, 20))


@pytest.fixture(scope="module")
def alder(alder_data) -> PolicyNames:
    return _names(alder_data)


@pytest.fixture(scope="module")
def demo() -> PolicyNames:
    return _names(
        generate_store(
            seed=7, n_products=120, n_customers=10, n_orders=20, today=date(2026, 11, 20)
        )
    )


@pytest.fixture(scope="module")
def embed():
    return get_embedder().embed


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("How many days do I have to return clothing?", "Clothing & Boots"),
        ("Can I return boots I wore once?", "Clothing & Boots"),
        ("Can I send back dog stuff after my dog used it?", "Dogs"),
        ("What is the window for bedding?", "Bedding & Bath"),
        ("How many days do I have to return apparel?", "Clothing & Boots"),
        ("Do you charge a restocking fee on electronics?", "Gadgets & Audio"),
        ("Can I return pet supplies even if they were used?", "Dogs"),
        ("What is your return policy?", None),
        ("How long does it take to get my refund?", None),
        ("Can I return final sale items?", None),
        ("If I return home decor, do I get my money back?", None),
    ],
)
def test_alder_words_resolve_to_its_policy_categories(alder, embed, text, category) -> None:
    assert policy_category_mentioned(text, alder, embed) == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("How many days do I have to return apparel?", "Apparel"),
        ("Do you charge a restocking fee on electronics?", "Electronics"),
        ("Can I return opened beauty products?", "Beauty & Personal Care"),
        ("Can I return pet supplies even if my dog already used them?", "Pet Supplies"),
        ("If I return home decor, do I get my money back?", "Home Decor"),
        ("What is your return policy?", None),
        ("How long does it take to get my refund?", None),
    ],
)
def test_demo_words_resolve_to_its_policy_categories(demo, embed, text, category) -> None:
    assert policy_category_mentioned(text, demo, embed) == category


def test_without_similarity_only_shared_words_count(alder, embed) -> None:
    assert policy_category_mentioned("return apparel?", alder, embed, similar=False) is None
    assert policy_category_mentioned("return clothing?", alder, None) == "Clothing & Boots"


def test_policy_words_of_the_store_name_no_category(alder) -> None:
    assert "refund" in alder.generic and "day" in alder.generic
    assert "clothing" not in alder.generic
    assert alder.phrases("return pet supplies in 30 days") == ["pet", "supplies", "pet supplies"]


@pytest.mark.parametrize(
    ("message", "category", "window"),
    [
        ("How many days do I have to return apparel?", "Clothing & Boots", 90),
        ("Do you charge a restocking fee on electronics?", "Gadgets & Audio", 15),
        ("What is your return policy?", None, 21),
        # a product named: its own category and final-sale flag, not a similar category
        ("Can I return the Pro Plus Smart Plug by Brightwire if I don't like it?", "Gadgets", 15),
    ],
)
async def test_the_policy_lookup_gets_this_stores_category(
    alder_data, embed, scripted_model, message, category, window
) -> None:
    chat = store_chat(alder_data, scripted_model([]), {message: "return_policy"}, embed=embed)
    state = await chat.say(message)
    call = next(c for c in state["tool_calls"] if c["name"] == "lookup_return_policy")
    assert call["args"]["category"] == category
    assert call["result"]["sections"][0]["rule"]["window_days"] == window


@pytest.fixture(scope="module")
def zh_data():
    from shopagent.tools.store.profiles import apply_profile

    english = generate_store(
        seed=7, n_products=200, n_customers=3, n_orders=3, today=date(2026, 11, 20)
    )
    return apply_profile(english, "zh")


@pytest.fixture(scope="module")
def zh_embed():
    from shopagent.tools.embeddings import make_embedder

    return make_embedder("use-multilingual").embed


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # a general question names no category (issue 16: it got the shoes' 60 days)
        ("退货政策是什么？", None),
        ("你们的退货政策是怎样的？", None),
        # the store's own name typed inside unspaced text names it
        ("鞋靴可以退吗？", "鞋靴"),
        ("数码电子商品有重新入库费吗？", "数码电子"),
        # a shared character ("鞋" of "鞋子") is not the name
        ("鞋子可以退吗？", None),
    ],
)
def test_chinese_words_name_a_category_only_when_the_name_is_typed(zh_data, text, category) -> None:
    assert policy_category_mentioned(text, _names(zh_data), None) == category


@pytest.mark.parametrize("text", ["退货政策是什么？", "你们的退货政策是怎样的？", "怎么退款？"])
def test_a_chinese_general_question_is_similar_to_no_category(zh_data, zh_embed, text) -> None:
    assert policy_category_mentioned(text, _names(zh_data), zh_embed) is None


@pytest.mark.parametrize(
    ("message", "category", "window", "fee"),
    [
        # a general question gets the general rule, not the 鞋靴 rule
        ("退货政策是什么？", None, 30, 0),
        ("鞋子可以退吗？", "鞋靴", 60, 0),
        ("数码电子商品可以退吗？", "数码电子", 30, 15),
        # a product type gets its category's rule: "耳机" got the general one; headphones
        # are 影音设备 on this store
        ("耳机可以退货吗？", "影音设备", 30, 10),
        ("儿童耳机可以退吗？", "影音设备", 30, 10),
        ("跑鞋可以退货吗？", "鞋靴", 60, 0),
    ],
)
async def test_a_chinese_policy_question_gets_its_rule(
    zh_data, zh_embed, scripted_model, message, category, window, fee
) -> None:
    chat = store_chat(zh_data, scripted_model([]), {message: "return_policy"}, embed=zh_embed)
    state = await chat.say(message)
    call = next(c for c in state["tool_calls"] if c["name"] == "lookup_return_policy")
    assert call["args"]["category"] == category
    rule = call["result"]["sections"][0]["rule"]
    assert (rule["window_days"], float(rule["restocking_fee_pct"])) == (window, fee)
