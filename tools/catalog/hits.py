"""What a search returns: hits with their reason, and the facets of a catalog."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from shopagent.tools.catalog.config import WEAK_SIMILARITY
from shopagent.tools.catalog.text import _SPELLING, _attr_key, _attr_norm, _norm
from shopagent.tools.results import ProductHit, SearchFilters
from shopagent.tools.store.schema import Product, Variant


def _money(amount: Decimal, currency: str) -> str:
    text = f"{amount:,.2f}".removesuffix(".00")
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency.upper())
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def _reason(
    head: str,
    product: Product,
    variant: Variant,
    filters: SearchFilters | None,
    excluded: Sequence[str] = (),
) -> str:
    parts = [head] if head else []
    f = filters or SearchFilters()
    if f.category:
        parts.append(f"in {product.category}")
    if f.brand:
        parts.append(f"by {product.brand}")
    for key, value in sorted(f.attributes.items()):
        if value and value.strip():
            parts.append(f"{key}: {_norm(value)}")
    cur = variant.currency
    if f.min_price is not None and f.max_price is not None:
        parts.append(f"{_money(f.min_price, cur)}–{_money(f.max_price, cur)}")
    elif f.max_price is not None:
        parts.append(f"under {_money(f.max_price, cur)}")
    elif f.min_price is not None:
        parts.append(f"from {_money(f.min_price, cur)}")
    if excluded:
        parts.append("not " + ", ".join(excluded))
    if f.in_stock_only:
        parts.append("in stock")
    return "; ".join(parts) or "matches the filters"


def _head(matched: Sequence[str], similarity: float | None) -> str:
    """First part of a reason: the matched query words, else how close the meaning is."""
    if matched:
        return f"matched: {', '.join(matched[:4])}"
    if similarity is None:
        return ""
    return "similar meaning" if similarity >= WEAK_SIMILARITY else "weak match"


def _hit(
    product: Product,
    variant: Variant,
    score: float,
    head: str,
    filters: SearchFilters | None,
    excluded: Sequence[str] = (),
) -> ProductHit:
    return ProductHit(
        product_id=product.id,
        name=product.name,
        brand=product.brand,
        category=product.category,
        sku=variant.sku,
        skus=[v.sku for v in product.variants],
        price=variant.price,
        currency=variant.currency,
        score=round(score, 6),
        reason=_reason(head, product, variant, filters, excluded),
    )


def facets(products: Iterable[Product]) -> dict[str, list[str]]:
    """The values a request can name, each list sorted: ``categories`` and ``brands`` (as
    written), ``colors`` and ``materials`` (lowercase values of those attributes), ``values``
    (lowercase values of every other attribute, plus the runs of two or three words of the
    products' tags that contain a colour word, such as "hand cream" in "repair hand cream")
    and ``keys`` (lowercase attribute names). The keys are
    :func:`shopagent.agent.understanding.search_request.parse_search_request`'s keyword
    arguments."""
    counter = FacetCounter()
    for product in products:
        counter.add(product)
    return counter.result()


class FacetCounter:
    """:func:`facets` one product at a time (an index is built without holding every
    product)."""

    def __init__(self) -> None:
        self.categories: dict[str, str] = {}
        self.brands: dict[str, str] = {}
        self.values: dict[str, set[str]] = {"color": set(), "material": set(), "values": set()}
        self.keys: set[str] = set()
        self.tags: set[str] = set()

    def add(self, product: Product) -> None:
        values = self.values
        self.tags.update(_norm(t) for t in product.tags if " " in t.strip())
        self.categories.setdefault(_norm(product.category), product.category)
        self.brands.setdefault(_norm(product.brand), product.brand)
        for source in (product.attributes, *(v.attributes for v in product.variants)):
            for key, value in source.items():
                name = _attr_key(key).removeprefix("attr_")
                self.keys.add(_norm(key))
                if value.strip():
                    bucket = values.get(name if name in ("color", "material") else "values")
                    bucket.add(_attr_norm(value))  # type: ignore[union-attr]

    def result(self) -> dict[str, list[str]]:
        values = {k: set(v) for k, v in self.values.items()}
        color_words = {w for c in values["color"] for w in re.findall(r"[a-z]+", c)}
        for tag in self.tags:
            words = re.findall(r"[a-z0-9]+", tag)
            for size in (2, 3):
                for start in range(len(words) - size + 1):
                    run = words[start : start + size]
                    if any(_SPELLING.get(w, w) in color_words for w in run):
                        values["values"].add(" ".join(run))
        return {
            "categories": sorted(self.categories.values(), key=str.casefold),
            "brands": sorted(self.brands.values(), key=str.casefold),
            "colors": sorted(values["color"]),
            "materials": sorted(values["material"]),
            "values": sorted(values["values"]),
            "keys": sorted(self.keys),
        }
