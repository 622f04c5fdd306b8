"""Which return-policy category a product category falls under.

A store's catalog and its return policy do not always name categories alike: the catalog
says "Bedding", the policy "Bedding & Bath"; a catalog path "Home > Bedding > Duvet Covers"
sits under "Bedding & Bath" too. :func:`policy_category_for` matches a product category to
the policy category whose name shares the most of its words (the last part of a category
path counts most, and its last word more; plurals tolerated), the same name first. Pure; no
store data is needed beyond the two lists of names.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"[^\W_]+")
_STOP = frozenset("a an and of the for with in on to by".split())
_PATH = re.compile(r"\s*(?:>|/|\|)\s*")


def _singular(word: str) -> str:
    w = word.casefold()
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def _words(text: str) -> set[str]:
    return {_singular(w) for w in _WORD.findall(text.casefold()) if w not in _STOP}


def policy_category_for(category: str, names: Iterable[str]) -> str | None:
    """The policy category (one of ``names``) that ``category`` falls under, else None."""
    names = [n for n in names if n and n.strip()]
    wanted = category.casefold().strip()
    for name in names:
        if name.casefold().strip() == wanted:
            return name
    parts = [p for p in _PATH.split(category) if p.strip()]
    weights: Counter[str] = Counter()
    for depth, part in enumerate(parts):
        words = [_singular(w) for w in _WORD.findall(part.casefold()) if w not in _STOP]
        for position, word in enumerate(words):
            head = 1 if position == len(words) - 1 else 0  # "Trail Dogs" are dogs
            weights[word] = max(weights[word], 2 * (1 + depth) + head)  # the leaf counts most
    best, best_score = None, 0
    for name in names:
        score = sum(v for w, v in weights.items() if w in _words(name))
        if score > best_score:
            best, best_score = name, score
        elif score == best_score and score > 0:
            best = None  # a tie names no one category
    return best
