"""The column mapping of a catalog import: which source column feeds which store field.

The mapping is a YAML file (see the "Importing a catalog from CSV or JSON Lines" section of
docs/store-format.md); a problem in it raises ``StoreFormatError`` naming the mapping file,
its line and the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from shopagent.tools.store.parsing import read_text, read_yaml

from shopagent.errors import StoreFormatError

Format = Literal["csv", "jsonl"]

PRODUCT_FIELDS = ("product_id", "name", "brand", "category", "description", "tags", "final_sale")
VARIANT_FIELDS = ("sku", "price", "currency", "stock")
TARGET = re.compile(r"^(?:(attributes|attr|variant|variant_attributes)\.(.+)|([a-z_]+))$")


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


def load_mapping(path: Path) -> ColumnMapping:
    """Read and check a mapping file; errors name the mapping file, line and field."""
    path = Path(path)
    try:
        exists = path.is_file()
    except OSError as exc:  # a name too long, ...
        raise StoreFormatError(f"cannot read mapping file {path}: {exc.strerror}") from None
    if not exists:
        raise StoreFormatError(f"mapping file {path} does not exist")
    mapping = read_yaml(path.parent, path.name, ColumnMapping)
    check_mapping(mapping, path.name, read_text(path.parent, path.name))
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
    m = TARGET.match(target.strip())
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
