"""Incremental indexing: only changed products are rewritten, only changed texts embedded.

Besides Chroma, a run writes the search files of the new revision
(:mod:`shopagent.tools.catalog.files`). What did not change is carried over from the files of
the previous revision (token ids and vectors), so a re-index tokenizes and embeds only the
products whose text changed.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from shopagent.tools.catalog import config, files, records
from shopagent.tools.catalog.config import _FETCH_PAGE, ProgressCallback
from shopagent.tools.catalog.records import IndexStats, _revision
from shopagent.tools.store.schema import Product

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

_Stored = tuple[str, str, frozenset[str]]
"""What a run needs to know of a stored product: its hash, text hash and metadata keys."""


class IndexMixin:
    """Indexing methods of :class:`~shopagent.tools.catalog.search.ChromaCatalog`."""

    def _stored(self, col: Collection) -> dict[str, _Stored]:
        """Hashes and metadata keys of every stored product, read a page at a time (the
        products' JSON is not kept)."""
        out: dict[str, _Stored] = {}
        key_sets: dict[frozenset[str], frozenset[str]] = {}
        offset = 0
        while True:
            page = col.get(limit=_FETCH_PAGE, offset=offset, include=["metadatas"])
            for pid, meta in zip(page["ids"], page["metadatas"] or [], strict=True):
                keys = frozenset(meta)
                keys = key_sets.setdefault(keys, keys)
                out[pid] = (
                    sys.intern(str(meta.get("hash"))),
                    str(meta.get("text_hash")),
                    keys,
                )
            if len(page["ids"]) < _FETCH_PAGE:
                return out
            offset += _FETCH_PAGE

    def _vectors_of(self, col: Collection, ids: list[str]) -> Iterator[tuple[str, Any]]:
        for start in range(0, len(ids), _FETCH_PAGE):
            got = col.get(ids=ids[start : start + _FETCH_PAGE], include=["embeddings"])
            yield from zip(got["ids"], got["embeddings"], strict=True)

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
            # Vectors of another embedder (backend, sequence length) must not be mixed in.
            stored = (col.metadata or {}).get("embedder")
            embedder = self._fitted_embedder(str(stored or ""), wanted)
            identity = getattr(embedder, "identity", None)
            new_vectors = bool(identity and stored and stored != identity)
            # The last revision's search files know every product's hashes; without them
            # (first run, other layout, files removed) they are read back from Chroma.
            revision = str((col.metadata or {}).get("revision") or "")
            previous = files.load(self.files_dir, revision) if revision else None
            old = previous.stored() if previous is not None else self._stored(col)
            # Search files whose vectors have another dimension (written for another embedder
            # under the same revision by an older version): re-embed everything.
            width = getattr(embedder, "dimension", None)
            if previous is not None and isinstance(width, int):
                new_vectors = new_vectors or previous.vectors.shape[1] != width
            if new_vectors:  # another embedder (maybe another dimension): start afresh
                previous = None
                self.client.delete_collection(self.collection_name)
                col = self.client.get_or_create_collection(
                    self.collection_name,
                    embedding_function=self._ef,
                    configuration={"hnsw": {"space": "cosine"}},
                )

            added: list[str] = []
            retext: list[str] = []  # changed search text: re-embed
            remeta: list[str] = []  # same text, other fields changed: reuse the vector
            unchanged: list[str] = []
            hashes: dict[str, str] = {}
            clear: dict[str, frozenset[str]] = {}  # metadata keys that went away
            # What the search files keep of each product's metadata (see files.stored()).
            kept: dict[str, tuple[str, str, frozenset[str]]] = {}
            key_sets: dict[frozenset[str], frozenset[str]] = {}
            for pid, product in wanted.items():
                meta = records.product_metadata(product)
                before = old.get(pid)
                if before is None:
                    added.append(pid)
                elif new_vectors:
                    retext.append(pid)
                elif before[0] == meta["hash"]:
                    unchanged.append(pid)
                    hashes[pid] = before[0]
                    kept[pid] = before
                    continue
                elif before[1] == meta["text_hash"]:
                    remeta.append(pid)
                else:
                    retext.append(pid)
                hashes[pid] = meta["hash"]
                keys = frozenset(meta)
                kept[pid] = (meta["hash"], meta["text_hash"], key_sets.setdefault(keys, keys))
                if before is not None and before[2] - keys:
                    clear[pid] = before[2] - keys
            stale = [pid for pid in old if pid not in wanted]
            revision = _revision(hashes, str(identity or stored or ""))
            del old

            if added or retext or remeta or stale or new_vectors:
                # Readers reopen their search files when the revision changes: mark the
                # collection as in flux first, so a run that dies half-way is never mistaken
                # for the last complete revision.
                col.modify(metadata={"revision": f"pending-{uuid.uuid4().hex}"})

            builder = files.FilesBuilder(
                len(wanted),
                files.scratch_dir(self.files_dir),
                previous.vocab if previous is not None else None,
            )
            try:
                to_embed = self._write(
                    embedder, col, wanted, kept, clear, builder, previous, added, retext, remeta,
                    unchanged, stale, batch_size, progress,
                )  # fmt: skip
                target = files.revision_dir(self.files_dir, revision)
                if new_vectors:  # files of this revision written with other vectors go
                    shutil.rmtree(target, ignore_errors=True)
                builder.write(target, revision)
            finally:
                shutil.rmtree(builder.scratch, ignore_errors=True)
            info: dict[str, Any] = {
                "revision": revision,
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
            unchanged=len(unchanged),
            deleted=len(stale),
            seconds=time.perf_counter() - started,
            embedded=to_embed,
        )

    def _fitted_embedder(self, stored: str, wanted: dict[str, Product]) -> Any:
        """The embedder that embeds this run's products.

        One that learns from the store (``learns_from_store``: ``fit``, ``restore``, ``save``;
        :class:`~shopagent.tools.embeddings.AlignedEmbedder`) reuses the map the index was
        built with, so unchanged vectors stay comparable; without one (first run, another
        embedder before, file gone) it learns a new map from a sample of ``wanted`` (every
        product is then re-embedded: the identity changes)."""
        embedder = self.embedder
        if not getattr(embedder, "learns_from_store", False) or not wanted:
            return embedder
        restored = embedder.restore(stored, self.files_dir) if stored else None
        if restored is not None:
            return restored
        sample = _fit_sample(list(wanted), int(getattr(embedder, "sample", 2000)))
        fitted = embedder.fit([records.embedding_text(wanted[pid]) for pid in sample])
        fitted.save(self.files_dir)
        return fitted

    def _write(
        self,
        embedder: Any,
        col: Collection,
        wanted: dict[str, Product],
        kept: dict[str, tuple[str, str, frozenset[str]]],
        clear: dict[str, frozenset[str]],
        builder: files.FilesBuilder,
        previous: files.SearchFiles | None,
        added: list[str],
        retext: list[str],
        remeta: list[str],
        unchanged: list[str],
        stale: list[str],
        batch_size: int,
        progress: ProgressCallback | None,
    ) -> int:
        """Upsert what changed, delete what went away and fill ``builder``; returns the
        number of texts embedded."""
        same = set(unchanged)
        same_text = same | set(remeta)
        row_of: dict[str, int] = {}
        for pid, product in wanted.items():
            term_ids = product_json = None
            if previous is not None and pid in same_text:
                row = previous.position.get(pid)
                if row is not None:
                    start, end = previous.terms_ptr[row], previous.terms_ptr[row + 1]
                    term_ids = previous.terms[start:end].tolist()
                    if pid in same:
                        product_json = previous.product_json(row)
            row_of[pid] = builder.add(product, kept[pid], term_ids, product_json)

        total = len(wanted)
        done = len(unchanged)
        if progress is not None:
            progress(done, total)
        step = max(1, batch_size)

        def metas(batch: list[str]) -> list[dict[str, Any]]:
            # Upsert merges metadata: keys that went away are cleared explicitly.
            out = []
            for pid in batch:
                meta = records.product_metadata(wanted[pid])
                out.append({**dict.fromkeys(clear.get(pid, ())), **meta})
            return out

        # Shortest texts first: batches of similar length waste little time on padding.
        text_of = {pid: records.embedding_text(wanted[pid]) for pid in added + retext}
        to_embed = sorted(text_of, key=lambda pid: len(text_of[pid]))
        for start in range(0, len(to_embed), step):
            batch = to_embed[start : start + step]
            vectors = embedder.embed([text_of[pid] for pid in batch])
            col.upsert(ids=batch, embeddings=vectors, metadatas=metas(batch))
            for pid, vector in zip(batch, vectors, strict=True):
                builder.set_vector(row_of[pid], vector)
            done += len(batch)
            if progress is not None:
                progress(done, total)

        for start in range(0, len(remeta), step):
            batch = remeta[start : start + step]
            by_id = dict(self._vectors_of(col, batch))
            vectors = np.asarray([by_id[pid] for pid in batch], np.float32)
            col.upsert(ids=batch, embeddings=vectors, metadatas=metas(batch))
            for pid, vector in zip(batch, vectors, strict=True):
                builder.set_vector(row_of[pid], vector)
            done += len(batch)
            if progress is not None:
                progress(done, total)

        missing: list[str] = []
        for pid in unchanged:
            row = previous.position.get(pid) if previous is not None else None
            if row is None or previous is None:
                missing.append(pid)
            else:
                builder.set_vector(row_of[pid], previous.vectors[row])
        for pid, vector in self._vectors_of(col, missing):
            builder.set_vector(row_of[pid], vector)

        for start in range(0, len(stale), step):
            col.delete(ids=stale[start : start + step])
        return len(to_embed)


def _fit_sample(ids: list[str], n: int) -> list[str]:
    """Up to ``n`` product ids spread over the catalog, the same for the same catalog (ordered
    by a hash of the id, not by position or name)."""
    if len(ids) <= n:
        return ids
    return sorted(ids, key=lambda pid: hashlib.blake2b(pid.encode(), digest_size=8).digest())[:n]
