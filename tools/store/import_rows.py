"""Read the rows of a catalog import file (CSV or JSON Lines) with the line each starts on.

JSON objects are flattened to dotted column names (``offer.price``); nothing is interpreted
here beyond the file's own syntax.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopagent.tools.store.import_mapping import ColumnMapping, Format
from shopagent.tools.store.parsing import MAX_NESTING, nesting_depth, too_deep

from shopagent.errors import StoreFormatError


@dataclass
class Row:
    line: int
    values: dict[str, Any]


def read_rows(path: Path, fmt: Format, mapping: ColumnMapping) -> tuple[list[str], list[Row]]:
    """The source columns and every non-blank row with the line it starts on."""
    name = path.name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise StoreFormatError(f"import file {path} does not exist") from None
    except OSError as exc:  # a directory, unreadable, a name too long, ...
        raise StoreFormatError(f"cannot read import file {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise StoreFormatError("not valid UTF-8 text", file=name, line=line) from None
    if fmt == "csv":
        return _csv_rows(text, name, mapping.delimiter)
    return _jsonl_rows(text, name)


def _csv_rows(text: str, name: str, delimiter: str) -> tuple[list[str], list[Row]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise StoreFormatError("the file is empty (expected a header row)", file=name) from None
    except csv.Error as exc:
        raise StoreFormatError(f"invalid CSV: {exc}", file=name, line=1) from None
    header = [h.strip() for h in header]
    for i, column in enumerate(header):
        if not column:
            raise StoreFormatError(f"header column {i + 1} has no name", file=name, line=1)
        if header.index(column) != i:
            raise StoreFormatError(f"duplicate column {column!r}", file=name, line=1, field=column)
    rows: list[Row] = []
    start = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise StoreFormatError(f"invalid CSV: {exc}", file=name, line=start) from None
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            raise StoreFormatError(
                f"expected {len(header)} columns, found {len(record)}", file=name, line=line
            )
        rows.append(Row(line, dict(zip(header, record, strict=True))))
    return header, rows


def _jsonl_rows(text: str, name: str) -> tuple[list[str], list[Row]]:
    rows: list[Row] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise StoreFormatError(f"invalid JSON: {exc.msg}", file=name, line=number) from None
        except RecursionError:  # the JSON decoder recurses once per level of nesting
            raise too_deep(name, number) from None
        if not isinstance(record, dict):
            raise StoreFormatError("expected a JSON object {...}", file=name, line=number)
        if nesting_depth(record) > MAX_NESTING:
            raise too_deep(name, number)
        flat = dict(_flatten(record))
        columns.update(dict.fromkeys(flat))
        rows.append(Row(number, flat))
    return list(columns), rows


def _flatten(record: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Top-level keys as they are, plus dotted paths into nested objects (``offer.price``)."""
    for key, value in record.items():
        path = f"{prefix}{key}"
        yield path, value
        if isinstance(value, dict):
            yield from _flatten(value, f"{path}.")
