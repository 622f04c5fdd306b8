"""``shopagent search`` and ``shopagent store import``.

:func:`register` adds both commands to the CLI's Typer apps (``agent/cli/main.py`` calls it once).
Errors are shown by :func:`shopagent.agent.cli.common.friendly`, like every other command group's;
the
module imports nothing from ``shopagent.agent.cli.main``, so either can be imported first.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from shopagent.agent.cli.common import friendly, quiet_logs

from shopagent.errors import ConfigError

if TYPE_CHECKING:
    from shopagent.tools.catalog import ChromaCatalog
    from shopagent.tools.results import ProductHit
    from shopagent.tools.store.db import StoreDB

    from shopagent.settings import Settings

__all__ = ["register", "run_search"]

out = Console()
err = Console(stderr=True)


class SortOrder(StrEnum):
    relevance = "relevance"
    price_asc = "price_asc"
    price_desc = "price_desc"


class ImportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


def _settings() -> Settings:
    from shopagent.settings import get_settings

    return get_settings()


# --------------------------------------------------------------------------- search


def _resolve(kind: str, value: str | None, known: Sequence[str]) -> str | None:
    """A store name given on the command line, matched case-insensitively."""
    if value is None or not value.strip():
        return None
    by_key = {k.casefold(): k for k in known}
    found = by_key.get(" ".join(value.split()).casefold())
    if found:
        return found
    close = difflib.get_close_matches(value.casefold(), list(by_key), n=3, cutoff=0.6)
    hint = (
        f"did you mean {', '.join(repr(by_key[c]) for c in close)}?"
        if close
        else f"known {kind}s: {', '.join(known[:12])}{'…' if len(known) > 12 else ''}"
    )
    raise ConfigError(f"unknown {kind} {value!r}", hint=hint)


def run_search(
    catalog: ChromaCatalog,
    db: StoreDB | None,
    query: str,
    *,
    k: int = 5,
    min_price: float | None = None,
    max_price: float | None = None,
    category: str | None = None,
    brand: str | None = None,
    color: str | None = None,
    size: str | None = None,
    material: str | None = None,
    in_stock: bool = False,
    exclude: Sequence[str] = (),
    sort: str | None = None,
) -> dict[str, Any]:
    """Parse ``query``, apply the flags over what was parsed, search, and add live stock.

    Returns ``{"query", "text", "filters", "sort", "results": [{sku, name, price, currency,
    stock, reason, product_id, brand, category, score}]}``.
    """
    from shopagent.agent.understanding.language import detect_language
    from shopagent.agent.understanding.localize import localize
    from shopagent.agent.understanding.search_request import RequestFilters, parse_search_request

    for flag, value in (("--min-price", min_price), ("--max-price", max_price)):
        if value is not None and not math.isfinite(value):
            raise ConfigError(f"{flag} must be a finite number (got {value})", hint="e.g. 40")
    facets = catalog.facets()
    # "50元以下", "menos de 50": the shopper's phrasing in canonical form, as in a chat turn
    parsed = parse_search_request(localize(query, detect_language(query)), **facets)
    f = parsed.filters
    attributes = dict(f.attributes)
    for key, value in (("color", color), ("size", size), ("material", material)):
        if value is not None and value.strip():
            attributes[key] = " ".join(value.split()).casefold()
    filters = RequestFilters(
        min_price=Decimal(f"{min_price:.2f}") if min_price is not None else f.min_price,
        max_price=Decimal(f"{max_price:.2f}") if max_price is not None else f.max_price,
        category=_resolve("category", category, facets["categories"]) or f.category,
        brand=_resolve("brand", brand, facets["brands"]) or f.brand,
        attributes=attributes,
        in_stock_only=in_stock or f.in_stock_only,
        exclude_terms=list(dict.fromkeys([*f.exclude_terms, *(e for e in exclude if e.strip())])),
    )
    order = sort or parsed.sort
    hits = catalog.search(parsed.query, filters=filters, k=k, sort=order)  # type: ignore[arg-type]
    stock = _stock_of(db, hits)
    return {
        "query": parsed.query,
        "text": query,
        "filters": filters.model_dump(mode="json", exclude_defaults=True),
        "sort": order,
        "results": [
            {
                "sku": h.sku,
                "name": h.name,
                "price": float(h.price),
                "currency": h.currency,
                "stock": stock.get(h.sku),
                "reason": h.reason,
                "product_id": h.product_id,
                "brand": h.brand,
                "category": h.category,
                "score": h.score,
            }
            for h in hits
        ],
    }


def _stock_of(db: StoreDB | None, hits: Sequence[ProductHit]) -> dict[str, int]:
    if db is None or not hits:
        return {}
    return {str(r["sku"]): int(r["stock"]) for r in db.sku_rows([h.sku for h in hits])}


def _describe(result: dict[str, Any]) -> str:
    f = result["filters"]
    parts = [f"query {result['query']!r}" if result["query"] else "browse (no query words)"]
    if "min_price" in f or "max_price" in f:
        parts.append(f"price {f.get('min_price', '0')}–{f.get('max_price', '…')}")
    for key in ("category", "brand"):
        if key in f:
            parts.append(f"{key} {f[key]}")
    parts.extend(f"{k} {v}" for k, v in f.get("attributes", {}).items())
    if f.get("exclude_terms"):
        parts.append("not " + ", ".join(f["exclude_terms"]))
    if f.get("in_stock_only"):
        parts.append("in stock")
    if result["sort"] != "relevance":
        parts.append(f"sorted {result['sort']}")
    return " · ".join(parts)


def _table(result: dict[str, Any]) -> Table:
    table = Table("#", "SKU", "name", "price", "stock", "why")
    table.columns[1].no_wrap = True
    table.columns[3].no_wrap = True
    for i, r in enumerate(result["results"], 1):
        stock = r["stock"]
        stock_text = "?" if stock is None else ("[red]out[/]" if stock == 0 else str(stock))
        price = f"{r['price']:,.2f} {r['currency']}"
        table.add_row(
            str(i),
            r["sku"],
            f"{r['name']}\n[dim]{r['brand']} · {r['category']}[/]",
            price,
            stock_text,
            r["reason"],
        )
    return table


def search(
    query: Annotated[str, typer.Argument(help="What you are looking for, in your own words.")],
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on the last line.")
    ] = False,
    min_price: Annotated[float | None, typer.Option("--min-price", min=0)] = None,
    max_price: Annotated[float | None, typer.Option("--max-price", min=0)] = None,
    category: Annotated[str | None, typer.Option("--category", help="A store category.")] = None,
    brand: Annotated[str | None, typer.Option("--brand", help="A store brand.")] = None,
    color: Annotated[str | None, typer.Option("--color", "--colour")] = None,
    size: Annotated[str | None, typer.Option("--size")] = None,
    material: Annotated[str | None, typer.Option("--material")] = None,
    in_stock: Annotated[
        bool, typer.Option("--in-stock", help="Only products with units on hand.")
    ] = False,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Leave out products mentioning this.")
    ] = None,
    sort: Annotated[SortOrder | None, typer.Option("--sort", case_sensitive=False)] = None,
    k: Annotated[int | None, typer.Option("-k", "--limit", min=1, max=100)] = None,
) -> None:
    """Search the catalog: filters are parsed from the text ("under $40", "not leather");
    flags override them."""
    quiet_logs()
    from shopagent.tools.catalog import CatalogConfig, db_stock_filter, open_catalog
    from shopagent.tools.store.db import StoreDB

    settings = _settings()
    db = StoreDB.open(settings.database)
    catalog = open_catalog(CatalogConfig.of(settings), stock_filter=db_stock_filter(db))
    result = run_search(
        catalog,
        db,
        query,
        k=k or settings.search_k,
        min_price=min_price,
        max_price=max_price,
        category=category,
        brand=brand,
        color=color,
        size=size,
        material=material,
        in_stock=in_stock,
        exclude=exclude or (),
        sort=sort.value if sort else None,
    )
    if json_out:
        print(json.dumps(result, ensure_ascii=False))
        return
    err.print(f"[dim]{_describe(result)}[/]", highlight=False)
    if not result["results"]:
        out.print("no matching products")
        return
    out.print(_table(result))


# --------------------------------------------------------------------------- store import


def store_import(
    file: Annotated[Path, typer.Argument(help="CSV or JSON Lines file of products.")],
    mapping: Annotated[
        Path, typer.Option("--mapping", "-m", help="YAML column mapping (docs/store-format.md).")
    ],
    fmt: Annotated[ImportFormat | None, typer.Option("--format", case_sensitive=False)] = None,
    store_dir: Annotated[
        Path | None, typer.Option("--store-dir", help="Store directory (default: the settings').")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only.")] = False,
    load: Annotated[
        bool, typer.Option("--load/--no-load", help="Load the result into the store database.")
    ] = True,
) -> None:
    """Import products (and stock) from CSV or JSON Lines into the store; all or nothing."""
    from shopagent.tools.store.importer import import_catalog

    settings = _settings()
    target = store_dir or settings.store_path
    result = import_catalog(file, mapping, target, fmt=fmt.value if fmt else None, dry_run=dry_run)
    verb = "would import" if dry_run else "imported"
    out.print(
        f"{verb} {result.rows} rows from {result.file}: {result.added} products added, "
        f"{result.updated} updated, {result.removed} removed, {result.variants} variants, "
        f"{result.stock_rows} stock rows" + ("" if dry_run else f" into {target}")
    )
    if dry_run or not load:
        return
    from shopagent.tools.store.db import StoreDB

    settings.database.parent.mkdir(parents=True, exist_ok=True)
    db = StoreDB(settings.database)
    try:
        db.load(result.data)
    finally:
        db.close()
    out.print(f"loaded into {settings.database}; run `shopagent index` to update search")


def register(app: typer.Typer, store_app: typer.Typer) -> None:
    """Add ``search`` to ``app`` and ``import`` to ``store_app``."""
    app.command("search")(friendly(search))
    store_app.command("import")(friendly(store_import))
