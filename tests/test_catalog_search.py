"""Hybrid search relevance, reasons, fusion and single retrievers (real Chroma + MiniLM)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import catalog_common
from catalog_common import _client, _ids, _Renamed
from shopagent.tools.catalog import (
    ChromaCatalog,
)
from shopagent.tools.embeddings import Embedder
from shopagent.tools.results import SearchFilters

pytestmark = pytest.mark.real_model

# Shared module-scoped fixtures (one index for the whole file).
embedder = catalog_common.embedder
products = catalog_common.products
indexed = catalog_common.indexed
catalog = catalog_common.catalog


# --------------------------------------------------------------------------- relevance


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("gooseneck kettle for pour over coffee", "k-gooseneck-kettle"),
        ("noise cancelling headphones for flights", "a-ax220-headphones"),
        ("shoes for running on mountain trails", "f-trail-runner"),
        ("warm sleeping bag for winter camping", "o-sleeping-bag"),
        ("sit stand desk for my home office", "ho-standing-desk"),
        ("pan for searing steak", "k-skillet"),
        ("something to keep my drinks cold on a hike", "o-water-bottle"),
        # typo: dense still gets close, BM25 recovers the word via fuzzy expansion
        ("gooseneck kettel", "k-gooseneck-kettle"),
        ("wireless hedphones with noise cancelation", "a-ax220-headphones"),
        ("insulatd botle", "o-water-bottle"),
        # synonym: no shared word, only the dense side can find it
        ("comfy couch for the living room", "fu-harbor-sofa"),
        ("flashlight you wear on your forehead", "o-headlamp"),
        # exact model number: the lexical side pins it
        ("AX-220", "a-ax220-headphones"),
        ("ax220", "a-ax220-headphones"),
    ],
)
def test_relevant_product_ranks_first(catalog: ChromaCatalog, query: str, expected: str) -> None:
    hits = catalog.search(query, k=5)
    assert hits, query
    assert hits[0].product_id == expected, (query, _ids(hits))


def test_hybrid_fixes_what_one_side_misses(catalog: ChromaCatalog, embedder: Embedder) -> None:
    col, snap = catalog._current()

    def dense_only(query: str) -> list[str]:
        vector = embedder.embed_one(query)
        return col.query(query_embeddings=[vector], n_results=5)["ids"][0]

    # Typo: MiniLM alone puts an armchair first; BM25 with fuzzy terms pins the bottle.
    assert dense_only("insulatd botle")[0] != "o-water-bottle"
    assert catalog._query_terms(snap, "insulatd botle") == ["insulated", "bottle"]
    assert catalog.search("insulatd botle", k=1)[0].product_id == "o-water-bottle"
    # Synonym: no query word is in the index, so only the dense side can answer.
    terms = catalog._query_terms(snap, "comfy couch")
    assert not any(t in snap.files.vocab for t in terms)
    assert catalog.search("comfy couch", k=1)[0].product_id == "fu-harbor-sofa"


def test_hits_carry_default_sku_price_and_reason(catalog: ChromaCatalog) -> None:
    hit = catalog.search("gooseneck kettle", k=1)[0]
    assert hit.sku == "BL-GK-SLV"  # the cheapest SKU
    assert hit.skus == ["BL-GK-SLV", "BL-GK-BLK"]
    assert hit.price == Decimal("39.00") and hit.currency == "USD"
    assert (hit.brand, hit.category) == ("Brewline", "Kitchen")
    assert hit.score > 0
    assert hit.reason.startswith("matched: ") and "kettle" in hit.reason
    assert "gooseneck" in hit.reason


def test_synonym_hit_reason_says_similar(catalog: ChromaCatalog) -> None:
    hit = catalog.search("couch", k=1)[0]
    assert hit.product_id == "fu-harbor-sofa"
    assert hit.reason == "similar meaning"


def test_unrelated_filler_is_reported_as_a_weak_match(catalog: ChromaCatalog) -> None:
    f = SearchFilters(attributes={"color": "black"}, max_price=Decimal(50))
    hits = catalog.search("kettle", filters=f, k=5)
    assert _ids(hits) == ["k-gooseneck-kettle", "o-water-bottle", "ho-desk-lamp"]
    assert hits[0].reason == "matched: kettle; color: black; under $50"
    assert all(h.reason.startswith("weak match;") for h in hits[1:])


def test_typo_is_mapped_to_an_indexed_word(catalog: ChromaCatalog) -> None:
    _, snap = catalog._current()
    assert catalog._query_terms(snap, "gooseneck kettel") == ["gooseneck", "kettle"]


def test_k_limits_results(catalog: ChromaCatalog, products) -> None:
    assert len(catalog.search("kitchen", k=3)) == 3
    assert len(catalog.search("black", k=100)) <= len(products)


def test_single_retrievers_for_evaluation(catalog: ChromaCatalog) -> None:
    assert catalog.search("comfy couch", method="bm25") == []  # no shared word
    dense = catalog.search("comfy couch", method="dense", k=1)
    assert dense[0].product_id == "fu-harbor-sofa"
    lexical = catalog.search("insulatd botle", method="bm25", k=1)
    assert lexical[0].product_id == "o-water-bottle" and lexical[0].reason.startswith("matched")
    with pytest.raises(ValueError):
        catalog.search("kettle", method="sparse")  # type: ignore[arg-type]


def test_fusion_weights_follow_each_sides_confidence(catalog: ChromaCatalog) -> None:
    _, snap = catalog._current()
    kettle = snap.files.position["k-gooseneck-kettle"]
    knife = snap.files.position["k-chef-knife"]
    terms = ["gooseneck", "kettle"]
    sure = {kettle: 0.8, knife: 0.5}
    assert catalog._weights(snap, terms, [kettle], sure, [kettle]) == (1.0, 1.0)
    # No lexical candidate has every word: BM25 counts less.
    partial = catalog._weights(snap, [*terms, "zebra"], [kettle], sure, [kettle])
    assert partial == (1.0, catalog.partial_lexical_weight) and partial[1] < 1
    # The best dense candidate is not similar: dense counts less.
    weak = catalog._weights(snap, terms, [knife], {knife: 0.2}, [kettle])
    assert weak == (catalog.weak_dense_weight, 1.0) and weak[0] < 1
    fused = catalog._fuse(([knife], {knife: 0.2}), ([kettle], {kettle: 3.0}), weak)
    assert fused[kettle] > fused[knife]
    minmax = ChromaCatalog(
        catalog.client, catalog.collection_name, catalog.embedder, fusion="minmax"
    )
    assert minmax.search("gooseneck kettle", k=1)[0].product_id == "k-gooseneck-kettle"


def test_compound_words_are_split_into_indexed_words(catalog: ChromaCatalog) -> None:
    _, snap = catalog._current()
    assert catalog._query_terms(snap, "waterbottle") == ["water", "bottle"]
    assert catalog.search("waterbottle", k=1)[0].product_id == "o-water-bottle"


def test_no_chroma_documents_yet_bm25_finds_description_words(catalog: ChromaCatalog) -> None:
    got = catalog._collection().get(ids=["k-gooseneck-kettle"], include=["documents"])
    assert got["documents"] == [None]
    # "thermometer" is only in the kettle's description: the lexical side still has it.
    hits = catalog.search("thermometer", k=3, method="bm25")
    assert _ids(hits)[:1] == ["k-gooseneck-kettle"]


def test_searching_with_another_embedder_warns(
    tmp_path: Path, embedder: Embedder, products, caplog: pytest.LogCaptureFixture
) -> None:
    ChromaCatalog(_client(tmp_path), "products", embedder).index(products[:3])
    other = _Renamed(embedder, "all-MiniLM-L6-v2:onnx-int8:128")
    with caplog.at_level("WARNING", logger="shopagent.tools.catalog"):
        ChromaCatalog(_client(tmp_path), "products", embedder).search("kettle")
        assert not caplog.records
        ChromaCatalog(_client(tmp_path), "products", other).search("kettle")  # type: ignore[arg-type]
    assert "shopagent index" in caplog.text and "onnx-int8:128" in caplog.text


def test_candidates_with_every_query_word_get_the_full_match_bonus(
    catalog: ChromaCatalog,
) -> None:
    plain = ChromaCatalog(catalog.client, "products", catalog.embedder, full_match_bonus=0.0)
    assert catalog.full_match_bonus == 1.0  # the default
    query = "stainless kettle"
    without = {h.product_id: h.score for h in plain.search(query, k=10)}
    with_bonus = {h.product_id: h.score for h in catalog.search(query, k=10)}
    step = 1.0 / (catalog.rrf_k + 1)
    # The gooseneck kettle says "stainless" and "kettle": one top rank more...
    assert with_bonus["k-gooseneck-kettle"] == pytest.approx(
        without["k-gooseneck-kettle"] + step, abs=1e-5
    )
    # ...the electric kettle has only "kettle": unchanged.
    assert with_bonus["k-electric-kettle"] == pytest.approx(without["k-electric-kettle"], abs=1e-6)
    # One-word queries and single retrievers are left alone.
    one = {h.product_id: h.score for h in catalog.search("kettle", k=5)}
    assert one == {h.product_id: h.score for h in plain.search("kettle", k=5)}
    bm25 = catalog.search(query, k=5, method="bm25")
    assert [h.score for h in bm25] == [h.score for h in plain.search(query, k=5, method="bm25")]
