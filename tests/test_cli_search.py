"""``shopagent search`` and ``shopagent store import`` through a Typer app built here."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from shopagent.agent.cli import search as cli_search
from shopagent.agent.cli.search import register
from shopagent.tools.catalog import open_catalog
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.files import read_store
from shopagent.tools.store.generate import generate_store
from shopagent.tools.store.schema import StoreData
from shopagent.tools.store.writer import write_store
from typer.testing import CliRunner

from shopagent.settings import Settings

TODAY = date(2025, 6, 1)


def _app() -> typer.Typer:
    app = typer.Typer()
    store_app = typer.Typer()
    app.add_typer(store_app, name="store")
    register(app, store_app)
    return app


def _home(root: Path) -> tuple[Settings, StoreData]:
    settings = Settings(home=root)
    data = generate_store(n_products=40, n_customers=3, n_orders=4, today=TODAY)
    write_store(data, settings.store_path)
    db = StoreDB(settings.database)
    db.load(data)
    db.close()
    return settings, data


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, StoreData]:
    settings, data = _home(tmp_path_factory.mktemp("home"))
    open_catalog(settings).index(data.products)  # the settings' embedder, as the CLI
    return settings, data


def _run(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str):
    monkeypatch.setattr(cli_search, "_settings", lambda: settings)
    return CliRunner().invoke(_app(), list(args))


def _last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


@pytest.mark.real_model
def test_search_json_parses_filters_and_adds_live_stock(shop, monkeypatch) -> None:
    settings, data = shop
    product = data.products[0]
    noun = product.tags[0]
    cap = max(v.price for v in product.variants) + 1
    result = _run(settings, monkeypatch, "search", "--json", "-k", "3", f"{noun} under ${cap}")
    assert result.exit_code == 0, result.output
    out = _last_json(result.stdout)
    assert out["text"] == f"{noun} under ${cap}" and out["sort"] == "relevance"
    assert Decimal(out["filters"]["max_price"]) == cap
    assert 1 <= len(out["results"]) <= 3
    stock = {s.sku: s.stock for s in data.stock}
    for hit in out["results"]:
        assert set(hit) >= {"sku", "name", "price", "stock", "reason", "product_id"}
        assert hit["price"] <= float(cap) and hit["stock"] == stock[hit["sku"]]
        assert hit["reason"]
    assert product.id in [h["product_id"] for h in out["results"]]


@pytest.mark.real_model
@pytest.mark.parametrize(
    ("text", "cap"), [("耳机 50元以下", "50"), ("auriculares por menos de 40", "40")]
)
def test_a_price_phrase_in_spanish_or_chinese_is_a_filter(shop, monkeypatch, text, cap) -> None:
    settings, _ = shop
    result = _run(settings, monkeypatch, "search", "--json", text)
    assert result.exit_code == 0, result.output
    out = _last_json(result.stdout)
    assert Decimal(out["filters"]["max_price"]) == Decimal(cap), out["filters"]
    assert all(hit["price"] <= float(cap) for hit in out["results"])


@pytest.mark.real_model
def test_flags_override_the_text(shop, monkeypatch) -> None:
    settings, data = shop
    category = data.products[0].category
    result = _run(
        settings,
        monkeypatch,
        "search",
        "--json",
        "--max-price",
        "500",
        "--category",
        category.upper(),
        "--in-stock",
        "--sort",
        "price_asc",
        "--exclude",
        "zebra",
        "gift under $5",
    )
    assert result.exit_code == 0, result.output
    out = _last_json(result.stdout)
    assert Decimal(out["filters"]["max_price"]) == 500
    assert out["filters"]["category"] == category
    assert out["filters"]["in_stock_only"] and out["filters"]["exclude_terms"] == ["zebra"]
    assert out["sort"] == "price_asc"
    assert out["results"] and all(h["category"] == category for h in out["results"])
    assert all(h["stock"] > 0 for h in out["results"])


@pytest.mark.real_model
def test_table_output_and_friendly_errors(shop, monkeypatch) -> None:
    settings, data = shop
    result = _run(settings, monkeypatch, "search", data.products[1].tags[0])
    assert result.exit_code == 0, result.output
    assert "SKU" in result.stdout and "stock" in result.stdout
    brand = data.products[0].brand
    result = _run(settings, monkeypatch, "search", "--brand", brand[:-1] + "x", "anything")
    assert result.exit_code == 2
    assert "unknown brand" in result.stderr and "did you mean" in result.stderr


def test_search_without_a_store_says_how_to_fix_it(tmp_path: Path, monkeypatch) -> None:
    result = _run(Settings(home=tmp_path), monkeypatch, "search", "kettle")
    assert result.exit_code == 2
    assert "no store database" in result.stderr and "shopagent store demo" in result.stderr


CSV = """\
Handle,Title,Vendor,Type,Variant SKU,Variant Price,Stock
mug-1,Camp Mug,Acme,Kitchen,MUG-1-RED,$12.00,4
mug-1,,,,MUG-1-BLU,$12.50,0
"""
MAPPING = """\
columns:
  Handle: product_id
  Title: name
  Vendor: brand
  Type: category
  Variant SKU: sku
  Variant Price: price
  Stock: stock
"""


def test_store_import_merges_and_reloads_the_database(tmp_path: Path, monkeypatch) -> None:
    settings, data = _home(tmp_path / "home")
    (tmp_path / "catalog.csv").write_text(CSV, encoding="utf-8")
    (tmp_path / "map.yaml").write_text(MAPPING, encoding="utf-8")
    args = [
        "store",
        "import",
        str(tmp_path / "catalog.csv"),
        "--mapping",
        str(tmp_path / "map.yaml"),
    ]
    result = _run(settings, monkeypatch, *args, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "1 products added" in result.stdout and "shopagent index" in result.stdout
    assert len(read_store(settings.store_path).products) == len(data.products) + 1
    db = StoreDB.open(settings.database)
    assert db.product("mug-1") is not None
    assert {r["sku"]: r["stock"] for r in db.sku_rows(["MUG-1-RED", "MUG-1-BLU"])} == {
        "MUG-1-RED": 4,
        "MUG-1-BLU": 0,
    }
    db.close()

    # A bad row: nothing changes, the error names file, line and column.
    before = {p: p.read_bytes() for p in settings.store_path.rglob("*") if p.is_file()}
    (tmp_path / "bad.csv").write_text(CSV.replace("$12.50", "twelve"), encoding="utf-8")
    other = tmp_path / "elsewhere"
    result = _run(
        settings,
        monkeypatch,
        "store",
        "import",
        str(tmp_path / "bad.csv"),
        "--mapping",
        str(tmp_path / "map.yaml"),
        "--store-dir",
        str(other),
    )
    assert result.exit_code == 2
    assert "bad.csv:3:" in result.stderr and "'Variant Price'" in result.stderr
    assert not other.exists()
    assert before == {p: p.read_bytes() for p in settings.store_path.rglob("*") if p.is_file()}


def test_store_import_dry_run(tmp_path: Path, monkeypatch) -> None:
    settings, _ = _home(tmp_path / "home")
    (tmp_path / "catalog.csv").write_text(CSV, encoding="utf-8")
    (tmp_path / "map.yaml").write_text(MAPPING, encoding="utf-8")
    before = (settings.store_path / "products.jsonl").read_bytes()
    result = _run(
        settings,
        monkeypatch,
        "store",
        "import",
        str(tmp_path / "catalog.csv"),
        "-m",
        str(tmp_path / "map.yaml"),
        "--dry-run",
    )
    assert result.exit_code == 0 and "would import 2 rows" in result.stdout
    assert (settings.store_path / "products.jsonl").read_bytes() == before
