"""Return-policy lookup over markdown sections."""

from factories import POLICY, tiny_store
from shopagent.tools.policy import StorePolicy, split_sections


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
