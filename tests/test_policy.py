"""Return-policy lookup over markdown sections."""

from factories import POLICY, tiny_store
from shopagent.tools.policy import StorePolicy, document_category, split_sections


def _policy(embed=None) -> StorePolicy:
    data = tiny_store()
    return StorePolicy(data.policy, data.policy_docs, embed=embed)


def test_split_sections_keeps_headings() -> None:
    sections = split_sections("returns", tiny_store().policy_docs["returns"])
    assert [h for h, _ in sections] == ["How returns work", "Refunds", "Final sale"]


def test_lexical_lookup_cites_the_right_section() -> None:
    best = _policy().lookup("how do refunds work and when do I get my money")[0]
    assert (best.document, best.heading) == ("returns", "Refunds")
    assert best.rule == POLICY.default


def test_category_sections_and_rules_are_preferred() -> None:
    best = _policy().lookup("can I return it", category="Electronics")[0]
    assert best.document == "returns-electronics"
    assert best.rule.restocking_fee_pct == 15


def test_embedding_lookup_with_real_model() -> None:
    from shopagent.tools.embeddings import get_embedder

    best = _policy(get_embedder().embed).lookup("clearance items, can they come back?")[0]
    assert best.heading == "Final sale"


def _zh_policy(embed=None) -> StorePolicy:
    from datetime import date

    from shopagent.tools.store.generate import generate_store
    from shopagent.tools.store.profiles import apply_profile

    english = generate_store(
        seed=7, n_products=60, n_customers=3, n_orders=3, today=date(2026, 11, 20)
    )
    shop = apply_profile(english, "zh")
    assert set(shop.policy.categories) == {"数码电子", "影音设备", "鞋靴"}
    assert list(shop.policy_docs) == ["returns"]
    return StorePolicy(shop.policy, shop.policy_docs, embed=embed)


def test_a_general_document_belongs_to_no_category_whose_name_has_no_file_name_form() -> None:
    # Chinese category names have no ASCII file-name form (their slug is empty, and every
    # document name ends with ""): the store's only document, "returns", is its general policy
    policy = _zh_policy()
    assert "大多数商品在签收后 30 天内可以退货" in policy.general_text()
    best = policy.lookup("退货政策是什么？")[0]
    assert best.category is None and best.rule == policy.rules.default
    assert best.rule.window_days == 30
    shoes = policy.lookup("鞋靴可以退吗？", category="鞋靴")[0]
    assert shoes.rule.window_days == 60


def test_a_document_names_the_category_its_file_name_ends_with() -> None:
    names = ["Coffee & Tea", "Tea", "Electronics", "鞋靴", "数码电子"]
    assert document_category("returns-electronics", names) == "Electronics"
    assert document_category("returns-coffee-tea", names) == "Coffee & Tea"  # the longest
    assert document_category("returns-tea", names) == "Tea"
    assert document_category("returns", names) is None  # not "鞋靴": "" ends every name
