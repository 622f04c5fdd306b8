"""Filters, exclusions, sorting, attribute matching and live stock (real Chroma + MiniLM)."""

from __future__ import annotations

import os
from decimal import Decimal

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import catalog_common
from catalog_common import _ids
from catalog_products import _p
from shopagent.agent.understanding.search_request import RequestFilters
from shopagent.tools.catalog import (
    ChromaCatalog,
    InMemoryCatalog,
    db_stock_filter,
    select_variant,
    tokenize,
)
from shopagent.tools.embeddings import Embedder
from shopagent.tools.results import SearchFilters
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.schema import (
    ReturnPolicy,
    ReturnRule,
    StockLevel,
    StoreData,
    StoreInfo,
)

pytestmark = pytest.mark.real_model

# Shared module-scoped fixtures (one index for the whole file).
embedder = catalog_common.embedder
products = catalog_common.products
indexed = catalog_common.indexed
catalog = catalog_common.catalog


# --------------------------------------------------------------------------- filters


def test_price_range_filter(catalog: ChromaCatalog) -> None:
    hits = catalog.search("coffee", filters=SearchFilters(max_price=Decimal(50)), k=10)
    assert hits and all(h.price <= 50 for h in hits)
    ids = _ids(hits)
    assert "k-gooseneck-kettle" in ids and "k-mugs" in ids
    assert "k-burr-grinder" not in ids and "k-electric-kettle" not in ids
    assert "under $50" in hits[0].reason

    ranged = SearchFilters(min_price=Decimal(100), max_price=Decimal(200))
    hits = catalog.search("headphones speaker soundbar record player", filters=ranged, k=10)
    assert hits and all(100 <= h.price <= 200 for h in hits)
    assert {"a-ax220-headphones", "a-turntable", "a-soundbar"} <= set(_ids(hits))
    assert "a-speaker" not in _ids(hits)
    assert "$100–$200" in hits[0].reason


def test_price_filter_picks_the_variant_in_range(catalog: ChromaCatalog) -> None:
    hits = catalog.search("bookcase", filters=SearchFilters(min_price=Decimal(240)), k=3)
    assert hits[0].product_id == "fu-bookcase"
    assert (hits[0].sku, hits[0].price) == ("OH-BC-WAL", Decimal("249.00"))


def test_category_filter_is_case_insensitive(catalog: ChromaCatalog) -> None:
    hits = catalog.search("black", filters=SearchFilters(category="kitchen"), k=10)
    assert hits and all(h.category == "Kitchen" for h in hits)
    hits = catalog.search("chair", filters=SearchFilters(category="HOME OFFICE"), k=10)
    assert hits[0].product_id == "ho-mesh-chair"
    assert all(h.category == "Home Office" for h in hits)
    assert "wingback" not in " ".join(_ids(hits))
    assert catalog.search("chair", filters=SearchFilters(category="Garden"), k=10) == []


def test_brand_filter(catalog: ChromaCatalog) -> None:
    hits = catalog.search("wireless", filters=SearchFilters(brand="auralis"), k=10)
    assert set(_ids(hits)) == {"a-ax220-headphones", "a-pulse-buds"}
    hits = catalog.search("lamp", filters=SearchFilters(brand="LUMEN & CO."), k=10)
    assert hits[0].product_id == "ho-desk-lamp"
    assert all(h.brand == "Lumen & Co." for h in hits)


def test_attribute_colour_filter_selects_the_variant(catalog: ChromaCatalog) -> None:
    black = SearchFilters(attributes={"color": "black"})
    hits = catalog.search("kettle", filters=black, k=5)
    top = {h.product_id: h for h in hits}
    assert top["k-gooseneck-kettle"].sku == "BL-GK-BLK"  # "Matte Black" matches "black"
    assert top["k-gooseneck-kettle"].price == Decimal("44.00")
    assert top["k-electric-kettle"].sku == "BL-EK-BLK"
    assert "color: black" in hits[0].reason

    hits = catalog.search("headphones", filters=SearchFilters(attributes={"Color": "Navy Blue"}))
    assert hits[0].product_id == "a-ax220-headphones" and hits[0].sku == "AU-AX220-NVY"

    red = catalog.search("speaker", filters=SearchFilters(attributes={"color": "red"}), k=10)
    assert _ids(red) == ["a-speaker"] and red[0].sku == "SO-SPK-RED"
    assert catalog.search("speaker", filters=SearchFilters(attributes={"color": "purple"})) == []


def test_attribute_and_price_combine_on_one_variant(catalog: ChromaCatalog) -> None:
    # Blue M is 99, blue XL is 109: the size and price filters must hold for the same SKU.
    f = SearchFilters(attributes={"color": "blue", "size": "xl"}, max_price=Decimal(105))
    assert catalog.search("rain jacket", filters=f) == []
    f = SearchFilters(attributes={"color": "blue", "size": "xl"}, max_price=Decimal(110))
    assert catalog.search("rain jacket", filters=f)[0].sku == "TM-RJ-BLU-XL"


def test_filtered_dense_search_is_an_exact_scan(catalog: ChromaCatalog, embedder: Embedder) -> None:
    """With filters, dense candidates are the allowed products nearest by cosine, exactly."""
    from shopagent.tools.catalog.filters import _mask

    col, snap = catalog._current()
    vector = embedder.embed_one("something to listen to music")
    f = SearchFilters(category="audio", attributes={"color": "black"}, max_price=Decimal(100))
    mask = _mask(snap.files, f)
    assert {snap.files.ids[i] for i in np.flatnonzero(mask)} == {"a-pulse-buds", "a-speaker"}
    found, similarity = catalog._dense(col, snap, vector, mask, 10)
    assert {snap.files.ids[i] for i in found} == {"a-pulse-buds", "a-speaker"}
    stored = col.get(ids=[snap.files.ids[i] for i in found], include=["embeddings"])
    pairs = zip(stored["ids"], stored["embeddings"], strict=True)
    exact = {pid: float(np.dot(e, vector)) for pid, e in pairs}
    assert [snap.files.ids[i] for i in found] == sorted(exact, key=lambda pid: -exact[pid])
    for i in found:
        assert similarity[i] == pytest.approx(exact[snap.files.ids[i]], abs=1e-5)
    # Unfiltered: Chroma's ANN index answers, with the same similarities.
    everything = np.ones(len(snap.files.ids), dtype=bool)
    ann, ann_similarity = catalog._dense(col, snap, vector, everything, 5)
    assert len(ann) == 5 and snap.files.vectors is not None
    for i in ann:
        assert ann_similarity[i] == pytest.approx(float(snap.files.vectors[i] @ vector), abs=1e-4)


def test_empty_query_browses_by_filters(catalog: ChromaCatalog) -> None:
    hits = catalog.search("", filters=SearchFilters(category="Outdoor"), k=10)
    assert _ids(hits) == ["o-water-bottle", "o-headlamp", "o-sleeping-bag", "o-tent"]


def test_in_stock_only_uses_the_stock_hook(catalog: ChromaCatalog) -> None:
    in_stock = {"BL-GK-BLK", "BL-EK-WHT"}
    hooked = ChromaCatalog(
        catalog.client,
        catalog.collection_name,
        catalog.embedder,
        stock_filter=lambda skus: {s for s in skus if s in in_stock},
    )
    hits = hooked.search("kettle", filters=SearchFilters(in_stock_only=True), k=5)
    assert {h.product_id: h.sku for h in hits} == {
        "k-gooseneck-kettle": "BL-GK-BLK",
        "k-electric-kettle": "BL-EK-WHT",
    }
    # Without a hook, in_stock_only is left to the caller.
    unhooked = catalog.search("kettle", filters=SearchFilters(in_stock_only=True), k=5)
    assert {h.product_id: h.sku for h in unhooked}["k-gooseneck-kettle"] == "BL-GK-SLV"


# --------------------------------------------------------------------------- helpers


def test_tokenize_and_select_variant(products) -> None:
    assert tokenize("The AX-220 Headphones, for kettles & boxes") == [
        "ax220",
        "ax",
        "220",
        "headphone",
        "kettle",
        "box",
    ]
    kettle = products[0]
    assert select_variant(kettle).sku == "BL-GK-SLV"
    assert select_variant(kettle, SearchFilters(attributes={"color": "matte black"})).sku == (
        "BL-GK-BLK"
    )
    assert select_variant(kettle, SearchFilters(attributes={"material": "steel"})).sku == (
        "BL-GK-SLV"
    )
    assert select_variant(kettle, SearchFilters(brand="Copperleaf")) is None
    assert select_variant(kettle, SearchFilters(min_price=Decimal(45))) is None


# --------------------------------------------------------------------------- exclusions, sort


def test_exclusions_drop_products_and_variants(catalog: ChromaCatalog) -> None:
    # "not black": a product with another colour stays, showing that variant.
    hits = {h.product_id: h for h in catalog.search("kettle", exclude_terms=["black"], k=5)}
    assert hits["k-gooseneck-kettle"].sku == "BL-GK-SLV"
    assert hits["k-electric-kettle"].sku == "BL-EK-WHT"
    assert "not black" in hits["k-gooseneck-kettle"].reason
    # A product whose own text says "stainless steel" is dropped.
    ids = _ids(catalog.search("kettle", exclude_terms=["stainless steel"], k=5))
    assert "k-gooseneck-kettle" not in ids and "k-electric-kettle" in ids
    # Carried by the request filters too (tools.search_request.RequestFilters).
    via_filters = catalog.search("kettle", filters=RequestFilters(exclude_terms=["steel"]), k=5)
    assert "k-gooseneck-kettle" not in _ids(via_filters)
    # Only black variants: the product goes.
    blender = catalog.search("blender", exclude_terms=["black"], k=5)
    assert "k-blender" not in _ids(blender)


def test_in_memory_exclusions_and_sort_match(catalog: ChromaCatalog, products) -> None:
    mem = InMemoryCatalog(products)
    hooked = {h.product_id: h.sku for h in mem.search("kettle", exclude_terms=["black"])}
    assert hooked["k-gooseneck-kettle"] == "BL-GK-SLV"
    assert "k-gooseneck-kettle" not in _ids(mem.search("kettle", exclude_terms=["steel"]))
    prices = [h.price for h in mem.search("", filters=SearchFilters(category="Audio"), k=9)]
    assert prices == sorted(prices)
    dearest = mem.search("", filters=SearchFilters(category="Audio"), k=9, sort="price_desc")
    assert [h.price for h in dearest] == sorted(prices, reverse=True)


def test_sort_by_price_keeps_full_matches_first(catalog: ChromaCatalog) -> None:
    hits = catalog.search("wireless headphones", sort="price_asc", k=5)
    full = [h for h in hits if "wireless" in h.reason and "headphone" in h.reason]
    assert full and hits[: len(full)] == full  # every-word matches first ...
    assert [h.price for h in full] == sorted(h.price for h in full)  # ... by price
    dear = catalog.search("speaker", sort="price_desc", k=4)
    assert dear[0].product_id == "a-speaker"  # the only full match, then the rest by price
    assert [h.price for h in dear[1:]] == sorted((h.price for h in dear[1:]), reverse=True)
    with pytest.raises(ValueError):
        catalog.search("kettle", sort="cheapest")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- attribute matching


def test_attribute_values_match_runs_of_words_and_gray() -> None:
    pan = _p(
        "pan",
        "Everyday Pan",
        "Acme",
        "Kitchen",
        "A pan.",
        [("PAN-1", "30", {"color": "Fog Grey"})],
        attributes={"material": "Tri-Ply Stainless Steel"},
    )
    assert select_variant(pan, SearchFilters(attributes={"material": "stainless steel"}))
    assert select_variant(pan, SearchFilters(attributes={"material": "tri-ply"}))
    assert select_variant(pan, SearchFilters(attributes={"material": "steel tri-ply"})) is None
    assert select_variant(pan, SearchFilters(attributes={"color": "gray"}))  # grey == gray
    assert select_variant(pan, SearchFilters(attributes={"colour": "fog gray"})) is None  # key


def test_unrecorded_attributes_fall_back_to_the_text() -> None:
    bowl = _p("bowl", "Stainless Steel Dog Bowl", "Acme", "Pets", "", [("B-1", "9", {})])
    assert select_variant(bowl, SearchFilters(attributes={"material": "stainless steel"}))
    assert select_variant(bowl, SearchFilters(attributes={"material": "ceramic"})) is None
    # Colour and size are variant axes: never matched on text ("a red night mode").
    lamp = _p("lamp", "Headlamp", "Acme", "Outdoor", "A red night mode.", [("L-1", "9", {})])
    assert select_variant(lamp, SearchFilters(attributes={"color": "red"})) is None
    assert select_variant(lamp, exclude_terms=["red"]) is None
    assert select_variant(lamp, exclude_terms=["blue"]) is not None


def test_facets_name_what_a_request_can_ask_for(catalog: ChromaCatalog) -> None:
    found = catalog.facets()
    assert {"Kitchen", "Audio", "Home Office"} <= set(found["categories"])
    assert {"Brewline", "Lumen & Co."} <= set(found["brands"])
    assert {"matte black", "slate gray", "navy blue"} <= set(found["colors"])
    assert found["materials"] == ["stainless steel"]
    assert {"9", "xl"} <= set(found["values"]) and {"color", "size", "material"} <= set(
        found["keys"]
    )


# --------------------------------------------------------------------------- live stock


def test_db_stock_filter_feeds_in_stock_only(catalog: ChromaCatalog, products) -> None:
    data = StoreData(
        info=StoreInfo(name="Test"),
        products=products,
        stock=[
            StockLevel(sku="BL-GK-SLV", stock=0),
            StockLevel(sku="BL-GK-BLK", stock=3),
            StockLevel(sku="BL-EK-WHT", stock=1),
        ],
        customers=[],
        orders=[],
        policy=ReturnPolicy(default=ReturnRule(window_days=30)),
    )
    db = StoreDB.in_memory(data)
    hook = db_stock_filter(db, chunk=2)
    assert hook(["BL-GK-SLV", "BL-GK-BLK", "BL-EK-WHT", "BL-EK-BLK", "nope"]) == {
        "BL-GK-BLK",
        "BL-EK-WHT",
    }
    live = ChromaCatalog(
        catalog.client, catalog.collection_name, catalog.embedder, stock_filter=hook
    )
    hits = live.search("kettle", filters=SearchFilters(in_stock_only=True), k=5)
    assert {h.product_id: h.sku for h in hits} == {
        "k-gooseneck-kettle": "BL-GK-BLK",
        "k-electric-kettle": "BL-EK-WHT",
    }
    assert all("in stock" in h.reason for h in hits)
