""" "Do you have a black leather sneaker?": asking whether the store has a kind of product is a
search, not a price question about one product.

A price-and-stock answer needs one product. Whether the message names one is decided against
the store's own catalog (:class:`ProductMarks`): the words of product names and brands that
are not generic (not a product type, colour, material, attribute value or name, category or
tag word of the store) mark products. A message whose product words carry no mark, or marks
that fit several products or none, names no single product: when it asks whether the store
has such a thing (``availability_cues`` in ``agent/data/slots.yaml``) and the product type
has no definite article ("the sneaker" means one the shopper has in mind), it is a search.
The other way round, a message routed to a product question whose words outside the
product's name ask only for a price or stock level is a price/stock question
(:func:`asks_price_or_stock_only`). All functions here are pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shopagent.agent.understanding.slots import _patterns as _slot_patterns

_WORD = re.compile(r"[^\W_]+(?:['’\-.][^\W_]+)*")
_STOP = frozenset("a an and of the for with in on to by & + - oz".split())
_DEFINITE = r"\b(?:the|this|that|these|those|my|your|its|their)\s+(?:[\w'&.-]+\s+){0,6}?"


def _words(text: str, singular: Any) -> list[str]:
    return [singular(w.casefold()) for w in _WORD.findall(text)]


@dataclass(frozen=True)
class ProductMarks:
    """The words of product names and brands that tell products apart from generic words,
    and every product's name and brand words (singular, casefolded)."""

    words: frozenset[str] = frozenset()
    names: tuple[frozenset[str], ...] = ()

    @classmethod
    def of(
        cls,
        products: Iterable[Any],
        generic_phrases: Iterable[str],
        singular: Any,
    ) -> ProductMarks:
        """Marks of ``products``; ``generic_phrases`` are the store's product type heads and
        facet values and names (their words, and category and tag words, are never marks)."""
        products = list(products)
        generic = set(_STOP)
        for phrase in generic_phrases:
            generic.update(_words(str(phrase), singular))
        for product in products:
            for tag in product.tags:
                generic.update(_words(tag, singular))
            generic.update(_words(product.category, singular))
        names = tuple(
            frozenset(_words(f"{product.name} {product.brand}", singular)) for product in products
        )
        marks = {w for name in names for w in name if w not in generic and not w.isdigit()}
        return cls(frozenset(marks), names)

    def matching(self, text: str, kind: str, singular: Any) -> int | None:
        """How many products of type ``kind`` carry every mark of ``text``; None when it has
        no mark."""
        said = {w for w in _words(text, singular) if w in self.words}
        if not said:
            return None
        wanted = said | {kind.split()[-1]}
        return sum(1 for name in self.names if wanted <= name)


def asks_availability(text: str) -> bool:
    """The message asks whether the store has something ("do you have", "do you sell")."""
    cues = _slot_patterns()["raw"].get("availability_cues") or []
    return any(re.search(rf"\b{re.escape(c)}\b", text, re.I) for c in cues)


def availability_search(text: str, query: str, vocab: Any) -> bool:
    """Whether a price/stock-routed ``text`` (product words ``query``) asks whether the store
    has a kind of product rather than about one product: an availability cue, a product type
    of the store in the query without a definite article, and no single product named."""
    if vocab is None or not query or not asks_availability(text):
        return False
    kind = vocab.product_type(query)
    if kind is None:
        return False
    head = re.escape(kind.split()[-1])
    if re.search(_DEFINITE + head, text, re.I):
        return False
    from shopagent.agent.understanding.vocabulary import singular

    cues = _slot_patterns()["raw"].get("availability_cues") or []
    cue_words = {w for c in cues for w in _words(str(c), singular)}
    words = " ".join(w for w in _words(query, singular) if w not in cue_words)
    return vocab.marks.matching(words, kind, singular) != 1


def asks_price_or_stock_only(text: str, query: str, vocab: Any) -> bool:
    """Whether ``text``, once its product words (``query``) are set aside, asks only for a
    price or a stock level ("Is the X – SPF 15 Protection in stock?", "How much does the X –
    Fine-Mesh Filter go for?"): a feature word inside a product's name does not make the
    message a product question. Any attribute cue or attribute name of the store in the
    message keeps it one ("how many pieces are in the X?")."""
    from shopagent.agent.answering.words import lists, matcher
    from shopagent.agent.understanding.vocabulary import singular

    named = set(_words(query, singular))
    rest = " ".join(w for w in _WORD.findall(text) if singular(w.casefold()) not in named)
    if not (matcher("asks_price").search(rest) or matcher("asks_stock").search(rest)):
        return False
    if any(matcher("attribute_cues", key).search(text) for key in lists()["attribute_cues"]):
        return False
    said = f" {' '.join(_words(text, singular))} "
    keys = vocab.facets.get("keys", []) if vocab else []
    return not any(
        f" {' '.join(_words(k, singular))} " in said for k in keys if _words(k, singular)
    )
