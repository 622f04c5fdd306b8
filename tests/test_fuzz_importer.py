"""Hostile files through the store importer (CSV / JSON Lines + YAML column mapping) and
hostile store directories through the store reader.

Files are built from a valid catalog, then broken: hostile cell values (SQL and prompt
injection, spreadsheet formulas, NULs, lone surrogates, fields over the CSV field limit,
prices like ``1e309`` or ``NaN``, wrong JSON types, deep JSON), encodings (BOM, UTF-16,
Latin-1, bytes that are not UTF-8), line endings, broken quoting, and hostile mappings
(unknown targets, hostile delimiters, YAML alias bombs, deep nesting).

Expected, always: the import succeeds and the store still reads back with its customers,
orders and policy untouched, or it raises ``StoreFormatError`` and the store directory is
byte for byte what it was, with no staging directory left behind. Never another exception.
A store directory is either read into a store the database loads, or refused with
``StoreFormatError``. ``benchmarks/fuzz.py`` runs the same properties with more inputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fuzz_importer_targets_common
import pytest
import yaml
from fuzz_common import Outcome, deep_json, fuzz_settings
from fuzz_importer_common import COLUMNS, EXAMPLES, RAW_MAPPINGS, imports
from fuzz_importer_targets_common import ImportTarget, StoreDirTarget, store_edits
from hypothesis import given
from shopagent.tools.store import files, parsing
from shopagent.tools.store.importer import import_catalog

from shopagent.errors import StoreFormatError

# shared fixtures
store_dir = fuzz_importer_targets_common.store_dir
target = fuzz_importer_targets_common.target


@fuzz_settings(EXAMPLES * 3)
@given(case=imports)
def test_hostile_imports_are_all_or_nothing(target: ImportTarget, case: dict[str, Any]) -> None:
    outcome = target.run(case)
    assert not outcome.problems, outcome.explain(repr(case)[:800])


@fuzz_settings(EXAMPLES * 2)
@given(edit=store_edits)
def test_hostile_store_directories_are_read_or_refused(store_dir, edit: dict[str, Any]) -> None:
    outcome = store_dir.run(edit)
    assert not outcome.problems, outcome.explain(repr(edit)[:800])


def _case(content: bytes, mapping: bytes | None = None, kind: str = "csv") -> dict[str, Any]:
    class Fixed:  # stands in for hypothesis' data(): always draws this file
        def draw(self, _: Any) -> bytes:
            return content

    default = yaml.safe_dump({"columns": COLUMNS}).encode()
    suffix = ".csv" if kind == "csv" else ".jsonl"
    return {"kind": kind, "suffix": suffix, "fmt": None, "mapping": mapping or default,
            "dry_run": False, "data": Fixed()}  # fmt: skip


HEADER = ",".join(COLUMNS).encode()
KNOWN = [
    # found by the fuzzer; each was an exception other than StoreFormatError
    _case(HEADER + b"\nN1,T,B,C,D,,no,FZ-1,1," + b"x" * 200_000 + b",1,,"),  # csv field limit
    _case(
        b'{"id": "N1", "title": "\\ud800", "brand": "B", "category": "C", "sku": "S", "price": 1}',
        kind="jsonl",
    ),
    _case(deep_json(5_000, "dict").encode(), kind="jsonl"),
    _case(HEADER + b"\nN1,T,B,C,D,,no,FZ-1,1,USD,1,,", mapping=b"columns: " + b"[" * 5_000),
    _case(HEADER + b"\nN1,T,B,C,D,,no,FZ-1,1,USD,1,,", mapping=RAW_MAPPINGS[-1].encode()),
    _case(HEADER + b"\nN1,=HYPERLINK(),B,C,D,,no,FZ-1,NaN,USD,1,,"),
    # more digits than Decimal carries (InvalidOperation), more stock than SQLite holds
    _case(HEADER + b"\nN1,T,B,C,D,,no,FZ-1," + b"9" * 40 + b",USD,1,,"),
    _case(HEADER + b"\nN1,T,B,C,D,,no,FZ-1,1,USD,1e30,,"),
    _case(HEADER + b"\nN1,T,B,C,D,,no,FZ-1,1,USD,1E+999999999,,"),
    # an alias bomb where a literal is expected: rendering the value took minutes
    _case(
        HEADER + b"\nN1,T,B,C,D,,no,FZ-1,1,USD,1,,",
        mapping=RAW_MAPPINGS[-1].replace("columns: *i", "mode: *i").encode()
        + yaml.safe_dump({"columns": COLUMNS}).encode(),
    ),
]


@pytest.mark.parametrize("case", KNOWN, ids=range(len(KNOWN)))
def test_known_hostile_imports(target: ImportTarget, case: dict[str, Any]) -> None:
    outcome = target.run(case)
    assert not outcome.problems, outcome.explain(repr(case)[:800])
    assert outcome.status == "4xx"


def _refusal(content: bytes, mapping: bytes, tmp_path: Path, kind: str = "jsonl") -> Any:
    source, mapping_file = tmp_path / f"catalog.{kind}", tmp_path / "mapping.yaml"
    source.write_bytes(content)
    mapping_file.write_bytes(mapping)
    with pytest.raises(StoreFormatError) as caught:
        import_catalog(source, mapping_file, tmp_path / "store")
    assert not (tmp_path / "store").exists()
    return caught.value


def test_deep_input_is_refused_with_file_line_and_hint(tmp_path: Path) -> None:
    """Over-deep JSON lines and YAML name the file and line, and say how to fix them."""
    mapping = yaml.safe_dump({"columns": COLUMNS}).encode()
    row = {"id": "N1", "title": "T", "brand": "B", "category": "C", "sku": "S1", "price": "1"}
    good = json.dumps({c: row.get(c, "") for c in COLUMNS}).encode()
    for depth in (parsing.MAX_NESTING + 1, 999, 5_000, 100_000):
        error = _refusal(good + b"\n\n" + deep_json(depth, "dict").encode(), mapping, tmp_path)
        assert (error.file, error.line) == ("catalog.jsonl", 3), error
        assert "nested too deeply" in str(error) and "flatten" in error.hint
        error = _refusal(good, mapping + b"defaults:\n  name: " + b"[" * depth, tmp_path)
        assert error.file == "mapping.yaml" and error.line > 1, error
        assert "nested too deeply" in str(error)
    # as deep as allowed is fine (the extra column is not mapped)
    nested = good[:-1] + b', "x": ' + deep_json(parsing.MAX_NESTING - 1).encode() + b"}"
    assert parsing.nesting_depth(json.loads(nested)) == parsing.MAX_NESTING
    (tmp_path / "ok.jsonl").write_bytes(nested)
    (tmp_path / "ok.yaml").write_bytes(mapping)
    result = import_catalog(tmp_path / "ok.jsonl", tmp_path / "ok.yaml", tmp_path / "s")
    assert result.rows == 1 and result.added == 1


def test_nesting_depth_measures_shared_and_cyclic_values() -> None:
    shared: list[Any] = [[1]]
    assert parsing.nesting_depth(7) == 0
    assert parsing.nesting_depth({"a": shared, "b": [shared]}) == 4
    bomb = yaml.safe_load(RAW_MAPPINGS[-1])  # 9**9 leaves when expanded
    assert parsing.nesting_depth(bomb) == 10
    cycle: list[Any] = []
    cycle.append(cycle)
    assert parsing.nesting_depth(cycle) > parsing.MAX_NESTING
    deep: list[Any] = []
    for _ in range(50_000):  # deeper than any recursion could measure
        deep = [deep]
    assert parsing.nesting_depth(deep) == 50_001


def test_a_clean_import_is_accepted_and_checked(target: ImportTarget) -> None:
    """The harness accepts what is valid (and checks the store it wrote)."""
    good = HEADER + b"\nN1,Fuzz Kettle,Acme,Kitchen,A kettle.,,no,FZ-1,$12.50,USD,5,red,steel\n"
    outcome = target.run(_case(good))
    assert outcome == Outcome("2xx"), outcome.explain("a valid file")
    assert any(p.id == "N1" for p in files.read_store(target.store).products)


def _field_edit(file: str, field: str, value: Any) -> dict[str, Any]:
    return {"file": file, "edit": "field", "field": field, "value": value, "content": b""}


KNOWN_DIRS = [
    # found by benchmarks/fuzz.py: InvalidOperation and SQLite overflow, not StoreFormatError
    _field_edit(files.STOCK_FILE, "stock", 10**30),
    _field_edit(
        files.PRODUCTS_FILE,
        "variants",
        [{"sku": "FZ-9", "price": int("9" * 40), "currency": "USD", "attributes": {}}],
    ),
    _field_edit(
        files.STORE_FILE,
        "name",
        [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    ),
]


@pytest.mark.parametrize("edit", KNOWN_DIRS, ids=range(len(KNOWN_DIRS)))
def test_known_hostile_store_directories(store_dir: StoreDirTarget, edit: dict[str, Any]) -> None:
    outcome = store_dir.run(edit)
    assert not outcome.problems, outcome.explain(repr(edit)[:800])
    assert outcome.status == "4xx"
