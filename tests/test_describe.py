"""Product copy from a product's own data (``shopagent describe``), verified claim by claim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from factories import PRODUCTS, tiny_store
from shopagent.agent.answering.describe import describe
from shopagent.agent.cli import describe as cli_describe
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.schema import Product, Variant
from typer.testing import CliRunner

from shopagent.settings import Settings

LAMP = Product(
    id="L1",
    name="Lumen Desk Lamp",
    brand="Lumen",
    category="Office",
    description=(
        "A slim lamp for late work. Highlights: dimmable warm light, USB-C charging port and "
        "a weighted base. Folds flat for travel."
    ),
    attributes={"warranty": "2 years"},
    variants=[
        Variant(sku="L1-W", price="39.00", attributes={"color": "White"}),
        Variant(sku="L1-B", price="39.00", attributes={"color": "Black"}),
    ],
)


def test_copy_picks_features_for_the_need_and_is_verified() -> None:
    copy = describe(LAMP, need="I charge my phone at my desk")
    assert copy.verified, copy.problems
    assert copy.features[0] == "USB-C charging port"
    assert "White and Black" in copy.copy_text
    travel = describe(LAMP, need="something I can take travelling")
    assert "Folds flat for travel." in travel.features


def test_a_thousands_comma_is_not_a_list_comma() -> None:
    stove = LAMP.model_copy(
        update={"description": "Highlights: 10,000 BTU burner, piezo ignition and a wind guard."}
    )
    copy = describe(stove, need="a powerful burner")
    assert copy.verified, copy.problems
    assert "10,000 BTU burner" in copy.features and "000 BTU burner" not in copy.features
    assert "10, 000" not in copy.copy_text


def test_copy_states_nothing_the_data_lacks() -> None:
    for product in PRODUCTS:
        copy = describe(product)
        assert copy.verified, (product.name, copy.copy_text, copy.problems)
        assert ("final sale" in copy.copy_text) == product.final_sale


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path)
    db = StoreDB(settings.database)
    db.load(tiny_store())
    db.close()
    return settings


def _run(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str):
    monkeypatch.setattr(cli_describe, "_settings", lambda: settings)
    app = typer.Typer()
    cli_describe.register(app)
    app.command("noop")(lambda: None)  # two commands: the name is an argument, not implied
    return CliRunner().invoke(app, ["describe", *args])


def test_cli_by_name_and_by_category(settings: Settings, monkeypatch) -> None:
    name = PRODUCTS[0].name
    result = _run(settings, monkeypatch, name.lower(), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["product_id"] == PRODUCTS[0].id and data["verified"] and data["copy"]
    kitchen = [p for p in PRODUCTS if p.category == "Kitchen"]
    result = _run(settings, monkeypatch, "--category", "kitchen")
    assert result.exit_code == 0 and all(p.name in result.output for p in kitchen)


def test_cli_unknown_product_says_how_to_fix(settings: Settings, monkeypatch) -> None:
    result = _run(settings, monkeypatch, "No Such Thing")
    assert result.exit_code == 2 and "no product" in result.output and "fix:" in result.output
