"""Catalog search over a real embedded Chroma (and one real Chroma server) with the real MiniLM."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import chromadb
import httpx
from chromadb.config import Settings as ChromaSettings
from shopagent.agent.understanding.search_request import RequestFilters
from shopagent.tools.catalog import (
    ChromaCatalog,
    IndexStats,
    InMemoryCatalog,
    db_stock_filter,
    embedding_text,
    open_catalog,
    select_variant,
    tokenize,
)
from shopagent.tools.embeddings import Embedder, get_embedder
from shopagent.tools.protocols import Catalog
from shopagent.tools.results import SearchFilters
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.schema import (
    Product,
    ReturnPolicy,
    ReturnRule,
    StockLevel,
    StoreData,
    StoreInfo,
)

from shopagent.errors import CatalogUnavailable, IndexMissing
from shopagent.settings import Settings

pytestmark = pytest.mark.real_model

# --------------------------------------------------------------------------- test catalog


def _p(
    pid: str,
    name: str,
    brand: str,
    category: str,
    description: str,
    variants: list[tuple[str, str, dict[str, str]]],
    *,
    attributes: dict[str, str] | None = None,
    tags: list[str] | None = None,
) -> Product:
    return Product.model_validate(
        {
            "id": pid,
            "name": name,
            "brand": brand,
            "category": category,
            "description": description,
            "attributes": attributes or {},
            "tags": tags or [],
            "variants": [{"sku": s, "price": price, "attributes": a} for s, price, a in variants],
        }
    )


def sample_products() -> list[Product]:
    """34 realistic products across eight categories (fictional brands)."""
    return [
        # Kitchen
        _p(
            "k-gooseneck-kettle",
            "Pour-Over Gooseneck Kettle 1L",
            "Brewline",
            "Kitchen",
            "Stainless steel gooseneck kettle with a built-in thermometer for precise pour-over "
            "coffee brewing. Works on gas, electric and induction stovetops.",
            [
                ("BL-GK-SLV", "39.00", {"color": "Silver"}),
                ("BL-GK-BLK", "44.00", {"color": "Matte Black"}),
            ],
            attributes={"material": "Stainless Steel"},
            tags=["coffee", "tea"],
        ),
        _p(
            "k-electric-kettle",
            "Electric Kettle with Temperature Control",
            "Brewline",
            "Kitchen",
            "1.7 litre cordless electric kettle with five temperature presets for green tea, "
            "oolong and French press. Keep-warm function and automatic shut-off.",
            [
                ("BL-EK-WHT", "59.00", {"color": "White"}),
                ("BL-EK-BLK", "59.00", {"color": "Black"}),
            ],
        ),
        _p(
            "k-chef-knife",
            "8-inch Chef's Knife",
            "Copperleaf",
            "Kitchen",
            "Forged high-carbon German steel chef knife with a full tang and pakkawood handle "
            "for slicing, dicing and mincing.",
            [("CL-KN8", "89.00", {})],
        ),
        _p(
            "k-skillet",
            "Cast Iron Skillet 12-inch",
            "Copperleaf",
            "Kitchen",
            "Pre-seasoned cast iron frying pan that goes from stovetop to oven. Great for "
            "searing steak and baking cornbread.",
            [("CL-SK12", "34.99", {})],
        ),
        _p(
            "k-blender",
            "Pro Countertop Blender",
            "Brewline",
            "Kitchen",
            "1200-watt blender with a 64 oz BPA-free jar for smoothies, frozen drinks and "
            "nut butters.",
            [("BL-BLND", "129.00", {"color": "Black"})],
        ),
        _p(
            "k-burr-grinder",
            "Conical Burr Coffee Grinder",
            "Brewline",
            "Kitchen",
            "Conical burr grinder with 40 grind settings, from espresso fine to French press "
            "coarse.",
            [("BL-GRND", "79.00", {"color": "Black"})],
        ),
        _p(
            "k-mugs",
            "Stoneware Coffee Mugs, Set of 4",
            "Copperleaf",
            "Kitchen",
            "12 oz glazed stoneware mugs, dishwasher and microwave safe.",
            [
                ("CL-MUG-SG", "29.00", {"color": "Sage Green"}),
                ("CL-MUG-CH", "29.00", {"color": "Charcoal"}),
            ],
        ),
        # Audio
        _p(
            "a-ax220-headphones",
            "AX-220 Wireless Noise-Cancelling Headphones",
            "Auralis",
            "Audio",
            "Over-ear Bluetooth headphones with active noise cancellation, 30-hour battery "
            "life and plush memory-foam ear cushions.",
            [
                ("AU-AX220-BLK", "199.00", {"color": "Black"}),
                ("AU-AX220-NVY", "199.00", {"color": "Navy Blue"}),
                ("AU-AX220-SND", "209.00", {"color": "Sand"}),
            ],
        ),
        _p(
            "a-pulse-buds",
            "Pulse Buds True Wireless Earbuds",
            "Auralis",
            "Audio",
            "Compact in-ear buds with a pocket charging case, IPX4 sweat resistance and 24 "
            "hours of total playback.",
            [
                ("AU-PB-BLK", "89.00", {"color": "Black"}),
                ("AU-PB-WHT", "89.00", {"color": "White"}),
            ],
        ),
        _p(
            "a-speaker",
            "Portable Bluetooth Speaker",
            "Sonora",
            "Audio",
            "Waterproof IP67 speaker with 360-degree sound and a 12-hour battery; clips onto "
            "a backpack.",
            [
                ("SO-SPK-RED", "59.00", {"color": "Red"}),
                ("SO-SPK-BLU", "59.00", {"color": "Blue"}),
                ("SO-SPK-BLK", "59.00", {"color": "Black"}),
            ],
        ),
        _p(
            "a-turntable",
            "Belt-Drive Record Player",
            "Sonora",
            "Audio",
            "Turntable with a built-in phono preamp and USB output for digitizing vinyl records.",
            [("SO-TT1", "149.00", {})],
        ),
        _p(
            "a-soundbar",
            "Slim TV Soundbar",
            "Sonora",
            "Audio",
            "2.1 channel soundbar with a wireless subwoofer and HDMI ARC for home theater.",
            [("SO-SB21", "179.00", {})],
        ),
        # Footwear
        _p(
            "f-trail-runner",
            "Trailhawk Ridge Trail Running Shoes",
            "Trailhawk",
            "Footwear",
            "Lightweight trail runners with grippy lugged outsoles and a rock plate for "
            "technical mountain terrain.",
            [
                ("TH-RDG-9", "129.00", {"size": "9", "color": "Orange"}),
                ("TH-RDG-10", "129.00", {"size": "10", "color": "Orange"}),
                ("TH-RDG-11", "134.00", {"size": "11", "color": "Grey"}),
            ],
        ),
        _p(
            "f-road-runner",
            "Cloudstep Road Running Shoes",
            "Stridewell",
            "Footwear",
            "Neutral daily trainer with responsive foam cushioning for long road runs.",
            [
                ("SW-CS-BLK", "119.00", {"color": "Black"}),
                ("SW-CS-WHT", "119.00", {"color": "White"}),
            ],
        ),
        _p(
            "f-hiking-boots",
            "Waterproof Leather Hiking Boots",
            "Trailhawk",
            "Footwear",
            "Mid-height leather boots with a waterproof membrane and Vibram outsole for "
            "backpacking trips.",
            [("TH-HB-BRN", "169.00", {"color": "Brown"})],
        ),
        _p(
            "f-slippers",
            "Shearling Lined Moccasin Slippers",
            "Stridewell",
            "Footwear",
            "Cozy moccasins lined with genuine shearling and a rubber sole for indoor and "
            "outdoor wear.",
            [("SW-SLP", "69.00", {"color": "Chestnut"})],
        ),
        # Furniture
        _p(
            "fu-harbor-sofa",
            "Harbor Three-Seat Sofa",
            "Oakhaven",
            "Furniture",
            "Mid-century three-seat sofa upholstered in performance fabric with solid oak legs "
            "and removable cushions.",
            [
                ("OH-HS-SLT", "1299.00", {"color": "Slate Grey"}),
                ("OH-HS-OAT", "1299.00", {"color": "Oatmeal"}),
            ],
        ),
        _p(
            "fu-bookcase",
            "Five-Shelf Bookcase",
            "Oakhaven",
            "Furniture",
            "Solid wood bookcase with five adjustable shelves; includes a wall anchor kit.",
            [
                ("OH-BC-WAL", "249.00", {"color": "Walnut"}),
                ("OH-BC-WHT", "229.00", {"color": "White"}),
            ],
        ),
        _p(
            "fu-dining-table",
            "Extendable Oak Dining Table",
            "Nordlund",
            "Furniture",
            "Seats six and extends to seat eight; oak veneer top with a matte lacquer finish.",
            [("NL-DT-OAK", "699.00", {})],
        ),
        _p(
            "fu-wingback",
            "Wingback Reading Armchair",
            "Nordlund",
            "Furniture",
            "Upholstered accent chair with a high back and deep seat for reading corners.",
            [("NL-WB-BLU", "449.00", {"color": "Teal Blue"})],
        ),
        # Home office
        _p(
            "ho-standing-desk",
            "Electric Standing Desk",
            "Deskwise",
            "Home Office",
            "Height-adjustable sit-stand desk with dual motors, memory presets and a 48 x 30 "
            "inch bamboo top.",
            [("DW-SD48", "499.00", {})],
        ),
        _p(
            "ho-mesh-chair",
            "Ergonomic Mesh Office Chair",
            "Deskwise",
            "Home Office",
            "Breathable mesh back, adjustable lumbar support and 4D armrests for long workdays.",
            [
                ("DW-MC-BLK", "329.00", {"color": "Black"}),
                ("DW-MC-GRY", "329.00", {"color": "Grey"}),
            ],
        ),
        _p(
            "ho-monitor-arm",
            "Dual Monitor Arm",
            "Deskwise",
            "Home Office",
            "Gas-spring arm that holds two screens up to 32 inches; clamps to the desk edge.",
            [("DW-MA2", "119.00", {})],
        ),
        _p(
            "ho-desk-lamp",
            "LED Desk Lamp with Wireless Charger",
            "Lumen & Co.",
            "Home Office",
            "Dimmable LED task light with colour temperature modes and a Qi charging pad in "
            "the base.",
            [
                ("LC-DL-BLK", "49.00", {"color": "Black"}),
                ("LC-DL-WHT", "49.00", {"color": "White"}),
            ],
        ),
        _p(
            "ho-keyboard",
            "Tenkeyless Mechanical Keyboard",
            "Deskwise",
            "Home Office",
            "Hot-swappable keyboard with tactile brown switches and PBT keycaps.",
            [("DW-KB87", "109.00", {})],
        ),
        # Outdoor
        _p(
            "o-tent",
            "Two-Person Backpacking Tent",
            "Summitcraft",
            "Outdoor",
            "Ultralight three-season tent with freestanding aluminum poles; weighs 3 lb 8 oz.",
            [("SC-T2", "299.00", {"color": "Green"})],
        ),
        _p(
            "o-sleeping-bag",
            "Down Sleeping Bag 20°F",
            "Summitcraft",
            "Outdoor",
            "650-fill down mummy bag rated to 20 degrees Fahrenheit for cold-weather camping.",
            [("SC-SB20", "229.00", {})],
        ),
        _p(
            "o-headlamp",
            "Rechargeable Headlamp",
            "Summitcraft",
            "Outdoor",
            "400-lumen USB-C rechargeable headlamp with a red night-vision mode.",
            [("SC-HL400", "35.00", {})],
        ),
        _p(
            "o-water-bottle",
            "Insulated Water Bottle 32 oz",
            "Summitcraft",
            "Outdoor",
            "Double-wall vacuum insulated stainless steel bottle that keeps drinks cold for "
            "24 hours.",
            [
                ("SC-WB-BLU", "32.00", {"color": "Blue"}),
                ("SC-WB-BLK", "32.00", {"color": "Black"}),
                ("SC-WB-GRN", "34.00", {"color": "Forest Green"}),
            ],
        ),
        # Apparel
        _p(
            "ap-rain-jacket",
            "Packable Rain Jacket",
            "Threadmark",
            "Apparel",
            "Waterproof breathable shell with taped seams and a hood; packs into its own pocket.",
            [
                ("TM-RJ-BLU-M", "99.00", {"color": "Blue", "size": "M"}),
                ("TM-RJ-YLW-M", "99.00", {"color": "Yellow", "size": "M"}),
                ("TM-RJ-BLU-XL", "109.00", {"color": "Blue", "size": "XL"}),
            ],
        ),
        _p(
            "ap-merino-tee",
            "Merino Wool T-Shirt",
            "Threadmark",
            "Apparel",
            "Odor-resistant lightweight merino tee for travel and hiking.",
            [
                ("TM-MT-BLK", "65.00", {"color": "Black"}),
                ("TM-MT-GRY", "65.00", {"color": "Heather Grey"}),
            ],
        ),
        _p(
            "ap-hiking-socks",
            "Hiking Socks 3-Pack",
            "Threadmark",
            "Apparel",
            "Cushioned merino wool blend crew socks.",
            [("TM-SOCK3", "24.00", {})],
        ),
        # Bath
        _p(
            "b-towels",
            "Turkish Cotton Bath Towels, Set of 2",
            "Lumen & Co.",
            "Bath",
            "Plush, absorbent towels woven from 100% Turkish cotton.",
            [
                ("LC-TW-WHT", "45.00", {"color": "White"}),
                ("LC-TW-NVY", "45.00", {"color": "Navy"}),
            ],
        ),
        _p(
            "b-diffuser",
            "Ultrasonic Aroma Diffuser",
            "Lumen & Co.",
            "Bath",
            "Essential oil diffuser with a cool mist, ambient light and automatic shut-off.",
            [("LC-DIF", "39.00", {})],
        ),
    ]


# --------------------------------------------------------------------------- fixtures


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
    assert not any(t in snap.vocab for t in terms)
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
    from shopagent.tools.catalog import _mask

    col, snap = catalog._current()
    vector = embedder.embed_one("something to listen to music")
    f = SearchFilters(category="audio", attributes={"color": "black"}, max_price=Decimal(100))
    mask = _mask(snap, f)
    assert {snap.ids[i] for i in np.flatnonzero(mask)} == {"a-pulse-buds", "a-speaker"}
    found, similarity = catalog._dense(col, snap, vector, mask, 10)
    assert {snap.ids[i] for i in found} == {"a-pulse-buds", "a-speaker"}
    stored = col.get(ids=[snap.ids[i] for i in found], include=["embeddings"])
    pairs = zip(stored["ids"], stored["embeddings"], strict=True)
    exact = {pid: float(np.dot(e, vector)) for pid, e in pairs}
    assert [snap.ids[i] for i in found] == sorted(exact, key=lambda pid: -exact[pid])
    for i in found:
        assert similarity[i] == pytest.approx(exact[snap.ids[i]], abs=1e-5)
    # Unfiltered: Chroma's ANN index answers, with the same similarities.
    everything = np.ones(len(snap.ids), dtype=bool)
    ann, ann_similarity = catalog._dense(col, snap, vector, everything, 5)
    assert len(ann) == 5 and snap.vectors is not None
    for i in ann:
        assert ann_similarity[i] == pytest.approx(float(snap.vectors[i] @ vector), abs=1e-4)


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_catalog_unavailable_when_server_is_down(embedder: Embedder) -> None:
    settings = Settings(chroma_url=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(CatalogUnavailable) as err:
        open_catalog(settings, embedder)
    assert "SHOPAGENT_CHROMA_URL" in str(err.value)


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
    kettle = snap.position["k-gooseneck-kettle"]
    knife = snap.position["k-chef-knife"]
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


# --------------------------------------------------------------------------- embedder identity


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


def test_another_embedder_re_embeds_everything(
    tmp_path: Path, embedder: Embedder, products
) -> None:
    subset = products[:4]
    first = _Renamed(embedder, "minilm:torch:default")
    ChromaCatalog(_client(tmp_path), "products", first).index(subset)  # type: ignore[arg-type]
    same = ChromaCatalog(_client(tmp_path), "products", first)  # type: ignore[arg-type]
    assert same.index(subset).embedded == 0
    other = _Renamed(embedder, "minilm:onnx-int8:default")
    stats = ChromaCatalog(_client(tmp_path), "products", other).index(subset)  # type: ignore[arg-type]
    assert (stats.embedded, stats.updated, other.calls) == (4, 4, 4)
    meta = _client(tmp_path).get_collection("products").metadata
    assert meta["embedder"] == "minilm:onnx-int8:default"
    assert embedder.identity.endswith(":torch:default")


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
    import shopagent.tools.catalog as catalog_module

    subset = products[:5]
    counting = _Renamed(embedder, embedder.identity)
    # An index written when the dense side embedded Product.search_text() (METADATA_VERSION 2).
    monkeypatch.setattr(catalog_module, "embedding_text", Product.search_text)
    monkeypatch.setattr(catalog_module, "METADATA_VERSION", 2)
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
    assert got["metadatas"][0]["text_hash"] == catalog_module._text_hash(embedding_text(subset[0]))
    np.testing.assert_allclose(
        got["embeddings"][0], embedder.embed([embedding_text(subset[0])])[0], atol=1e-5
    )
    assert catalog.index(subset).embedded == 0  # and then it is up to date


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
    assert Settings().embedder == "onnx-int8" and Settings().embedder_max_seq_length == 128


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
