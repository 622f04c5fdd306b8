"""List claims: every item an answer lists must exist in the plan. A search answer's list lines
each name a product found; an order answer's "2 x Name" lines each name an item of the order;
a name made of one product's brand and another's words names no product."""

from __future__ import annotations

import re

from shopagent.agent.answering import extract as ex
from shopagent.agent.answering.claims import OrderState, ProductList, ProductRef
from shopagent.agent.answering.words import phrase_pattern

_LIST_LINE = re.compile(r"(?m)^[ \t]*(?:[-*\u2022][ \t]*)?(?:\d{1,2}[.)][ \t]*)?(?=\S)(.+)$")
_MARKED = re.compile(r"[ \t]*(?:[-*\u2022]|\d{1,2}[.)])")
_QUANTITY_ITEM = re.compile(r"\b(\d+)\s*[x×]\s+([^,;.\n]+?)(?=\s+and\s+|[,;.\n]|$)", re.I)


def list_lines(text: str) -> list[tuple[int, str]]:
    """(start, text) of each line that starts with a list marker ("1.", "-", "*")."""
    out = []
    for m in _LIST_LINE.finditer(text):
        if _MARKED.match(text, m.start()):
            out.append((m.start(1), m.group(1)))
    return out


def list_problems(text: str, claims: list[object], products: list[ProductRef]) -> list[str]:
    """Listed items the plan does not have (empty: every listed item is in the plan)."""
    out: list[str] = []
    if any(isinstance(c, ProductList) for c in claims):
        for _, line in list_lines(text):
            if not ex.product_mentions(line, products):
                out.append(f"lists something that is not among the products found: {line!r}")
    items = [i for c in claims if isinstance(c, OrderState) for i in c.items]
    if items:
        known = {" ".join(i.casefold().split()) for i in items}
        for m in _QUANTITY_ITEM.finditer(text):
            said = f"{m.group(1)} x {' '.join(m.group(2).casefold().split())}"
            if said not in known and not any(k.startswith(said) for k in known):
                out.append(f"lists an order item the order does not have: {m.group(0)!r}")
    return out


def real_name(phrase: str, products: list[ProductRef]) -> bool:
    """Whether ``phrase`` (a run of capitalised words that names a brand) is one product's name
    or part of it, under that product's own brand ("Flowstate Core S Foam Roller" is no
    product when Flowstate makes the Motion S and Ironpeak the Core S)."""
    phrase = " ".join(phrase.casefold().split())
    for p in products:
        name, brand = p.name.casefold(), p.brand.casefold()
        full = name if not brand or name.startswith(brand) else f"{brand} {name}"
        if phrase in full:
            return True
    return False


LIST_NAMED = 3
"""A list answer names at least this many of the products found (all, when fewer)."""


def product_list_problems(
    text: str, c: ProductList, products: list[ProductRef], mentions: list[tuple[int, ex.Mention]]
) -> list[str]:
    """A search answer names enough of the products found, each under its own brand."""
    named = {id(products[i]) for i, _ in mentions}
    out = []
    if sum(id(p) in named for p in c.products) < min(LIST_NAMED, len(c.products)):
        out.append("names too few of the products found")
    brands = sorted({p.brand for p in products if p.brand}, key=len, reverse=True)
    if brands:
        pair = phrase_pattern(tuple(brands))
        for m in pair.finditer(text):
            if pair.match(text, m.end() + 1) and text[m.end() : m.end() + 1] == " ":
                out.append(f"puts two brands together: {text[m.start() : m.end() + 20]!r}")
                break
    return out
