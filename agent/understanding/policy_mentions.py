"""Which return-policy category a shopper's words name, in THIS store's terms.

A shopper says "apparel", "clothes", "electronics" or "pet supplies"; one store's policy names
its categories "Apparel" and "Pet Supplies", another's "Clothing & Boots" and "Dogs" (its
catalog: "Clothing", "Trail Dogs"). :func:`policy_category_mentioned` finds the policy category
a question is about without knowing any store:

1. **shared words**: a content word of the question is a word of a policy category's name or of
   a catalog category's name (mapped to its policy category as the tools map it), plurals
   tolerated ("clothing" -> "Clothing & Boots", "my dog" -> "Dogs"); in a script written
   without spaces, the name's whole word typed inside the question ("鞋靴可以退吗" -> "鞋靴",
   never a shared character);
2. **similarity**: otherwise the question's content phrases (runs of one to three words that are
   not policy vocabulary) are embedded with the store's embedder and compared with those names;
   the best policy category wins when its similarity clears ``threshold`` and beats every other
   policy category by ``margin`` ("apparel" ~ "Clothing", "pet supplies" ~ "Dogs").

The policy vocabulary ("return", "refund", "days", "items", "opened") is learned from the
store's own general policy documents, so generic words never name a category. Pure given the
embedder; no store data beyond names and documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from shopagent.agent.understanding.vocabulary import UNSPACED, singular

EmbedFn = Callable[[list[str]], np.ndarray]

_WORD = re.compile(r"[^\W_]+")
_STOP = frozenset(
    "a an and are am be been being can could do does did for from how i if in into is it its my"
    " me mine of on or our ours so that the their them then there these they this those to too"
    " us was we were what when where which who why will with would you your yours just still"
    " even already about any anything some something get got have has had not no yes please"
    " thanks thank hi hello".split()
)
THRESHOLD = 0.5
MARGIN = 0.05


def _words(text: str) -> list[str]:
    return [singular(w) for w in _WORD.findall(text.casefold())]


@dataclass
class PolicyNames:
    """A store's policy categories, the catalog categories under them and its policy words."""

    names: dict[str, str]
    """Name (a policy category or a catalog category) -> the policy category it stands for."""
    generic: frozenset[str]
    """Singular words of the store's general policy text that name no category."""
    _matrix: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def of_store(
        cls,
        policy_categories: Iterable[str],
        catalog_to_policy: Mapping[str, str],
        general_text: str = "",
    ) -> PolicyNames:
        """``catalog_to_policy``: catalog category -> its policy category (the vocabulary's
        mapping); ``general_text``: the policy documents that belong to no category."""
        names = {c: c for c in policy_categories if c.strip()}
        official = {n.casefold(): n for n in names}
        for catalog, policy in catalog_to_policy.items():
            if policy.casefold() in official:
                names.setdefault(catalog, official[policy.casefold()])
        named = {w for n in names for w in _words(n)}
        generic = {w for w in _words(general_text) if w not in named} | _STOP
        return cls(names=names, generic=frozenset(generic))

    def phrases(self, text: str) -> list[str]:
        """Runs of one to three content words of ``text`` (policy words break a run)."""
        runs: list[list[str]] = [[]]
        for word in _WORD.findall(text.casefold()):  # as typed: "electronics", not "electronic"
            if singular(word) in self.generic or word.isdigit():
                runs.append([])
            else:
                runs[-1].append(word)
        out: list[str] = []
        for run in runs:
            for size in range(1, 4):
                for start in range(len(run) - size + 1):
                    out.append(" ".join(run[start : start + size]))
        return list(dict.fromkeys(out))

    def by_words(self, text: str) -> str | None:
        """The policy category whose names share the most content words with ``text``; None
        when none does or two tie. A word of a script written without spaces counts when the
        whole word is typed in ``text`` ("鞋靴" in "鞋靴可以退吗"; a shared character, "鞋"
        of "鞋子", is not the name)."""
        asked = {w for w in _words(text) if w not in self.generic}
        typed = text.casefold()
        scores: dict[str, int] = {}
        for name, policy in self.names.items():
            words = set(_words(name))
            unspaced = {w for w in words - asked if UNSPACED.search(w) and w in typed}
            shared = len(asked & words) + len(unspaced)
            scores[policy] = max(scores.get(policy, 0), shared)
        return _unique_best(scores, 0.5)

    def by_similarity(self, text: str, embed: EmbedFn) -> str | None:
        """The policy category whose names are most similar to a phrase of ``text``."""
        phrases = self.phrases(text)
        if not phrases or not self.names:
            return None
        names = list(self.names)
        if self._matrix is None:
            self._matrix = np.asarray(embed(names))
        sims = np.asarray(embed(phrases)) @ self._matrix.T
        scores: dict[str, float] = {}
        for j, name in enumerate(names):
            policy = self.names[name]
            scores[policy] = max(scores.get(policy, -1.0), float(sims[:, j].max()))
        best = _unique_best(scores, THRESHOLD, MARGIN)
        return best


def _unique_best(scores: Mapping[str, float], floor: float, margin: float = 0.0) -> str | None:
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked or ranked[0][1] < floor:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] <= margin:
        return None
    return ranked[0][0]


def policy_category_mentioned(
    text: str, names: PolicyNames, embed: EmbedFn | None = None, *, similar: bool = True
) -> str | None:
    """The policy category ``text`` names by shared words, else (``similar`` and an embedder
    given) by similarity; None when it names none (the default rule applies)."""
    found = names.by_words(text)
    if found is None and similar and embed is not None:
        found = names.by_similarity(text, embed)
    return found


_CACHE: dict[tuple[object, ...], PolicyNames] = {}


def policy_names(
    policy_categories: Iterable[str], catalog_to_policy: Mapping[str, str], general_text: str
) -> PolicyNames:
    """:meth:`PolicyNames.of_store`, reused while the names and the text are unchanged."""
    key = (tuple(policy_categories), tuple(sorted(catalog_to_policy.items())), general_text)
    if key not in _CACHE:
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = PolicyNames.of_store(key[0], catalog_to_policy, general_text)
    return _CACHE[key]
