"""Sentence embeddings with the bundled all-MiniLM-L6-v2 model (offline, CPU).

One :class:`Embedder` per process (:func:`get_embedder`): the model is loaded lazily on first
use and shared by catalog search, indexing and the intent router. Vectors are L2-normalised
float32, so a dot product is the cosine similarity.

:func:`make_embedder` also offers ONNX Runtime backends of the same model (``"onnx"``: fp32,
``"onnx-int8"``: dynamic int8 quantization with per-channel weights). Their model files are
exported *locally* from the bundled weights on first use and cached (by default in the
machine's cache, :func:`default_cache_dir`, shared by every ShopAgent home); nothing is
downloaded. Exporting needs the ``onnx`` package
(``pip install onnx``); ``onnxruntime`` already comes with chromadb. Each embedder has an
``identity`` (model, backend, sequence length) that the catalog stores with the index, so
switching backends re-embeds everything instead of mixing vectors.

``"static"`` (:class:`StaticEmbedder`) is a static model distilled locally from the same
weights with model2vec: a text's vector is the mean of its tokens' vectors, ~100x faster to
embed than MiniLM (see BENCHMARKS.md, "Search at scale: static embeddings").
``"aligned"`` (:class:`AlignedEmbedder`, the catalog's default) embeds products with it, mapped
into MiniLM's space by a map learned from the store's products, and queries with MiniLM.

:class:`ChromaEmbeddingFunction` adapts the embedder to Chroma's ``EmbeddingFunction``
protocol. It is registered with Chroma under :data:`EMBEDDING_FUNCTION_NAME` so a collection
created with it can be reopened in any process that imports this module, and Chroma never
falls back to its default function (which downloads an ONNX model and fails offline).
"""

from __future__ import annotations

import threading
from pathlib import Path

from shopagent.tools.embeddings.aligned import AlignedEmbedder
from shopagent.tools.embeddings.base import Embedder, default_cache_dir, default_model_path
from shopagent.tools.embeddings.chroma import EMBEDDING_FUNCTION_NAME, ChromaEmbeddingFunction
from shopagent.tools.embeddings.multilingual import MULTILINGUAL_BACKEND, MultilingualEmbedder
from shopagent.tools.embeddings.onnx import OnnxEmbedder
from shopagent.tools.embeddings.static import StaticEmbedder

__all__ = [
    "BACKENDS",
    "EMBEDDING_FUNCTION_NAME",
    "MULTILINGUAL_BACKEND",
    "AlignedEmbedder",
    "ChromaEmbeddingFunction",
    "Embedder",
    "MultilingualEmbedder",
    "OnnxEmbedder",
    "StaticEmbedder",
    "default_cache_dir",
    "default_model_path",
    "get_embedder",
    "make_embedder",
    "shared_embedder",
]


BACKENDS = ("torch", "onnx", "onnx-int8", "static", "aligned", MULTILINGUAL_BACKEND)


def make_embedder(
    backend: str = "torch",
    *,
    max_seq_length: int | None = None,
    cache_dir: str | Path | None = None,
) -> Embedder:
    """An embedder over the bundled model: ``backend`` ``"torch"`` (sentence-transformers,
    the default), ``"onnx"`` or ``"onnx-int8"`` (ONNX Runtime; model files exported into
    ``cache_dir``, default :func:`default_cache_dir`, on first use) or ``"static"`` (static
    token vectors distilled from it into ``cache_dir`` on first use, see
    :mod:`shopagent.tools.embeddings.static`) or ``"aligned"`` (static product vectors mapped
    into MiniLM's space, MiniLM queries: :mod:`shopagent.tools.embeddings.aligned`)."""
    if backend == "torch":
        return Embedder(max_seq_length=max_seq_length)
    if backend in ("onnx", "onnx-int8"):
        return OnnxEmbedder(
            cache_dir=cache_dir, quantize=backend == "onnx-int8", max_seq_length=max_seq_length
        )
    if backend == "static":
        return StaticEmbedder(cache_dir=cache_dir, max_seq_length=max_seq_length)
    if backend == "aligned":
        return AlignedEmbedder(
            StaticEmbedder(cache_dir=cache_dir, max_seq_length=max_seq_length),
            OnnxEmbedder(cache_dir=cache_dir, quantize=True, max_seq_length=max_seq_length),
        )
    if backend == MULTILINGUAL_BACKEND:  # tools/embeddings/multilingual.py (issue 16)
        return MultilingualEmbedder(max_seq_length=max_seq_length)
    raise ValueError(f"unknown embedding backend {backend!r} (one of {', '.join(BACKENDS)})")


_EMBEDDER: Embedder | None = None
_EMBEDDER_LOCK = threading.Lock()


def get_embedder() -> Embedder:
    """The process-wide embedder over the bundled MiniLM (the model loads on first use)."""
    global _EMBEDDER
    if _EMBEDDER is None:
        with _EMBEDDER_LOCK:
            if _EMBEDDER is None:
                _EMBEDDER = Embedder()
    return _EMBEDDER


_SHARED: dict[tuple[str, int | None, str | None], Embedder] = {}


def shared_embedder(
    backend: str = "torch",
    *,
    max_seq_length: int | None = None,
    cache_dir: str | Path | None = None,
) -> Embedder:
    """One embedder per configuration and process (:func:`make_embedder`'s arguments), so
    every catalog opened with the same settings shares one loaded model; ``"torch"`` without
    a cap is :func:`get_embedder` itself."""
    if backend == "torch" and not max_seq_length:
        return get_embedder()
    key = (backend, max_seq_length or None, str(cache_dir) if cache_dir is not None else None)
    with _EMBEDDER_LOCK:
        embedder = _SHARED.get(key)
        if embedder is None:
            embedder = make_embedder(backend, max_seq_length=max_seq_length, cache_dir=cache_dir)
            _SHARED[key] = embedder
    return embedder
