"""Filter semantics: the exact per-product checks, the live-stock hook and the whole-catalog
masks of the filters' necessary conditions (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from shopagent.tools.catalog.config import _VARIANT_AXES, StockFilter
from shopagent.tools.catalog.text import (
    _attr_key,
    _attr_norm,
    _attr_values,
    _norm,
    tokenize,
)
from shopagent.tools.results import SearchFilters
from shopagent.tools.store.schema import Product, Variant

if TYPE_CHECKING:
    from shopagent.tools.catalog.files import SearchFiles
    from shopagent.tools.store.db import StoreDB


def _variant_attrs(product: Product, variant: Variant) -> dict[str, str]:
    merged = {_attr_key(k): v for k, v in product.attributes.items()}
    merged.update({_attr_key(k): v for k, v in variant.attributes.items()})
    return merged


def _term_tokens(terms: Iterable[str]) -> list[tuple[str, ...]]:
    """Exclusion terms as token tuples (a term is matched when all its tokens are present)."""
    out: list[tuple[str, ...]] = []
    for term in terms:
        tokens = tuple(dict.fromkeys(tokenize(term)))
        if tokens and tokens not in out:
            out.append(tokens)
    return out


def _own_tokens(product: Product) -> set[str]:
    """Tokens of what a product says about itself, without its variants' attributes."""
    parts = [
        product.name,
        product.brand,
        product.category,
        product.description,
        " ".join(product.attributes.values()),
        " ".join(product.tags),
    ]
    return set(tokenize("\n".join(parts)))


def _hits_term(terms: Sequence[tuple[str, ...]], tokens: set[str]) -> bool:
    return any(all(t in tokens for t in term) for term in terms)


def _exclusions(filters: SearchFilters, explicit: Sequence[str] | None) -> list[str]:
    """The exclusion terms of a search: the argument, else ``filters.exclude_terms`` if any."""
    terms = explicit if explicit is not None else getattr(filters, "exclude_terms", None) or ()
    return [" ".join(t.split()) for t in terms if t and t.strip()]


def _sort_of(filters: SearchFilters, explicit: str | None) -> str:
    order = explicit or getattr(filters, "sort", None) or "relevance"
    if order not in ("relevance", "price_asc", "price_desc"):
        raise ValueError(f"unknown sort {order!r} (relevance, price_asc, price_desc)")
    return order


def select_variant(
    product: Product,
    filters: SearchFilters | None = None,
    in_stock: set[str] | None = None,
    *,
    exclude_terms: Sequence[str] = (),
) -> Variant | None:
    """The variant a hit shows: the cheapest one that satisfies the filters, else ``None``.

    Category and brand must match case-insensitively; each attribute filter must match the
    variant's attributes (its own over the product's) as a whole value or a run of its words,
    or, when the product records no such attribute (other than colour or size), its search
    text must contain the value's words; the price range applies to the variant's price.
    ``in_stock`` (when given) restricts the choice to those SKUs. ``exclude_terms`` drop the
    product when its own text contains every word of a term, and a variant when its attributes
    do.
    """
    return _select(product, filters or SearchFilters(), in_stock, _term_tokens(exclude_terms))


def _select(
    product: Product,
    f: SearchFilters,
    in_stock: set[str] | None,
    terms: Sequence[tuple[str, ...]],
    all_tokens: set[str] | None = None,
) -> Variant | None:
    """:func:`select_variant` with exclusions as token tuples; ``all_tokens`` (the tokens of
    the whole search text, when known) lets a product that mentions no term skip the check."""
    if f.category and _norm(f.category) != _norm(product.category):
        return None
    if f.brand and _norm(f.brand) != _norm(product.brand):
        return None
    variant_terms: Sequence[tuple[str, ...]] = ()
    if terms and (all_tokens is None or _hits_term(terms, all_tokens)):
        if _hits_term(terms, _own_tokens(product)):
            return None
        variant_terms = terms
    wanted = {_attr_key(k): _attr_norm(v) for k, v in f.attributes.items() if v and v.strip()}
    if wanted:
        recorded = {_attr_key(k) for k in product.attributes}
        recorded.update(_attr_key(k) for v in product.variants for k in v.attributes)
        unrecorded = [k for k in wanted if k not in recorded and k not in _VARIANT_AXES]
        if unrecorded:
            # The product does not say: its text must mention the value.
            tokens = all_tokens if all_tokens is not None else set(tokenize(product.search_text()))
            for key in unrecorded:
                value_tokens = tokenize(wanted.pop(key))
                if not value_tokens or not all(t in tokens for t in value_tokens):
                    return None
    best: Variant | None = None
    for variant in product.variants:
        if f.min_price is not None and variant.price < f.min_price:
            continue
        if f.max_price is not None and variant.price > f.max_price:
            continue
        if in_stock is not None and variant.sku not in in_stock:
            continue
        if variant_terms and _hits_term(
            variant_terms, set(tokenize(" ".join(variant.attributes.values())))
        ):
            continue
        if wanted:
            attrs = _variant_attrs(product, variant)
            if any(
                key not in attrs or value not in _attr_values(attrs[key])
                for key, value in wanted.items()
            ):
                continue
        if best is None or variant.price < best.price:
            best = variant
    return best


def _in_stock(
    products: Iterable[Product], filters: SearchFilters | None, hook: StockFilter | None
) -> set[str] | None:
    if hook is None or filters is None or not filters.in_stock_only:
        return None
    return set(hook([v.sku for p in products for v in p.variants]))


def db_stock_filter(db: StoreDB, *, chunk: int = 500) -> StockFilter:
    """A ``stock_filter`` hook over the store database: SKUs with at least one unit on hand.

    SKUs are looked up ``chunk`` at a time (SQLite limits the parameters of one query).
    """

    def in_stock(skus: list[str]) -> set[str]:
        wanted = list(dict.fromkeys(skus))
        found: set[str] = set()
        for start in range(0, len(wanted), max(1, chunk)):
            rows = db.sku_rows(wanted[start : start + chunk])
            found.update(str(r["sku"]) for r in rows if int(r["stock"]) > 0)
        return found

    return in_stock


def _mask(snap: SearchFiles, f: SearchFilters) -> np.ndarray:
    """Products that can satisfy the filters (necessary conditions, for all at once)."""
    n = len(snap.ids)
    mask = np.ones(n, dtype=bool)
    if f.category:
        mask &= snap.category == snap.category_code.get(_norm(f.category), -1)
    if f.brand:
        mask &= snap.brand == snap.brand_code.get(_norm(f.brand), -1)
    if f.max_price is not None:
        mask &= snap.min_price <= float(f.max_price)
    if f.min_price is not None:
        mask &= snap.max_price >= float(f.min_price)
    for key, value in f.attributes.items():
        if value and value.strip():
            # Has the value, or does not record the attribute (then the text decides).
            attr = _attr_key(key)
            having = np.zeros(n, dtype=bool) if attr in _VARIANT_AXES else np.ones(n, dtype=bool)
            recorded = snap.attr_keys.get(attr)
            if recorded is not None and attr not in _VARIANT_AXES:
                having[recorded] = False
            idx = snap.attr_index.get(attr, {}).get(_attr_norm(value))
            if idx is not None:
                having[idx] = True
            mask &= having
    return mask


ProductLoader = Callable[[Sequence[int]], dict[int, Product]]
"""Rows -> their products (from the bounded product cache, else Chroma)."""


class _Gate:
    """The exact filters for candidate products; live stock is asked for once per batch.

    When :func:`_mask` already decides the filters exactly (none, category, brand, or one
    price bound) and nothing is excluded, candidates pass without loading their product:
    only the hits shown are loaded (:meth:`variants`)."""

    def __init__(
        self,
        filters: SearchFilters,
        terms: Sequence[tuple[str, ...]],
        hook: StockFilter | None,
        load: ProductLoader,
        files: SearchFiles | None = None,
    ) -> None:
        self.filters = filters
        self.terms = terms
        self.files = files
        # The words whose presence in a product's text the exact checks ask about: looked up
        # in the BM25 postings, so a product that mentions none of them is not tokenized.
        words = [t for term in terms for t in term]
        for value in filters.attributes.values():
            words.extend(tokenize(value or ""))
        self.words = list(dict.fromkeys(words))
        self.hook = hook if filters.in_stock_only else None
        self.load = load
        both_prices = filters.min_price is not None and filters.max_price is not None
        attributes = any(v and v.strip() for v in filters.attributes.values())
        self.needed = bool(terms) or self.hook is not None or attributes or both_prices
        # Only exclusions: a product that mentions no excluded term anywhere passes unread.
        self.only_terms = bool(terms) and not (self.hook is not None or attributes or both_prices)
        self.done: dict[int, Variant | None] = {}

    def check(self, indexes: Sequence[int]) -> set[int]:
        """The indexes that pass the exact filters."""
        if not self.needed:
            return set(indexes)
        if self.only_terms and self.files is not None:
            known = self.files.matched(self.words, indexes)
            sure = {i for i in indexes if not _hits_term(self.terms, set(known[i]))}
            return sure | set(self.variants([i for i in indexes if i not in sure]))
        return set(self.variants(indexes))

    def variants(self, indexes: Sequence[int]) -> dict[int, Variant]:
        """The variant each index shows, for those that pass (in the given order)."""
        todo = [i for i in dict.fromkeys(indexes) if i not in self.done]
        if todo:
            products = self.load(todo)
            in_stock: set[str] | None = None
            if self.hook is not None:
                skus = [v.sku for i in todo if i in products for v in products[i].variants]
                in_stock = set(self.hook(skus))
            known = self.files.matched(self.words, todo) if self.files is not None else {}
            for i in todo:
                product = products.get(i)
                words = set(known[i]) if i in known else None
                self.done[i] = (
                    _select(product, self.filters, in_stock, self.terms, words)
                    if product is not None
                    else None
                )
        passed: dict[int, Variant] = {}
        for i in indexes:
            variant = self.done[i]
            if variant is not None:
                passed[i] = variant
        return passed
