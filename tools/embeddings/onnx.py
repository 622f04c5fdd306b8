"""The bundled MiniLM run by ONNX Runtime (exported locally, optionally int8-quantized)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from shopagent.tools.embeddings.base import Embedder, _quiet_offline, default_cache_dir


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
                from tokenizers import Tokenizer

                path = self._ensure_files()
                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads or (os.cpu_count() or 1)
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                # No busy-waiting between operators: on a shared CPU spinning threads fight
                # the other processes (int8, 2 threads, load 3 on 2 cores: 41 -> 71 texts/s).
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                # No CPU memory arena: it keeps the largest batch's activations for good
                # (+300 MB after 600 product texts at 128 tokens; no measurable speed cost).
                options.enable_cpu_mem_arena = False
                # The model's own fast tokenizer, without transformers (which imports torch:
                # +200 MB in every process that embeds a query).
                tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
                tokenizer.enable_truncation(max_length=self.max_seq_length or 256)
                pad = tokenizer.token_to_id("[PAD]") or 0
                tokenizer.enable_padding(pad_id=pad, pad_token="[PAD]")  # to the longest
                self._tokenizer = tokenizer
                self._session = ort.InferenceSession(
                    str(path), options, providers=["CPUExecutionProvider"]
                )
        return self._session

    @property
    def dimension(self) -> int:
        return int(self.embed(["dimension probe"]).shape[1])

    def release(self) -> None:
        """Drop the loaded session (its memory goes back); the next embedding reloads it."""
        with self._load_lock:
            self._session = None
            self._tokenizer = None

    def _encode(self, batch: list[str]) -> dict[str, np.ndarray]:
        """Token ids, attention mask and type ids of ``batch``, padded to its longest text
        and cut at the token cap (as the transformers tokenizer would)."""
        encoded = self._tokenizer.encode_batch(batch)
        return {
            "input_ids": np.asarray([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.asarray([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.asarray([e.type_ids for e in encoded], dtype=np.int64),
        }

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 embeddings; texts are batched by length (less padding)."""
        texts = list(texts)
        session = self._load_session()
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        rows: list[np.ndarray] = []
        for start in range(0, len(order), max(1, batch_size)):
            batch = [texts[i] for i in order[start : start + batch_size]]
            feed = self._encode(batch)
            rows.append(session.run(None, feed)[0])
        stacked = np.concatenate(rows)
        out = np.empty_like(stacked)
        out[np.asarray(order)] = stacked
        return np.ascontiguousarray(out, dtype=np.float32)
