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

import contextlib
import difflib
import hashlib
import logging
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

import numpy as np
from shopagent.tools.results import ProductHit, SearchFilters
from shopagent.tools.store.schema import Product, Variant

from shopagent.errors import CatalogUnavailable, IndexMissing

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from shopagent.tools.embeddings import Embedder
    from shopagent.tools.store.db import StoreDB

    from shopagent.settings import Settings

__all__ = [
    "ChromaCatalog",
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

logger = logging.getLogger(__name__)

StockFilter = Callable[[list[str]], set[str]]
"""Live-stock hook: given SKUs, return the subset that is in stock."""

ProgressCallback = Callable[[int, int], None]

Sort = Literal["relevance", "price_asc", "price_desc"]
"""Result order: by relevance, or the most relevant hits by price."""

Method = Literal["hybrid", "dense", "bm25"]
"""Which retrievers a search fuses (the single ones exist for evaluation)."""

METADATA_VERSION = 3
"""Bump when the metadata layout changes: every product is then rewritten on the next index.
2: attribute values include every run of words and spell "grey" as "gray".
3: ``text_hash`` covers :func:`embedding_text` (re-embeds), no Chroma documents."""

CANDIDATES = 50
"""Candidates fetched from each retriever before fusion."""

RRF_K = 10
"""Reciprocal rank fusion constant (tuned on the dev split of benchmarks/search_relevance.py;
60, the textbook value, scored 0.880 there against 0.883)."""

Fusion = Literal["rrf", "minmax"]
FUSION: Fusion = "rrf"
"""How the two candidate lists are combined (see :meth:`ChromaCatalog._fuse`)."""

DENSE_WEIGHT = 0.5
"""Weight of the dense side in ``minmax`` fusion (BM25 gets the rest)."""

PARTIAL_LEXICAL_WEIGHT = 0.3
"""RRF weight of the BM25 list when none of its candidates contains every query word."""

WEAK_DENSE_WEIGHT = 0.5
"""RRF weight of the dense list when its best cosine similarity is below DENSE_CONFIDENT."""

DENSE_CONFIDENT = 0.4
"""Cosine similarity of the best dense candidate from which the dense side is trusted.

The three confidence settings were tuned on the dev split of benchmarks/search_relevance.py
(every third query): hybrid nDCG@10 0.883 -> 0.892 there; see BENCHMARKS.md for the test
split."""

WEAK_SIMILARITY = 0.35
"""Below this cosine similarity a hit with no matching word is reported as a "weak match"."""

MIN_COVERAGE = 0.5
"""A BM25 candidate must contain at least this share of the query's words to be fused: one
incidental word of a longer query ("...you *wear* on your forehead") is not lexical evidence."""

FULL_MATCH_BONUS = 1.0
"""Added to the fused score (in units of the top RRF rank, ``1 / (RRF_K + 1)``) of a hybrid
candidate that contains every word of a query of two or more words: the whole request in a
product's text is stronger evidence than either ranking ("bath rug" is a bath mat tagged so,
not the area rugs both sides rank for "rug"). Tuned on the dev split of
benchmarks/search_relevance.py: hybrid nDCG@10 0.8914 -> 0.8944 for any value 0.5-4."""

SORT_POOL = 10
"""A price-sorted search orders this many of the most relevant hits (or ``k``, if larger)."""

_FETCH_PAGE = 1000
_VARIANT_AXES = frozenset({"attr_color", "attr_colour", "attr_size"})
"""Attributes that only ever match recorded values: a product that records no colour or size
has no such variant to sell, whatever its text says ("a red night-light mode")."""
_MAX_PHRASE_WORDS = 6


# --------------------------------------------------------------------------- text processing

_STOPWORD_TEXT = """
    a an and are as at be but by for from has have i if in into is it its me my no not of on
    or our show so some such that the their them then there these they this to us was we were
    will with want need looking find get buy any something anything please can could would
    you your
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_SPLIT = re.compile(r"[a-z0-9]+")
_SPELLING = {"grey": "gray", "colour": "color", "colours": "colors"}
"""Spelling variants that mean the same word (British → American)."""


def _stem(token: str) -> str:
    """A tiny plural stripper: kettles→kettle, boxes→box, batteries→battery, glasses→glass."""
    token = _SPELLING.get(token, token)
    if len(token) <= 3 or token.isdigit():
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith(("sses", "xes", "ches", "shes", "zes")):
        return token[:-2]
    if token.endswith(("ss", "us", "is")):
        return token
    if token.endswith("s"):
        return token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """Lowercase, stopword-free, plural-stripped tokens; ``wh-1000xm5`` adds ``wh1000xm5``."""
    tokens: list[str] = []
    for word in _WORD.findall(text.casefold()):
        parts = _SPLIT.findall(word)
        if len(parts) > 1:
            tokens.append("".join(parts))
        tokens.extend(parts)
    return [_stem(t) for t in tokens if t not in _STOPWORDS and (len(t) > 1 or t.isdigit())]


def _norm(value: str) -> str:
    return " ".join(value.casefold().split())


def _attr_norm(value: str) -> str:
    """An attribute value as matched: lowercase, single spaces, "grey" spelled "gray"."""
    return " ".join(_SPELLING.get(w, w) for w in value.casefold().split())


def _attr_key(key: str) -> str:
    return "attr_" + (re.sub(r"[^a-z0-9]+", "_", key.casefold()).strip("_") or "x")


def _attr_values(value: str) -> list[str]:
    """The whole normalised value plus every run of its words, longest first.

    ``"Matte Black"`` gives ``["matte black", "matte", "black"]``; ``"tri-ply stainless
    steel"`` also gives ``"stainless steel"``. Values of more than six words add single words.
    """
    whole = _attr_norm(value)
    words = [w for w in re.split(r"[\s/,;|+&]+", whole) if w]
    out = [whole] if whole else []
    longest = len(words) if len(words) <= _MAX_PHRASE_WORDS else 1
    for size in range(longest, 0, -1):
        for start in range(len(words) - size + 1):
            phrase = " ".join(words[start : start + size])
            if phrase not in out:
                out.append(phrase)
    return out


def _attr_buckets(product: Product) -> dict[str, list[str]]:
    """``attr_<key>`` -> matchable values over the product's and its variants' attributes."""
    attrs: dict[str, list[str]] = {}
    for source in (product.attributes, *(v.attributes for v in product.variants)):
        for key, value in source.items():
            bucket = attrs.setdefault(_attr_key(key), [])
            bucket.extend(v for v in _attr_values(value) if v not in bucket)
    return {k: v for k, v in attrs.items() if v}


# --------------------------------------------------------------------------- filters


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


def facets(products: Iterable[Product]) -> dict[str, list[str]]:
    """The values a request can name, each list sorted: ``categories`` and ``brands`` (as
    written), ``colors`` and ``materials`` (lowercase values of those attributes), ``values``
    (lowercase values of every other attribute, plus the runs of two or three words of the
    products' tags that contain a colour word, such as "hand cream" in "repair hand cream")
    and ``keys`` (lowercase attribute names). The keys are the keyword arguments of
    :func:`shopagent.agent.understanding.search_request.parse_search_request`."""
    categories: dict[str, str] = {}
    brands: dict[str, str] = {}
    values: dict[str, set[str]] = {"color": set(), "material": set(), "values": set()}
    keys: set[str] = set()
    tags: set[str] = set()
    for product in products:
        tags.update(_norm(t) for t in product.tags if " " in t.strip())
        categories.setdefault(_norm(product.category), product.category)
        brands.setdefault(_norm(product.brand), product.brand)
        for source in (product.attributes, *(v.attributes for v in product.variants)):
            for key, value in source.items():
                name = _attr_key(key).removeprefix("attr_")
                keys.add(_norm(key))
                if value.strip():
                    bucket = values.get(name if name in ("color", "material") else "values")
                    bucket.add(_attr_norm(value))  # type: ignore[union-attr]
    color_words = {w for c in values["color"] for w in re.findall(r"[a-z]+", c)}
    for tag in tags:
        words = re.findall(r"[a-z0-9]+", tag)
        for size in (2, 3):
            for start in range(len(words) - size + 1):
                run = words[start : start + size]
                if any(_SPELLING.get(w, w) in color_words for w in run):
                    values["values"].add(" ".join(run))
    return {
        "categories": sorted(categories.values(), key=str.casefold),
        "brands": sorted(brands.values(), key=str.casefold),
        "colors": sorted(values["color"]),
        "materials": sorted(values["material"]),
        "values": sorted(values["values"]),
        "keys": sorted(keys),
    }


# --------------------------------------------------------------------------- indexing helpers


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


EMBEDDING_TEXT_ORDER = (
    "name",
    "brand_category",
    "attributes",
    "variant_attributes",
    "tags",
    "description",
)
"""The order of ``Product.text_parts`` in :func:`embedding_text`."""


def embedding_text(product: Product) -> str:
    """The text the dense side embeds: what identifies the product first, the prose last.

    Name, brand and category, attributes (the product's, then its variants'), tags (type
    nouns and synonyms), then the description. ``Product.search_text()`` (the BM25 side)
    has the description before the attributes; MiniLM reads at most its sequence length
    (256 tokens, or the embedder's ``max_seq_length`` cap), so a capped or long text keeps
    what a shopper searches by. Measured on benchmarks/search_relevance.py (torch embedder):
    dense nDCG@10 0.833 -> 0.845, hybrid 0.895 -> 0.900 (test split 0.896 -> 0.902).
    """
    return product.search_text(EMBEDDING_TEXT_ORDER)


def product_metadata(product: Product) -> dict[str, Any]:
    """The Chroma metadata of a product (see the module docstring)."""
    text = embedding_text(product)
    product_json = product.model_dump_json()
    cheapest = min(product.variants, key=lambda v: v.price)
    meta: dict[str, Any] = {
        "name": product.name,
        "category": _norm(product.category),
        "category_label": product.category,
        "brand": _norm(product.brand),
        "brand_label": product.brand,
        "min_price": float(cheapest.price),
        "max_price": float(max(v.price for v in product.variants)),
        "sku": cheapest.sku,
        "skus": "|".join(v.sku for v in product.variants),
        "currency": cheapest.currency,
        "final_sale": product.final_sale,
        "product": product_json,
        "text_hash": _text_hash(text),
        "hash": _text_hash(f"v{METADATA_VERSION}\n{text}\n{product_json}"),
    }
    meta.update(_attr_buckets(product))
    return meta


def _revision(hashes: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for pid in sorted(hashes):
        digest.update(f"{pid}\0{hashes[pid]}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class IndexStats:
    """What one :meth:`ChromaCatalog.index` run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    seconds: float = 0.0
    embedded: int = 0
    """Texts embedded (added plus updated products whose search text changed)."""

    @property
    def total(self) -> int:
        """Products in the index after the run."""
        return self.added + self.updated + self.unchanged


# --------------------------------------------------------------------------- Chroma catalog


@dataclass
class _Snapshot:
    """The whole collection in memory at one revision, with its BM25 index and the arrays the
    filters' necessary conditions are evaluated on."""

    revision: str
    ids: list[str]
    products: list[Product]
    tokens: list[set[str]]
    position: dict[str, int]
    bm25: Any
    vocab: dict[str, int]
    by_initial: dict[str, list[str]] = field(default_factory=dict)
    min_price: np.ndarray = field(default_factory=lambda: np.zeros(0))
    max_price: np.ndarray = field(default_factory=lambda: np.zeros(0))
    category: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    brand: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    attr_index: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    """``attr_<key>`` -> matchable value -> indexes of the products that have it."""
    attr_keys: dict[str, np.ndarray] = field(default_factory=dict)
    """``attr_<key>`` -> indexes of the products that record the attribute."""
    vectors: np.ndarray | None = None
    """Every product's embedding (for exact filtered dense search)."""


def _split_compound(token: str, vocab: Mapping[str, int]) -> list[str]:
    """Two indexed words (3+ letters each) that make up ``token``, longest head first."""
    for cut in range(len(token) - 3, 2, -1):
        head, tail = token[:cut], _stem(token[cut:])
        if head in vocab and tail in vocab:
            return [head, tail]
    return []


def _filter_arrays(products: Sequence[Product]) -> dict[str, Any]:
    postings: dict[str, dict[str, list[int]]] = {}
    keys: dict[str, list[int]] = {}
    for i, product in enumerate(products):
        for key, values in _attr_buckets(product).items():
            keys.setdefault(key, []).append(i)
            by_value = postings.setdefault(key, {})
            for value in values:
                by_value.setdefault(value, []).append(i)
    return {
        "min_price": np.array([float(min(v.price for v in p.variants)) for p in products]),
        "max_price": np.array([float(max(v.price for v in p.variants)) for p in products]),
        "category": np.array([_norm(p.category) for p in products], dtype=str),
        "brand": np.array([_norm(p.brand) for p in products], dtype=str),
        "attr_index": {
            key: {value: np.asarray(idx, dtype=np.int64) for value, idx in by_value.items()}
            for key, by_value in postings.items()
        },
        "attr_keys": {key: np.asarray(idx, dtype=np.int64) for key, idx in keys.items()},
    }


def _mask(snap: _Snapshot, f: SearchFilters) -> np.ndarray:
    """Products that can satisfy the filters (necessary conditions, for all at once)."""
    n = len(snap.ids)
    mask = np.ones(n, dtype=bool)
    if f.category:
        mask &= snap.category == _norm(f.category)
    if f.brand:
        mask &= snap.brand == _norm(f.brand)
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


class _Gate:
    """The exact filters for candidate products; live stock is asked for once per batch."""

    def __init__(
        self,
        snap: _Snapshot,
        filters: SearchFilters,
        terms: Sequence[tuple[str, ...]],
        hook: StockFilter | None,
    ) -> None:
        self.snap = snap
        self.filters = filters
        self.terms = terms
        self.hook = hook if filters.in_stock_only else None
        self.done: dict[int, Variant | None] = {}

    def check(self, indexes: Sequence[int]) -> dict[int, Variant]:
        """The variant each index shows, for those that pass (in the given order)."""
        todo = [i for i in dict.fromkeys(indexes) if i not in self.done]
        in_stock: set[str] | None = None
        if self.hook is not None and todo:
            skus = [v.sku for i in todo for v in self.snap.products[i].variants]
            in_stock = set(self.hook(skus))
        for i in todo:
            product = self.snap.products[i]
            self.done[i] = _select(product, self.filters, in_stock, self.terms, self.snap.tokens[i])
        passed: dict[int, Variant] = {}
        for i in indexes:
            variant = self.done[i]
            if variant is not None:
                passed[i] = variant
        return passed


def _is_unreachable(exc: BaseException) -> bool:
    import httpx

    if isinstance(exc, httpx.TransportError | ConnectionError):
        return True
    return isinstance(exc, ValueError) and "could not connect" in str(exc).casefold()


def _chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


class ChromaCatalog:
    """Hybrid product search over a Chroma collection (see the module docstring).

    ``client`` is a ``chromadb`` client (embedded or HTTP), ``embedder`` defaults to the
    process-wide :func:`shopagent.tools.embeddings.get_embedder`. ``stock_filter`` is the optional
    live
    stock hook that makes ``SearchFilters.in_stock_only`` effective.
    """

    def __init__(
        self,
        client: ClientAPI,
        collection: str = "products",
        embedder: Embedder | None = None,
        *,
        stock_filter: StockFilter | None = None,
        candidates: int = CANDIDATES,
        rrf_k: int = RRF_K,
        min_coverage: float = MIN_COVERAGE,
        full_match_bonus: float = FULL_MATCH_BONUS,
        fusion: Fusion = FUSION,
        dense_weight: float = DENSE_WEIGHT,
        partial_lexical_weight: float = PARTIAL_LEXICAL_WEIGHT,
        weak_dense_weight: float = WEAK_DENSE_WEIGHT,
        dense_confident: float = DENSE_CONFIDENT,
    ) -> None:
        from shopagent.tools.embeddings import ChromaEmbeddingFunction, get_embedder

        self.client = client
        self.collection_name = collection
        self.embedder = embedder if embedder is not None else get_embedder()
        self.stock_filter = stock_filter
        self.candidates = candidates
        self.rrf_k = rrf_k
        if fusion not in ("rrf", "minmax"):
            raise ValueError(f"unknown fusion {fusion!r} (rrf, minmax)")
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.partial_lexical_weight = partial_lexical_weight
        self.weak_dense_weight = weak_dense_weight
        self.dense_confident = dense_confident
        self.min_coverage = min_coverage
        self.full_match_bonus = full_match_bonus
        self._ef = ChromaEmbeddingFunction(self.embedder)
        self._snapshot: _Snapshot | None = None
        self._lock = threading.RLock()

    # -- backend access -------------------------------------------------------------------

    @contextlib.contextmanager
    def _backend(self) -> Iterator[None]:
        from chromadb.errors import NotFoundError

        try:
            yield
        except NotFoundError as exc:
            raise IndexMissing(
                f"the catalog index (Chroma collection {self.collection_name!r}) does not exist"
            ) from exc
        except Exception as exc:
            if _is_unreachable(exc):
                raise CatalogUnavailable(f"cannot reach the Chroma server: {exc}") from exc
            raise

    def _collection(self) -> Collection:
        with self._backend():
            return self.client.get_collection(self.collection_name, embedding_function=self._ef)

    def _fetch_all(self, col: Collection, include: list[str]) -> dict[str, Any]:
        ids: list[str] = []
        metadatas: list[Mapping[str, Any]] = []
        documents: list[str] = []
        embeddings: list[Any] = []
        offset = 0
        while True:
            page = col.get(limit=_FETCH_PAGE, offset=offset, include=include)  # type: ignore[arg-type]
            ids.extend(page["ids"])
            if "metadatas" in include:
                metadatas.extend(page["metadatas"] or [])
            if "documents" in include:
                documents.extend(page["documents"] or [])
            if "embeddings" in include:
                found = page["embeddings"]
                embeddings.extend(found if found is not None else [])
            if len(page["ids"]) < _FETCH_PAGE:
                break
            offset += _FETCH_PAGE
        return {
            "ids": ids,
            "metadatas": metadatas,
            "documents": documents,
            "embeddings": embeddings,
        }

    # -- indexing ---------------------------------------------------------------------------

    def index(
        self,
        products: Iterable[Product],
        *,
        batch_size: int = 256,
        progress: ProgressCallback | None = None,
    ) -> IndexStats:
        """Bring the collection in line with ``products``; only changed texts are embedded.

        ``progress(done, total)`` is called with ``total`` = number of products, first with the
        unchanged ones counted as done, then after every batch. A product id given twice keeps
        its last version.
        """
        started = time.perf_counter()
        wanted: dict[str, Product] = {p.id: p for p in products}
        with self._lock, self._backend():
            col = self.client.get_or_create_collection(
                self.collection_name,
                embedding_function=self._ef,
                configuration={"hnsw": {"space": "cosine"}},
            )
            existing = self._fetch_all(col, ["metadatas"])
            old_meta = dict(zip(existing["ids"], existing["metadatas"], strict=True))
            # Vectors of another embedder (backend, sequence length) must not be mixed in.
            identity = getattr(self.embedder, "identity", None)
            stored = (col.metadata or {}).get("embedder")
            new_vectors = bool(identity and stored and stored != identity)

            added: list[str] = []
            retext: list[str] = []  # changed search text: re-embed
            remeta: list[str] = []  # same text, other fields changed: reuse the vector
            unchanged = 0
            metas: dict[str, dict[str, Any]] = {}
            for pid, product in wanted.items():
                meta = product_metadata(product)
                old = old_meta.get(pid)
                if old is None:
                    added.append(pid)
                elif new_vectors:
                    retext.append(pid)
                elif old.get("hash") == meta["hash"]:
                    unchanged += 1
                    continue
                elif old.get("text_hash") == meta["text_hash"]:
                    remeta.append(pid)
                else:
                    retext.append(pid)
                if old is not None:  # upsert merges metadata: clear keys that went away
                    meta = {**dict.fromkeys(set(old) - set(meta)), **meta}
                metas[pid] = meta
            stale = [pid for pid in old_meta if pid not in wanted]

            if added or retext or remeta or stale or new_vectors:
                # Readers rebuild their BM25 snapshot when the revision changes: mark the
                # collection as in flux first, so a run that dies half-way is never mistaken
                # for the last complete revision.
                col.modify(metadata={"revision": f"pending-{uuid.uuid4().hex}"})

            total = len(wanted)
            done = unchanged
            if progress is not None:
                progress(done, total)
            step = max(1, batch_size)

            # Shortest texts first: batches of similar length waste little time on padding.
            text_of = {pid: embedding_text(wanted[pid]) for pid in added + retext}
            to_embed = sorted(text_of, key=lambda pid: len(text_of[pid]))
            for start in range(0, len(to_embed), step):
                batch = to_embed[start : start + step]
                texts = [text_of[pid] for pid in batch]
                vectors = self.embedder.embed(texts)
                col.upsert(ids=batch, embeddings=vectors, metadatas=[metas[pid] for pid in batch])
                done += len(batch)
                if progress is not None:
                    progress(done, total)

            for start in range(0, len(remeta), step):
                batch = remeta[start : start + step]
                got = col.get(ids=batch, include=["embeddings"])
                vectors_by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
                col.upsert(
                    ids=batch,
                    embeddings=np.asarray([vectors_by_id[pid] for pid in batch], np.float32),
                    metadatas=[metas[pid] for pid in batch],
                )
                done += len(batch)
                if progress is not None:
                    progress(done, total)

            for start in range(0, len(stale), step):
                col.delete(ids=stale[start : start + step])

            hashes = {pid: str(m.get("hash")) for pid, m in old_meta.items() if pid in wanted}
            hashes.update({pid: m["hash"] for pid, m in metas.items()})
            info: dict[str, Any] = {
                "revision": _revision(hashes),
                "metadata_version": METADATA_VERSION,
                "products": len(hashes),
            }
            if identity or stored:
                info["embedder"] = identity or stored
            col.modify(metadata=info)
            self._snapshot = None
        return IndexStats(
            added=len(added),
            updated=len(retext) + len(remeta),
            unchanged=unchanged,
            deleted=len(stale),
            seconds=time.perf_counter() - started,
            embedded=len(to_embed),
        )

    def drop(self) -> None:
        """Delete the collection (a later :meth:`index` rebuilds it from scratch)."""
        from chromadb.errors import NotFoundError

        with self._lock, self._backend(), contextlib.suppress(NotFoundError):
            self.client.delete_collection(self.collection_name)
        self._snapshot = None

    # -- lookup -----------------------------------------------------------------------------

    def count(self) -> int:
        """Products in the index (0 when it does not exist)."""
        try:
            col = self._collection()
        except IndexMissing:
            return 0
        with self._backend():
            return col.count()

    def get(self, product_id: str) -> Product | None:
        """One product by id (from the index, no SQL store needed), or None."""
        snap = self._snapshot
        col = self._collection()
        if snap is not None and snap.revision == (col.metadata or {}).get("revision"):
            pos = snap.position.get(product_id)
            return snap.products[pos] if pos is not None else None
        with self._backend():
            got = col.get(ids=[product_id], include=["metadatas"])
        if not got["ids"]:
            return None
        meta = (got["metadatas"] or [{}])[0]
        return Product.model_validate_json(str(meta["product"]))

    # -- search -----------------------------------------------------------------------------

    def _current(self) -> tuple[Collection, _Snapshot]:
        """The collection and an in-memory snapshot at its current revision."""
        col = self._collection()
        revision = str((col.metadata or {}).get("revision") or "")
        with self._lock:
            snap = self._snapshot
            if snap is None or snap.revision != revision or not revision:
                snap = self._load_snapshot(col, revision)
                self._snapshot = snap
        return col, snap

    def _load_snapshot(self, col: Collection, revision: str) -> _Snapshot:
        import bm25s

        # bm25s sets its logger to DEBUG on import; keep its chatter out of the CLI's logs.
        logging.getLogger("bm25s").setLevel(logging.WARNING)

        with self._backend():
            data = self._fetch_all(col, ["metadatas", "embeddings"])
        if not data["ids"]:
            raise IndexMissing(f"the catalog index (collection {self.collection_name!r}) is empty")
        stored = (col.metadata or {}).get("embedder")
        identity = getattr(self.embedder, "identity", None)
        if stored and identity and stored != identity:
            logger.warning(
                "the catalog index was embedded with %s but queries are embedded with %s: "
                "run `shopagent index` to re-embed it (or set the embedder it was built with)",
                stored,
                identity,
            )
        products = [Product.model_validate_json(str(m["product"])) for m in data["metadatas"]]
        token_lists = [tokenize(p.search_text()) for p in products]
        retriever = bm25s.BM25()
        retriever.index(token_lists, show_progress=False)
        by_initial: dict[str, list[str]] = {}
        for token in retriever.vocab_dict:
            if len(token) >= 4 and not token.isdigit():
                by_initial.setdefault(token[0], []).append(token)
        return _Snapshot(
            revision=revision,
            ids=list(data["ids"]),
            products=products,
            tokens=[set(t) for t in token_lists],
            position={pid: i for i, pid in enumerate(data["ids"])},
            bm25=retriever,
            vocab=retriever.vocab_dict,
            by_initial=by_initial,
            vectors=np.asarray(data["embeddings"], dtype=np.float32),
            **_filter_arrays(products),
        )

    def _query_terms(self, snap: _Snapshot, query: str) -> list[str]:
        """Query tokens, with unknown words mapped to their closest indexed word (typos) or,
        failing that, split into two indexed words ("airfryer" -> "air", "fryer")."""
        terms: list[str] = []
        for token in tokenize(query):
            found = [token]
            if token not in snap.vocab and len(token) >= 4 and not token.isdigit():
                close = difflib.get_close_matches(
                    token, snap.by_initial.get(token[0], []), n=1, cutoff=0.8
                )
                found = close or _split_compound(token, snap.vocab) or found
            terms.extend(t for t in found if t not in terms)
        return terms

    def facets(self) -> dict[str, list[str]]:
        """Categories, brands, colours and materials in the index (see :func:`facets`)."""
        _, snap = self._current()
        return facets(snap.products)

    def search(
        self,
        query: str,
        *,
        filters: SearchFilters | None = None,
        k: int = 5,
        exclude_terms: Sequence[str] | None = None,
        sort: Sort | None = None,
        method: Method = "hybrid",
    ) -> list[ProductHit]:
        """Best matches for ``query``: dense and BM25 candidates, filtered, fused with RRF.

        ``exclude_terms`` and ``sort`` default to ``filters.exclude_terms``/``filters.sort``
        when the filters carry them; ``method`` ``"dense"`` or ``"bm25"`` uses one retriever.
        """
        if method not in ("hybrid", "dense", "bm25"):
            raise ValueError(f"unknown search method {method!r} (hybrid, dense, bm25)")
        col, snap = self._current()
        f = filters or SearchFilters()
        excluded = _exclusions(f, exclude_terms)
        order_by = _sort_of(f, sort)
        if k <= 0:
            return []
        mask = _mask(snap, f)
        gate = _Gate(snap, f, _term_tokens(excluded), self.stock_filter)

        if not query.strip():  # browsing by filters only: cheapest (or dearest) first
            allowed = gate.check(np.flatnonzero(mask).tolist())
            sign = -1 if order_by == "price_desc" else 1
            order = sorted(allowed, key=lambda i: (sign * allowed[i].price, snap.ids[i]))[:k]
            return [_hit(snap.products[i], allowed[i], 0.0, "", f, excluded) for i in order]

        depth = max(self.candidates, k)
        terms = self._query_terms(snap, query)
        similarity: dict[int, float] = {}
        dense: list[int] = []
        if method != "bm25":
            # Exclusions and stock are checked on the candidates, so fetch more when they
            # may drop some.
            vector = np.asarray(self.embedder.embed_one(query.strip()), dtype=np.float32)
            fetch = depth * 2 if excluded or gate.hook is not None else depth
            found, similarity = self._dense(col, snap, vector, mask, fetch)
            passed = gate.check(found)
            dense = [i for i in found if i in passed][:depth]
        lexical: list[int] = []
        bm25: dict[int, float] = {}
        if method != "dense":
            lexical, bm25 = self._lexical(snap, terms, mask, gate, depth)

        weights = self._weights(snap, terms, dense, similarity, lexical)
        fused = self._fuse((dense, similarity), (lexical, bm25), weights)
        if method == "hybrid" and self.full_match_bonus and len(set(terms)) >= 2:
            bonus = self.full_match_bonus / (self.rrf_k + 1)
            for i in fused:
                if all(t in snap.tokens[i] for t in terms):
                    fused[i] += bonus
        order = sorted(fused, key=lambda i: (-fused[i], snap.ids[i]))
        variant = gate.done
        if order_by != "relevance":
            # Hits with every query word first, each tier by price.
            sign = -1 if order_by == "price_desc" else 1
            pool = order[: max(k, SORT_POOL)]
            order = sorted(
                pool,
                key=lambda i: (
                    not all(t in snap.tokens[i] for t in terms),
                    sign * variant[i].price,  # type: ignore[union-attr]
                    -fused[i],
                    snap.ids[i],
                ),
            )
        return [
            _hit(
                snap.products[i],
                variant[i],  # type: ignore[arg-type]
                fused[i],
                _head(
                    [t for t in terms if t in snap.tokens[i]],
                    similarity.get(i, 0.0) if method != "bm25" else None,
                ),
                f,
                excluded,
            )
            for i in order[:k]
        ]

    def _dense(
        self, col: Collection, snap: _Snapshot, vector: np.ndarray, mask: np.ndarray, fetch: int
    ) -> tuple[list[int], dict[int, float]]:
        """The ``fetch`` allowed products nearest to ``vector`` and their cosine similarity.

        Without filters, Chroma's ANN index answers. With filters, the allowed products'
        vectors (held with the snapshot) are scanned exactly: a filtered Chroma query (a
        ``where``) costs 60-260 ms on 50,000 products, the scan a few ms, and it never misses
        an allowed product.
        """
        if mask.all():
            with self._backend():
                result = col.query(
                    query_embeddings=[vector],
                    n_results=min(fetch, len(snap.ids)),
                    include=["distances"],
                )
            found: list[int] = []
            similarity: dict[int, float] = {}
            for pid, distance in zip(
                result["ids"][0], (result["distances"] or [[]])[0], strict=True
            ):
                i = snap.position.get(pid)
                if i is not None:
                    found.append(i)
                    similarity[i] = 1.0 - float(distance)  # cosine space
            return found, similarity
        allowed = np.flatnonzero(mask)
        if not len(allowed):
            return [], {}
        vectors = self._vectors(col, snap)
        if len(allowed) * 4 < len(snap.ids):  # few: gather their rows first
            scores = vectors[allowed] @ vector
        else:
            scores = (vectors @ vector)[allowed]
        top = min(fetch, len(allowed))
        part = np.argpartition(-scores, top - 1)[:top]
        order = part[np.lexsort((allowed[part], -scores[part]))]
        return [int(allowed[j]) for j in order], {int(allowed[j]): float(scores[j]) for j in order}

    def _vectors(self, col: Collection, snap: _Snapshot) -> np.ndarray:
        """Every product's vector, in snapshot order (loaded with the snapshot; fetched here
        only for a snapshot built without them)."""
        with self._lock:
            if snap.vectors is None:
                with self._backend():
                    data = self._fetch_all(col, ["embeddings"])
                width = len(data["embeddings"][0]) if data["embeddings"] else 0
                vectors = np.zeros((len(snap.ids), width), dtype=np.float32)
                for pid, embedding in zip(data["ids"], data["embeddings"], strict=True):
                    i = snap.position.get(pid)
                    if i is not None:
                        vectors[i] = embedding
                snap.vectors = vectors
            return snap.vectors

    def _weights(
        self,
        snap: _Snapshot,
        terms: list[str],
        dense: list[int],
        similarity: dict[int, float],
        lexical: list[int],
    ) -> tuple[float, float]:
        """(dense, lexical) weights from each side's confidence in this query.

        Lexical evidence is partial when no candidate contains every query word ("knife for
        chopping vegetables" finds boards with "chopping"); dense evidence is weak when even
        the best candidate is not similar ("gilet" is not a word MiniLM knows).
        """
        dense_weight = lexical_weight = 1.0
        if dense and max(similarity[i] for i in dense) < self.dense_confident:
            dense_weight = self.weak_dense_weight
        if lexical and terms:
            best = max(sum(t in snap.tokens[i] for t in terms) for i in lexical)
            if best < len(terms):
                lexical_weight = self.partial_lexical_weight
        return dense_weight, lexical_weight

    def _fuse(
        self,
        dense: tuple[list[int], dict[int, float]],
        lexical: tuple[list[int], dict[int, float]],
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> dict[int, float]:
        """One score per candidate: reciprocal rank fusion weighted by each side's confidence
        (:meth:`_weights`), or a weighted sum of each side's scores scaled to [0, 1] over its
        candidates (``fusion="minmax"``)."""
        fused: dict[int, float] = {}
        if self.fusion == "rrf":
            for (ranking, _), weight in zip((dense, lexical), weights, strict=True):
                for rank, i in enumerate(ranking, start=1):
                    fused[i] = fused.get(i, 0.0) + weight / (self.rrf_k + rank)
            return fused
        sides = ((dense, self.dense_weight), (lexical, 1.0 - self.dense_weight))
        for (ranking, scores), weight in sides:
            if not ranking:
                continue
            values = [scores[i] for i in ranking]
            high, low = max(values), min(values)
            span = high - low
            for i in ranking:
                scaled = (scores[i] - low) / span if span > 0 else 1.0
                fused[i] = fused.get(i, 0.0) + weight * scaled
        return fused

    def _lexical(
        self, snap: _Snapshot, terms: list[str], mask: np.ndarray, gate: _Gate, depth: int
    ) -> tuple[list[int], dict[int, float]]:
        """BM25 candidates among the allowed products, best first, at most ``depth``, and
        their BM25 scores.

        Walks down the BM25 ranking (top ``4 * depth`` first, then further) and keeps
        products that cover enough query words and pass the exact filters.
        """
        term_ids = [snap.vocab[t] for t in terms if t in snap.vocab]
        if not term_ids:
            return [], {}
        scores = np.asarray(snap.bm25.get_scores_from_ids(term_ids), dtype=np.float64)
        scores = np.where(mask & (scores > 0), scores, -math.inf)
        live = int(np.isfinite(scores).sum())
        need = self.min_coverage * len(terms)
        out: list[int] = []
        seen = 0
        take = min(live, depth * 4)
        while seen < live and len(out) < depth:
            if take >= live:
                ranked = np.argsort(-scores, kind="stable")[:live]
            else:
                top = np.argpartition(-scores, take)[:take]
                ranked = top[np.lexsort((top, -scores[top]))]
            chunk = [
                int(i)
                for i in ranked[seen:take]
                if sum(t in snap.tokens[int(i)] for t in terms) >= need
            ]
            passed = gate.check(chunk)
            out.extend(i for i in chunk if i in passed)
            seen, take = take, min(live, take * 4)
        out = out[:depth]
        return out, {i: float(scores[i]) for i in out}


def _parse_url(url: str) -> tuple[str, int, bool]:
    parsed = urlparse(url if "://" in url else f"http://{url}")
    ssl = parsed.scheme == "https"
    host = parsed.hostname or "localhost"
    port = parsed.port or (443 if ssl else 8000)
    return host, port, ssl


def open_catalog(
    settings: Settings,
    embedder: Embedder | None = None,
    *,
    stock_filter: StockFilter | None = None,
) -> ChromaCatalog:
    """The catalog the settings point at: a Chroma server when ``chroma_url`` is set, else the
    embedded index in ``chroma_dir``. Raises CatalogUnavailable when the server is unreachable.

    Without ``embedder``, the one the settings name (``embedder``, ``embedder_max_seq_length``;
    ONNX files in ``model_cache_dir`` when set, else the machine cache), shared per process:
    indexing and search then embed alike.
    """
    import chromadb

    if embedder is None:
        from shopagent.tools.embeddings import shared_embedder

        embedder = shared_embedder(
            settings.embedder,
            max_seq_length=settings.embedder_max_seq_length,
            cache_dir=settings.model_cache_dir,
        )

    if settings.chroma_url:
        host, port, ssl = _parse_url(settings.chroma_url)
        try:
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=_chroma_settings())
        except Exception as exc:
            if _is_unreachable(exc):
                raise CatalogUnavailable(
                    f"cannot reach the Chroma server at {settings.chroma_url}: {exc}"
                ) from exc
            raise
    else:
        path = settings.chroma_dir
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    return ChromaCatalog(client, settings.collection, embedder, stock_filter=stock_filter)


# --------------------------------------------------------------------------- in-memory catalog


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
