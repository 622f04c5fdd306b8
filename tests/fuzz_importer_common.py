"""Hypothesis strategies for hostile catalog imports: a valid catalog's rows with hostile
cells, encodings, corruptions, CSV and JSON Lines files and hostile column mappings. Used by
tests/test_fuzz_importer.py, tests/test_fuzz_cli*.py and benchmarks/fuzz.py."""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

import yaml
from fuzz_common import HOSTILE, deep_json, hostile_text
from hypothesis import strategies as st

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
