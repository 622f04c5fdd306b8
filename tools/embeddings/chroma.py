"""Chroma's ``EmbeddingFunction`` over a ShopAgent embedder (registered by name)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

if TYPE_CHECKING:
    from shopagent.tools.embeddings.base import Embedder

EMBEDDING_FUNCTION_NAME = "shopagent-minilm"
"""Name under which :class:`ChromaEmbeddingFunction` is registered with Chroma."""


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
            from shopagent.tools.embeddings import get_embedder

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
