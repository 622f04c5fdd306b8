"""Turn a shopper's request into a catalog query, structured filters and a sort order.

:func:`parse_search_request` is pure: it reads only its arguments (and the slot patterns of
``agent/data/slots.yaml`` through :func:`shopagent.agent.understanding.slots.extract`). It finds,
in this order:

* **price**: ``extract()``'s "under $50" / "between 20 and 40 dollars" / "over $100", plus
  "$40 or less", "$20-$40", "20 to 40 dollars", "around $50" (±20%), "< $30", "$100+";
* **sort**: "cheapest (first)", "sort by price", "price low to high" → ``price_asc``;
  "most expensive", "priciest", "price high to low" → ``price_desc``;
* **in stock**: "in stock", "available now", "ready to ship";
* **negations**: "not leather", "no plastic", "without a lid", "isn't plastic"… are
  *excluded terms*, not query words ("no more than $40" is a price; "no-pull" and
  "non-slip" are product words);
* **brand** and **category**: the store's own names, case-insensitively, with "&"/"and",
  a trailing "." and plurals tolerated ("toys and game" → ``Toys & Games``); a category is
  also recognised from one of its words followed by "section", "gear", "stuff"…;
* **colour** (``extract()``'s colour words plus the store's multi-word colours; two colours
  such as "blue or green" stay query words, one filter cannot hold both), **size**
  (XS…XXL, queen/king/twin, "size 9.5", "size large") and **material** (the store's
  materials plus common material words) as attribute filters.

What is left, minus politeness and filler, is the query. Brand, category, colour, size,
price, stock and sort phrases are removed from it (the filters do their work); material words
stay in it (they also describe the product for ranking), and only an explicitly stated material
("made of wool", "in leather", "solid oak", "100% cotton") becomes a filter: "fleece pullover"
or "cotton sheets" name the product, not a constraint the catalog records.

The exclusions ride on the returned filters: :class:`RequestFilters` is a
:class:`~shopagent.tools.results.SearchFilters` with an ``exclude_terms`` list, which
:meth:`shopagent.tools.catalog.ChromaCatalog.search` honours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal, NamedTuple

from pydantic import Field
from shopagent.agent.understanding.search_request_parts import (
    _attr_words,
    _clean_query,
    _color,
    _cut,
    _find_category,
    _find_name,
    _material,
    _negations,
    _phrase_regex,
    _prices,
    _size,
)
from shopagent.tools.results import SearchFilters

__all__ = [
    "MATERIAL_WORDS",
    "RequestFilters",
    "SearchRequest",
    "Sort",
    "parse_search_request",
]

Sort = Literal["relevance", "price_asc", "price_desc"]

_SORT_PATTERNS: tuple[tuple[Sort, re.Pattern[str]], ...] = (
    (
        "price_desc",
        re.compile(
            r"\b(?:(?:the\s+)?most\s+expensive(?:\s+(?:ones?\s+)?first)?|priciest|"
            r"highest[- ]priced?(?:\s+first)?|(?:price\s*:?\s*)?high(?:est)?\s+to\s+low(?:est)?|"
            r"(?:sort(?:ed)?|order(?:ed)?)\s+by\s+price\s+desc(?:ending)?|expensive\s+first|"
            r"premium\s+first)\b",
            re.I,
        ),
    ),
    (
        "price_asc",
        re.compile(
            r"\b(?:(?:the\s+)?cheapest(?:\s+(?:ones?\s+)?first)?|least\s+expensive|"
            r"lowest[- ]priced?(?:\s+first)?|(?:price\s*:?\s*)?low(?:est)?\s+to\s+high(?:est)?|"
            r"(?:sort(?:ed)?|order(?:ed)?)\s+by\s+(?:lowest\s+)?price(?:\s+asc(?:ending)?)?|"
            r"cheap(?:er)?\s+(?:ones?\s+)?first)\b",
            re.I,
        ),
    ),
)

_IN_STOCK = re.compile(
    r"\b(?:(?:only\s+)?in[- ]stock(?:\s+only)?|available\s+(?:now|today|right\s+now)|"
    r"ready\s+to\s+ship|ships?\s+(?:today|now|immediately))\b",
    re.I,
)

MATERIAL_WORDS: tuple[str, ...] = (
    "stainless steel",
    "cast iron",
    "carbon fiber",
    "vegan leather",
    "faux leather",
    "merino wool",
    "merino",
    "organic cotton",
    "memory foam",
    "natural rubber",
    "white oak",
    "black walnut",
    "aluminum",
    "aluminium",
    "bamboo",
    "brass",
    "canvas",
    "cashmere",
    "ceramic",
    "copper",
    "cotton",
    "denim",
    "felt",
    "fleece",
    "glass",
    "jute",
    "leather",
    "linen",
    "maple",
    "marble",
    "melamine",
    "mesh",
    "nylon",
    "oak",
    "plastic",
    "polyester",
    "rattan",
    "rubber",
    "silicone",
    "silk",
    "steel",
    "stoneware",
    "suede",
    "teak",
    "titanium",
    "walnut",
    "wood",
    "wooden",
    "wool",
)
"""Material words recognised even when the store records no such material."""


class RequestFilters(SearchFilters):
    """:class:`SearchFilters` plus the exclusions a request states ("not leather").

    Until ``SearchFilters`` itself has an ``exclude_terms`` field, the catalog reads it from
    this subclass (``getattr(filters, "exclude_terms", ())``).
    """

    exclude_terms: list[str] = Field(default_factory=list)


class SearchRequest(NamedTuple):
    """A parsed request: what to search for, the filters, and the order."""

    query: str
    filters: RequestFilters
    sort: Sort


# --------------------------------------------------------------------------- helpers


def parse_search_request(
    text: str,
    *,
    categories: Iterable[str] = (),
    brands: Iterable[str] = (),
    colors: Iterable[str] = (),
    materials: Iterable[str] | None = None,
    values: Iterable[str] = (),
    keys: Iterable[str] = (),
) -> SearchRequest:
    """Parse a shopper's request into ``(query, filters, sort)``.

    The keyword arguments describe the store (:func:`shopagent.tools.catalog.facets` gives them all;
    ``parse_search_request(text, **facets)`` works): ``categories`` and ``brands`` are its
    names; ``colors`` its colour values (a colour word becomes a filter only if the store sells
    that colour; multi-word ones such as "forest green" are recognised whole); ``materials``
    adds to :data:`MATERIAL_WORDS`; ``values`` (other attribute values, e.g. "earl grey") and
    ``keys`` (attribute names, e.g. "switches") keep colour words that belong to another
    attribute from becoming colour filters. Never raises on odd input.
    """
    colors, values, keys = list(colors), list(values), list(keys)
    rest = " ".join(str(text).split())
    low, high, rest = _prices(rest)

    sort: Sort = "relevance"
    for order, rx in _SORT_PATTERNS:
        if m := rx.search(rest):
            sort = order
            rest = _cut(rest, m)
            break

    in_stock = False
    while m := _IN_STOCK.search(rest):
        in_stock = True
        rest = _cut(rest, m)

    material_list = [*MATERIAL_WORDS, *(materials or ())]
    multiword_colors = [c for c in colors if len(c.split()) > 1]
    known_phrases = _phrase_regex([*material_list, *multiword_colors])
    excluded, rest = _negations(rest, known_phrases)

    brand: str | None = None
    if found := _find_name(rest, brands, plural=False):
        brand, m = found
        rest = _cut(rest, m)

    category: str | None = None
    if found := _find_category(rest, categories):
        category, m = found
        rest = _cut(rest, m)

    attributes: dict[str, str] = {}
    store_words = {w for c in colors for w in _attr_words(c)}
    material_rx = _phrase_regex(m for m in material_list if m.casefold() not in store_words)
    material, rest = _material(rest, material_rx)
    if material:
        attributes["material"] = material

    masks = (
        _phrase_regex(p for p in material_list if len(p.split()) > 1),
        _phrase_regex(v for v in values if len(v.split()) > 1),
    )
    key_stems = {k.casefold().rstrip("s") for k in keys} - {"color", "colour"}
    color, rest = _color(rest, multiword_colors, store_words, masks, key_stems)
    if color:
        attributes["color"] = color

    size, rest = _size(rest)
    if size:
        attributes["size"] = size

    filters = RequestFilters(
        min_price=low,
        max_price=high,
        category=category,
        brand=brand,
        attributes=attributes,
        in_stock_only=in_stock,
        exclude_terms=excluded,
    )
    return SearchRequest(_clean_query(rest), filters, sort)
