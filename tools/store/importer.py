"""Bring your own catalog: import products (and stock) from CSV or JSON Lines.

A YAML *column mapping* says which source column feeds which product field (see the
"Importing a catalog from CSV or JSON Lines" section of docs/store-format.md). Rows that share
a product id become one product with several variants; ``attr_*`` columns become attributes
(product-wide when every row of the product agrees, else per variant). Prices such as
``"$1,299.00"`` or ``"1.299,00 €"`` are parsed; the currency defaults to the mapping's.

The steps live in their own modules: the mapping (:mod:`.import_mapping`), reading rows
(:mod:`.import_rows`), parsing values (:mod:`.import_values`) and building products
(:mod:`.import_builder`); this module merges, checks and writes.

Nothing is written unless every row is valid: the first problem raises
:class:`~shopagent.errors.StoreFormatError` naming the import file, its line and the source column.
The imported products are merged into the store directory's products (same id: replaced; new
id: appended; or, with ``mode: replace``, the catalog is replaced), the merged store is checked
exactly as ``read_store`` checks a store (so orders keep pointing at existing SKUs), and only
then written with the atomic :func:`~shopagent.tools.store.writer.write_store`.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from shopagent.tools.store import files
from shopagent.tools.store.import_builder import Builder
from shopagent.tools.store.import_mapping import ColumnMapping, Format, check_mapping, load_mapping
from shopagent.tools.store.import_rows import read_rows
from shopagent.tools.store.schema import (
    Product,
    ReturnPolicy,
    ReturnRule,
    StockLevel,
    StoreData,
    StoreInfo,
)
from shopagent.tools.store.writer import write_store

from shopagent.errors import StoreFormatError

__all__ = [
    "ColumnMapping",
    "ImportResult",
    "check_mapping",
    "import_catalog",
    "load_mapping",
]


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
    columns, rows = read_rows(source, fmt, mapping)
    if not rows:
        raise StoreFormatError("no rows to import", file=source.name)
    builder = Builder(mapping, columns, source.name)
    for row in rows:
        builder.add(row)
    imported, stock = builder.products()

    current = _current_store(store_dir, mapping)
    data, added, updated, removed = _merge(current, imported, stock, mapping, builder.has_stock)
    _check_merged(data)
    if not dry_run:
        write_store(data, store_dir)
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
        write_store(data, scratch / "store")
        files.read_store(scratch / "store")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
