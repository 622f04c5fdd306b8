"""Build products from the rows of a catalog import.

Rows that share a product id become one product with several variants; ``attr_*`` columns
become attributes (product-wide when every row of the product agrees, else per variant).
Every problem raises ``StoreFormatError`` naming the import file, its line and the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from shopagent.tools.store.import_mapping import TARGET, VARIANT_FIELDS, ColumnMapping
from shopagent.tools.store.import_rows import Row
from shopagent.tools.store.import_values import (
    clean_text,
    is_blank,
    parse_bool,
    parse_price,
    parse_stock,
)
from shopagent.tools.store.parsing import explain
from shopagent.tools.store.schema import Product, StockLevel, Variant

from shopagent.errors import StoreFormatError


@dataclass
class _Group:
    """The rows of one product, as they are read."""

    line: int
    fields: dict[str, Any] = field(default_factory=dict)
    field_lines: dict[str, tuple[int, str]] = field(default_factory=dict)
    attrs: list[dict[str, str]] = field(default_factory=list)
    variants: list[tuple[int, dict[str, Any], dict[str, str], str]] = field(default_factory=list)


class Builder:
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
            m = TARGET.match(target.strip())
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

    def add(self, row: Row) -> None:
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
                    if not is_blank(value):
                        (variant_attrs if kind == "variant_attr" else attrs)[str(sub)] = clean_text(
                            value
                        )
            elif not is_blank(raw):
                {"attr": attrs, "auto_attr": auto, "variant_attr": variant_attrs}[kind][key] = (
                    clean_text(raw)
                )
        sku_raw, sku_col = variant.get("sku", (None, ""))
        sku = clean_text(sku_raw)
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
        pid = clean_text(pid_raw) or sku
        group = self.groups.get(pid)
        if group is None:
            group = self.groups[pid] = _Group(line=row.line)
        for name, (raw, column) in product.items():
            if is_blank(raw):
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
                return [t for t in (clean_text(i) for i in items) if t]
            if name == "final_sale":
                return parse_bool(raw)
        except ValueError as exc:
            raise self.error(f"{name}: {exc}", line, column) from None
        return clean_text(raw)

    def _variant_fields(
        self, variant: dict[str, tuple[Any, str]], line: int, sku: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"sku": sku}
        raw, column = variant["price"]
        if is_blank(raw):
            raise self.error("price is required", line, column)
        try:
            price, symbol_currency = parse_price(raw)
        except ValueError as exc:
            raise self.error(f"price {clean_text(raw)!r}: {exc}", line, column) from None
        out["price"] = price
        cur_raw, cur_col = variant.get("currency", (None, ""))
        currency = clean_text(cur_raw).upper() or symbol_currency
        currency = currency or self.mapping.defaults.get("currency") or self.mapping.currency
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise self.error(f"currency {currency!r} must be 3 letters", line, cur_col or column)
        out["currency"] = currency
        if "stock" in variant:
            raw, column = variant["stock"]
            if not is_blank(raw):
                try:
                    out["stock"] = parse_stock(raw)
                except ValueError as exc:
                    raise self.error(f"stock {clean_text(raw)!r}: {exc}", line, column) from None
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
                    message, where = explain(exc)
                    raise self.error(message, line, where) from None
                if "stock" in fields:
                    stock.append(StockLevel(sku=sku, stock=fields["stock"]))

            values = {
                name: group.fields.get(name, self.mapping.defaults.get(name))
                for name in ("name", "brand", "category", "description", "tags", "final_sale")
            }
            if isinstance(values["final_sale"], str):  # from defaults
                try:
                    values["final_sale"] = parse_bool(values["final_sale"])
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
                message, where = explain(exc)
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
