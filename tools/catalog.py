"""Catalog search: hybrid (dense + BM25) retrieval over a Chroma collection.

:class:`ChromaCatalog` implements :class:`tools.protocols.Catalog` over an embedded
(``chromadb.PersistentClient``) or server (``chromadb.HttpClient``) Chroma; :func:`open_catalog`
picks one from the settings. :class:`InMemoryCatalog` is a deterministic stand-in for tests of
other layers, with the same filter semantics.

Documents and metadata
    One Chroma document per product: the id is the product id, the document is
    ``Product.search_text()``, the embedding comes from :mod:`tools.embeddings` (always passed
    precomputed). Metadata holds what store-query filters need, with strings lowercased:
    ``category``/``brand`` (plus ``category_label``/``brand_label`` as written), ``min_price``/
    ``max_price`` (cheapest/dearest variant, float), ``sku`` (cheapest SKU), ``skus``
    (``"|"``-joined), ``currency``, ``attr_<key>`` (list of lowercase values of the product's and
    its variants' attributes: each whole value plus its words, so ``color: "Matte Black"`` is
    ``["matte black", "matte", "black"]``, matched with Chroma's ``$contains``), the full product
    JSON (``product``) so :meth:`ChromaCatalog.get` needs no SQL store, and two content hashes.

Incremental indexing
    ``text_hash`` is the sha256 of the search text; ``hash`` also covers the whole product JSON
    and the metadata layout version. :meth:`ChromaCatalog.index` skips products whose ``hash``
    is unchanged, re-embeds only products whose ``text_hash`` changed (a price change re-uses
    the stored vector), and deletes products no longer present. The collection metadata keeps a
    ``revision`` (hash of all ids and hashes) that changes whenever the index does.

Lexical side
    The BM25 index (bm25s) is built lazily in memory from the collection's documents and
    rebuilt whenever the collection's ``revision`` differs from the one it was built at (checked
    on every search, ~1 ms), so it always agrees with the dense side, also across processes and
    in server mode. Nothing is written to disk besides Chroma's own files. Query words unknown
    to the index are mapped to their closest indexed word (typos), and a BM25 candidate is only
    fused when it contains at least half of the query's words (:data:`MIN_COVERAGE`).

Search
    Dense (Chroma ``query`` with the filters as ``where``) and lexical candidates
    (:data:`CANDIDATES` each) are filtered exactly (:func:`select_variant`) and fused with
    reciprocal rank fusion; the hit's ``score`` is the fused score and ``reason`` says which
    query words matched (else "similar meaning", or "weak match" below
    :data:`WEAK_SIMILARITY`) and which filters applied. Dense candidates are not cut off by
    similarity: a vague query still gets ``k`` hits, the reason tells how close they are.

Filter semantics (both implementations)
    ``category`` and ``brand`` match case-insensitively and exactly. ``attributes`` match a
    variant whose attributes (its own over the product's) contain the value case-insensitively,
    as a whole value or as one of its words. The price range applies to the hit's SKU: the hit
    shows the cheapest variant that satisfies the attribute and price filters (without filters,
    the cheapest SKU); a product with no such variant is dropped. ``in_stock_only`` needs live
    stock, which the catalog does not have: it is applied only when the catalog was given a
    ``stock_filter`` hook (``skus -> in-stock skus``); otherwise it is ignored here and the
    caller must filter hits with live quotes.
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
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from agent.errors import CatalogUnavailable, IndexMissing
from tools.results import ProductHit, SearchFilters
from tools.store.schema import Product, Variant

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from agent.settings import Settings
    from tools.embeddings import Embedder

__all__ = [
    "ChromaCatalog",
    "InMemoryCatalog",
    "IndexStats",
    "StockFilter",
    "open_catalog",
    "product_metadata",
    "select_variant",
    "tokenize",
]

StockFilter = Callable[[list[str]], set[str]]
"""Live-stock hook: given SKUs, return the subset that is in stock."""

ProgressCallback = Callable[[int, int], None]

METADATA_VERSION = 1
"""Bump when the metadata layout changes: every product is then rewritten on the next index."""

CANDIDATES = 50
"""Candidates fetched from each retriever before fusion."""

RRF_K = 60
"""Reciprocal rank fusion constant."""

WEAK_SIMILARITY = 0.35
"""Below this cosine similarity a hit with no matching word is reported as a "weak match"."""

MIN_COVERAGE = 0.5
"""A BM25 candidate must contain at least this share of the query's words to be fused: one
incidental word of a longer query ("...you *wear* on your forehead") is not lexical evidence."""

_FETCH_PAGE = 1000


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


def _stem(token: str) -> str:
    """A tiny plural stripper: kettles→kettle, boxes→box, batteries→battery, glasses→glass."""
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


def _attr_key(key: str) -> str:
    return "attr_" + (re.sub(r"[^a-z0-9]+", "_", key.casefold()).strip("_") or "x")


def _attr_values(value: str) -> list[str]:
    """The whole lowercase value plus its words (so "black" matches "Matte Black")."""
    whole = _norm(value)
    words = [w for w in re.split(r"[\s/,;|+&]+", whole) if w]
    out = [whole] if whole else []
    out.extend(w for w in words if w not in out)
    return out


# --------------------------------------------------------------------------- filters


def _variant_attrs(product: Product, variant: Variant) -> dict[str, str]:
    merged = {_attr_key(k): v for k, v in product.attributes.items()}
    merged.update({_attr_key(k): v for k, v in variant.attributes.items()})
    return merged


def select_variant(
    product: Product,
    filters: SearchFilters | None = None,
    in_stock: set[str] | None = None,
) -> Variant | None:
    """The variant a hit shows: the cheapest one that satisfies the filters, else ``None``.

    Category and brand must match case-insensitively; each attribute filter must match the
    variant's attributes (its own over the product's) as a whole value or a word of it; the
    price range applies to the variant's price. ``in_stock`` (when given) restricts the choice
    to those SKUs.
    """
    f = filters or SearchFilters()
    if f.category and _norm(f.category) != _norm(product.category):
        return None
    if f.brand and _norm(f.brand) != _norm(product.brand):
        return None
    wanted = {_attr_key(k): _norm(v) for k, v in f.attributes.items() if v and v.strip()}
    best: Variant | None = None
    for variant in product.variants:
        if f.min_price is not None and variant.price < f.min_price:
            continue
        if f.max_price is not None and variant.price > f.max_price:
            continue
        if in_stock is not None and variant.sku not in in_stock:
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


def _where(filters: SearchFilters | None) -> dict[str, Any] | None:
    """The Chroma ``where`` for the filters: necessary conditions, refined by select_variant."""
    if filters is None:
        return None
    clauses: list[dict[str, Any]] = []
    if filters.category:
        clauses.append({"category": _norm(filters.category)})
    if filters.brand:
        clauses.append({"brand": _norm(filters.brand)})
    if filters.max_price is not None:
        clauses.append({"min_price": {"$lte": float(filters.max_price)}})
    if filters.min_price is not None:
        clauses.append({"max_price": {"$gte": float(filters.min_price)}})
    for key, value in sorted(filters.attributes.items()):
        if value and value.strip():
            clauses.append({_attr_key(key): {"$contains": _norm(value)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _money(amount: Decimal, currency: str) -> str:
    text = f"{amount:,.2f}".removesuffix(".00")
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency.upper())
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def _reason(head: str, product: Product, variant: Variant, filters: SearchFilters | None) -> str:
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
        reason=_reason(head, product, variant, filters),
    )


def _in_stock(
    products: Iterable[Product], filters: SearchFilters | None, hook: StockFilter | None
) -> set[str] | None:
    if hook is None or filters is None or not filters.in_stock_only:
        return None
    return set(hook([v.sku for p in products for v in p.variants]))


# --------------------------------------------------------------------------- indexing helpers


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def product_metadata(product: Product) -> dict[str, Any]:
    """The Chroma metadata of a product (see the module docstring)."""
    text = product.search_text()
    product_json = product.model_dump_json()
    cheapest = min(product.variants, key=lambda v: v.price)
    attrs: dict[str, list[str]] = {}
    for source in (product.attributes, *(v.attributes for v in product.variants)):
        for key, value in source.items():
            bucket = attrs.setdefault(_attr_key(key), [])
            bucket.extend(v for v in _attr_values(value) if v not in bucket)
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
    meta.update({k: v for k, v in attrs.items() if v})
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
    """The whole collection in memory at one revision, with its BM25 index."""

    revision: str
    ids: list[str]
    products: list[Product]
    tokens: list[set[str]]
    position: dict[str, int]
    bm25: Any
    vocab: dict[str, int]
    by_initial: dict[str, list[str]] = field(default_factory=dict)


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
    process-wide :func:`tools.embeddings.get_embedder`. ``stock_filter`` is the optional live
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
    ) -> None:
        from tools.embeddings import ChromaEmbeddingFunction, get_embedder

        self.client = client
        self.collection_name = collection
        self.embedder = embedder if embedder is not None else get_embedder()
        self.stock_filter = stock_filter
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.min_coverage = min_coverage
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
        offset = 0
        while True:
            page = col.get(limit=_FETCH_PAGE, offset=offset, include=include)  # type: ignore[arg-type]
            ids.extend(page["ids"])
            if "metadatas" in include:
                metadatas.extend(page["metadatas"] or [])
            if "documents" in include:
                documents.extend(page["documents"] or [])
            if len(page["ids"]) < _FETCH_PAGE:
                break
            offset += _FETCH_PAGE
        return {"ids": ids, "metadatas": metadatas, "documents": documents}

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

            if added or retext or remeta or stale:
                # Readers rebuild their BM25 snapshot when the revision changes: mark the
                # collection as in flux first, so a run that dies half-way is never mistaken
                # for the last complete revision.
                col.modify(metadata={"revision": f"pending-{uuid.uuid4().hex}"})

            total = len(wanted)
            done = unchanged
            if progress is not None:
                progress(done, total)
            step = max(1, batch_size)

            to_embed = added + retext
            for start in range(0, len(to_embed), step):
                batch = to_embed[start : start + step]
                texts = [wanted[pid].search_text() for pid in batch]
                vectors = self.embedder.embed(texts)
                col.upsert(
                    ids=batch,
                    embeddings=vectors,
                    documents=texts,
                    metadatas=[metas[pid] for pid in batch],
                )
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
                    documents=[wanted[pid].search_text() for pid in batch],
                    metadatas=[metas[pid] for pid in batch],
                )
                done += len(batch)
                if progress is not None:
                    progress(done, total)

            for start in range(0, len(stale), step):
                col.delete(ids=stale[start : start + step])

            hashes = {pid: str(m.get("hash")) for pid, m in old_meta.items() if pid in wanted}
            hashes.update({pid: m["hash"] for pid, m in metas.items()})
            col.modify(
                metadata={
                    "revision": _revision(hashes),
                    "metadata_version": METADATA_VERSION,
                    "products": len(hashes),
                }
            )
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
            data = self._fetch_all(col, ["metadatas", "documents"])
        if not data["ids"]:
            raise IndexMissing(f"the catalog index (collection {self.collection_name!r}) is empty")
        products = [Product.model_validate_json(str(m["product"])) for m in data["metadatas"]]
        token_lists = [tokenize(doc or "") for doc in data["documents"]]
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
        )

    def _query_terms(self, snap: _Snapshot, query: str) -> list[str]:
        """Query tokens, with unknown words mapped to their closest indexed word (typos)."""
        terms: list[str] = []
        for token in tokenize(query):
            if token not in snap.vocab and len(token) >= 4 and not token.isdigit():
                close = difflib.get_close_matches(
                    token, snap.by_initial.get(token[0], []), n=1, cutoff=0.8
                )
                if close:
                    token = close[0]
            if token not in terms:
                terms.append(token)
        return terms

    def search(
        self, query: str, *, filters: SearchFilters | None = None, k: int = 5
    ) -> list[ProductHit]:
        """Best matches for ``query``: dense and BM25 candidates, filtered, fused with RRF."""
        col, snap = self._current()
        in_stock = _in_stock(snap.products, filters, self.stock_filter)
        allowed: dict[int, Variant] = {}
        for i, product in enumerate(snap.products):
            variant = select_variant(product, filters, in_stock)
            if variant is not None:
                allowed[i] = variant
        if not allowed or k <= 0:
            return []
        terms = self._query_terms(snap, query)

        if not query.strip():  # browsing by filters only: cheapest first
            order = sorted(allowed, key=lambda i: (allowed[i].price, snap.ids[i]))[:k]
            return [_hit(snap.products[i], allowed[i], 0.0, "", filters) for i in order]

        # Dense: Chroma query with the filters as a store-side ``where``.
        vector = self.embedder.embed_one(query.strip())
        with self._backend():
            result = col.query(
                query_embeddings=[vector],
                n_results=max(self.candidates, k),
                where=_where(filters),  # type: ignore[arg-type]
                include=["distances"],
            )
        similarity: dict[int, float] = {}
        dense: list[int] = []
        for pid, distance in zip(result["ids"][0], (result["distances"] or [[]])[0], strict=True):
            i = snap.position.get(pid)
            if i is not None and i in allowed:
                dense.append(i)
                similarity[i] = 1.0 - float(distance)  # cosine space

        # Lexical: BM25 over the same documents, masked by the same filters.
        lexical: list[int] = []
        term_ids = [snap.vocab[t] for t in terms if t in snap.vocab]
        if term_ids:
            scores = np.asarray(snap.bm25.get_scores_from_ids(term_ids), dtype=np.float64)
            mask = np.zeros(len(snap.ids), dtype=bool)
            mask[list(allowed)] = True
            scores = np.where(mask & (scores > 0), scores, -math.inf)
            top = np.argsort(-scores, kind="stable")[: max(self.candidates, k)]
            need = self.min_coverage * len(terms)
            lexical = [
                int(i)
                for i in top
                if np.isfinite(scores[i]) and sum(t in snap.tokens[i] for t in terms) >= need
            ]

        fused: dict[int, float] = {}
        for ranking in (dense, lexical):
            for rank, i in enumerate(ranking, start=1):
                fused[i] = fused.get(i, 0.0) + 1.0 / (self.rrf_k + rank)
        order = sorted(fused, key=lambda i: (-fused[i], snap.ids[i]))[:k]
        return [
            _hit(
                snap.products[i],
                allowed[i],
                fused[i],
                _head([t for t in terms if t in snap.tokens[i]], similarity.get(i, 0.0)),
                filters,
            )
            for i in order
        ]


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
    """
    import chromadb

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
    """A deterministic in-memory :class:`~tools.protocols.Catalog` for tests of other layers.

    Scoring is token overlap: each distinct query token found in the product's name counts 2,
    found elsewhere in its search text counts 1; ties keep the input order. Products with no
    overlapping token are not returned (an empty query lists all matches, cheapest first).
    Filters behave exactly as in :class:`ChromaCatalog` (:func:`select_variant`).
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

    def search(
        self, query: str, *, filters: SearchFilters | None = None, k: int = 5
    ) -> list[ProductHit]:
        in_stock = _in_stock(self._products.values(), filters, self.stock_filter)
        terms = list(dict.fromkeys(tokenize(query)))
        scored: list[tuple[float, int, Product, Variant, list[str]]] = []
        for order, (pid, product) in enumerate(self._products.items()):
            variant = select_variant(product, filters, in_stock)
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
        if not query.strip():
            scored.sort(key=lambda s: (s[3].price, s[1]))
        else:
            scored.sort(key=lambda s: (-s[0], s[1]))
        return [_hit(p, v, s, _head(m, None), filters) for s, _, p, v, m in scored[: max(k, 0)]]
