"""The lexical side: the in-memory snapshot with its BM25 index, query terms and candidates."""

from __future__ import annotations

import difflib
import logging
import math
from typing import TYPE_CHECKING

import numpy as np
from shopagent.tools.catalog.filters import _filter_arrays
from shopagent.tools.catalog.snapshot import _Snapshot, _split_compound
from shopagent.tools.catalog.text import tokenize
from shopagent.tools.store.schema import Product

from shopagent.errors import IndexMissing

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from shopagent.tools.catalog.filters import _Gate

logger = logging.getLogger(__name__)


class LexicalMixin:
    """BM25 methods of :class:`~shopagent.tools.catalog.search.ChromaCatalog`."""

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
