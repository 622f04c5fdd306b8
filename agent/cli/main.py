"""The ``shopagent`` command line."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from shopagent.agent.cli.common import err, friendly, json_error, quiet_logs
from typer.core import TyperGroup

from shopagent.errors import ShopAgentError
from shopagent.settings import Settings, get_settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class _Commands(TyperGroup):
    """The top-level command group: every argument must be text. Argv bytes that are not
    UTF-8 arrive as lone surrogates, which no file, database or terminal can take."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        for arg in args:
            try:
                arg.encode("utf-8")
            except UnicodeEncodeError:
                raise typer.BadParameter(
                    f"argument {arg!r} is not UTF-8 text (check the shell's encoding)", ctx
                ) from None
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_Commands, help="ShopAgent: an agentic shopping assistant.", no_args_is_help=True
)
store_app = typer.Typer(help="Create or load the store data.", no_args_is_help=True)
inventory_app = typer.Typer(help="The price/stock API.", no_args_is_help=True)
app.add_typer(store_app, name="store")
app.add_typer(inventory_app, name="inventory")

out = Console()

Model = Annotated[str | None, typer.Option("--model", "-m", help="local | hf:<id> | openai:<m>")]
Thread = Annotated[str | None, typer.Option("--thread", "-t", help="Conversation thread id.")]
Customer = Annotated[
    str | None, typer.Option("--customer", help="Act as this authenticated customer (email).")
]


def _settings(model: str | None = None) -> Settings:
    settings = get_settings()
    return settings.model_copy(update={"model": model}) if model else settings


# -- store ---------------------------------------------------------------------------------
@store_app.command("demo")
@friendly
def store_demo(
    seed: int = typer.Option(7, help="Generator seed."),
    products: int = typer.Option(1200, help="Number of products."),
    force: bool = typer.Option(False, help="Regenerate even if the store exists."),
    profile: str = typer.Option(
        None,
        help="A store profile from tools/store/data/profiles/: another shop (e.g. alder) or "
        "the demo store in another language (e.g. zh).",
    ),
) -> None:
    """Generate the seeded demo store and load it into the store database."""
    from shopagent.tools.store.generate import write_demo_store
    from shopagent.tools.store.profiles import is_language_profile

    settings = _settings()
    if settings.store_path.exists() and not force:
        out.print(f"demo store already at {settings.store_path} (use --force to regenerate)")
    elif profile and not is_language_profile(profile):
        from shopagent.tools.store.profile import generate_profile_store, load_profile
        from shopagent.tools.store.writer import write_store

        data = generate_profile_store(load_profile(profile), today=date.today())
        write_store(data, settings.store_path)
        out.print(
            f"wrote {len(data.products)} products, {len(data.customers)} customers, "
            f"{len(data.orders)} orders to {settings.store_path}"
        )
    else:
        data = write_demo_store(
            settings.store_path,
            seed=seed,
            n_products=products,
            today=date.today(),
            profile=profile,
        )
        out.print(
            f"wrote {len(data.products)} products, {len(data.customers)} customers, "
            f"{len(data.orders)} orders to {settings.store_path}"
        )
    _load(settings, settings.store_path)


@store_app.command("load")
@friendly
def store_load(directory: Path) -> None:
    """Validate a store directory (docs/store-format.md) and load it into the database."""
    _load(_settings(), directory)


def _load(settings: Settings, directory: Path) -> None:
    from shopagent.tools.store.db import StoreDB
    from shopagent.tools.store.files import read_store

    data = read_store(directory)
    settings.database.parent.mkdir(parents=True, exist_ok=True)
    db = StoreDB(settings.database)
    db.load(data)
    db.close()
    out.print(f"loaded store {data.info.name!r} into {settings.database}")


# -- index ---------------------------------------------------------------------------------
@app.command()
@friendly
def index() -> None:
    """Build or update the catalog search index (only changed products are re-embedded)."""
    quiet_logs()
    from shopagent.tools.catalog import CatalogConfig, open_catalog
    from shopagent.tools.store.db import StoreDB

    settings = _settings()
    db = StoreDB.open(settings.database)
    products = list(db.products())
    catalog = open_catalog(CatalogConfig.of(settings))
    embedder = catalog.embedder
    prepare = getattr(embedder, "prepare", None)
    if prepare is not None and not getattr(embedder, "ready", True):
        with err.status("preparing the embedder from the bundled MiniLM (once)"):
            started = time.perf_counter()
            prepare()
        out.print(f"embedder: {embedder.identity} ready in {time.perf_counter() - started:.1f}s")
    columns = (TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("index", total=len(products))
        stats = catalog.index(
            products, progress=lambda done, total: bar.update(task, completed=done)
        )
    out.print(
        f"index: {stats.added} added, {stats.updated} updated, {stats.unchanged} unchanged, "
        f"{stats.deleted} deleted in {stats.seconds:.1f}s "
        f"({stats.total / max(stats.seconds, 1e-9):.0f} products/s, {stats.embedded} embedded "
        f"with {embedder.identity})"
    )


# -- conversation --------------------------------------------------------------------------
async def _open(settings: Settings):
    from shopagent.agent.service import ShopAgent

    return await ShopAgent.open(settings)


@app.command()
@friendly
def ask(
    message: str,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    thread: Thread = None,
    customer: Customer = None,
    model: Model = None,
) -> None:
    """Ask one question (use --thread to continue a conversation)."""
    from shopagent.agent.service import validate_message

    async def run():
        async with await _open(_settings(model)) as agent:
            return await agent.ask(message, thread_id=thread, customer_email=customer)

    try:
        validate_message(message)
        quiet_logs()
        result = asyncio.run(run())
    except Exception as exc:
        if json_out:  # scripts read the last line: it is JSON on failure too
            raise json_error(exc) from None
        raise
    if json_out:
        print(result.model_dump_json())
    else:
        out.print(result.answer)
        err.print(
            f"[dim]intent={result.intent} thread={result.thread_id} {result.latency_ms:.0f} ms[/]"
        )


@app.command()
@friendly
def chat(thread: Thread = None, customer: Customer = None, model: Model = None) -> None:
    """Chat in the terminal (history kept in the thread; Ctrl-D to quit)."""
    quiet_logs()
    import uuid

    thread_id = thread or uuid.uuid4().hex[:12]

    async def run() -> None:
        async with await _open(_settings(model)) as agent:
            out.print(f"[dim]thread {thread_id} — Ctrl-D to quit[/]")
            while True:
                try:
                    line = await asyncio.to_thread(input, "you> ")
                except EOFError:
                    return
                if not line.strip():
                    continue
                try:
                    result = await agent.ask(line, thread_id=thread_id, customer_email=customer)
                except ShopAgentError as exc:
                    err.print(f"[red]{exc}[/]")
                    continue
                out.print(f"[bold green]assistant>[/] {result.answer}")
                out.print(
                    f"[dim]  {result.intent} · {_tool_names(result.tool_calls)} · "
                    f"{result.latency_ms:.0f} ms[/]"
                )

    asyncio.run(run())


def _tool_names(calls: list[dict[str, Any]]) -> str:
    return ", ".join(f"{c['name']}{'' if c['ok'] else ' (failed)'}" for c in calls) or "no tools"


@app.command()
@friendly
def demo(model: Model = None) -> None:
    """Run the scripted demo conversation through the full graph and print it."""
    quiet_logs()
    import uuid

    from shopagent.agent.cli.demo import demo_script
    from shopagent.tools.store.db import StoreDB

    settings = _settings(model)
    script = demo_script(StoreDB.open(settings.database))
    thread_id = f"demo-{uuid.uuid4().hex[:6]}"

    async def run() -> list[Any]:
        async with await _open(settings) as agent:
            out.print(f"[bold]ShopAgent demo[/] — model {agent.model_name}, thread {thread_id}")
            results = []
            for turn, message in enumerate(script, 1):
                result = await agent.ask(message, thread_id=thread_id)
                results.append(result)
                out.rule(f"turn {turn}")
                out.print(f"[bold cyan]shopper:[/] {message}")
                out.print(
                    f"[dim]intent: {', '.join(result.intents or [result.intent])} · "
                    f"tools: {_tool_names(result.tool_calls)} · "
                    f"answer from: {result.answer_source} · {result.latency_ms:.0f} ms[/]"
                )
                out.print(f"[bold green]assistant:[/] {result.answer}")
            return results

    results = asyncio.run(run())
    table = Table("turn", "intent", "tools", "source", "latency ms")
    for i, r in enumerate(results, 1):
        table.add_row(
            str(i), r.intent, _tool_names(r.tool_calls), r.answer_source, f"{r.latency_ms:.0f}"
        )
    out.print(table)


# -- operations ----------------------------------------------------------------------------
@app.command()
def doctor() -> None:
    """Check model files, store, index and inventory API; print fixes for what is missing."""
    from shopagent.agent.cli.doctor import run_checks

    settings = _settings()
    table = Table("check", "status", "detail / fix")
    failed = False
    for name, ok, detail in run_checks(settings):
        failed |= not ok
        table.add_row(name, "[green]ok[/]" if ok else "[red]missing[/]", detail)
    out.print(table)
    raise typer.Exit(1 if failed else 0)


@app.command()
@friendly
def setup(model: Model = None) -> None:
    """Prepare the local model (convert the bundled GGUF once)."""
    quiet_logs()
    from shopagent.agent.models.gguf import ensure_local_model

    path = ensure_local_model(_settings(model))
    out.print(f"local model ready at {path}")


@inventory_app.command("serve")
@friendly
def inventory_serve(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8081)) -> None:
    """Serve the price/stock API over the store database."""
    from shopagent.tools.inventory_api import serve

    serve(_settings().database, host, port)


PLUGINS = "shopagent.cli"
"""Entry-point group of command groups that live with their feature (pyproject.toml): each
entry point is a ``register(app)`` function. This module imports none of them, so the
layers below (and peers such as the HTTP server and the eval suite) stay independent."""


def _register_plugins() -> None:
    from importlib.metadata import entry_points

    from shopagent.agent.cli.search import register as register_search

    register_search(app, store_app)
    for plugin in sorted(entry_points(group=PLUGINS), key=lambda e: e.name):
        plugin.load()(app)


_register_plugins()


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
