"""Incremental indexing: only changed products are rewritten, only changed texts embedded."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from shopagent.tools.catalog import config, records
from shopagent.tools.catalog.config import _FETCH_PAGE, ProgressCallback
from shopagent.tools.catalog.records import IndexStats, _revision
from shopagent.tools.store.schema import Product

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection


class IndexMixin:
    """Indexing methods of :class:`~shopagent.tools.catalog.search.ChromaCatalog`."""

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
                meta = records.product_metadata(product)
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
            text_of = {pid: records.embedding_text(wanted[pid]) for pid in added + retext}
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
                "metadata_version": config.METADATA_VERSION,
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
