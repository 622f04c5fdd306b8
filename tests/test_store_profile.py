"""A second store from a profile data file: another order-number format, categories, policy
categories, naming and size, understood with no code written for it."""

from __future__ import annotations

import re
from datetime import date

import pytest
from shopagent.agent.understanding.entities import OrderNumberShapes
from shopagent.agent.understanding.vocabulary import StoreVocabulary
from shopagent.tools.store.profile import generate_profile_store, load_profile, profile_names

from shopagent.errors import ConfigError


@pytest.fixture(scope="module")
def alder():
    return generate_profile_store(load_profile("alder"), today=date(2026, 11, 20))


def test_the_profile_store_differs_from_the_demo_store(alder) -> None:
    assert alder.info.name == "Alder & Finch Outfitters"
    assert all(re.fullmatch(r"#W\d{7}", o.number) for o in alder.orders)
    categories = {p.category for p in alder.products}
    assert "Bedding" in categories and "Kitchen" not in categories and len(categories) == 10
    assert all(p.name.endswith(f" by {p.brand}") for p in alder.products)
    assert 150 < len(alder.products) < 300
    ids = {p.id for p in alder.products}
    assert all(i.product_id in ids for o in alder.orders for i in o.items)
    assert {s.sku for s in alder.stock} == {v.sku for p in alder.products for v in p.variants}


def test_its_products_fall_under_its_own_policy_categories(alder) -> None:
    vocabulary = StoreVocabulary.from_store(alder.products, alder.policy)
    assert vocabulary.policy_category("Bedding") == "Bedding & Bath"
    assert vocabulary.policy_category("Audio & Music") == "Gadgets & Audio"
    assert alder.policy.rule_for("Gadgets").restocking_fee_pct == 20
    assert set(alder.policy_docs) >= {"returns", "returns-bedding-bath"}


def test_its_order_numbers_are_recognised_as_typed(alder) -> None:
    shapes = OrderNumberShapes.from_numbers(o.number for o in alder.orders)
    number = alder.orders[3].number
    assert shapes.find(f"where is order {number[1:].lower()}?")[1] == number


def test_an_unknown_profile_says_which_exist() -> None:
    assert "alder" in profile_names()
    with pytest.raises(ConfigError) as err:
        load_profile("nope")
    assert "alder" in err.value.hint
