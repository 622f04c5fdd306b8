"""Product categories map to the policy category they fall under, whatever the names."""

from __future__ import annotations

from decimal import Decimal

import pytest
from shopagent.tools.policy_categories import policy_category_for
from shopagent.tools.store.schema import ReturnPolicy, ReturnRule

NAMES = ["Bedding & Bath", "Electronics", "Camp & Trail Gear", "Kitchen"]


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("Bedding & Bath", "Bedding & Bath"),
        ("bedding & bath", "Bedding & Bath"),
        ("Bedding", "Bedding & Bath"),
        ("Home > Bedding > Duvet Covers", "Bedding & Bath"),
        ("Bath Towels", "Bedding & Bath"),
        ("Consumer Electronics", "Electronics"),
        ("Kitchen > Electronics", "Electronics"),  # the leaf counts most
        ("Trail Running", "Camp & Trail Gear"),
        ("Pet Supplies", None),
        ("Trail Dogs", "Camp & Trail Gear"),
    ],
)
def test_policy_category_for(category, expected) -> None:
    assert policy_category_for(category, NAMES) == expected


def test_a_tie_names_no_category_and_the_head_word_counts_more() -> None:
    assert policy_category_for("Bath Kitchen", ["Bath", "Kitchen"]) == "Kitchen"
    assert policy_category_for("Trail Dogs", ["Camp & Trail", "Dogs"]) == "Dogs"
    assert policy_category_for("Spa", ["Bath & Spa", "Spa & Sauna"]) is None


def test_rule_for_a_product_category_named_unlike_the_policy() -> None:
    policy = ReturnPolicy(
        default=ReturnRule(window_days=30, condition="unused"),
        categories={
            "Gadgets & Audio": ReturnRule(
                window_days=15, condition="unopened", restocking_fee_pct=Decimal(20)
            )
        },
    )
    assert policy.rule_for("Audio").restocking_fee_pct == Decimal(20)
    assert policy.rule_for("Gadgets").window_days == 15
    assert policy.rule_for("Pet Supplies") == policy.default


def test_policy_lookup_prefers_the_sections_a_product_category_falls_under() -> None:
    from shopagent.tools.policy import StorePolicy

    policy = ReturnPolicy(
        default=ReturnRule(window_days=30, condition="unused"),
        categories={"Bedding & Bath": ReturnRule(window_days=14, condition="unopened")},
    )
    docs = {
        "returns": "# Returns\n## Returns\nReturn items within 30 days.\n",
        "returns-bedding-bath": "# Bedding\n## Bedding & Bath\nReturn bedding unopened.\n",
    }
    (top, *_) = StorePolicy(policy, docs).lookup("can I return it?", category="Bedding")
    assert top.category == "Bedding & Bath" and top.rule.window_days == 14
