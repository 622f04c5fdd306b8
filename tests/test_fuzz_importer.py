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

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from factories import tiny_store
from fuzz_common import HOSTILE, Outcome, deep_json, fuzz_settings, hostile_text
from hypothesis import given
from hypothesis import strategies as st
from shopagent.tools.store import files, parsing, writer
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.importer import import_catalog

from shopagent.errors import StoreFormatError

EXAMPLES = int(os.environ.get("SHOPAGENT_FUZZ_EXAMPLES", "60"))

COLUMNS = {
    "id": "product_id",
    "title": "name",
    "brand": "brand",
    "category": "category",
    "description": "description",
    "tags": "tags",
    "final": "final_sale",
    "sku": "sku",
    "price": "price",
    "currency": "currency",
    "stock": "stock",
    "color": "variant.color",
    "material": "attributes.material",
}
VALID = {
    "id": ["N1", "N2", "N3", "P1"],  # P1 exists: an update
    "title": ["Fuzz Kettle", "Camp Mug"],
    "brand": ["Acme", "Hearth"],
    "category": ["Kitchen", "Outdoor"],
    "description": ["A mug.", ""],
    "tags": ["camp, mug", ""],
    "final": ["no", "yes", ""],
    "sku": ["FZ-1", "FZ-2", "FZ-3", "FZ-4", "K-200"],  # K-200 belongs to P2
    "price": ["$12.50", "1.299,00 €", "9.99", "12"],
    "currency": ["USD", "EUR", ""],
    "stock": ["0", "5", "12", ""],
    "color": ["red", "blue", ""],
    "material": ["steel", ""],
}
NASTY_CELLS = [
    "",
    "NaN",
    "Infinity",
    "-1",
    "-0",
    "1e309",
    "9" * 400,
    "1.5",
    "1,2,3.4.5",
    "0x10",
    "1_000",
    "١٢٣",  # Arabic-Indic digits
    "𝟙𝟚",  # mathematical digits
    "$",
    "€€1",
    "USD USD 5",
    "=1+1",
    "@SUM(A1:A9)",
    "+1",
    " ",
    "\t",
    '"',
    "a\nb",
    "x" * 70,  # longer than a SKU may be
]
cells = st.one_of(
    st.sampled_from(NASTY_CELLS),
    hostile_text,
    st.integers(1_000, 200_000).map(lambda n: "x" * n),  # past the CSV field limit
)
json_cells = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | cells,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(cells, inner, max_size=3),
    max_leaves=5,
)


@st.composite
def rows(draw: st.DrawFn, json_values: bool) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(0, 4))):
        row: dict[str, Any] = {}
        for column, values in VALID.items():
            if draw(st.integers(0, 5)) == 0:
                row[column] = draw(json_cells if json_values else cells)
            elif draw(st.integers(0, 15)):
                row[column] = draw(st.sampled_from(values))
        out.append(row)
    return out


_legal_text = hostile_text.map(lambda t: t.encode("utf-8", "ignore").decode("utf-8"))
"""Hostile text a valid file can hold (no lone surrogates): it must be stored as it is."""


_SHORT_HOSTILE = [h for h in HOSTILE if h.strip() and len(h) <= 64 and h.isprintable()]


@st.composite
def clean_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Rows a valid import is made of (unique ids and SKUs, valid prices), with hostile text
    in every free-text column: SQL and prompt injection, markup, formulas, controls."""
    out = []
    for i in range(draw(st.integers(1, 4))):
        row = {c: draw(_legal_text | st.sampled_from(VALID[c])) for c in VALID}
        for short in ("brand", "category"):  # at most 64 characters, not blank
            row[short] = draw(st.sampled_from(VALID[short] + _SHORT_HOSTILE))
        row.update(
            id=f"C{i}",
            sku=f"CS-{i}",
            final=draw(st.sampled_from(VALID["final"])),
            price=draw(st.sampled_from(VALID["price"])),
            currency=draw(st.sampled_from(VALID["currency"])),
            stock=draw(st.sampled_from(VALID["stock"])),
        )
        out.append(row)
    return out


def _encode(text: str, how: str) -> bytes:
    if how == "utf-8-sig":
        return text.encode("utf-8-sig", "surrogatepass")
    if how in ("utf-16", "latin-1"):
        return text.encode(how, "replace")
    return text.encode("utf-8", "surrogatepass")  # lone surrogates: not UTF-8


encodings = st.sampled_from(["utf-8"] * 5 + ["utf-8-sig", "utf-16", "latin-1"])
corruptions = st.one_of(
    st.none(),
    st.none(),
    st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=8)),
)


def _corrupt(data: bytes, corruption: tuple[int, bytes] | None) -> bytes:
    if corruption is None:
        return data
    at, junk = corruption
    at %= len(data) + 1
    return data[:at] + junk + data[at:]


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header = list(COLUMNS)
    if draw(st.integers(0, 3)) == 0:  # valid, hostile text in every free-text column
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")  # CR and LF in cells get quoted
        writer.writerows([header, *([r[c] for c in header] for r in draw(clean_rows()))])
        return buffer.getvalue().encode("utf-8")
    if draw(st.integers(0, 6)) == 0:
        header = draw(st.permutations(header))[: draw(st.integers(0, len(header)))]
        header += draw(st.lists(cells, max_size=2))
    body = draw(rows(json_values=False))
    if draw(st.integers(0, 5)):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])))
        writer.writerow(header)
        for row in body:
            writer.writerow([row.get(c, "") for c in header])
        text = buffer.getvalue()
    else:  # no quoting at all: embedded commas, quotes and newlines break the rows
        text = "\n".join(",".join(str(r.get(c, "")) for c in header) for r in [{}, *body])
        text = ",".join(header) + text
    return _corrupt(_encode(text, draw(encodings)), draw(corruptions))


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 3)) == 0:  # valid, hostile text in every free-text column
        text = "\n".join(json.dumps(r, ensure_ascii=False) for r in draw(clean_rows()))
        return text.encode("utf-8")
    lines = []
    for row in draw(rows(json_values=True)):
        if draw(st.integers(0, 8)) == 0:
            row = {"offer": row}  # nested: only dotted mappings would reach it
        lines.append(json.dumps(row, ensure_ascii=draw(st.booleans())))
    if draw(st.integers(0, 3)) == 0:
        lines.insert(
            draw(st.integers(0, len(lines))),
            draw(
                st.sampled_from(["[1, 2]", "not json", '{"sku":', "NaN", "null", '"x"', ""])
                | st.integers(1, 30_000).map(lambda d: deep_json(d, "dict"))
                | st.integers(1, 30_000).map(deep_json)
            ),
        )
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    return _corrupt(_encode(text, draw(encodings)), draw(corruptions))


_mapping_edits = st.fixed_dictionaries(
    {},
    optional={
        "format": st.sampled_from(["csv", "jsonl", "xlsx", None]),
        "currency": st.sampled_from(["EUR", "usd", "US", "€", ""]) | hostile_text,
        "delimiter": st.sampled_from([";", "\t", "|", '"', "\x00", "\n", ",,", ""]),
        "tag_separator": st.sampled_from(["|", "", ",,"]) | hostile_text,
        "mode": st.sampled_from(["merge", "replace", "append"]),
        "attribute_prefix": st.sampled_from(["attr_", "", "x"]) | hostile_text,
        "store_name": st.sampled_from(["", "Fuzz Store"]) | hostile_text,
        "defaults": st.dictionaries(
            st.sampled_from(["name", "brand", "category", "currency", "sku", "stock", "price"])
            | hostile_text,
            cells | json_cells,
            max_size=3,
        ),
        "extra": hostile_text,
    },
)
RAW_MAPPINGS = [
    "",
    "null",
    "- a list",
    "columns: [1, 2]",
    "columns: {sku: sku, price: price, title: name, brand: brand, category: category",
    "columns:\n\tsku: sku",
    "!!python/object/apply:os.system ['echo pwned']",
    # an alias bomb: nine levels of nine references
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "columns: *i\n",
]


@st.composite
def mappings(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        text = draw(
            st.sampled_from(RAW_MAPPINGS)
            | st.integers(1, 20_000).map(lambda d: "columns: " + deep_json(d))
            | st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
        )
        return _encode(text, draw(encodings))
    columns = dict(COLUMNS)
    if kind == 1:
        for column in draw(st.lists(st.sampled_from(list(COLUMNS)), max_size=3)):
            columns.pop(column, None)
        columns.update(
            draw(st.dictionaries(cells, cells | st.sampled_from(["ignore"]), max_size=2))
        )
    mapping: dict[str, Any] = {"columns": columns}
    if kind in (2, 3, 4):
        mapping.update(draw(_mapping_edits))
    text = yaml.safe_dump(mapping, allow_unicode=draw(st.booleans()), sort_keys=False)
    return _corrupt(_encode(text, draw(encodings)), draw(corruptions))


imports = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["csv", "jsonl"]),
        "suffix": st.sampled_from([".csv", ".jsonl", ".json", ".txt", ".xlsx", ""]),
        "fmt": st.sampled_from([None, None, "csv", "jsonl"]),
        "mapping": mappings(),
        "dry_run": st.booleans(),
        "data": st.data(),
    }
)


# --------------------------------------------------------------------------- harness


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (relative path -> bytes)."""
    if not directory.exists():
        return {}
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def _attempt(call: Callable[[], object]) -> Outcome:
    """Run ``call``: accepted (2xx), refused with a StoreFormatError that says why (4xx), or
    anything else (a crash)."""
    outcome = Outcome("2xx")
    try:
        call()
    except StoreFormatError as exc:
        outcome.status = "4xx"
        if not str(exc).strip():
            outcome.add("shape", "StoreFormatError without a message")
    except Exception as exc:
        outcome.status = "5xx"
        outcome.add("crash", f"{type(exc).__name__}: {exc}"[:300])
    return outcome


class ImportTarget:
    """A store directory (the tiny store) to import into, reset every ``reset_every`` inputs
    so that successful imports do not pile up."""

    def __init__(self, root: Path, reset_every: int = 100) -> None:
        self.root = root
        self.store = root / "shop" / "store"
        self.reset_every = reset_every
        self.count = 0
        self.base = tiny_store()
        self.reset()

    def reset(self) -> None:
        shutil.rmtree(self.store.parent, ignore_errors=True)
        writer.write_store(self.base, self.store)

    def run(self, case: dict[str, Any]) -> Outcome:
        """One import of hostile files; every problem in the outcome."""
        self.count += 1
        if self.count % self.reset_every == 0:
            self.reset()
        draw = case["data"].draw
        content = draw(csv_files() if case["kind"] == "csv" else jsonl_files())
        work = Path(tempfile.mkdtemp(prefix="in-", dir=self.root))
        source = work / f"catalog{case['suffix']}"
        source.write_bytes(content)
        mapping = work / "mapping.yaml"
        mapping.write_bytes(case["mapping"])
        before = snapshot(self.store)
        outcome = _attempt(
            lambda: import_catalog(
                source, mapping, self.store, fmt=case["fmt"], dry_run=case["dry_run"]
            )
        )
        after = snapshot(self.store)
        if outcome.status != "2xx" or case["dry_run"]:
            if after != before:
                outcome.add("partial_write", "the store changed though nothing was imported")
        else:
            self._check_store(outcome)
        left = [p.name for p in self.store.parent.iterdir() if p.name != self.store.name]
        if left:
            outcome.add("partial_write", f"left behind next to the store: {left}")
        shutil.rmtree(work, ignore_errors=True)
        return outcome

    def _check_store(self, outcome: Outcome) -> None:
        """After an import: the store reads back, loads, and kept everything but products."""
        try:
            data = files.read_store(self.store)
            StoreDB.in_memory(data).close()
        except Exception as exc:
            outcome.add("crash", f"imported store does not load: {exc!r}"[:300])
            return
        for part in ("customers", "orders", "policy", "policy_docs"):
            if getattr(data, part) != getattr(self.base, part):
                outcome.add("partial_write", f"the import changed the store's {part}")


# --------------------------------------------------------------------------- store dirs

STORE_FILES = [
    files.STORE_FILE,
    files.PRODUCTS_FILE,
    files.STOCK_FILE,
    files.CUSTOMERS_FILE,
    files.ORDERS_FILE,
    files.RULES_FILE,
    f"{files.POLICY_DIR}/returns.md",
]
_records = st.fixed_dictionaries(
    {},
    optional={
        k: json_cells
        for k in ("id", "sku", "name", "email", "price", "stock", "status", "variants", "items")
    },
)
store_edits = st.fixed_dictionaries(
    {
        "file": st.sampled_from(STORE_FILES),
        "edit": st.sampled_from(["replace", "line", "append", "delete", "directory", "field"]),
        "content": st.one_of(
            hostile_text.map(lambda s: s.encode("utf-8", "surrogatepass")),
            st.binary(max_size=200),
            st.integers(1, 30_000).map(lambda d: deep_json(d).encode()),
            _records.map(lambda r: json.dumps(r).encode()),
            st.sampled_from(
                [
                    b'name: "\\ud800"',
                    b"name: !!binary aGVsbG8=",
                    b"a: &a [*a]",
                    RAW_MAPPINGS[-1].encode(),
                    b"\xef\xbb\xbf" + b'{"id": "P9"}',
                    b"\x00" * 10,
                ]
            ),
        ),
        "field": st.sampled_from(["name", "email", "price", "sku", "status", "id", "currency"]),
        "value": json_cells,
    }
)


class StoreDirTarget:
    """A valid tiny store directory, with one file broken per input."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = root / "base"
        writer.write_store(tiny_store(), self.base)

    def run(self, edit: dict[str, Any]) -> Outcome:
        work = Path(tempfile.mkdtemp(prefix="dir-", dir=self.root)) / "store"
        shutil.copytree(self.base, work)
        path = work / edit["file"]
        content: bytes = edit["content"]
        if edit["edit"] == "replace":
            path.write_bytes(content)
        elif edit["edit"] == "append":
            path.write_bytes(path.read_bytes() + content)
        elif edit["edit"] == "line":
            lines = path.read_bytes().split(b"\n")
            lines[len(content) % len(lines)] = content
            path.write_bytes(b"\n".join(lines))
        elif edit["edit"] == "delete":
            path.unlink()
        elif edit["edit"] == "directory":
            path.unlink()
            path.mkdir()
        elif path.suffix == ".jsonl":  # one field of the first record gets a hostile value
            lines = path.read_text(encoding="utf-8").split("\n")
            record = json.loads(lines[0])
            record[edit["field"]] = edit["value"]
            lines[0] = json.dumps(record)
            path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
        else:
            text = (
                path.read_text(encoding="utf-8") + f"\n{edit['field']}: {json.dumps(edit['value'])}"
            )
            path.write_bytes(text.encode("utf-8", "surrogatepass"))
        outcome = _attempt(lambda: StoreDB.in_memory(files.read_store(work)).close())
        shutil.rmtree(work.parent, ignore_errors=True)
        return outcome


# --------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> ImportTarget:
    return ImportTarget(tmp_path_factory.mktemp("fuzz-import"))


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> StoreDirTarget:
    return StoreDirTarget(tmp_path_factory.mktemp("fuzz-store-dir"))


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
