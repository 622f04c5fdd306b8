"""The demo store's return-policy documents, written from the policy rules (Markdown).

The numbers in the documents come from the same :class:`ReturnPolicy` the agent applies, so
the words and the rules never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from shopagent.tools.store.schema import ReturnPolicy, ReturnRule, StoreInfo

REFUND_TIMING = "5–10 business days"
CONDITION_TEXT = {
    "any": "in any condition, even if used",
    "unused": "unused and in their original condition, with all tags and packaging",
    "unopened": "unopened, in their original sealed packaging",
}
REFUND_TEXT = {"original_payment": "original payment method", "store_credit": "store credit"}


def category_slug(category: str) -> str:
    """The file-name form of a category: ``"Coffee & Tea"`` -> ``"coffee-tea"``."""
    return re.sub(r"[^a-z0-9]+", "-", category.casefold()).strip("-")


def render_policy_docs(
    policy: ReturnPolicy, categories: Sequence[str], info: StoreInfo
) -> dict[str, str]:
    """Markdown policy documents generated from ``policy``, so their numbers always match.

    Returns ``{"returns": general doc, "returns-<category-slug>": one doc per category}``.
    """
    docs = {"returns": _general_doc(policy, categories, info)}
    for category in categories:
        docs[f"returns-{category_slug(category)}"] = _category_doc(
            category, policy.rule_for(category), info
        )
    return docs


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _returnable(rule: ReturnRule) -> bool:
    return not rule.final_sale and rule.window_days > 0


def _window_row(label: str, rule: ReturnRule) -> str:
    if not _returnable(rule):
        return f"| {label} | not returnable (final sale) | – | – | – |"
    fee = _pct(rule.restocking_fee_pct) if rule.restocking_fee_pct else "none"
    return (
        f"| {label} | {rule.window_days} days | {rule.condition} | {fee} "
        f"| {REFUND_TEXT[rule.refund_method]} |"
    )


def _general_doc(policy: ReturnPolicy, categories: Sequence[str], info: StoreInfo) -> str:
    rules = {c: policy.rule_for(c) for c in categories}
    fees = [f"{c}: {_pct(r.restocking_fee_pct)}" for c, r in rules.items() if r.restocking_fee_pct]
    credit = [c for c, r in rules.items() if r.refund_method == "store_credit"]
    all_final = [c for c, r in rules.items() if not _returnable(r)]
    rows = "\n".join(_window_row(c, r) for c, r in sorted(rules.items()))
    sections = [
        f"# Returns and refunds at {info.name}",
        "We want you to love what you buy. If something isn't right, you can return most "
        "items within the return window for their category, counted from the day the order "
        "was delivered.",
        "## How returns work",
        "Each category has its own return window and condition rules (see the table below). "
        "Start your return before the window closes, send the item back in the required "
        "condition, and we refund you once the item has arrived and been inspected. The "
        "window is counted in calendar days from the delivery date shown on your order.",
        "## Return windows",
        "| Category | Window | Condition | Restocking fee | Refund method |\n"
        "| --- | --- | --- | --- | --- |\n"
        f"{rows}\n{_window_row('All other items', policy.default)}",
        "Conditions: *any* means the item may be used; *unused* means "
        f"{CONDITION_TEXT['unused']}; *unopened* means {CONDITION_TEXT['unopened']}.",
        "## Refund methods and timing",
        "Refunds go back to your original payment method within "
        f"{REFUND_TIMING} after we receive and inspect your return."
        + (
            f" Returns from {_join(credit)} are refunded as store credit, which never expires "
            "and is usable on anything in the shop."
            if credit
            else ""
        )
        + " Original shipping charges are refunded only if the item arrived damaged, "
        "defective or not as ordered.",
        "## Restocking fees",
        (
            "A restocking fee is deducted from the refund for returns in these categories: "
            f"{'; '.join(fees)}. No other category charges a restocking fee."
            if fees
            else "We don't charge restocking fees."
        ),
        "## Final sale items",
        "Items marked final sale (for example clearance items) cannot be returned or "
        "exchanged unless they arrive damaged or defective."
        + (f" All items in {_join(all_final)} are final sale." if all_final else ""),
        "## Damaged or defective items",
        "If an item arrives damaged or defective, or we sent the wrong item, contact us "
        "within the return window for its category. We replace it or refund it in full "
        "to your original payment method: no restocking fee, no condition requirement, "
        "and we cover return shipping. This also applies to final sale items.",
        "## Exchanges",
        "Need a different size or color? Exchanges follow the same window and condition "
        "rules as returns, but there is no restocking fee on an exchange for the same "
        "product. Final sale items cannot be exchanged.",
        "## How to start a return",
        "1. Have your order number (it looks like SA-100123) and the email on the order ready.\n"
        f"2. Ask our assistant or email {info.support_email} ({info.support_hours}).\n"
        "3. We email you a prepaid return label and a return authorization.\n"
        "4. Pack the item with all accessories and packaging and drop it off with the carrier.\n"
        "5. We let you know when your refund has been issued.",
    ]
    return "\n\n".join(sections) + "\n"


def _category_doc(category: str, rule: ReturnRule, info: StoreInfo) -> str:
    title = f"# Returns: {category}"
    if not _returnable(rule):
        body = [
            "## Return window",
            f"{category} items are final sale and cannot be returned or exchanged, unless "
            "they arrive damaged or defective.",
        ]
        return "\n\n".join([title, *body]) + "\n"
    fee = (
        f"A {_pct(rule.restocking_fee_pct)} restocking fee is deducted from the refund for "
        f"{category} returns (not for damaged or defective items)."
        if rule.restocking_fee_pct
        else f"There is no restocking fee for {category} returns."
    )
    refund = (
        "Refunds are issued as store credit once we have received and inspected the item."
        if rule.refund_method == "store_credit"
        else f"Refunds go back to your original payment method within {REFUND_TIMING} of "
        "receiving and inspecting the item."
    )
    sections = [
        title,
        "## Return window",
        f"You can return {category} items within {rule.window_days} days of delivery.",
        "## Condition",
        _condition_sentence(rule),
        "## Restocking fee",
        fee,
        "## Refund method",
        refund,
        "## Exceptions",
        "Items marked final sale cannot be returned. Damaged, defective or wrong items are "
        f"replaced or refunded in full; contact {info.support_email}.",
    ]
    return "\n\n".join(sections) + "\n"


def _condition_sentence(rule: ReturnRule) -> str:
    if rule.condition == "any":
        return f"Items can be returned {CONDITION_TEXT['any']}."
    return f"Items must be {CONDITION_TEXT[rule.condition]}."


def _join(items: Sequence[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
