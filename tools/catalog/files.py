"""The search files of one index revision: written once, memory-mapped by every reader.

A search needs, besides Chroma, a BM25 index, the filters' columns and every product's vector
(for the exact filtered dense scan). Instead of each process holding the whole catalog to
build them, they are written to ``<files dir>/<revision>/`` when the index changes (by
:meth:`ChromaCatalog.index`, or by the first reader of a revision that has none) and opened
memory-mapped: the operating system shares their pages between processes and pages them in
only as searches touch them. A search parses only the products it checks or shows, through
a bounded cache.

Files (``row`` is a product's position, the same in every file):

- ``ids.json``: product ids by row; ``hashes.json``: their Chroma metadata's hashes (what a
  re-index compares, instead of reading every product's metadata back from Chroma);
  ``meta.json``: the category and brand codes, the
  attribute postings' offsets, the facets and the layout version;
- ``bm25/``: the bm25s index of the products' search-text tokens (``BM25.load(mmap=True)``);
- ``terms.npy``/``terms_ptr.npy``: each row's token ids (CSR), so that a re-index tokenizes
  only the products whose text changed;
- ``columns.npz``: cheapest and dearest variant price, category and brand code per row;
- ``attrs.npy``: rows per attribute value and per attribute key (ranges in ``meta.json``);
- ``vectors.npy``: the embedding of every row (float32);
- ``products.bin``/``products_ptr.npy``: every product's JSON, so a search parses only the
  few products it shows or checks (through a bounded cache), without asking Chroma.
"""

from __future__ import annotations

import array
import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from shopagent.tools.catalog.hits import FacetCounter
from shopagent.tools.catalog.text import _attr_buckets, _norm, tokenize
from shopagent.tools.store.schema import Product

LAYOUT = 1
"""Bump when the files' layout or the tokenizer changes (older files are then rebuilt)."""

_KEEP = 2
"""Revisions kept on disk per collection (the newest; readers of an older one keep their
mapped pages even after its files are removed)."""


@dataclass
class SearchFiles:
    """One revision's search files, opened (arrays memory-mapped)."""

    revision: str
    path: Path
    ids: list[str]
    position: dict[str, int]
    bm25: Any
    vocab: dict[str, int]
    terms: np.ndarray
    terms_ptr: np.ndarray
    min_price: np.ndarray
    max_price: np.ndarray
    category: np.ndarray
    brand: np.ndarray
    category_code: dict[str, int]
    brand_code: dict[str, int]
    attr_index: dict[str, dict[str, np.ndarray]]
    """``attr_<key>`` -> matchable value -> rows of the products that have it."""
    attr_keys: dict[str, np.ndarray]
    """``attr_<key>`` -> rows of the products that record the attribute."""
    vectors: np.ndarray
    products_blob: np.ndarray
    """Every product's JSON, one after the other (bytes, memory-mapped)."""
    products_ptr: np.ndarray
    facets: dict[str, list[str]]
    by_initial: dict[str, list[str]] = field(default_factory=dict)
    hashes: list[list[str]] = field(default_factory=list)
    """``[hash, text_hash, key set number]`` by row (see ``key_sets``)."""
    key_sets: list[list[str]] = field(default_factory=list)
    """The distinct sets of Chroma metadata keys of the products."""

    def stored(self) -> dict[str, tuple[str, str, frozenset[str]]]:
        """What the index run needs of each product: hash, text hash and metadata keys."""
        sets = [frozenset(keys) for keys in self.key_sets]
        return {
            pid: (h[0], h[1], sets[int(h[2])]) for pid, h in zip(self.ids, self.hashes, strict=True)
        }

    def __len__(self) -> int:
        return len(self.ids)

    def product_json(self, row: int) -> bytes:
        return self.products_blob[self.products_ptr[row] : self.products_ptr[row + 1]].tobytes()

    def products(self, rows: Sequence[int]) -> dict[int, Product]:
        """The products at ``rows`` (parsed from the memory-mapped JSON)."""
        return {r: Product.model_validate_json(self.product_json(r)) for r in rows}

    def postings(self, term_id: int) -> np.ndarray:
        """Rows whose text contains the token ``term_id`` (from the BM25 matrix)."""
        indptr = self.bm25.scores["indptr"]
        return np.asarray(self.bm25.scores["indices"][indptr[term_id] : indptr[term_id + 1]])

    def matched(self, terms: Sequence[str], rows: Sequence[int]) -> dict[int, list[str]]:
        """For each row, the ``terms`` its search text contains (in the order given)."""
        out: dict[int, list[str]] = {int(r): [] for r in rows}
        if not out:
            return out
        wanted = np.fromiter(out, dtype=np.int64, count=len(out))
        for term in terms:
            term_id = self.vocab.get(term)
            if term_id is None:
                continue
            for row in wanted[np.isin(wanted, self.postings(term_id))]:
                out[int(row)].append(term)
        return out


class FilesBuilder:
    """Collects rows in order, then writes one revision's files (:meth:`write`).

    ``vocab`` (token -> id) may start as a previous revision's, so that its token ids can be
    carried over (:meth:`add` with ``term_ids``)."""

    def __init__(self, n: int, scratch: Path, vocab: dict[str, int] | None = None) -> None:
        self.n = n
        self.scratch = scratch
        self.vocab: dict[str, int] = dict(vocab or {})
        self.ids: list[str] = []
        self.terms = array.array("i")
        self.ptr = array.array("q", [0])
        self.min_price = np.zeros(n, dtype=np.float64)
        self.max_price = np.zeros(n, dtype=np.float64)
        self.category = np.zeros(n, dtype=np.int32)
        self.brand = np.zeros(n, dtype=np.int32)
        self.category_code: dict[str, int] = {}
        self.brand_code: dict[str, int] = {}
        self.attr_rows: dict[str, dict[str, list[int]]] = {}
        self.key_rows: dict[str, list[int]] = {}
        self.facets = FacetCounter()
        self.vectors: np.ndarray | None = None
        self.hashes: list[list[Any]] = []
        self.key_sets: dict[frozenset[str], int] = {}
        scratch.mkdir(parents=True, exist_ok=True)
        self._blob = open(scratch / "products.bin", "wb")  # noqa: SIM115 - closed in write()
        self.products_ptr = array.array("q", [0])

    def set_vector(self, row: int, vector: Any) -> None:
        vector = np.asarray(vector, dtype=np.float32)
        if self.vectors is None:
            self.vectors = np.lib.format.open_memmap(
                self.scratch / "vectors.npy",
                mode="w+",
                dtype=np.float32,
                shape=(self.n, len(vector)),
            )
        self.vectors[row] = vector

    def add(
        self,
        product: Product,
        meta: tuple[str, str, frozenset[str]],
        term_ids: Sequence[int] | None = None,
        product_json: bytes | None = None,
    ) -> int:
        """Append a product (its row is returned). ``meta`` is its Chroma metadata's hash,
        text hash and keys; ``term_ids`` are its tokens' ids in this builder's vocabulary
        when known (else its search text is tokenized); ``product_json`` its JSON when at
        hand."""
        row = len(self.ids)
        data = product_json if product_json is not None else product.model_dump_json().encode()
        self._blob.write(data)
        self.products_ptr.append(self.products_ptr[-1] + len(data))
        self.ids.append(product.id)
        number = self.key_sets.setdefault(meta[2], len(self.key_sets))
        self.hashes.append([meta[0], meta[1], number])
        if term_ids is None:
            vocab = self.vocab
            term_ids = [vocab.setdefault(t, len(vocab)) for t in tokenize(product.search_text())]
        self.terms.extend(term_ids)
        self.ptr.append(len(self.terms))
        prices = [float(v.price) for v in product.variants]
        self.min_price[row], self.max_price[row] = min(prices), max(prices)
        codes = self.category_code
        self.category[row] = codes.setdefault(_norm(product.category), len(codes))
        codes = self.brand_code
        self.brand[row] = codes.setdefault(_norm(product.brand), len(codes))
        for key, values in _attr_buckets(product).items():
            self.key_rows.setdefault(key, []).append(row)
            by_value = self.attr_rows.setdefault(key, {})
            for value in values:
                by_value.setdefault(value, []).append(row)
        self.facets.add(product)
        return row

    def write(self, target: Path, revision: str) -> None:
        """Build the BM25 index and write every file to ``target`` (atomically)."""
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        if len(self.ids) != self.n:
            raise ValueError(f"{len(self.ids)} products added, {self.n} expected")
        self._blob.close()
        if not self.n:  # an empty index has no search files (readers say it is empty)
            return
        np.save(self.scratch / "products_ptr.npy", np.frombuffer(self.products_ptr, np.int64))
        if self.vectors is None:
            raise ValueError("no vectors were set")
        self.vectors.flush()
        terms = np.frombuffer(self.terms, dtype=np.int32)
        ptr = np.frombuffer(self.ptr, dtype=np.int64)
        docs = [terms[ptr[i] : ptr[i + 1]].tolist() for i in range(self.n)]
        retriever = bm25s.BM25()
        vocab = dict(self.vocab)
        retriever.index(bm25s.tokenization.Tokenized(ids=docs, vocab=vocab), show_progress=False)
        del docs
        retriever.save(str(self.scratch / "bm25"), show_progress=False)
        np.save(self.scratch / "terms.npy", terms)
        np.save(self.scratch / "terms_ptr.npy", ptr)
        np.savez(
            self.scratch / "columns.npz",
            min_price=self.min_price,
            max_price=self.max_price,
            category=self.category,
            brand=self.brand,
        )
        chunks: list[np.ndarray] = []
        offsets: dict[str, dict[str, list[int]]] = {}
        key_offsets: dict[str, list[int]] = {}
        start = 0
        for key, by_value in self.attr_rows.items():
            for value, rows in by_value.items():
                chunks.append(np.asarray(rows, dtype=np.int64))
                offsets.setdefault(key, {})[value] = [start, start + len(rows)]
                start += len(rows)
        for key, rows in self.key_rows.items():
            chunks.append(np.asarray(rows, dtype=np.int64))
            key_offsets[key] = [start, start + len(rows)]
            start += len(rows)
        np.save(self.scratch / "attrs.npy", np.concatenate(chunks) if chunks else np.zeros(0))
        meta = {
            "layout": LAYOUT,
            "revision": revision,
            "category_code": self.category_code,
            "brand_code": self.brand_code,
            "attrs": offsets,
            "keys": key_offsets,
            "facets": self.facets.result(),
            "key_sets": [sorted(keys) for keys in self.key_sets],
        }
        (self.scratch / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        (self.scratch / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")
        (self.scratch / "hashes.json").write_text(json.dumps(self.hashes), encoding="utf-8")
        self.vectors = None
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(self.scratch, target)
        except OSError:  # another process wrote this revision first: keep its files
            if not (target / "meta.json").is_file():
                raise
            shutil.rmtree(self.scratch, ignore_errors=True)
        _prune(target.parent, keep=target.name)


def scratch_dir(root: Path) -> Path:
    """A fresh directory next to the revisions, for a :class:`FilesBuilder`."""
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".build-", dir=root))


def revision_dir(root: Path, revision: str) -> Path:
    return root / revision[:40]


def load(root: Path, revision: str) -> SearchFiles | None:
    """The files of ``revision`` under ``root``, memory-mapped; None when there are none (or
    of an older layout, or half removed)."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    path = revision_dir(root, revision)
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        if meta.get("layout") != LAYOUT or meta.get("revision") != revision:
            return None
        ids = json.loads((path / "ids.json").read_text(encoding="utf-8"))
        hashes = json.loads((path / "hashes.json").read_text(encoding="utf-8"))
        bm25 = bm25s.BM25.load(str(path / "bm25"), mmap=True, show_progress=False, verbosity=0)
        columns = np.load(path / "columns.npz")
        attrs = np.load(path / "attrs.npy", mmap_mode="r")
        vectors = np.load(path / "vectors.npy", mmap_mode="r")
        terms = np.load(path / "terms.npy", mmap_mode="r")
        terms_ptr = np.load(path / "terms_ptr.npy", mmap_mode="r")
        products_ptr = np.load(path / "products_ptr.npy", mmap_mode="r")
        blob = path / "products.bin"
        products_blob = (
            np.memmap(blob, dtype=np.uint8, mode="r")
            if blob.stat().st_size
            else np.zeros(0, np.uint8)
        )
    except (OSError, ValueError, KeyError):
        return None
    vocab = dict(bm25.vocab_dict)
    vocab.pop("", None)
    by_initial: dict[str, list[str]] = {}
    for token in vocab:
        if len(token) >= 4 and not token.isdigit():
            by_initial.setdefault(token[0], []).append(token)
    return SearchFiles(
        revision=revision,
        path=path,
        ids=ids,
        position={pid: i for i, pid in enumerate(ids)},
        bm25=bm25,
        vocab=vocab,
        terms=terms,
        terms_ptr=terms_ptr,
        min_price=columns["min_price"],
        max_price=columns["max_price"],
        category=columns["category"],
        brand=columns["brand"],
        category_code=meta["category_code"],
        brand_code=meta["brand_code"],
        attr_index={
            key: {value: attrs[a:b] for value, (a, b) in by_value.items()}
            for key, by_value in meta["attrs"].items()
        },
        attr_keys={key: attrs[a:b] for key, (a, b) in meta["keys"].items()},
        vectors=vectors,
        products_blob=products_blob,
        products_ptr=products_ptr,
        facets=meta["facets"],
        by_initial=by_initial,
        hashes=hashes,
        key_sets=meta["key_sets"],
    )


def _prune(root: Path, keep: str) -> None:
    """Remove all but the newest revisions (and stale scratch directories)."""
    with contextlib.suppress(OSError):
        entries = sorted(
            (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in entries[_KEEP:]:
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)
