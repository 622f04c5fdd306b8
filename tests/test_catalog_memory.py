"""The in-memory catalog, server mode and opening a catalog from settings values."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import catalog_common
import httpx
from catalog_common import _free_port, _ids
from shopagent.tools.catalog import (
    ChromaCatalog,
    InMemoryCatalog,
    open_catalog,
)
from shopagent.tools.embeddings import Embedder, get_embedder
from shopagent.tools.protocols import Catalog
from shopagent.tools.results import SearchFilters

from shopagent.errors import CatalogUnavailable
from shopagent.settings import Settings

pytestmark = pytest.mark.real_model

# Shared module-scoped fixtures (one index for the whole file).
embedder = catalog_common.embedder
products = catalog_common.products
indexed = catalog_common.indexed
catalog = catalog_common.catalog


# --------------------------------------------------------------------------- server mode


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if chroma is None:
        pytest.skip("the chroma CLI is not installed")
    port = _free_port()
    data = str(tmp_path / "server")
    proc = subprocess.Popen(
        [chroma, "run", "--path", data, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("chroma server did not start")
            time.sleep(0.2)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_server_mode_indexes_and_searches(chroma_server, embedder: Embedder, products) -> None:
    url, proc = chroma_server
    catalog = open_catalog(Settings(chroma_url=url, collection="shop-products"), embedder)
    stats = catalog.index(products)
    assert stats.added == len(products)
    assert catalog.index(products).embedded == 0
    hits = catalog.search("noise cancelling headphones", k=3)
    assert hits[0].product_id == "a-ax220-headphones"
    black = catalog.search(
        "kettle", filters=SearchFilters(attributes={"color": "black"}, max_price=Decimal(50))
    )
    assert black[0].product_id == "k-gooseneck-kettle" and black[0].sku == "BL-GK-BLK"
    assert all(h.price <= 50 for h in black)
    assert catalog.get("o-tent") == next(p for p in products if p.id == "o-tent")

    proc.terminate()
    proc.wait(timeout=10)
    with pytest.raises(CatalogUnavailable):
        catalog.search("kettle")


# --------------------------------------------------------------------------- in-memory


def test_in_memory_catalog_semantics(products) -> None:
    mem = InMemoryCatalog(products)
    assert isinstance(mem, Catalog) and len(mem) == len(products)
    hits = mem.search("gooseneck kettle", k=3)
    assert hits[0].product_id == "k-gooseneck-kettle"
    assert hits[0].score == 4.0  # two name tokens
    assert _ids(hits)[1] == "k-electric-kettle"
    assert hits[0].reason == "matched: gooseneck, kettle"
    assert mem.search("zeppelin") == []
    assert mem.get("k-mugs") == products[6] and mem.get("nope") is None
    # deterministic
    assert mem.search("black wireless", k=10) == mem.search("black wireless", k=10)


def test_in_memory_catalog_filters_match_chroma(catalog: ChromaCatalog, products) -> None:
    mem = InMemoryCatalog(products)
    cases = [
        SearchFilters(max_price=Decimal(50)),
        SearchFilters(category="kitchen", attributes={"color": "black"}),
        SearchFilters(brand="auralis"),
        SearchFilters(min_price=Decimal(100), max_price=Decimal(200), category="Audio"),
    ]
    for f in cases:
        mem_hits = {(h.product_id, h.sku) for h in mem.search("", filters=f, k=100)}
        chroma_hits = {(h.product_id, h.sku) for h in catalog.search("", filters=f, k=100)}
        assert mem_hits == chroma_hits, f
        assert mem_hits


def test_in_memory_stock_hook_and_empty_query(products) -> None:
    mem = InMemoryCatalog(products, stock_filter=lambda skus: {"SO-SPK-BLU"})
    hits = mem.search("speaker", filters=SearchFilters(in_stock_only=True))
    assert [(h.product_id, h.sku) for h in hits] == [("a-speaker", "SO-SPK-BLU")]
    browse = InMemoryCatalog(products).search("", filters=SearchFilters(category="bath"))
    assert _ids(browse) == ["b-diffuser", "b-towels"]


def test_open_catalog_embeds_with_the_settings_embedder(tmp_path: Path) -> None:
    from shopagent.tools.embeddings import OnnxEmbedder

    settings = Settings(
        chroma_path=tmp_path / "chroma",
        embedder="onnx-int8",
        embedder_max_seq_length=64,
        model_cache_dir=tmp_path / "models",
    )
    first = open_catalog(settings)
    assert isinstance(first.embedder, OnnxEmbedder)
    assert first.embedder.identity.endswith(":onnx-int8:64")
    assert first.embedder.cache_dir == tmp_path / "models" / "minilm-onnx"
    assert open_catalog(settings).embedder is first.embedder  # one model per process
    torch_settings = Settings(
        chroma_path=tmp_path / "chroma", embedder="torch", embedder_max_seq_length=None
    )
    assert open_catalog(torch_settings).embedder is get_embedder()
    assert Settings().embedder == "aligned" and Settings().embedder_max_seq_length == 128


def test_open_catalog_takes_plain_values(tmp_path: Path) -> None:
    from shopagent.tools.catalog import CatalogConfig
    from shopagent.tools.embeddings import AlignedEmbedder, default_cache_dir

    config = CatalogConfig(chroma_dir=tmp_path / "chroma", collection="shop", max_seq_length=128)
    catalog = open_catalog(config)
    assert isinstance(catalog.embedder, AlignedEmbedder)  # the default embedder
    assert catalog.embedder.identity.endswith(":aligned256:128")
    assert catalog.embedder.student.cache_dir == default_cache_dir() / "minilm-static-256"
    assert catalog.embedder.teacher.cache_dir == default_cache_dir() / "minilm-onnx"
    assert catalog.collection_name == "shop" and (tmp_path / "chroma").is_dir()
    assert catalog.files_dir == tmp_path / "chroma" / "shopagent-search" / "shop"
    # The settings object is read by field name (the catalog does not import it).
    from_settings = CatalogConfig.of(Settings(chroma_path=tmp_path / "c2", collection="x"))
    assert from_settings == CatalogConfig(
        chroma_dir=tmp_path / "c2", collection="x", embedder="aligned", max_seq_length=128
    )
