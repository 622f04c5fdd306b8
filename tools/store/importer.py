"""Bring your own catalog: import products (and stock) from CSV or JSON Lines.

A YAML *column mapping* says which source column feeds which product field (see the
"Importing a catalog from CSV or JSON Lines" section of docs/store-format.md). Rows that share
a product id become one product with several variants; ``attr_*`` columns become attributes
(product-wide when every row of the product agrees, else per variant). Prices such as
``"$1,299.00"`` or ``"1.299,00 €"`` are parsed; the currency defaults to the mapping's.

Nothing is written unless every row is valid: the first problem raises
:class:`~shopagent.errors.StoreFormatError` naming the import file, its line and the source column.
The imported products are merged into the store directory's products (same id: replaced; new
id: appended; or, with ``mode: replace``, the catalog is replaced), the merged store is checked
exactly as ``read_store`` checks a store (so orders keep pointing at existing SKUs), and only
then written with the atomic :func:`~shopagent.tools.store.files.write_store`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from shopagent.tools.store import files
from shopagent.tools.store.schema import (
    MAX_COUNT,
    Product,
    ReturnPolicy,
    ReturnRule,
    StockLevel,
    StoreData,
    StoreInfo,
    Variant,
)

from shopagent.errors import StoreFormatError

__all__ = [
    "ColumnMapping",
    "ImportResult",
    "check_mapping",
    "import_catalog",
    "load_mapping",
    "parse_price",
]

Format = Literal["csv", "jsonl"]

PRODUCT_FIELDS = ("product_id", "name", "brand", "category", "description", "tags", "final_sale")
VARIANT_FIELDS = ("sku", "price", "currency", "stock")
_TARGET = re.compile(r"^(?:(attributes|attr|variant|variant_attributes)\.(.+)|([a-z_]+))$")
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_TRUE = {"true", "yes", "y", "1", "t", "x"}
_FALSE = {"false", "no", "n", "0", "f", ""}


class ColumnMapping(BaseModel):
    """The YAML mapping file: how source columns become store fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, str] = Field(
        description="source column -> field: product_id, name, brand, category, description, "
        "tags, final_sale, sku, price, currency, stock, attributes.<key>, variant.<key>, ignore"
    )
    format: Format | None = Field(None, description="csv or jsonl (the CLI flag wins).")
    defaults: dict[str, str] = Field(
        default_factory=dict, description="Constant values for fields no column feeds."
    )
    currency: str = Field("USD", min_length=3, max_length=3)
    attribute_prefix: str = Field("attr_", description="Unmapped columns with this prefix.")
    variant_attribute_prefix: str = Field("variant_", description="Same, always per variant.")
    tag_separator: str = Field(",", min_length=1)
    delimiter: str = Field(",", min_length=1, max_length=1, description="CSV only.")
    mode: Literal["merge", "replace"] = "merge"
    store_name: str = Field("My Store", min_length=1, description="For a brand-new store.")


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    file: str
    rows: int
    added: int
    updated: int
    removed: int
    variants: int
    stock_rows: int
    data: StoreData = field(repr=False)

    @property
    def products(self) -> int:
        return self.added + self.updated


# --------------------------------------------------------------------------- mapping


def load_mapping(path: Path) -> ColumnMapping:
    """Read and check a mapping file; errors name the mapping file, line and field."""
    path = Path(path)
    try:
        exists = path.is_file()
    except OSError as exc:  # a name too long, ...
        raise StoreFormatError(f"cannot read mapping file {path}: {exc.strerror}") from None
    if not exists:
        raise StoreFormatError(f"mapping file {path} does not exist")
    mapping = files._read_yaml(path.parent, path.name, ColumnMapping)
    check_mapping(mapping, path.name, files._read_text(path.parent, path.name))
    return mapping


def check_mapping(mapping: ColumnMapping, file: str = "mapping", text: str = "") -> None:
    """Raise StoreFormatError for an unknown target, an impossible default, or a required
    field (sku, price; name, brand, category unless defaulted) that nothing feeds."""
    for column, target in mapping.columns.items():
        problem = _target_problem(target)
        if problem:
            line = _mapping_line(text, column)
            raise StoreFormatError(problem, file=file, line=line, field=f"columns.{column}")
    for name in mapping.defaults:
        if name not in PRODUCT_FIELDS + VARIANT_FIELDS or name in ("product_id", "sku", "stock"):
            raise StoreFormatError(
                f"no default possible for {name!r}",
                file=file,
                line=_mapping_line(text, name),
                field=f"defaults.{name}",
            )
    targets = {t.strip() for t in mapping.columns.values()}
    for required in ("sku", "price"):
        if required not in targets:
            raise StoreFormatError(
                f"map a column to {required!r} (every variant needs one)",
                file=file,
                field="columns",
            )
    for required in ("name", "brand", "category"):
        if required not in targets and required not in mapping.defaults:
            raise StoreFormatError(
                f"map a column to {required!r} or set defaults.{required}",
                file=file,
                field="columns",
            )


def _target_problem(target: str) -> str:
    m = _TARGET.match(target.strip())
    if not m:
        return f"unknown field {target!r}"
    if m.group(3) and m.group(3) not in (*PRODUCT_FIELDS, *VARIANT_FIELDS, "ignore"):
        known = ", ".join((*PRODUCT_FIELDS, *VARIANT_FIELDS, "attributes.<key>", "variant.<key>"))
        return f"unknown field {target!r} (one of {known}, ignore)"
    return ""


def _mapping_line(text: str, key: str) -> int:
    rx = re.compile(rf"^\s*['\"]?{re.escape(key)}['\"]?\s*:", re.M)
    m = rx.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else 0


# --------------------------------------------------------------------------- values


def parse_price(raw: Any) -> tuple[Decimal, str | None]:
    """A price and the currency its symbol or code names (``"$1,299.00"`` → 1299.00, USD).

    Accepts thousands separators and a decimal comma (``"1.299,00 €"``). Raises ValueError.
    """
    if isinstance(raw, bool):
        raise ValueError("not a price")
    if isinstance(raw, int | float | Decimal):
        return Decimal(str(raw)), None
    text = str(raw).strip()
    currency = None
    for symbol, code in _SYMBOLS.items():
        if symbol in text:
            currency = code
            text = text.replace(symbol, "")
    if m := re.search(r"\b([A-Za-z]{3})\b", text):
        currency = m.group(1).upper()
        text = text[: m.start()] + text[m.end() :]
    text = text.replace(" ", "").replace("\u00a0", "").replace("'", "")
    if not re.fullmatch(r"-?[\d.,]+", text) or not re.search(r"\d", text):
        raise ValueError("not a price")
    if "," in text and "." in text:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
    elif "," in text:
        tail = text.rpartition(",")[2]
        decimal_sep = "," if len(tail) in (1, 2) and text.count(",") == 1 else ""
    else:
        decimal_sep = "." if text.count(".") == 1 else ""
    thousands = {",", "."} - {decimal_sep}
    for sep in thousands:
        text = text.replace(sep, "")
    if decimal_sep == ",":
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a price") from None
    if value < 0:
        raise ValueError("must be >= 0")
    return value, currency


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true/false, yes/no or 1/0")


def _stock(raw: Any) -> int:
    text = str(raw).strip()
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError("expected a whole number of units") from None
    if value != value.to_integral_value():
        raise ValueError("expected a whole number of units")
    if value < 0:
        raise ValueError("must be >= 0")
    if value > MAX_COUNT:  # checked before int(): 1e999999999 would take minutes to build
        raise ValueError(f"must be at most {MAX_COUNT}")
    return int(value)


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return " ".join(str(raw).split()) if not isinstance(raw, str) else raw.strip()


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


# --------------------------------------------------------------------------- reading rows


@dataclass
class _Row:
    line: int
    values: dict[str, Any]


def _read_rows(path: Path, fmt: Format, mapping: ColumnMapping) -> tuple[list[str], list[_Row]]:
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


def _csv_rows(text: str, name: str, delimiter: str) -> tuple[list[str], list[_Row]]:
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
    rows: list[_Row] = []
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
        rows.append(_Row(line, dict(zip(header, record, strict=True))))
    return header, rows


def _jsonl_rows(text: str, name: str) -> tuple[list[str], list[_Row]]:
    rows: list[_Row] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise StoreFormatError(f"invalid JSON: {exc.msg}", file=name, line=number) from None
        except RecursionError:  # the JSON decoder recurses once per level of nesting
            raise files.too_deep(name, number) from None
        if not isinstance(record, dict):
            raise StoreFormatError("expected a JSON object {...}", file=name, line=number)
        if files.nesting_depth(record) > files.MAX_NESTING:
            raise files.too_deep(name, number)
        flat = dict(_flatten(record))
        columns.update(dict.fromkeys(flat))
        rows.append(_Row(number, flat))
    return list(columns), rows


def _flatten(record: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Top-level keys as they are, plus dotted paths into nested objects (``offer.price``)."""
    for key, value in record.items():
        path = f"{prefix}{key}"
        yield path, value
        if isinstance(value, dict):
            yield from _flatten(value, f"{path}.")


# --------------------------------------------------------------------------- building


@dataclass
class _Group:
    """The rows of one product, as they are read."""

    line: int
    fields: dict[str, Any] = field(default_factory=dict)
    field_lines: dict[str, tuple[int, str]] = field(default_factory=dict)
    attrs: list[dict[str, str]] = field(default_factory=list)
    variants: list[tuple[int, dict[str, Any], dict[str, str], str]] = field(default_factory=list)


class _Builder:
    def __init__(self, mapping: ColumnMapping, columns: list[str], file: str) -> None:
        self.mapping = mapping
        self.file = file
        self.plan: list[tuple[str, str, str]] = []  # (column, kind, key)
        for column, target in mapping.columns.items():
            if column not in columns:
                raise StoreFormatError(
                    f"column {column!r} (mapped to {target}) is not in the file",
                    file=file,
                    line=1,
                    field=column,
                )
            m = _TARGET.match(target.strip())
            assert m is not None  # checked by load_mapping
            if m.group(3) == "ignore":
                continue
            if m.group(1) in ("attributes", "attr"):
                self.plan.append((column, "attr", m.group(2)))
            elif m.group(1):
                self.plan.append((column, "variant_attr", m.group(2)))
            else:
                self.plan.append((column, "field", m.group(3)))
        mapped = set(mapping.columns)
        for column in columns:
            if column in mapped:
                continue
            if mapping.variant_attribute_prefix and column.startswith(
                mapping.variant_attribute_prefix
            ):
                key = column[len(mapping.variant_attribute_prefix) :]
                self.plan.append((column, "variant_attr", key))
            elif mapping.attribute_prefix and column.startswith(mapping.attribute_prefix):
                self.plan.append((column, "auto_attr", column[len(mapping.attribute_prefix) :]))
        self.has_stock = any(k == "stock" for _, kind, k in self.plan if kind == "field")
        self.groups: dict[str, _Group] = {}
        self.skus: dict[str, int] = {}

    def error(self, message: str, line: int, column: str = "") -> StoreFormatError:
        return StoreFormatError(message, file=self.file, line=line, field=column)

    def add(self, row: _Row) -> None:
        product: dict[str, tuple[Any, str]] = {}
        variant: dict[str, tuple[Any, str]] = {}
        attrs: dict[str, str] = {}
        auto: dict[str, str] = {}
        variant_attrs: dict[str, str] = {}
        for column, kind, key in self.plan:
            raw = row.values.get(column)
            if kind == "field":
                (variant if key in VARIANT_FIELDS else product)[key] = (raw, column)
            elif isinstance(raw, dict) and kind in ("attr", "auto_attr", "variant_attr"):
                for sub, value in raw.items():  # a JSON object of attributes
                    if not _blank(value):
                        (variant_attrs if kind == "variant_attr" else attrs)[str(sub)] = _text(
                            value
                        )
            elif not _blank(raw):
                {"attr": attrs, "auto_attr": auto, "variant_attr": variant_attrs}[kind][key] = (
                    _text(raw)
                )
        sku_raw, sku_col = variant.get("sku", (None, ""))
        sku = _text(sku_raw)
        if not sku:
            raise self.error("sku is required", row.line, sku_col)
        if len(sku) > 64:
            raise self.error("sku must be at most 64 characters", row.line, sku_col)
        if sku in self.skus:
            raise self.error(
                f"duplicate SKU {sku!r} (first on line {self.skus[sku]})", row.line, sku_col
            )
        self.skus[sku] = row.line
        pid_raw, _ = product.pop("product_id", (None, ""))
        pid = _text(pid_raw) or sku
        group = self.groups.get(pid)
        if group is None:
            group = self.groups[pid] = _Group(line=row.line)
        for name, (raw, column) in product.items():
            if _blank(raw):
                continue
            value = self._product_value(name, raw, row.line, column)
            if name in group.fields and group.fields[name] != value:
                first_line, first_column = group.field_lines[name]
                raise self.error(
                    f"{name} differs from line {first_line} of product {pid!r} "
                    f"(rows of one product must agree on {first_column!r})",
                    row.line,
                    column,
                )
            group.fields[name] = value
            group.field_lines.setdefault(name, (row.line, column))
        group.attrs.append(auto)
        fields = self._variant_fields(variant, row.line, sku)
        group.variants.append((row.line, fields, variant_attrs, sku))
        group.fields.setdefault("_attrs", {}).update(attrs)

    def _column_of(self, target: str) -> str:
        wanted = "product_id" if target == "id" else target
        return next((c for c, t in self.mapping.columns.items() if t.strip() == wanted), "")

    def _product_value(self, name: str, raw: Any, line: int, column: str) -> Any:
        try:
            if name == "tags":
                items = raw if isinstance(raw, list) else str(raw).split(self.mapping.tag_separator)
                return [t for t in (_text(i) for i in items) if t]
            if name == "final_sale":
                return _bool(raw)
        except ValueError as exc:
            raise self.error(f"{name}: {exc}", line, column) from None
        return _text(raw)

    def _variant_fields(
        self, variant: dict[str, tuple[Any, str]], line: int, sku: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"sku": sku}
        raw, column = variant["price"]
        if _blank(raw):
            raise self.error("price is required", line, column)
        try:
            price, symbol_currency = parse_price(raw)
        except ValueError as exc:
            raise self.error(f"price {_text(raw)!r}: {exc}", line, column) from None
        out["price"] = price
        cur_raw, cur_col = variant.get("currency", (None, ""))
        currency = _text(cur_raw).upper() or symbol_currency
        currency = currency or self.mapping.defaults.get("currency") or self.mapping.currency
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise self.error(f"currency {currency!r} must be 3 letters", line, cur_col or column)
        out["currency"] = currency
        if "stock" in variant:
            raw, column = variant["stock"]
            if not _blank(raw):
                try:
                    out["stock"] = _stock(raw)
                except ValueError as exc:
                    raise self.error(f"stock {_text(raw)!r}: {exc}", line, column) from None
        return out

    def products(self) -> tuple[list[Product], list[StockLevel]]:
        products: list[Product] = []
        stock: list[StockLevel] = []
        for pid, group in self.groups.items():
            attributes = dict(group.fields.pop("_attrs", {}))
            shared, per_variant = _split_auto_attrs(group.attrs)
            attributes.update(shared)
            variants: list[Variant] = []
            for (line, fields, variant_attrs, sku), extra in zip(
                group.variants, per_variant, strict=True
            ):
                attrs = {**extra, **variant_attrs}
                try:
                    variants.append(
                        Variant(
                            sku=sku,
                            attributes=attrs,
                            price=fields["price"],
                            currency=fields["currency"],
                        )
                    )
                except ValidationError as exc:
                    message, where = files._explain(exc)
                    raise self.error(message, line, where) from None
                if "stock" in fields:
                    stock.append(StockLevel(sku=sku, stock=fields["stock"]))

            values = {
                name: group.fields.get(name, self.mapping.defaults.get(name))
                for name in ("name", "brand", "category", "description", "tags", "final_sale")
            }
            if isinstance(values["final_sale"], str):  # from defaults
                try:
                    values["final_sale"] = _bool(values["final_sale"])
                except ValueError as exc:
                    raise self.error(f"final_sale: {exc}", group.line, "final_sale") from None
            for required in ("name", "brand", "category"):
                if not values[required]:
                    column = self._column_of(required)
                    raise self.error(
                        f"{required} is required (empty on every row of product {pid!r})",
                        group.line,
                        column,
                    )
            record = {
                "id": pid,
                "name": values["name"],
                "brand": values["brand"],
                "category": values["category"],
                "description": values["description"] or "",
                "attributes": attributes,
                "tags": values["tags"] or [],
                "final_sale": values["final_sale"] or False,
                "variants": variants,
            }
            try:
                products.append(Product.model_validate(record))
            except ValidationError as exc:
                message, where = files._explain(exc)
                top = where.split(".")[0]
                line, column = group.field_lines.get(top, (group.line, self._column_of(top)))
                raise self.error(message, line, column or where) from None
        return products, stock


def _split_auto_attrs(
    rows: list[dict[str, str]],
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """``attr_*`` values: product-wide when every row of the product has the same value,
    otherwise attributes of each variant."""
    keys = dict.fromkeys(k for attrs in rows for k in attrs)
    shared: dict[str, str] = {}
    per_variant: list[dict[str, str]] = [{} for _ in rows]
    for key in keys:
        values = [attrs.get(key) for attrs in rows]
        if len(set(values)) == 1 and values[0] is not None:
            shared[key] = values[0]
        else:
            for i, value in enumerate(values):
                if value is not None:
                    per_variant[i][key] = value
    return shared, per_variant


# --------------------------------------------------------------------------- import


def import_catalog(
    source: Path,
    mapping: ColumnMapping | Path,
    store_dir: Path,
    *,
    fmt: Format | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import ``source`` into the store in ``store_dir`` (created when it does not exist).

    All or nothing: every row is validated, the merged store passes every ``read_store``
    check, and only then is it written atomically. ``dry_run`` validates without writing.
    Raises :class:`StoreFormatError` (file, line, field) on the first problem.
    """
    source, store_dir = Path(source), Path(store_dir)
    if isinstance(mapping, ColumnMapping):
        check_mapping(mapping)
    else:
        mapping = load_mapping(Path(mapping))
    fmt = fmt or mapping.format or _guess_format(source)
    columns, rows = _read_rows(source, fmt, mapping)
    if not rows:
        raise StoreFormatError("no rows to import", file=source.name)
    builder = _Builder(mapping, columns, source.name)
    for row in rows:
        builder.add(row)
    imported, stock = builder.products()

    current = _current_store(store_dir, mapping)
    data, added, updated, removed = _merge(current, imported, stock, mapping, builder.has_stock)
    _check_merged(data)
    if not dry_run:
        files.write_store(data, store_dir)
    return ImportResult(
        file=source.name,
        rows=len(rows),
        added=added,
        updated=updated,
        removed=removed,
        variants=sum(len(p.variants) for p in imported),
        stock_rows=len(stock),
        data=data,
    )


def _guess_format(source: Path) -> Format:
    suffix = source.suffix.casefold()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    raise StoreFormatError(
        f"cannot tell the format of {source.name}: pass --format csv|jsonl", file=source.name
    )


def _current_store(store_dir: Path, mapping: ColumnMapping) -> StoreData:
    if (store_dir / files.STORE_FILE).exists():
        return files.read_store(store_dir)
    if store_dir.exists() and store_dir.is_dir() and any(store_dir.iterdir()):
        raise StoreFormatError(
            f"{store_dir} is not empty and has no {files.STORE_FILE}: not a store directory"
        )
    return StoreData(
        info=StoreInfo(name=mapping.store_name, currency=mapping.currency),
        products=[],
        stock=[],
        customers=[],
        orders=[],
        policy=ReturnPolicy(default=ReturnRule(window_days=30)),
    )


def _merge(
    current: StoreData,
    imported: list[Product],
    stock: list[StockLevel],
    mapping: ColumnMapping,
    has_stock: bool,
) -> tuple[StoreData, int, int, int]:
    new = {p.id: p for p in imported}
    if mapping.mode == "replace":
        products = list(imported)
        existing = {p.id for p in current.products}
        added = sum(1 for p in imported if p.id not in existing)
        removed = sum(1 for p in current.products if p.id not in new)
    else:
        products = [new.get(p.id, p) for p in current.products]
        existing = {p.id for p in current.products}
        products.extend(p for p in imported if p.id not in existing)
        added = sum(1 for p in imported if p.id not in existing)
        removed = 0
    updated = len(imported) - added
    skus = {v.sku for p in products for v in p.variants}
    imported_skus = {v.sku for p in imported for v in p.variants}
    levels = {s.sku: s for s in current.stock if s.sku in skus}
    if has_stock:
        for sku in imported_skus:  # the file is the truth for its SKUs
            levels.pop(sku, None)
    levels.update({s.sku: s for s in stock})
    data = current.model_copy(update={"products": products, "stock": list(levels.values())})
    return data, added, updated, removed


def _check_merged(data: StoreData) -> None:
    """Run the store reader's checks on the merged store (in a scratch directory)."""
    owners: dict[str, str] = {}
    for product in data.products:
        for variant in product.variants:
            other = owners.setdefault(variant.sku, product.id)
            if other != product.id:
                raise StoreFormatError(
                    f"SKU {variant.sku!r} of product {product.id!r} already belongs to "
                    f"product {other!r} in the store",
                    file=files.PRODUCTS_FILE,
                    field="sku",
                )
    for order in data.orders:
        for item in order.items:
            if owners.get(item.sku) != item.product_id:
                raise StoreFormatError(
                    f"order {order.number} refers to SKU {item.sku!r} of product "
                    f"{item.product_id!r}, which the import would remove; keep that SKU in "
                    "the file (or in the store with mode: merge)",
                    file=files.ORDERS_FILE,
                    field="sku",
                )
    scratch = Path(tempfile.mkdtemp(prefix=".import-check-"))
    try:
        files.write_store(data, scratch / "store")
        files.read_store(scratch / "store")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
