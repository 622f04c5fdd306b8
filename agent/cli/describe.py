"""``shopagent describe``: product copy written from a product's own data, verified so that
it states no feature the data lacks. Registered through the ``shopagent.cli`` entry points."""

from __future__ import annotations

import difflib
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from shopagent.agent.cli.common import friendly

from shopagent.errors import ConfigError

out = Console()
err = Console(stderr=True)


def _settings():  # type: ignore[no-untyped-def]
    from shopagent.settings import get_settings

    return get_settings()


def _find(products: list, wanted: str):  # type: ignore[no-untyped-def]
    """The product with id or name ``wanted`` (case-insensitive), else ConfigError with the
    closest names."""
    folded = wanted.casefold().strip()
    for p in products:
        if p.id.casefold() == folded or p.name.casefold() == folded:
            return p
    names = {p.name.casefold(): p for p in products}
    close = difflib.get_close_matches(folded, list(names), n=3, cutoff=0.5)
    if len(close) == 1 or (close and folded in close[0]):
        return names[close[0]]
    hint = "pass a product id or its exact name"
    if close:
        hint += "; did you mean: " + "; ".join(names[c].name for c in close)
    raise ConfigError(f"no product {wanted!r} in the store", hint=hint)


def describe(
    product: Annotated[str | None, typer.Argument(help="Product id or name.")] = None,
    need: Annotated[str, typer.Option("--need", help="The shopper's need.")] = "",
    category: Annotated[
        str | None, typer.Option("--category", help="Write copy for a whole category.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Write product copy from the product's data only (verified claim by claim)."""
    from shopagent.agent.answering.describe import describe as write_copy
    from shopagent.tools.store.db import StoreDB

    if (product is None) == (category is None):
        raise ConfigError("name a product or a --category", hint="shopagent describe P-000001")
    db = StoreDB.open(_settings().database)
    try:
        products = list(db.products())
    finally:
        db.close()
    if product is not None:
        chosen = [_find(products, product)]
    else:
        chosen = [p for p in products if p.category.casefold() == str(category).casefold()]
        if not chosen:
            known = sorted({p.category for p in products})
            raise ConfigError(f"no category {category!r}", hint="one of: " + ", ".join(known))
    copies = []
    columns = (TextColumn("describe"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, disable=len(chosen) == 1) as bar:
        task = bar.add_task("describe", total=len(chosen))
        for p in chosen:
            copies.append(write_copy(p, need))
            bar.advance(task)
    for c in copies:
        if as_json:
            out.print_json(json.dumps(c.model_dump(mode="json", by_alias=True)))
        else:
            mark = "" if c.verified else "  [red](unverified: " + "; ".join(c.problems) + ")[/]"
            out.print(f"[bold]{c.name}[/] ({c.product_id})\n{c.copy_text}{mark}\n", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``describe`` to the CLI."""
    app.command("describe")(friendly(describe))
