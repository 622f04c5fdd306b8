"""Importing a catalog from CSV / JSON Lines: mapping, validation, all-or-nothing merge."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from shopagent.tools.store.files import read_store
from shopagent.tools.store.generate import generate_store
from shopagent.tools.store.import_values import parse_price
from shopagent.tools.store.importer import ColumnMapping, import_catalog, load_mapping
from shopagent.tools.store.writer import write_store

from shopagent.errors import StoreFormatError

MAPPING = """\
# a Shopify-like export
columns:
  Handle: product_id
  Title: name
  Vendor: brand
  Type: category
  Body: description
  Variant SKU: sku
  Variant Price: price
  Stock: stock
  Tags: tags
defaults:
  currency: USD
"""

CSV = """\
Handle,Title,Vendor,Type,Body,Variant SKU,Variant Price,Stock,Tags,attr_color,attr_material
mug-1,Camp Mug,Acme,Kitchen,"Enamel mug, 12 oz",MUG-1-RED,"$1,299.00",4,"camp, mug",Red,steel
mug-1,,,,,MUG-1-BLU,$12.50,0,,Blue,steel
tent-2,Trail Tent,Acme,Outdoor,A two-person tent,TENT-2,199,3,,Green,nylon
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    return _write(tmp_path / "mapping.yaml", MAPPING)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    directory = tmp_path / "store"
    data = generate_store(n_products=12, n_customers=3, n_orders=5, today=date(2025, 6, 1))
    write_store(data, directory)
    return directory


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("raw", "value", "currency"),
    [
        ("$1,299.00", "1299.00", "USD"),
        ("1299", "1299", None),
        ("12.5", "12.5", None),
        ("1.299,00 €", "1299.00", "EUR"),
        ("£7", "7", "GBP"),
        ("24,99", "24.99", None),
        ("USD 10", "10", "USD"),
        (19.99, "19.99", None),
    ],
)
def test_parse_price(raw: object, value: str, currency: str | None) -> None:
    assert parse_price(raw) == (Decimal(value), currency)


@pytest.mark.parametrize("raw", ["", "abc", "-5", "1.2.3,4,5x", True])
def test_parse_price_rejects(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_price(raw)


# --------------------------------------------------------------------------- importing


def test_csv_import_groups_variants_and_merges(tmp_path: Path, mapping: Path, store: Path) -> None:
    before = read_store(store)
    source = _write(tmp_path / "catalog.csv", CSV)
    result = import_catalog(source, mapping, store)
    assert (result.rows, result.added, result.updated, result.variants) == (3, 2, 0, 3)
    assert result.stock_rows == 3

    after = read_store(store)  # the merged store passes every reader check
    assert [p.id for p in after.products] == [p.id for p in before.products] + ["mug-1", "tent-2"]
    mug = next(p for p in after.products if p.id == "mug-1")
    assert (mug.name, mug.brand, mug.category) == ("Camp Mug", "Acme", "Kitchen")
    assert mug.description == "Enamel mug, 12 oz" and mug.tags == ["camp", "mug"]
    # attr_material agrees on both rows: product-wide; attr_color differs: per variant.
    assert mug.attributes == {"material": "steel"}
    assert [(v.sku, v.price, v.attributes) for v in mug.variants] == [
        ("MUG-1-RED", Decimal("1299.00"), {"color": "Red"}),
        ("MUG-1-BLU", Decimal("12.50"), {"color": "Blue"}),
    ]
    tent = next(p for p in after.products if p.id == "tent-2")
    assert tent.attributes == {"color": "Green", "material": "nylon"}
    stock = {s.sku: s.stock for s in after.stock}
    assert (stock["MUG-1-RED"], stock["MUG-1-BLU"], stock["TENT-2"]) == (4, 0, 3)
    assert after.orders == before.orders and after.customers == before.customers

    # Importing again updates in place.
    again = import_catalog(source, mapping, store)
    assert (again.added, again.updated) == (0, 2)
    assert len(read_store(store).products) == len(after.products)


def test_jsonl_import_with_nested_fields(tmp_path: Path) -> None:
    mapping = ColumnMapping(
        columns={
            "id": "product_id",
            "title": "name",
            "maker": "brand",
            "offer.sku": "sku",
            "offer.price": "price",
            "offer.currency": "currency",
            "specs": "attributes.specs",
            "sale": "final_sale",
            "size": "variant.size",
        },
        defaults={"category": "Gifts"},
    )
    rows = [
        {"id": "p1", "title": "Scarf", "maker": "Loom", "sale": "yes", "size": "S",
         "offer": {"sku": "SC-S", "price": 20, "currency": "eur"}, "specs": {"fabric": "wool"}},
        {"id": "p1", "size": "M", "offer": {"sku": "SC-M", "price": "22.00"}},
    ]  # fmt: skip
    source = _write(tmp_path / "feed.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    result = import_catalog(source, mapping, tmp_path / "new-store")
    product = read_store(tmp_path / "new-store").products[0]
    assert result.added == 1 and product.category == "Gifts" and product.final_sale
    assert product.attributes == {"fabric": "wool"}
    assert [(v.sku, v.currency, v.attributes) for v in product.variants] == [
        ("SC-S", "EUR", {"size": "S"}),
        ("SC-M", "USD", {"size": "M"}),
    ]


def test_bad_row_in_the_middle_changes_nothing(tmp_path: Path, mapping: Path, store: Path) -> None:
    lines = CSV.splitlines()
    bad = "lamp-3,Desk Lamp,Acme,Office,A lamp,LAMP-3,twelve,5,,Black,brass"
    source = _write(tmp_path / "catalog.csv", "\n".join([*lines[:2], bad, *lines[2:]]) + "\n")
    before = _snapshot(store)
    with pytest.raises(StoreFormatError) as info:
        import_catalog(source, mapping, store)
    error = info.value
    assert (error.file, error.line, error.field) == ("catalog.csv", 3, "Variant Price")
    assert "catalog.csv:3:" in str(error) and "'twelve'" in str(error)
    assert _snapshot(store) == before


def test_multiline_csv_cells_keep_line_numbers(tmp_path: Path, mapping: Path, store: Path) -> None:
    text = CSV.replace('"Enamel mug, 12 oz"', '"Enamel mug,\nwith two lines"').replace(
        "TENT-2,199,3", "TENT-2,199,-3"
    )
    with pytest.raises(StoreFormatError) as info:
        import_catalog(_write(tmp_path / "c.csv", text), mapping, store)
    assert (info.value.line, info.value.field) == (5, "Stock")


@pytest.mark.parametrize(
    ("change", "line", "field", "words"),
    [
        (lambda t: t.replace("MUG-1-BLU", "MUG-1-RED"), 3, "Variant SKU", "duplicate SKU"),
        (lambda t: t.replace("mug-1,,,,,", "mug-1,Camp Cup,,,,"), 3, "Title", "differs"),
        (lambda t: t.replace(",199,3,", ",199,,").replace("TENT-2", ""), 4, "Variant SKU", "sku"),
        (lambda t: t.replace("tent-2,Trail Tent", "tent-2,"), 4, "Title", "name is required"),
        (lambda t: t.replace('"$1,299.00",4', '"$1,299.00",4.5'), 2, "Stock", "whole number"),
        (lambda t: t.replace("Stock", "Units"), 1, "Stock", "not in the file"),
        (lambda t: t + "x,y\n", 5, "", "expected 11 columns"),
    ],
)
def test_row_errors_name_file_line_and_field(
    tmp_path: Path, mapping: Path, store: Path, change, line: int, field: str, words: str
) -> None:
    before = _snapshot(store)
    with pytest.raises(StoreFormatError) as info:
        import_catalog(_write(tmp_path / "catalog.csv", change(CSV)), mapping, store)
    error = info.value
    assert (error.file, error.line, error.field) == ("catalog.csv", line, field), str(error)
    assert words in str(error)
    assert _snapshot(store) == before


def test_sku_owned_by_another_store_product_is_rejected(
    tmp_path: Path, mapping: Path, store: Path
) -> None:
    taken = read_store(store).products[0].variants[0].sku
    source = _write(tmp_path / "catalog.csv", CSV.replace("TENT-2", taken))
    before = _snapshot(store)
    with pytest.raises(StoreFormatError, match="already belongs to product"):
        import_catalog(source, mapping, store)
    assert _snapshot(store) == before


def test_replace_mode_refuses_to_orphan_ordered_skus(tmp_path: Path, store: Path) -> None:
    mapping = _write(tmp_path / "m.yaml", MAPPING + "mode: replace\n")
    before = _snapshot(store)
    with pytest.raises(StoreFormatError, match="would remove"):
        import_catalog(_write(tmp_path / "c.csv", CSV), mapping, store)
    assert _snapshot(store) == before

    fresh = tmp_path / "fresh"
    result = import_catalog(tmp_path / "c.csv", mapping, fresh)
    assert (result.added, result.removed) == (2, 0)
    assert [p.id for p in read_store(fresh).products] == ["mug-1", "tent-2"]


def test_dry_run_writes_nothing(tmp_path: Path, mapping: Path, store: Path) -> None:
    before = _snapshot(store)
    result = import_catalog(_write(tmp_path / "c.csv", CSV), mapping, store, dry_run=True)
    assert result.added == 2 and _snapshot(store) == before


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("columns:\n  A: sku\n  B: price\n  C: nmae\n", 4, "columns.C", "unknown field 'nmae'"),
        ("columns:\n  A: name\n  B: price\n", 0, "columns", "map a column to 'sku'"),
        ("columns:\n  A: sku\n  B: price\n  C: name\n", 0, "columns", "'brand'"),
        ("columns: [a, b]\n", 1, "columns", "valid dictionary"),
        ("columns:\n  A: sku\n  B: price\ncolour: x\n", 4, "colour", "unknown field"),
    ],
)
def test_mapping_errors(tmp_path: Path, text: str, line: int, field: str, words: str) -> None:
    with pytest.raises(StoreFormatError) as info:
        load_mapping(_write(tmp_path / "m.yaml", text))
    error = info.value
    assert (error.file, error.line, error.field) == ("m.yaml", line, field), str(error)
    assert words in str(error)
