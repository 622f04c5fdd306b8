"""Fixtures and helpers shared by the catalog tests (a real embedded Chroma, the real MiniLM)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import chromadb
from catalog_products import sample_products
from chromadb.config import Settings as ChromaSettings
from shopagent.tools.catalog import ChromaCatalog, IndexStats
from shopagent.tools.embeddings import Embedder, get_embedder
from shopagent.tools.store.schema import Product


def _client(path: Path) -> chromadb.ClientAPI:
    return chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder()


@pytest.fixture(scope="module")
def products() -> list[Product]:
    return sample_products()


@pytest.fixture(scope="module")
def indexed(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, products: list[Product]
) -> tuple[ChromaCatalog, IndexStats, list[tuple[int, int]]]:
    path = tmp_path_factory.mktemp("chroma")
    catalog = ChromaCatalog(_client(path), "products", embedder)
    calls: list[tuple[int, int]] = []
    stats = catalog.index(products, batch_size=16, progress=lambda d, t: calls.append((d, t)))
    return catalog, stats, calls


@pytest.fixture(scope="module")
def catalog(indexed: tuple[ChromaCatalog, IndexStats, list[tuple[int, int]]]) -> ChromaCatalog:
    return indexed[0]


def _ids(hits) -> list[str]:
    return [h.product_id for h in hits]


class _Renamed:
    """The same vectors under another identity (as if the backend had changed)."""

    def __init__(self, inner: Embedder, identity: str) -> None:
        self.inner, self.identity = inner, identity
        self.calls = 0

    def embed(self, texts, batch_size: int = 32):
        self.calls += len(texts)
        return self.inner.embed(texts, batch_size=batch_size)

    def embed_one(self, text: str):
        return self.inner.embed_one(text)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
