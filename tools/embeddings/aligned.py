"""Static product vectors mapped into MiniLM's space; MiniLM for the query ("aligned").

The static model (:mod:`shopagent.tools.embeddings.static`) embeds product texts ~100x faster
than MiniLM, but it averages token vectors without context, so it misreads a shopper's phrasing
("flashlight you wear on your head"). Queries are one short text per search: MiniLM (ONNX int8,
a few milliseconds) embeds them. Products keep the static model, and a linear map learned from
the store's own catalog carries their vectors into MiniLM's space:

* :meth:`AlignedEmbedder.fit` embeds a sample of the store's product texts with both models and
  fits a ridge regression from the static vectors to MiniLM's (:func:`ridge_loo`: the
  regularisation is chosen by leave-one-out error on that sample, never by search results);
* a product's vector is then ``normalize(static(text) @ W)``.

Nothing about queries or relevance labels goes into the map: only the products' texts and what
MiniLM makes of them. The map belongs to one index, not to the process-wide embedder: ``fit``
returns a view holding it, the catalog saves it beside its search files (:meth:`save`) and
restores it for every later re-index (:meth:`restore`), so old and new product vectors stay
comparable. A view's ``identity`` ends with the map's digest; the catalog stores it with the
index, and a new map re-embeds every product.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from shopagent.tools.embeddings.base import Embedder
from shopagent.tools.embeddings.onnx import OnnxEmbedder
from shopagent.tools.embeddings.static import StaticEmbedder

FIT_SAMPLE = 1000
"""Product texts embedded by MiniLM to learn the map. The held-out cosine between mapped and
MiniLM vectors rises with the sample (0.82 at 200, 0.87 at 400, 0.91 at 900 products of the
demo store); 1,000 texts cost ~15 CPU seconds once per index, whatever the catalog's size."""

FIT_BATCH = 8
"""MiniLM batch for the fit sample: as fast as 32 on two cores, a third of the peak memory
(+87 MB against +278 MB for 800 product texts at 128 tokens)."""

ALPHAS = tuple(float(a) for a in np.logspace(-3, 1, 9))
"""Ridge penalties :func:`ridge_loo` chooses from (leave-one-out on the fit sample)."""


def ridge_loo(
    source: np.ndarray, target: np.ndarray, alphas: Sequence[float] = ALPHAS
) -> tuple[np.ndarray, float]:
    """The ridge map ``W`` (``source @ W ~ target``, no intercept) whose penalty has the least
    leave-one-out squared error, and that penalty.

    The same model and choice as scikit-learn's ``RidgeCV(fit_intercept=False)`` (tests check
    it), written out with one SVD so an indexing process does not import scikit-learn and
    SciPy (~110 MB of resident memory) for one regression."""
    x = np.asarray(source, np.float64)
    y = np.asarray(target, np.float64)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    uty = u.T @ y
    best: tuple[float, float] | None = None
    for alpha in alphas:
        shrink = s**2 / (s**2 + alpha)
        fitted = u @ (shrink[:, None] * uty)
        leverage = (u**2) @ shrink
        loo = (y - fitted) / (1.0 - leverage)[:, None]
        error = float(np.mean(loo**2))
        if best is None or error < best[0]:
            best = (error, float(alpha))
    assert best is not None
    alpha = best[1]
    weights = vt.T @ ((s / (s**2 + alpha))[:, None] * uty)
    return np.ascontiguousarray(weights, dtype=np.float32), alpha


class AlignedEmbedder(Embedder):
    """Products: static vectors mapped into MiniLM's space; queries: MiniLM (module docstring).

    ``student`` embeds products, ``teacher`` embeds queries and the fit sample.
    ``projection`` is the learned ``(static dims, MiniLM dims)`` map (None until :meth:`fit`
    or :meth:`restore`; :meth:`embed` needs it, :meth:`embed_one` does not).
    """

    learns_from_store = True
    """The catalog fits (or restores) the map before it embeds products (``fit``/``restore``)."""

    def __init__(
        self,
        student: StaticEmbedder,
        teacher: OnnxEmbedder,
        projection: np.ndarray | None = None,
        *,
        sample: int = FIT_SAMPLE,
    ) -> None:
        super().__init__(student.model_path, max_seq_length=student.max_seq_length)
        self.student = student
        self.teacher = teacher
        self.sample = sample
        self.projection = None if projection is None else np.asarray(projection, np.float32)
        self.backend = f"aligned{student.dims}"

    # -- what produced the vectors ---------------------------------------------------------

    @property
    def digest(self) -> str | None:
        """A short hash of the map (None before fitting)."""
        if self.projection is None:
            return None
        return hashlib.blake2b(self.projection.tobytes(), digest_size=8).hexdigest()

    @property
    def identity(self) -> str:
        base = super().identity
        return f"{base}:{self.digest}" if self.projection is not None else base

    @property
    def dimension(self) -> int:
        return self.teacher.dimension

    # -- preparing the models (once per machine) --------------------------------------------

    @property
    def ready(self) -> bool:
        """Whether the static model and the ONNX export are on disk."""
        return self.student.ready and self.teacher.onnx_path.is_file()

    def prepare(self) -> bool:
        """Distill the static model and export MiniLM to ONNX unless cached; True if any ran."""
        distilled = self.student.prepare()
        exported = not self.teacher.onnx_path.is_file()
        if exported:
            self.teacher.embed(["warm up"])
        return distilled or exported

    def warm_up(self) -> None:
        self.student.warm_up()
        self.teacher.warm_up()

    # -- the map ------------------------------------------------------------------------------

    def with_projection(self, projection: np.ndarray) -> AlignedEmbedder:
        """A view sharing the loaded models, with ``projection`` as its map."""
        return AlignedEmbedder(self.student, self.teacher, projection, sample=self.sample)

    def fit(self, texts: Sequence[str]) -> AlignedEmbedder:
        """A view whose map is learned from ``texts`` (product texts of the store; the caller
        picks at most :attr:`sample` of them)."""
        texts = [t for t in texts if t.strip()]
        if not texts:
            raise ValueError("no product texts to learn the embedding map from")
        source = self.student.embed(texts)
        target = self.teacher.embed(texts, batch_size=FIT_BATCH)
        # An indexing process needs MiniLM only for this sample: give its memory back for
        # the rest of the run (a query reloads it in half a second).
        self.teacher.release()
        projection, _ = ridge_loo(source, target)
        return self.with_projection(projection)

    def _file(self, directory: Path, digest: str) -> Path:
        return Path(directory) / f"projection-{self.backend}-{digest}.npy"

    def save(self, directory: str | Path) -> Path:
        """Write the map into ``directory`` (atomically); returns the file."""
        if self.projection is None or self.digest is None:
            raise ValueError("nothing to save: fit the map first")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = self._file(directory, self.digest)
        scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(scratch, "wb") as fh:
            np.save(fh, self.projection)
        os.replace(scratch, path)
        return path

    def restore(self, identity: str, directory: str | Path) -> AlignedEmbedder | None:
        """The view whose map produced an index stored with ``identity`` (its file saved in
        ``directory``); None when ``identity`` is another embedder's or the file is gone."""
        prefix = f"{super().identity}:"
        if not identity.startswith(prefix):
            return None
        digest = identity[len(prefix) :]
        try:
            projection = np.load(self._file(Path(directory), digest))
        except (OSError, ValueError):
            return None
        view = self.with_projection(projection)
        return view if view.digest == digest else None

    def accepts(self, identity: str) -> bool:
        """Whether an index stored with ``identity`` can be searched by this embedder (its
        queries are MiniLM vectors whatever the map)."""
        return identity == self.identity or identity.startswith(f"{super().identity}:")

    # -- embedding ------------------------------------------------------------------------

    def embed(self, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
        """Product vectors: the static vectors through the map, unit length."""
        if self.projection is None:
            from shopagent.errors import IndexMissing

            raise IndexMissing(
                "the aligned embedder has no map yet: it is learned from the catalog's products",
                hint="run `shopagent index` (it learns the map and embeds the products)",
            )
        vectors = self.student.embed(texts, batch_size=batch_size) @ self.projection
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        np.divide(vectors, norms, out=vectors, where=norms > 0)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        """A query's vector: MiniLM's (cached, see :meth:`Embedder.embed_one`)."""
        return self.teacher.embed_one(text)

    def clear_cache(self) -> None:
        self.teacher.clear_cache()
