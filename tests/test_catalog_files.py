"""Search files and bounded memory: what a catalog keeps on disk, maps, and loads per search.

Real components throughout: an embedded Chroma, bm25s, and the static embedder distilled from
the bundled MiniLM (the machine-wide cache; the first run on a machine distills it).
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from catalog_common import _client, _ids
from catalog_products import sample_products
from shopagent.tools.catalog import ChromaCatalog, InMemoryCatalog
from shopagent.tools.embeddings import StaticEmbedder, make_embedder
from shopagent.tools.results import SearchFilters

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def static() -> StaticEmbedder:
    embedder = make_embedder("static")
    assert isinstance(embedder, StaticEmbedder)
    return embedder


def _revisions(catalog: ChromaCatalog) -> list[Path]:
    return [p for p in catalog.files_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]


def test_index_writes_the_revisions_search_files_beside_chroma(
    tmp_path: Path, static: StaticEmbedder
) -> None:
    catalog = ChromaCatalog(_client(tmp_path), "products", static)
    catalog.index(sample_products())
    revision = catalog._collection().metadata["revision"]
    assert catalog.files_dir == tmp_path / "shopagent-search" / "products"
    [folder] = _revisions(catalog)
    assert folder.name == revision[:40]
    for name in ("ids.json", "meta.json", "bm25", "vectors.npy", "products.bin", "columns.npz"):
        assert (folder / name).exists(), name
    assert not [p for p in catalog.files_dir.iterdir() if p.name.startswith(".build-")]


def test_a_fresh_process_maps_the_files_and_loads_only_what_it_shows(
    tmp_path: Path, static: StaticEmbedder
) -> None:
    from datetime import date

    from shopagent.tools.store.generate import generate_store

    products = generate_store(
        seed=7, n_products=400, n_customers=1, n_orders=1, today=date(2025, 6, 1)
    ).products
    ChromaCatalog(_client(tmp_path), "products", static).index(products)
    reader = ChromaCatalog(_client(tmp_path), "products", static, cache_size=1000)
    target = products[17]
    hits = reader.search(target.name, k=2)
    assert target.id in _ids(hits)
    _, snap = reader._current()
    # Vectors, BM25 matrix and product JSON are memory-mapped, not copied in.
    assert isinstance(snap.files.vectors, np.memmap)
    assert isinstance(snap.files.bm25.scores["data"], np.memmap)
    assert isinstance(snap.files.products_blob, np.memmap)
    assert snap.files.vectors.shape == (len(products), 256)
    # Without exact filters only the two hits were parsed, not the catalog.
    assert len(snap.products) == 2
    # Exclusions read only the candidates that mention an excluded word at all.
    excluded = reader.search(target.name, k=5, exclude_terms=["leather"])
    assert excluded and len(snap.products) < len(products) // 4
    # Attribute filters read their candidates: still a small part of the catalog.
    reader.search(target.name, k=2, filters=SearchFilters(attributes={"color": "black"}))
    assert len(snap.products) <= 250


def test_the_product_cache_is_bounded(tmp_path: Path, static: StaticEmbedder) -> None:
    ChromaCatalog(_client(tmp_path), "products", static).index(sample_products())
    reader = ChromaCatalog(_client(tmp_path), "products", static, cache_size=3)
    for query in ("kettle", "headphones", "tent", "towels", "speaker", "blender"):
        assert reader.search(query, k=3)
        _, snap = reader._current()
        assert len(snap.products) <= 3
    assert reader.get("o-tent").id == "o-tent" and reader.get("missing") is None
    assert len(snap.products) <= 3


def test_reindex_carries_files_over_and_readers_follow(
    tmp_path: Path, static: StaticEmbedder
) -> None:
    products = sample_products()
    writer = ChromaCatalog(_client(tmp_path), "products", static)
    writer.index(products)
    reader = ChromaCatalog(_client(tmp_path), "products", static)
    assert reader.search("zeppelin", k=3, method="bm25") == []
    changed = [
        p.model_copy(update={"description": p.description + " Shaped like a zeppelin."})
        if p.id == "o-tent"
        else p
        for p in products
    ]
    stats = writer.index(changed)
    assert (stats.embedded, stats.updated, stats.unchanged) == (1, 1, len(products) - 1)
    # The other process sees the new revision on its next search.
    assert _ids(reader.search("zeppelin", k=3, method="bm25")) == ["o-tent"]
    assert reader.get("o-tent").description.endswith("zeppelin.")
    for _ in range(3):  # older revisions are pruned
        changed = [p.model_copy(update={"name": p.name + " II"}) for p in changed[:5]] + changed[5:]
        writer.index(changed)
    assert len(_revisions(writer)) <= 2
    # Carried-over vectors equal freshly embedded ones.
    _, snap = reader._current()
    row = snap.files.position["k-chef-knife"]
    stored = writer._collection().get(ids=["k-chef-knife"], include=["embeddings"])
    np.testing.assert_allclose(snap.files.vectors[row], stored["embeddings"][0], atol=1e-6)


def test_missing_files_are_rebuilt_from_chroma(tmp_path: Path, static: StaticEmbedder) -> None:
    ChromaCatalog(_client(tmp_path), "products", static).index(sample_products())
    before = ChromaCatalog(_client(tmp_path), "products", static)
    query = "wireless headphones with noise cancelling"
    expected = [(h.product_id, h.score) for h in before.search(query, k=5)]
    shutil.rmtree(tmp_path / "shopagent-search")
    after = ChromaCatalog(_client(tmp_path), "products", static)
    assert [(h.product_id, h.score) for h in after.search(query, k=5)] == expected
    assert len(_revisions(after)) == 1
    assert after.facets() == before.facets()


def test_browsing_walks_prices_like_the_in_memory_catalog(
    tmp_path: Path, static: StaticEmbedder
) -> None:
    products = sample_products()
    catalog = ChromaCatalog(_client(tmp_path), "products", static, cache_size=4)
    catalog.index(products)
    memory = InMemoryCatalog(products)
    for filters in (
        SearchFilters(),
        SearchFilters(min_price=Decimal("40")),
        SearchFilters(min_price=Decimal("30"), max_price=Decimal("90")),
        SearchFilters(category="kitchen", max_price=Decimal("60")),
        SearchFilters(attributes={"color": "black"}),
    ):
        for sort in ("price_asc", "price_desc"):
            got = catalog.search("", filters=filters, k=4, sort=sort)  # type: ignore[arg-type]
            want = memory.search("", filters=filters, k=4, sort=sort)  # type: ignore[arg-type]
            # Same prices in the same order; ties may be broken differently (id vs input
            # order), so the products are compared below the last price shown.
            assert [h.price for h in got] == [h.price for h in want], (filters, sort)
            last = got[-1].price
            assert {(h.product_id, h.sku) for h in got if h.price != last} == {
                (h.product_id, h.sku) for h in want if h.price != last
            }
