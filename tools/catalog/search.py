"""Hybrid search over a Chroma collection: :class:`ChromaCatalog`."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from shopagent.tools.catalog.bm25 import LexicalMixin
from shopagent.tools.catalog.chroma import _is_unreachable
from shopagent.tools.catalog.config import (
    CANDIDATES,
    DENSE_CONFIDENT,
    DENSE_WEIGHT,
    FULL_MATCH_BONUS,
    FUSION,
    MIN_COVERAGE,
    PARTIAL_LEXICAL_WEIGHT,
    RRF_K,
    SORT_POOL,
    UNREAD_LEXICAL_WEIGHT,
    WEAK_DENSE_WEIGHT,
    Fusion,
    Method,
    Sort,
    StockFilter,
)
from shopagent.tools.catalog.filters import _exclusions, _Gate, _mask, _sort_of, _term_tokens
from shopagent.tools.catalog.fusion import FusionMixin
from shopagent.tools.catalog.hits import _head, _hit
from shopagent.tools.catalog.index import IndexMixin
from shopagent.tools.catalog.snapshot import PRODUCT_CACHE, _Snapshot
from shopagent.tools.catalog.translate import translate, unread
from shopagent.tools.results import ProductHit, SearchFilters
from shopagent.tools.store.schema import Product, Variant

from shopagent.errors import CatalogUnavailable, IndexMissing

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from shopagent.tools.embeddings import Embedder


class ChromaCatalog(IndexMixin, LexicalMixin, FusionMixin):
    """Hybrid product search over a Chroma collection (see the module docstring).

    ``client`` is a ``chromadb`` client (embedded or HTTP), ``embedder`` defaults to the
    process-wide :func:`shopagent.tools.embeddings.get_embedder`. ``stock_filter`` is the optional
    live
    stock hook that makes ``SearchFilters.in_stock_only`` effective. ``files_dir`` holds the
    search files of each revision (:mod:`shopagent.tools.catalog.files`; default: next to an
    embedded Chroma's files, else under the machine cache); ``cache_size`` bounds the products
    kept in memory.
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
        files_dir: str | Path | None = None,
        cache_size: int = PRODUCT_CACHE,
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
        self.files_dir = (
            Path(files_dir) if files_dir is not None else _files_dir(client, collection)
        )
        self.cache_size = cache_size
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
            row = snap.files.position.get(product_id)
            return snap.load([row]).get(row) if row is not None else None
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
        if not revision:  # written by no complete index run: name it by its size
            with self._backend():
                revision = f"unversioned-{col.count()}"
        with self._lock:
            snap = self._snapshot
            if snap is None or snap.revision != revision:
                snap = self._load_snapshot(col, revision)
                self._snapshot = snap
        return col, snap

    def facets(self) -> dict[str, list[str]]:
        """Categories, brands, colours and materials in the index (see :func:`facets`)."""
        _, snap = self._current()
        return {key: list(values) for key, values in snap.files.facets.items()}

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
        mask = _mask(snap.files, f)
        gate = _Gate(f, _term_tokens(excluded), self.stock_filter, snap.load, snap.files)

        if not query.strip():  # browsing by filters only: cheapest (or dearest) first
            return self._browse(snap, mask, gate, order_by, k, f, excluded)

        depth = max(self.candidates, k)
        terms = self._query_terms(snap, query)
        # Words of another language the catalog does not index, in English (translate.py):
        # BM25 reads the English words it indexes; the dense side embeds both texts.
        english = translate(query, snap.files.vocab)
        if english is not None:
            vocab = snap.files.vocab
            terms = [t for t in self._query_terms(snap, english) if t in vocab] or terms
        similarity: dict[int, float] = {}
        dense: list[int] = []
        if method != "bm25":
            # Exclusions and stock are checked on the candidates, so fetch more when they
            # may drop some.
            vector = self._query_vector(query.strip(), english)
            fetch = depth * 2 if excluded or gate.hook is not None else depth
            found, similarity = self._dense(col, snap, vector, mask, fetch)
            passed = gate.check(found)
            dense = [i for i in found if i in passed][:depth]
        lexical: list[int] = []
        bm25: dict[int, float] = {}
        if method != "dense":
            lexical, bm25 = self._lexical(snap, terms, mask, gate, depth)

        weights = self._weights(snap, terms, dense, similarity, lexical)
        if english is not None and unread(english, snap.files.vocab):
            # BM25 read only part of the request (words in another language are left): they
            # count as words its candidates lack.
            weights = (weights[0], min(weights[1], UNREAD_LEXICAL_WEIGHT))
        fused = self._fuse((dense, similarity), (lexical, bm25), weights)
        matched = snap.files.matched(terms, list(fused))
        if method == "hybrid" and self.full_match_bonus and len(set(terms)) >= 2:
            bonus = self.full_match_bonus / (self.rrf_k + 1)
            for i in fused:
                if len(matched[i]) == len(terms):
                    fused[i] += bonus
        ids = snap.files.ids
        order = sorted(fused, key=lambda i: (-fused[i], ids[i]))
        if order_by != "relevance":
            # Hits with every query word first, each tier by price.
            sign = -1 if order_by == "price_desc" else 1
            pool = order[: max(k, SORT_POOL)]
            priced = gate.variants(pool)
            order = sorted(
                (i for i in pool if i in priced),
                key=lambda i: (
                    len(matched[i]) < len(terms),
                    sign * priced[i].price,
                    -fused[i],
                    ids[i],
                ),
            )
        hits: list[ProductHit] = []
        for start in range(0, len(order), k):
            page = order[start : start + k]
            shown = gate.variants(page)
            products = snap.load([i for i in page if i in shown])
            for i in page:
                if i in shown and i in products and len(hits) < k:
                    head = _head(matched[i], similarity.get(i, 0.0) if method != "bm25" else None)
                    hits.append(_hit(products[i], shown[i], fused[i], head, f, excluded))
            if len(hits) >= k:
                break
        return hits

    def _query_vector(self, query: str, english: str | None) -> np.ndarray:
        """The query's embedding; with an English rendering, the normalised sum of both (the
        shopper's own words and the glossary's English)."""
        vector = np.asarray(self.embedder.embed_one(query), dtype=np.float32)
        if english:
            vector = vector + np.asarray(self.embedder.embed_one(english), dtype=np.float32)
            norm = float(np.linalg.norm(vector))
            vector = vector / norm if norm > 0 else vector
        return vector

    def _browse(
        self,
        snap: _Snapshot,
        mask: np.ndarray,
        gate: _Gate,
        order_by: str,
        k: int,
        f: SearchFilters,
        excluded: Sequence[str],
    ) -> list[ProductHit]:
        """The ``k`` cheapest (or dearest) allowed products, walking the price columns: a
        product's shown price is never below its cheapest variant (nor above its dearest)."""
        files = snap.files
        allowed = np.flatnonzero(mask)
        desc = order_by == "price_desc"
        bound = files.max_price[allowed] if desc else files.min_price[allowed]
        ids = np.asarray(files.ids, dtype=object)[allowed]
        walk = allowed[np.lexsort((ids, -bound if desc else bound))]
        bound_of = files.max_price if desc else files.min_price
        sign = -1 if desc else 1
        found: dict[int, Variant] = {}
        step = max(4 * k, 64)
        for start in range(0, len(walk), step):
            found.update(gate.variants([int(i) for i in walk[start : start + step]]))
            if len(found) >= k and start + step < len(walk):
                kth = sorted(sign * float(v.price) for v in found.values())[k - 1]
                if kth < sign * float(bound_of[walk[start + step]]):
                    break
        order = sorted(found, key=lambda i: (sign * found[i].price, files.ids[i]))[:k]
        products = snap.load(order)
        return [_hit(products[i], found[i], 0.0, "", f, excluded) for i in order if i in products]

    def _dense(
        self, col: Collection, snap: _Snapshot, vector: np.ndarray, mask: np.ndarray, fetch: int
    ) -> tuple[list[int], dict[int, float]]:
        """The ``fetch`` allowed products nearest to ``vector`` and their cosine similarity.

        Without filters, Chroma's ANN index answers. With filters, the allowed products'
        vectors (memory-mapped from the search files) are scanned exactly: a filtered Chroma
        query (a ``where``) costs 60-260 ms on 50,000 products, the scan a few ms, and it
        never misses an allowed product.
        """
        files = snap.files
        if mask.all():
            with self._backend():
                result = col.query(
                    query_embeddings=[vector],
                    n_results=min(fetch, len(files.ids)),
                    include=["distances"],
                )
            found: list[int] = []
            similarity: dict[int, float] = {}
            for pid, distance in zip(
                result["ids"][0], (result["distances"] or [[]])[0], strict=True
            ):
                i = files.position.get(pid)
                if i is not None:
                    found.append(i)
                    similarity[i] = 1.0 - float(distance)  # cosine space
            return found, similarity
        allowed = np.flatnonzero(mask)
        if not len(allowed):
            return [], {}
        vectors = files.vectors
        if len(allowed) * 4 < len(files.ids):  # few: gather their rows first
            scores = vectors[allowed] @ vector
        else:
            scores = (vectors @ vector)[allowed]
        top = min(fetch, len(allowed))
        part = np.argpartition(-scores, top - 1)[:top]
        order = part[np.lexsort((allowed[part], -scores[part]))]
        return [int(allowed[j]) for j in order], {int(allowed[j]): float(scores[j]) for j in order}


def _files_dir(client: ClientAPI, collection: str) -> Path:
    """Where a catalog keeps its search files by default: beside an embedded Chroma's own
    files, else (server mode) under the machine cache, per server and collection."""
    settings = client.get_settings()
    if getattr(settings, "is_persistent", False) and settings.persist_directory:
        return Path(settings.persist_directory) / "shopagent-search" / collection
    from shopagent.tools.embeddings import default_cache_dir

    host = f"{settings.chroma_server_host}-{settings.chroma_server_http_port}"
    return default_cache_dir() / "search" / re.sub(r"[^A-Za-z0-9_.-]+", "_", host) / collection
