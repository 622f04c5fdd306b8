"""A deterministic in-memory catalog for tests of other layers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shopagent.tools.catalog.config import SORT_POOL, Sort, StockFilter
from shopagent.tools.catalog.filters import _exclusions, _in_stock, _select, _sort_of, _term_tokens
from shopagent.tools.catalog.hits import _head, _hit, facets
from shopagent.tools.catalog.text import tokenize
from shopagent.tools.results import ProductHit, SearchFilters
from shopagent.tools.store.schema import Product, Variant


class InMemoryCatalog:
    """A deterministic in-memory :class:`~shopagent.tools.protocols.Catalog` for tests of other
    layers.

    Scoring is token overlap: each distinct query token found in the product's name counts 2,
    found elsewhere in its search text counts 1; ties keep the input order. Products with no
    overlapping token are not returned (an empty query lists all matches, cheapest first).
    Filters, exclusions and sorting behave exactly as in :class:`ChromaCatalog`.
    """

    def __init__(
        self, products: Iterable[Product], *, stock_filter: StockFilter | None = None
    ) -> None:
        self._products: dict[str, Product] = {}
        for product in products:
            self._products[product.id] = product
        self.stock_filter = stock_filter
        self._name_tokens = {pid: set(tokenize(p.name)) for pid, p in self._products.items()}
        self._tokens = {pid: set(tokenize(p.search_text())) for pid, p in self._products.items()}

    def __len__(self) -> int:
        return len(self._products)

    def get(self, product_id: str) -> Product | None:
        return self._products.get(product_id)

    def facets(self) -> dict[str, list[str]]:
        return facets(self._products.values())

    def search(
        self,
        query: str,
        *,
        filters: SearchFilters | None = None,
        k: int = 5,
        exclude_terms: Sequence[str] | None = None,
        sort: Sort | None = None,
    ) -> list[ProductHit]:
        f = filters or SearchFilters()
        excluded = _exclusions(f, exclude_terms)
        order_by = _sort_of(f, sort)
        term_tokens = _term_tokens(excluded)
        in_stock = _in_stock(self._products.values(), f, self.stock_filter)
        terms = list(dict.fromkeys(tokenize(query)))
        scored: list[tuple[float, int, Product, Variant, list[str]]] = []
        for order, (pid, product) in enumerate(self._products.items()):
            variant = _select(product, f, in_stock, term_tokens, self._tokens[pid])
            if variant is None:
                continue
            matched = [t for t in terms if t in self._tokens[pid]]
            score = float(sum(2 if t in self._name_tokens[pid] else 1 for t in matched))
            if terms and score == 0:
                continue
            if not query.strip():
                # Browsing: cheapest first.
                scored.append((0.0, order, product, variant, []))
                continue
            scored.append((score, order, product, variant, matched))
        sign = -1 if order_by == "price_desc" else 1
        if not query.strip():
            scored.sort(key=lambda s: (sign * s[3].price, s[1]))
        else:
            scored.sort(key=lambda s: (-s[0], s[1]))
            if order_by != "relevance":
                pool = scored[: max(k, SORT_POOL)]
                scored = sorted(
                    pool, key=lambda s: (len(s[4]) < len(terms), sign * s[3].price, -s[0], s[1])
                )
        return [_hit(p, v, s, _head(m, None), f, excluded) for s, _, p, v, m in scored[: max(k, 0)]]
