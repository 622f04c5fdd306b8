"""The features shoppers ask about, taken from the store's own product data.

A product question is often about one part or property of a product ("the battery life",
"the lid", "the sole") rather than about the product as a whole. Which parts and properties
a store's products have is in its data, not in any list written for one store:

* the variant attribute names ("color", "size", "capacity");
* the feature phrases of product names (what follows " – ", "," or "with": "Low-Retention
  Chute", "1080p Video");
* the feature lists of descriptions: items after a colon ("What you get: contoured shell,
  70-day battery life and multi-device pairing") and what follows "its"/"their" ("with its
  silent clicks").

Each phrase gives its last one and two words (numbers dropped: "70-day battery life" ->
"life", "battery life"); a phrase counts when at least ``MIN_PRODUCTS`` products have it, so
one odd description does not teach the model a word. :func:`store_aspects` feeds the
``{aspect}`` placeholder of the training phrasings (``agent/data/phrasings.yaml``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

MIN_PRODUCTS = 2
MAX_WORDS = 4
"""A list item longer than this is a clause, not a feature phrase."""

_LIST = re.compile(r":\s*([^.:;!?]+)")
_POSSESSIVE = re.compile(r"\b(?:its|their)\s+([^.,;:!?]+)", re.I)
_NAME_FEATURE = re.compile(r"\s[–—-]\s|(?<!\d),|,(?!\d)|\bwith\b", re.I)
_ITEM_SPLIT = re.compile(r"(?<!\d),|,(?!\d)|\band\b|\bor\b|\bplus\b", re.I)
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_STOP = frozenset(
    "a an the and or of for with in on to by at from it its their your you this that "
    "is are be make makes made set sets keep keeps".split()
)


def phrase_aspects(phrase: str) -> list[str]:
    """The last word and the last two words of a feature phrase, lowercase, without words
    that carry digits: ``"70-day battery life"`` -> ``["life", "battery life"]``."""
    words = [w.casefold() for w in _WORD.findall(phrase)]
    if not words or len(words) > MAX_WORDS:
        return []
    words = [w for w in words if not any(c.isdigit() for c in w)]
    while words and words[-1] in _STOP:
        words.pop()
    if not words or len(words[-1]) < 3 or not words[-1].replace("-", "").isalpha():
        return []
    out = [words[-1]]
    if len(words) >= 2 and words[-2] not in _STOP:
        out.append(" ".join(words[-2:]))
    return out


def feature_phrases(name: str, description: str) -> list[str]:
    """The feature phrases of one product's name and description."""
    phrases = _NAME_FEATURE.split(name)[1:]
    for match in _LIST.finditer(description):
        phrases += _ITEM_SPLIT.split(match.group(1))
    for match in _POSSESSIVE.finditer(description):
        phrases += _ITEM_SPLIT.split(match.group(1))
    return [p.strip() for p in phrases if p.strip()]


def store_aspects(products: Iterable[Any]) -> list[str]:
    """The aspects shoppers can ask about in this store: variant attribute names, and the
    feature words of names and descriptions that several products share."""
    counts: Counter[str] = Counter()
    keys: set[str] = set()
    for product in products:
        for variant in getattr(product, "variants", []) or []:
            keys.update(str(k).replace("_", " ").casefold() for k in variant.attributes)
        seen: set[str] = set()
        for phrase in feature_phrases(product.name, getattr(product, "description", "") or ""):
            seen.update(phrase_aspects(phrase))
        counts.update(seen)
    return sorted(keys | {a for a, n in counts.items() if n >= MIN_PRODUCTS})
