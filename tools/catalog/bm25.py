"""The lexical side: opening a revision's search files, query terms and BM25 candidates."""

from __future__ import annotations

import difflib
import logging
import math
import shutil
from typing import TYPE_CHECKING

import numpy as np
from shopagent.tools.catalog import files
from shopagent.tools.catalog.config import _FETCH_PAGE
from shopagent.tools.catalog.snapshot import ProductCache, _Snapshot, _split_compound
from shopagent.tools.catalog.text import tokenize
from shopagent.tools.store.schema import Product

from shopagent.errors import IndexMissing

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from shopagent.tools.catalog.filters import _Gate

logger = logging.getLogger(__name__)


class LexicalMixin:
    """Search-files and BM25 methods of :class:`~shopagent.tools.catalog.search.ChromaCatalog`."""

    def _load_snapshot(self, col: Collection, revision: str) -> _Snapshot:
        """The snapshot at ``revision``: its search files, written from Chroma first when no
        process has written them yet."""
        stored = (col.metadata or {}).get("embedder")
        identity = getattr(self.embedder, "identity", None)
        accepts = getattr(self.embedder, "accepts", None)
        if stored and identity and stored != identity and not (accepts and accepts(stored)):
            logger.warning(
                "the catalog index was embedded with %s but queries are embedded with %s: "
                "run `shopagent index` to re-embed it (or set the embedder it was built with)",
                stored,
                identity,
            )
        opened = files.load(self.files_dir, revision)
        if opened is None:
            self._write_files_from_chroma(col, revision)
            opened = files.load(self.files_dir, revision)
        if opened is None:  # pragma: no cover - written just above
            raise IndexMissing(f"cannot open the search files of {self.collection_name!r}")
        return self._snapshot_of(opened)

    def _snapshot_of(self, opened: files.SearchFiles) -> _Snapshot:
        return _Snapshot(files=opened, products=ProductCache(opened.products, self.cache_size))

    def _write_files_from_chroma(self, col: Collection, revision: str) -> None:
        """Write the search files of ``revision`` from the collection, a page at a time."""
        with self._backend():
            total = col.count()
        if not total:
            raise IndexMissing(f"the catalog index (collection {self.collection_name!r}) is empty")
        builder = files.FilesBuilder(total, files.scratch_dir(self.files_dir))
        try:
            offset = 0
            while offset < total:
                with self._backend():
                    page = col.get(
                        limit=_FETCH_PAGE, offset=offset, include=["metadatas", "embeddings"]
                    )
                if not page["ids"]:
                    break
                for meta, vector in zip(page["metadatas"] or [], page["embeddings"], strict=True):
                    product = Product.model_validate_json(str(meta["product"]))
                    keys = frozenset(meta)
                    info = (str(meta.get("hash")), str(meta.get("text_hash")), keys)
                    row = builder.add(product, info, product_json=str(meta["product"]).encode())
                    builder.set_vector(row, vector)
                offset += len(page["ids"])
            builder.write(files.revision_dir(self.files_dir, revision), revision)
        finally:
            shutil.rmtree(builder.scratch, ignore_errors=True)

    def _query_terms(self, snap: _Snapshot, query: str) -> list[str]:
        """Query tokens, with unknown words mapped to their closest indexed word (typos) or,
        failing that, split into two indexed words ("airfryer" -> "air", "fryer")."""
        terms: list[str] = []
        for token in tokenize(query):
            found = [token]
            if token not in snap.files.vocab and len(token) >= 4 and not token.isdigit():
                close = difflib.get_close_matches(
                    token, snap.files.by_initial.get(token[0], []), n=1, cutoff=0.8
                )
                found = close or _split_compound(token, snap.files.vocab) or found
            terms.extend(t for t in found if t not in terms)
        return terms

    def _lexical(
        self, snap: _Snapshot, terms: list[str], mask: np.ndarray, gate: _Gate, depth: int
    ) -> tuple[list[int], dict[int, float]]:
        """BM25 candidates among the allowed products, best first, at most ``depth``, and
        their BM25 scores.

        Walks down the BM25 ranking (top ``4 * depth`` first, then further) and keeps
        products that cover enough query words and pass the exact filters.
        """
        term_ids = [snap.files.vocab[t] for t in terms if t in snap.files.vocab]
        if not term_ids:
            return [], {}
        scores = np.asarray(snap.files.bm25.get_scores_from_ids(term_ids), dtype=np.float64)
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
            rows = [int(i) for i in ranked[seen:take]]
            matched = snap.files.matched(terms, rows)
            chunk = [i for i in rows if len(matched[i]) >= need]
            passed = gate.check(chunk)
            out.extend(i for i in chunk if i in passed)
            seen, take = take, min(live, take * 4)
        out = out[:depth]
        return out, {i: float(scores[i]) for i in out}
