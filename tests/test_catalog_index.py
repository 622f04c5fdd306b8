"""Indexing: first run, incremental runs, other processes, embedder identity, errors."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import catalog_common
from catalog_common import _client, _free_port, _ids, _Renamed
from shopagent.tools.catalog import (
    ChromaCatalog,
    embedding_text,
    open_catalog,
)
from shopagent.tools.embeddings import Embedder
from shopagent.tools.protocols import Catalog
from shopagent.tools.results import SearchFilters
from shopagent.tools.store.schema import (
    Product,
)

from shopagent.errors import CatalogUnavailable, IndexMissing
from shopagent.settings import Settings

pytestmark = pytest.mark.real_model

# Shared module-scoped fixtures (one index for the whole file).
embedder = catalog_common.embedder
products = catalog_common.products
indexed = catalog_common.indexed
catalog = catalog_common.catalog


# --------------------------------------------------------------------------- indexing


def test_first_index_adds_everything_and_reports_progress(indexed, products) -> None:
    catalog, stats, calls = indexed
    n = len(products)
    assert (stats.added, stats.updated, stats.unchanged, stats.deleted) == (n, 0, 0, 0)
    assert stats.embedded == n and stats.total == n and stats.seconds > 0
    assert calls[0] == (0, n) and calls[-1] == (n, n)
    assert len(calls) == 1 + -(-n // 16)  # start + one call per batch of 16
    assert catalog.count() == n
    assert isinstance(catalog, Catalog)


def test_get_returns_the_full_product(catalog: ChromaCatalog, products) -> None:
    assert catalog.get("a-ax220-headphones") == products[7]
    assert catalog.get("no-such-product") is None


# --------------------------------------------------------------------------- incremental


def test_incremental_indexing(tmp_path: Path, embedder: Embedder, products) -> None:
    subset = [p for p in products if p.category in {"Kitchen", "Outdoor"}]
    catalog = ChromaCatalog(_client(tmp_path), "products", embedder)
    first = catalog.index(subset)
    assert (first.added, first.embedded) == (len(subset), len(subset))

    again = catalog.index(subset)
    assert (again.added, again.updated, again.deleted) == (0, 0, 0)
    assert again.unchanged == len(subset) and again.embedded == 0

    # A new description: exactly that product is re-embedded, and the new text is searchable.
    kettle = next(p for p in subset if p.id == "k-electric-kettle")
    changed = kettle.model_copy(
        update={"description": kettle.description + " Doubles as a samovar for chai."}
    )
    edited = [changed if p.id == kettle.id else p for p in subset]
    stats = catalog.index(edited)
    assert (stats.updated, stats.embedded, stats.unchanged) == (1, 1, len(subset) - 1)
    assert catalog.search("samovar", k=1)[0].product_id == "k-electric-kettle"
    assert catalog.get("k-electric-kettle") == changed

    # A price-only change rewrites metadata but reuses the stored vector.
    mugs = next(p for p in edited if p.id == "k-mugs")
    cheaper = mugs.model_copy(
        update={
            "variants": [
                mugs.variants[0].model_copy(update={"price": Decimal("19.00")}),
                mugs.variants[1],
            ]
        }
    )
    edited = [cheaper if p.id == mugs.id else p for p in edited]
    stats = catalog.index(edited)
    assert (stats.updated, stats.embedded) == (1, 0)
    hit = catalog.search("mugs", filters=SearchFilters(max_price=Decimal(20)), k=1)[0]
    assert (hit.product_id, hit.sku, hit.price) == ("k-mugs", "CL-MUG-SG", Decimal("19.00"))

    # Removing an attribute re-embeds and clears its metadata key (Chroma upserts merge).
    kettle = next(p for p in edited if p.id == "k-gooseneck-kettle")
    plain = kettle.model_copy(update={"attributes": {}})
    edited = [plain if p.id == kettle.id else p for p in edited]
    stats = catalog.index(edited)
    assert (stats.updated, stats.embedded) == (1, 1)
    meta = catalog._collection().get(ids=[kettle.id], include=["metadatas"])["metadatas"][0]
    assert "attr_material" not in meta and meta["attr_color"] == [
        "silver",
        "matte black",
        "matte",
        "black",
    ]
    # With no recorded material, a material filter falls back to the text ("Stainless steel").
    steel = SearchFilters(attributes={"material": "steel"})
    assert kettle.id in _ids(catalog.search("kettle", filters=steel))
    walnut = SearchFilters(attributes={"material": "walnut"})
    assert kettle.id not in _ids(catalog.search("kettle", filters=walnut))

    # A removed product is deleted and can no longer be found.
    remaining = [p for p in edited if p.id != "o-headlamp"]
    stats = catalog.index(remaining)
    assert (stats.deleted, stats.embedded, stats.unchanged) == (1, 0, len(remaining))
    assert catalog.get("o-headlamp") is None
    assert "o-headlamp" not in _ids(catalog.search("rechargeable headlamp", k=10))
    assert catalog.count() == len(remaining)


def test_second_process_sees_index_changes(tmp_path: Path, embedder: Embedder, products) -> None:
    """The lazily built BM25 follows the collection's revision, also across instances."""
    writer = ChromaCatalog(_client(tmp_path), "products", embedder)
    reader = ChromaCatalog(_client(tmp_path), "products", embedder)
    writer.index(products[:5])
    assert "a-speaker" not in _ids(reader.search("speaker", k=5))
    writer.index(products[:5] + [p for p in products if p.id == "a-speaker"])
    assert reader.search("waterproof speaker", k=1)[0].product_id == "a-speaker"


# --------------------------------------------------------------------------- errors


def test_index_missing_on_empty_dir(tmp_path: Path, embedder: Embedder) -> None:
    catalog = open_catalog(Settings(chroma_path=tmp_path / "chroma"), embedder)
    with pytest.raises(IndexMissing) as err:
        catalog.search("kettle")
    assert "shopagent index" in str(err.value)
    with pytest.raises(IndexMissing):
        catalog.get("k-mugs")
    assert catalog.count() == 0


def test_index_missing_on_empty_collection(tmp_path: Path, embedder: Embedder, products) -> None:
    catalog = ChromaCatalog(_client(tmp_path), "products", embedder)
    catalog.index(products[:2])
    catalog.index([])  # deletes everything
    with pytest.raises(IndexMissing):
        catalog.search("kettle")


def test_catalog_unavailable_when_server_is_down(embedder: Embedder) -> None:
    settings = Settings(chroma_url=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(CatalogUnavailable) as err:
        open_catalog(settings, embedder)
    assert "SHOPAGENT_CHROMA_URL" in str(err.value)


# --------------------------------------------------------------------------- embedder identity


def test_another_embedder_re_embeds_everything(
    tmp_path: Path, embedder: Embedder, products
) -> None:
    subset = products[:4]
    first = _Renamed(embedder, "minilm:torch:default")
    ChromaCatalog(_client(tmp_path), "products", first).index(subset)  # type: ignore[arg-type]
    same = ChromaCatalog(_client(tmp_path), "products", first)  # type: ignore[arg-type]
    assert same.index(subset).embedded == 0
    before = _client(tmp_path).get_collection("products").metadata["revision"]
    other = _Renamed(embedder, "minilm:onnx-int8:default")
    stats = ChromaCatalog(_client(tmp_path), "products", other).index(subset)  # type: ignore[arg-type]
    assert (stats.embedded, stats.updated, other.calls) == (4, 4, 4)
    meta = _client(tmp_path).get_collection("products").metadata
    assert meta["embedder"] == "minilm:onnx-int8:default"
    assert embedder.identity.endswith(":torch:default")
    # the search files (which hold the vectors) are a new revision, not the old one's kept
    assert meta["revision"] != before


# --------------------------------------------------------------------------- dense text


def test_embedding_text_puts_what_identifies_a_product_before_its_prose(products) -> None:
    kettle = next(p for p in products if p.id == "k-gooseneck-kettle")
    text = embedding_text(kettle)
    lines = text.split("\n")
    assert lines[0] == kettle.name and lines[1] == "Brewline · Kitchen"
    assert lines[-1] == kettle.description
    # Attributes (product and variant) and tags come before the description...
    for part in ("material: Stainless Steel", "color: Matte Black", "coffee, tea"):
        assert text.index(part) < text.index(kettle.description)
    # ...while the BM25 text keeps them after it: same content, other order.
    assert sorted(text.split("\n")) == sorted(kettle.search_text().split("\n"))
    assert kettle.search_text().index(kettle.description) < kettle.search_text().index("coffee")


def test_index_with_an_older_dense_text_is_re_embedded(
    tmp_path: Path, embedder: Embedder, products, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shopagent.tools.catalog import config as catalog_config
    from shopagent.tools.catalog import records as catalog_records

    subset = products[:5]
    counting = _Renamed(embedder, embedder.identity)
    # An index written when the dense side embedded Product.search_text() (METADATA_VERSION 2).
    monkeypatch.setattr(catalog_records, "embedding_text", Product.search_text)
    monkeypatch.setattr(catalog_config, "METADATA_VERSION", 2)
    old = ChromaCatalog(_client(tmp_path), "products", counting)  # type: ignore[arg-type]
    assert old.index(subset).embedded == 5
    monkeypatch.undo()

    catalog = ChromaCatalog(_client(tmp_path), "products", counting)  # type: ignore[arg-type]
    stats = catalog.index(subset)
    # Every product is rewritten; those whose two texts differ (attributes or tags to move
    # before the description) are re-embedded, the others keep their identical vector.
    moved = sum(embedding_text(p) != p.search_text() for p in subset)
    assert 0 < moved < 5
    assert (stats.updated, stats.embedded, counting.calls) == (5, moved, 5 + moved)
    got = catalog._collection().get(ids=[subset[0].id], include=["metadatas", "embeddings"])
    assert got["metadatas"][0]["text_hash"] == catalog_records._text_hash(embedding_text(subset[0]))
    np.testing.assert_allclose(
        got["embeddings"][0], embedder.embed([embedding_text(subset[0])])[0], atol=1e-5
    )
    assert catalog.index(subset).embedded == 0  # and then it is up to date
