"""Reading and writing a store directory: round trips, format errors and atomic writes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from shopagent.tools.store import writer
from shopagent.tools.store.files import read_store
from shopagent.tools.store.generate import generate_store
from shopagent.tools.store.schema import StoreData
from shopagent.tools.store.writer import write_store

from shopagent.errors import StoreFormatError

TODAY = date(2025, 6, 1)


@pytest.fixture(scope="module")
def data() -> StoreData:
    return generate_store(n_products=40, n_customers=15, n_orders=30, today=TODAY)


@pytest.fixture
def store(tmp_path: Path, data: StoreData) -> Path:
    directory = tmp_path / "store"
    write_store(data, directory)
    return directory


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def _edit_line(path: Path, number: int, change: Callable[[dict[str, Any]], None]) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    record = json.loads(lines[number - 1])
    change(record)
    lines[number - 1] = json.dumps(record)
    path.write_text("\n".join(lines), encoding="utf-8")


def _line(path: Path, number: int) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8").split("\n")[number - 1])


def _error(store: Path) -> StoreFormatError:
    with pytest.raises(StoreFormatError) as info:
        read_store(store)
    return info.value


# --- round trips ------------------------------------------------------------------------


def test_round_trip_equals(store: Path, data: StoreData) -> None:
    assert read_store(store) == data


def test_rewriting_a_read_store_gives_identical_files(store: Path, tmp_path: Path) -> None:
    write_store(read_store(store), tmp_path / "again")
    assert _snapshot(tmp_path / "again") == _snapshot(store)


def test_layout_and_number_formats(store: Path, data: StoreData) -> None:
    names = set(_snapshot(store))
    assert {
        "store.yaml",
        "products.jsonl",
        "stock.jsonl",
        "customers.jsonl",
        "orders.jsonl",
        "policy/rules.yaml",
        "policy/returns.md",
    } <= names
    assert {f"policy/{stem}.md" for stem in data.policy_docs} <= names
    products = (store / "products.jsonl").read_text(encoding="utf-8")
    prices = re.findall(r'"(?:unit_)?price": ([^,}]+)', products)
    assert len(prices) == sum(len(p.variants) for p in data.products)
    assert all(re.fullmatch(r"\d+\.\d\d", price) for price in prices)
    orders = [json.loads(line) for line in (store / "orders.jsonl").read_text().splitlines()]
    for order in orders:
        datetime.fromisoformat(order["placed_at"])
        assert ("carrier" in order) == ("shipped_at" in order)  # None fields are left out
        if "shipped_at" in order:
            assert date.fromisoformat(order["shipped_at"]).isoformat() == order["shipped_at"]
    assert "restocking_fee_pct: 15\n" in (store / "policy/rules.yaml").read_text()


def test_blank_lines_and_crlf_are_allowed(store: Path, data: StoreData) -> None:
    path = store / "customers.jsonl"
    text = path.read_text(encoding="utf-8")
    path.write_text("\n\n" + text.replace("\n", "\r\n\n"), encoding="utf-8")
    assert read_store(store).customers == data.customers


def test_extra_policy_documents_are_read(store: Path) -> None:
    (store / "policy" / "shipping.md").write_text("# Shipping\n\n## Rates\n\nFree.\n")
    assert read_store(store).policy_docs["shipping"].startswith("# Shipping")


# --- format errors ------------------------------------------------------------------------


def test_error_message_names_file_line_and_field(store: Path) -> None:
    _edit_line(store / "products.jsonl", 17, lambda r: r["variants"][0].update(price=-1))
    error = _error(store)
    assert (error.file, error.line, error.field) == ("products.jsonl", 17, "variants.0.price")
    assert str(error).startswith("products.jsonl:17: price must be >= 0 (field 'variants.0.price')")


def test_invalid_json(store: Path) -> None:
    path = store / "orders.jsonl"
    lines = path.read_text().split("\n")
    lines[4] = lines[4][:-1]
    path.write_text("\n".join(lines))
    error = _error(store)
    assert (error.file, error.line) == ("orders.jsonl", 5)
    assert "invalid JSON" in str(error)


def test_json_that_is_not_an_object(store: Path) -> None:
    with (store / "stock.jsonl").open("a") as handle:
        handle.write("[1, 2]\n")
    error = _error(store)
    assert error.file == "stock.jsonl"
    assert "expected a JSON object" in str(error)


@pytest.mark.parametrize(
    ("file", "change", "field", "message"),
    [
        ("customers.jsonl", lambda r: r.pop("name"), "name", "name is required"),
        ("customers.jsonl", lambda r: r.update(email="not-an-email"), "email", "email"),
        ("products.jsonl", lambda r: r.update(colour="red"), "colour", "unknown field"),
        ("products.jsonl", lambda r: r.update(variants=[]), "variants", "at least 1 item"),
        ("orders.jsonl", lambda r: r.update(status="lost"), "status", "must be one of"),
        ("stock.jsonl", lambda r: r.update(stock=-3), "stock", "stock must be >= 0"),
    ],
)
def test_schema_violations(
    store: Path,
    file: str,
    change: Callable[[dict[str, Any]], None],
    field: str,
    message: str,
) -> None:
    _edit_line(store / file, 3, change)
    error = _error(store)
    assert (error.file, error.line, error.field) == (file, 3, field)
    assert message in str(error)


@pytest.mark.parametrize(
    "name",
    [
        "store.yaml",
        "products.jsonl",
        "stock.jsonl",
        "customers.jsonl",
        "orders.jsonl",
        "policy/rules.yaml",
    ],
)
def test_missing_file(store: Path, name: str) -> None:
    (store / name).unlink()
    error = _error(store)
    assert error.file == name
    assert "missing file" in str(error)


def test_missing_directory(tmp_path: Path) -> None:
    error = _error(tmp_path / "nowhere")
    assert "does not exist" in str(error)


@pytest.mark.parametrize(
    ("file", "key", "field", "what"),
    [
        ("products.jsonl", "id", "id", "duplicate product id"),
        ("customers.jsonl", "id", "id", "duplicate customer id"),
        ("orders.jsonl", "number", "number", "duplicate order number"),
        ("stock.jsonl", "sku", "sku", "duplicate stock row for SKU"),
    ],
)
def test_duplicate_keys(store: Path, file: str, key: str, field: str, what: str) -> None:
    first = _line(store / file, 2)[key]
    _edit_line(store / file, 6, lambda r: r.update({key: first}))
    error = _error(store)
    assert (error.file, error.line, error.field) == (file, 6, field)
    assert what in str(error) and "first on line 2" in str(error)


def test_duplicate_sku_across_products(store: Path) -> None:
    sku = _line(store / "products.jsonl", 1)["variants"][0]["sku"]
    _edit_line(store / "products.jsonl", 9, lambda r: r["variants"][-1].update(sku=sku))
    error = _error(store)
    assert (error.file, error.line) == ("products.jsonl", 9)
    assert error.field.endswith(".sku") and "duplicate SKU" in str(error)


def test_duplicate_email_ignores_case(store: Path) -> None:
    email = _line(store / "customers.jsonl", 1)["email"].upper()
    _edit_line(store / "customers.jsonl", 4, lambda r: r.update(email=email))
    error = _error(store)
    assert (error.file, error.line, error.field) == ("customers.jsonl", 4, "email")


def test_stock_for_unknown_sku(store: Path) -> None:
    _edit_line(store / "stock.jsonl", 7, lambda r: r.update(sku="NOPE-1"))
    error = _error(store)
    assert (error.file, error.line, error.field) == ("stock.jsonl", 7, "sku")
    assert "unknown SKU 'NOPE-1'" in str(error)


def test_order_item_for_unknown_sku(store: Path) -> None:
    _edit_line(store / "orders.jsonl", 8, lambda r: r["items"][0].update(sku="NOPE-1"))
    error = _error(store)
    assert (error.file, error.line, error.field) == ("orders.jsonl", 8, "items.0.sku")
    assert "unknown SKU" in str(error)


def test_order_item_with_wrong_product(store: Path) -> None:
    _edit_line(store / "orders.jsonl", 8, lambda r: r["items"][0].update(product_id="P-999999"))
    error = _error(store)
    assert (error.line, error.field) == (8, "items.0.product_id")


def test_order_for_unknown_customer(store: Path) -> None:
    _edit_line(store / "orders.jsonl", 2, lambda r: r.update(customer_id="C-NOPE"))
    error = _error(store)
    assert (error.file, error.line, error.field) == ("orders.jsonl", 2, "customer_id")
    assert "unknown customer 'C-NOPE'" in str(error)


def _first_order_line(store: Path, status: str) -> int:
    lines = (store / "orders.jsonl").read_text().split("\n")
    return next(i for i, line in enumerate(lines, 1) if f'"status": "{status}"' in line)


def test_status_without_its_date(store: Path) -> None:
    line = _first_order_line(store, "delivered")
    _edit_line(store / "orders.jsonl", line, lambda r: r.pop("delivered_at"))
    error = _error(store)
    assert (error.line, error.field) == (line, "delivered_at")
    assert "required when status is 'delivered'" in str(error)


def test_dates_out_of_order(store: Path) -> None:
    line = _first_order_line(store, "delivered")
    _edit_line(store / "orders.jsonl", line, lambda r: r.update(delivered_at="2000-01-01"))
    error = _error(store)
    assert (error.line, error.field) == (line, "delivered_at")
    assert "is before shipped_at" in str(error)


def test_invalid_yaml_points_at_the_line(store: Path) -> None:
    (store / "store.yaml").write_text("name: Shop\ncurrency: [USD\n")
    error = _error(store)
    assert error.file == "store.yaml" and error.line >= 2
    assert "invalid YAML" in str(error)


def test_yaml_schema_error_points_at_the_key(store: Path) -> None:
    path = store / "policy" / "rules.yaml"
    lines = path.read_text().split("\n")
    start = lines.index("  Electronics:")
    offset = next(i for i in range(start, len(lines)) if "window_days" in lines[i])
    lines[offset] = "    window_days: -5"
    path.write_text("\n".join(lines))
    error = _error(store)
    assert (error.file, error.line) == ("policy/rules.yaml", offset + 1)
    assert error.field == "categories.Electronics.window_days"
    assert "window_days must be >= 0" in str(error)


def test_yaml_missing_key_and_non_mapping(store: Path) -> None:
    (store / "store.yaml").write_text("currency: USD\n")
    error = _error(store)
    assert (error.file, error.field) == ("store.yaml", "name")
    (store / "store.yaml").write_text("- just\n- a list\n")
    assert "expected a mapping" in str(_error(store))


def test_invalid_utf8_reports_the_line(store: Path) -> None:
    path = store / "customers.jsonl"
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b'"name": "', b'"name": "\xff')
    path.write_bytes(b"\n".join(lines))
    error = _error(store)
    assert (error.file, error.line) == ("customers.jsonl", 3)


# --- writing ------------------------------------------------------------------------------


def test_failed_write_leaves_existing_store_untouched(
    store: Path, data: StoreData, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(store)
    real = writer._write_jsonl

    def broken(path: Path, records: Any) -> None:
        if path.name == "orders.jsonl":
            raise OSError("disk full")
        real(path, records)

    monkeypatch.setattr(writer, "_write_jsonl", broken)
    changed = data.model_copy(update={"products": data.products[:5]})
    with pytest.raises(OSError, match="disk full"):
        write_store(changed, store)
    assert _snapshot(store) == before
    assert [p.name for p in store.parent.iterdir()] == ["store"]


def test_write_replaces_an_existing_store(store: Path, data: StoreData) -> None:
    smaller = data.model_copy(update={"products": data.products[:3], "stock": [], "orders": []})
    write_store(smaller, store)
    assert len(read_store(store).products) == 3
    assert [p.name for p in store.parent.iterdir()] == ["store"]


def test_write_creates_missing_parents(tmp_path: Path, data: StoreData) -> None:
    write_store(data, tmp_path / "a" / "b" / "store")
    assert read_store(tmp_path / "a" / "b" / "store") == data


def test_write_refuses_to_replace_a_non_store_directory(tmp_path: Path, data: StoreData) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.txt").write_text("keep me")
    with pytest.raises(StoreFormatError, match="refusing to replace"):
        write_store(data, tmp_path / "home")
    assert (tmp_path / "home" / "notes.txt").read_text() == "keep me"


def test_write_rejects_unsafe_policy_doc_names(tmp_path: Path, data: StoreData) -> None:
    bad = data.model_copy(update={"policy_docs": {"../escape": "# nope"}})
    with pytest.raises(StoreFormatError, match="invalid policy document name"):
        write_store(bad, tmp_path / "store")
    assert list(tmp_path.iterdir()) == []


def test_examples_in_the_format_doc_form_a_valid_store(tmp_path: Path) -> None:
    doc = (Path(__file__).parents[1] / "docs" / "store-format.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(yaml|json|markdown)\n(.*?)```", doc, re.S)
    yamls = [text for kind, text in blocks if kind == "yaml"]
    jsons = [text for kind, text in blocks if kind == "json"]
    (tmp_path / "policy").mkdir()
    (tmp_path / "store.yaml").write_text(yamls[0], encoding="utf-8")
    (tmp_path / "policy" / "rules.yaml").write_text(yamls[1], encoding="utf-8")
    for name, text in zip(("products", "stock", "customers", "orders"), jsons, strict=True):
        (tmp_path / f"{name}.jsonl").write_text(text, encoding="utf-8")
    example = read_store(tmp_path)
    assert example.policy.rule_for("electronics").restocking_fee_pct == 15
    assert example.orders[0].items[0].sku == example.products[0].variants[0].sku
