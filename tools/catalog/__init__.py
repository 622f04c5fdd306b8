"""Catalog search: hybrid (dense + BM25) retrieval over a Chroma collection.

:class:`ChromaCatalog` implements :class:`shopagent.tools.protocols.Catalog` over an embedded
(``chromadb.PersistentClient``) or server (``chromadb.HttpClient``) Chroma; :func:`open_catalog`
picks one from the settings. :class:`InMemoryCatalog` is a deterministic stand-in for tests of
other layers, with the same filter semantics.

Records and metadata
    One Chroma record per product: the id is the product id, the embedding is that of
    :func:`embedding_text` (computed by :mod:`shopagent.tools.embeddings`, always passed
    precomputed).
    No Chroma document is stored: the BM25 side tokenizes ``Product.search_text()`` of the
    product JSON held in the metadata, and leaving documents out halves Chroma's write time
    (no full-text index to maintain). Metadata holds what store-query filters need, with
    strings lowercased:
    ``category``/``brand`` (plus ``category_label``/``brand_label`` as written), ``min_price``/
    ``max_price`` (cheapest/dearest variant, float), ``sku`` (cheapest SKU), ``skus``
    (``"|"``-joined), ``currency``, ``attr_<key>`` (list of lowercase values of the product's and
    its variants' attributes: each whole value plus every run of its words, so
    ``material: "tri-ply stainless steel"`` is matched by ``"stainless steel"`` and ``"steel"``;
    "grey" is spelled "gray"; usable with Chroma's ``$contains`` by other readers), the full
    product JSON (``product``) so :meth:`ChromaCatalog.get` needs no SQL store, and two content
    hashes.

Incremental indexing
    ``text_hash`` is the sha256 of the embedded text (:func:`embedding_text`); ``hash`` also
    covers the whole product JSON and the metadata layout version. :meth:`ChromaCatalog.index`
    skips products whose ``hash`` is unchanged, re-embeds only products whose ``text_hash``
    changed (a price change re-uses the stored vector; a change of :func:`embedding_text`'s
    layout changes every ``text_hash``, so an older index is re-embedded in full), and deletes
    products no longer present. Texts to embed are sorted by length first, so each batch pads
    little. The collection records the embedder's ``identity`` (model, backend, sequence
    length); indexing with another embedder re-embeds every product, and searching with
    another one logs a warning. The collection metadata keeps a ``revision`` (hash of all ids
    and hashes) that changes whenever the index does.

Lexical side
    The BM25 index (bm25s) is built lazily in memory from the products' search texts, together
    with the products and their vectors (the snapshot), and rebuilt whenever the collection's
    ``revision`` differs from the one it was built at (checked on every search, ~1 ms), so it
    always agrees with the dense side, also across processes and in server mode. Nothing is
    written to disk besides Chroma's own files. Query words unknown to the index are mapped to
    their closest indexed word (typos) or split into two indexed words ("airfryer"), and a
    BM25 candidate is only fused when it contains at least half of the query's words
    (:data:`MIN_COVERAGE`).

Search
    The filters' necessary conditions are evaluated for the whole catalog at once (numpy masks
    over prices, category, brand and attribute values); the exact filters (:func:`select_variant`,
    exclusions, live stock) run only on candidates. Dense candidates come from Chroma's ANN
    index when nothing is filtered out, and from an exact cosine scan of the allowed products'
    vectors (loaded from Chroma with the snapshot) when filters apply: a filtered Chroma query
    costs 60-260 ms at 50,000 products, the scan a few ms, and it cannot miss an allowed
    product. Dense and lexical candidates (:data:`CANDIDATES` each) are fused with
    confidence-weighted reciprocal rank fusion (``method`` picks one side alone, for
    evaluation), plus :data:`FULL_MATCH_BONUS` for candidates that contain every query word;
    the hit's ``score`` is the fused
    score and ``reason`` says which query words matched (else "similar meaning", or "weak match"
    below :data:`WEAK_SIMILARITY`) and which filters applied. Dense candidates are not cut off by
    similarity: a vague query still gets ``k`` hits, the reason tells how close they are.
    ``sort="price_asc"``/``"price_desc"`` orders the :data:`SORT_POOL` most relevant hits by
    price, those containing every query word first; an empty query browses everything the
    filters allow, cheapest first.

Filter semantics (both implementations)
    ``category`` and ``brand`` match case-insensitively and exactly. ``attributes`` match a
    variant whose attributes (its own over the product's) contain the value case-insensitively,
    as a whole value or as a run of its words. For attributes other than colour and size, a
    product that records no such attribute at all (neither itself nor any variant) matches when
    its search text contains the value's words, so "stainless steel" finds a bowl whose name
    says so. The price range applies to the hit's
    SKU: the hit shows the cheapest variant that satisfies the attribute and price filters
    (without filters, the cheapest SKU); a product with no such variant is dropped.
    ``exclude_terms`` (negations: "not leather", "without a lid") drop a product whose own text
    (name, brand, category, description, product attributes, tags) contains every word of a
    term, and a variant whose attributes do ("not black" keeps the other colours).
    ``in_stock_only`` needs live stock, which the catalog does not have: it is applied only
    when the catalog was given a ``stock_filter`` hook (``skus -> in-stock skus``, e.g.
    :func:`db_stock_filter`); otherwise it is ignored here and the caller must filter hits with
    live quotes.
"""

from __future__ import annotations

from shopagent.tools.catalog.chroma import CatalogConfig, open_catalog
from shopagent.tools.catalog.config import (
    CANDIDATES,
    DENSE_CONFIDENT,
    FULL_MATCH_BONUS,
    METADATA_VERSION,
    MIN_COVERAGE,
    RRF_K,
    SORT_POOL,
    WEAK_SIMILARITY,
    Fusion,
    Method,
    Sort,
    StockFilter,
)
from shopagent.tools.catalog.filters import db_stock_filter, select_variant
from shopagent.tools.catalog.hits import facets
from shopagent.tools.catalog.memory import InMemoryCatalog
from shopagent.tools.catalog.records import (
    EMBEDDING_TEXT_ORDER,
    IndexStats,
    embedding_text,
    product_metadata,
)
from shopagent.tools.catalog.search import ChromaCatalog
from shopagent.tools.catalog.text import tokenize

__all__ = [
    "CANDIDATES",
    "DENSE_CONFIDENT",
    "EMBEDDING_TEXT_ORDER",
    "FULL_MATCH_BONUS",
    "METADATA_VERSION",
    "MIN_COVERAGE",
    "RRF_K",
    "SORT_POOL",
    "WEAK_SIMILARITY",
    "CatalogConfig",
    "ChromaCatalog",
    "Fusion",
    "InMemoryCatalog",
    "IndexStats",
    "Method",
    "Sort",
    "StockFilter",
    "db_stock_filter",
    "embedding_text",
    "facets",
    "open_catalog",
    "product_metadata",
    "select_variant",
    "tokenize",
]
