"""Resolving what a turn refers to ("it", "the second", "the cheaper one") from the focus."""

from __future__ import annotations

import re
from decimal import Decimal

from shopagent.agent.records import FocusItem
from shopagent.agent.understanding.lines import Line, best_lines
from shopagent.agent.understanding.slots import Slots
from shopagent.agent.understanding.slots import _patterns as _slot_patterns
from shopagent.tools.store.schema import Product

PRODUCT_INTENTS = frozenset({"product_search", "product_question", "price_stock", "compare"})
FOLLOW_UP_INTENTS = frozenset({"product_question", "price_stock", "compare", "return_policy"})


def resolve_targets(
    slots: Slots, focus: list[FocusItem], intent: str, current: FocusItem | None = None
) -> list[FocusItem]:
    """The products this turn refers to; empty when it names new products.

    Pure function: positional ("the second") and comparative ("the cheaper one") references
    pick from the list last shown (``focus``); pronouns ("it") refer to the product last
    talked about (``current``), else the first shown; a message with its own product words
    refers to none.
    """
    if not focus and current is None:
        return []
    first = [current] if current is not None else focus[:1]
    if not focus:
        focus = first
    if slots.ordinal is not None:
        index = slots.ordinal - 1 if slots.ordinal > 0 else len(focus) - 1
        return [focus[index]] if 0 <= index < len(focus) else []
    if slots.cheaper or slots.pricier:
        ranked = sorted(focus, key=lambda f: Decimal(f["price"]))
        return [ranked[0] if slots.cheaper else ranked[-1]]
    if slots.query and intent == "product_search":
        return []
    if slots.query and not slots.reference:
        return []
    if intent == "compare":
        return focus[:2]
    named_variant = slots.color or slots.size or slots.variant
    if intent in FOLLOW_UP_INTENTS or slots.reference or named_variant:
        return first
    return []


_ONE = re.compile(r"\b(?:the|that|this)\s+(?:[\w'-]+\s+){0,3}?one\b", re.I)


_DEFINITE = r"\b(?:the|this|that|my|your|its)\s+(?:[\w'&.-]+\s+){0,12}?"


def asks_for_a_list(text: str, product_type: str | None, kinds: int) -> bool:
    """The message asks which products of a kind there are ("which fleece quarter-zip do
    you have in stock?", "any travel mugs?"), not about one product ("the kettle"): a list
    cue, a product type several products share, and no definite article before it."""
    if not product_type or kinds < 2:
        return False
    cues = _slot_patterns()["raw"].get("list_cues") or []
    cue = r"\b(?:" + "|".join(re.escape(c) for c in cues) + r")\b"
    if not cues or not re.search(cue, text, re.I):
        return False
    head = re.escape(product_type.split()[-1])
    return re.search(_DEFINITE + head, text, re.I) is None


def describes_one(text: str) -> bool:
    """The message describes one product ("the red one", "that cheaper one")."""
    return _ONE.search(text) is not None


def pick_from_list(
    text: str, words: str, focus: list[FocusItem], products: dict[str, Product | None]
) -> list[FocusItem]:
    """The one product of the list just shown that "the red one", "the leather one" or "the
    one by Brewster" describes: every shown product scored on its name, brand and variant
    values; empty unless exactly one scores best."""
    if len(focus) < 2 or not words.strip() or not _ONE.search(text):
        return []
    lines = []
    for i, item in enumerate(focus):
        product = products.get(item["product_id"])
        values = [
            str(v)
            for variant in (product.variants if product else [])
            for v in variant.attributes.values()
        ]
        brand = product.brand if product else ""
        lines.append(Line(str(i), item["name"], {"brand": brand, "values": " ".join(values)}))
    best = best_lines(words, lines)
    return [focus[int(best[0].key)]] if len(best) == 1 and len(best) < len(lines) else []


def variant_value(product: Product | None, query: str) -> str | None:
    """The product's variant value that the query's words name ("coral" -> "Coral"), if any."""
    words = set(re.findall(r"[a-z0-9]+", query.casefold()))
    if product is None or not words:
        return None
    for variant in product.variants:
        for value in variant.attributes.values():
            if words <= set(re.findall(r"[a-z0-9]+", str(value).casefold())):
                return str(value)
    return None


def is_follow_up(slots: Slots, focus: list[FocusItem]) -> bool:
    """A short message that only makes sense about the products already shown."""
    return (
        bool(focus)
        and not slots.query
        and (
            slots.reference
            or slots.ordinal is not None
            or slots.cheaper
            or slots.pricier
            or bool(slots.color)
            or bool(slots.size)
            or bool(slots.variant)
        )
    )
