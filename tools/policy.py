"""Return-policy lookup: retrieval over the store's policy documents, citing the section."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
from shopagent.tools.policy_categories import policy_category_for
from shopagent.tools.results import PolicySection
from shopagent.tools.store.schema import ReturnPolicy

EmbedFn = Callable[[list[str]], np.ndarray]
"""Texts -> L2-normalised embeddings (one row per text)."""

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are can do does for from how i if in is it my of on or the to what when"
    " with you your me we our this that be".split()
)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)]
    return word


def _words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.casefold()) if w not in _STOP}


def _slug(text: str) -> str:
    return "-".join(_WORD.findall(text.casefold()))


def document_category(document: str, categories: Sequence[str]) -> str | None:
    """The category a policy document is about, by its file name: the name ends with the
    category's slug ("returns-electronics" -> "Electronics"; the longest slug wins). A name
    with no letters or digits a file name can spell ("鞋靴", "数码电子") has an empty slug and
    names no document; a document no category names is general (the store's own rule)."""
    named = _slug(document)
    slugs = [(len(_slug(c)), c) for c in categories if _slug(c) and named.endswith(_slug(c))]
    return max(slugs)[1] if slugs else None


def split_sections(document: str, markdown: str) -> list[tuple[str, str]]:
    """(heading, text) per ``##`` section; text before the first one is the intro."""
    sections: list[tuple[str, str]] = []
    heading, lines = "Overview", []
    for line in markdown.splitlines():
        if line.startswith("## "):
            if any(s.strip() for s in lines):
                sections.append((heading, "\n".join(lines).strip()))
            heading, lines = line[3:].strip(), []
        elif not line.startswith("# "):
            lines.append(line)
    if any(s.strip() for s in lines):
        sections.append((heading, "\n".join(lines).strip()))
    return sections


class StorePolicy:
    """The ``Policy`` protocol over machine rules plus markdown documents."""

    def __init__(
        self, rules: ReturnPolicy, docs: dict[str, str], *, embed: EmbedFn | None = None
    ) -> None:
        self._rules = rules
        self._embed = embed
        self._sections: list[PolicySection] = []
        for document, markdown in sorted(docs.items()):
            category = document_category(document, list(rules.categories))
            for heading, text in split_sections(document, markdown):
                self._sections.append(
                    PolicySection(document=document, heading=heading, text=text, category=category)
                )
        self._matrix: np.ndarray | None = None

    @property
    def rules(self) -> ReturnPolicy:
        return self._rules

    def categories(self) -> list[str]:
        return list(self._rules.categories)

    @property
    def embed(self) -> EmbedFn | None:
        """The embedder the lookup ranks sections with (None: word overlap)."""
        return self._embed

    def general_text(self) -> str:
        """The text of the sections that belong to no category (the policy's own words)."""
        return "\n".join(f"{s.heading}\n{s.text}" for s in self._sections if s.category is None)

    def lookup(
        self, question: str, *, category: str | None = None, k: int = 2
    ) -> list[PolicySection]:
        """The best sections for ``question``; sections of ``category`` (a product category:
        the policy category it falls under) are preferred."""
        if not self._sections:
            return []
        scores = self._scores(question)
        under = policy_category_for(category, self._rules.categories) if category else None
        wanted = (under or category or "").casefold() or None
        ranked: list[tuple[tuple[int, float], PolicySection]] = []
        for score, section in zip(scores, self._sections, strict=True):
            own = section.category.casefold() if section.category else None
            if wanted:  # that category's sections first, then general ones, never others
                tier = 2 if own == wanted and score > 0 else 1 if own is None else 0
            else:
                tier, score = 1, score - (0.1 if own else 0.0)
            ranked.append(((tier, float(score)), section))
        ranked.sort(key=lambda pair: pair[0], reverse=True)
        rule_category = category or None
        out = []
        for (_, score), section in ranked[:k]:
            cat = section.category or rule_category
            rule = self._rules.rule_for(cat) if cat else self._rules.default
            out.append(section.model_copy(update={"score": round(score, 4), "rule": rule}))
        return out

    def _scores(self, question: str) -> Sequence[float]:
        if self._embed is None:
            q = _words(question)
            return [
                (2 * len(q & _words(s.heading)) + len(q & _words(s.text))) / (1 + 3 * len(q))
                for s in self._sections
            ]
        if self._matrix is None:
            texts = [f"{s.heading}\n{s.text}" for s in self._sections]
            self._matrix = self._embed(texts)
        return list(self._matrix @ self._embed([question])[0])
