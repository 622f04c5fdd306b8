"""``shopagent eval``: run the suite, compare runs, import logs (docs/evals.md).

Registered through the ``shopagent.cli`` entry point (:func:`register`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from shopagent.agent.cli.common import err, friendly, quiet_logs

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

eval_app = typer.Typer(
    help="Evaluate the assistant on scripted conversations (docs/evals.md).",
    no_args_is_help=True,
)
out = Console()


def _quiet_logs() -> None:
    # injected faults and refused attacks are expected here: their log lines are not news
    expected = ("shopagent.http", "shopagent.inventory", "shopagent.compose", "shopagent.tools")
    quiet_logs(also=expected)
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)


# --------------------------------------------------------------------------- run


@eval_app.command("run")
@friendly
def run(
    suites: Annotated[
        list[str] | None,
        typer.Argument(help="Built-in suite names, YAML files or directories (default: all)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="local | hf:<id> | openai:<m>")
    ] = None,
    repeat: Annotated[int, typer.Option("--repeat", "-k", min=1, help="Trials per dialog.")] = 1,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", min=1, help="Dialogs run at once.")
    ] = 1,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Report directory (default: var/eval-runs/<time>)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Base seed; trial t uses seed + t.")] = 0,
    record: Annotated[
        Path | None, typer.Option(help="Record model calls into this cassette directory.")
    ] = None,
    replay: Annotated[
        Path | None, typer.Option(help="Answer model calls from this cassette only (no network).")
    ] = None,
    judge: Annotated[
        str | None, typer.Option(help="Judge model spec for helpfulness/tone (cached).")
    ] = None,
    dialog: Annotated[
        list[str] | None, typer.Option("--dialog", "-d", help="Only dialog ids matching (glob).")
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Eval store and index cache (default: var/evals).")
    ] = None,
    store_products: Annotated[
        int, typer.Option(help="Products in the eval store (dialogs are written for 400).")
    ] = 400,
    store_profile: Annotated[
        str | None,
        typer.Option(help="Run on a store profile (e.g. alder) instead of the demo store."),
    ] = None,
    adversary: Annotated[
        bool,
        typer.Option(
            "--adversary",
            help="Red team: play the deterministic worst-case model that always sides with "
            "the attacker (evals/adversary.py) instead of a real one.",
        ),
    ] = False,
) -> None:
    """Run dialog suites end to end and write report.json, report.md and report.html."""
    if adversary and (model or record or replay):
        from shopagent.errors import ConfigError

        raise ConfigError(
            "--adversary is its own (scripted) model",
            hint="drop --model, --record and --replay when running with --adversary",
        )
    _quiet_logs()
    from shopagent.evals.loader import discover, parse_files, resolve
    from shopagent.evals.report_html import write_html
    from shopagent.evals.report_json import write_json
    from shopagent.evals.report_md import write_markdown
    from shopagent.evals.runner import EvalRun, RunOptions
    from shopagent.evals.store import StoreSpec

    from shopagent.settings import get_settings

    settings = get_settings()
    if model:
        settings = settings.model_copy(update={"model": model})
    dialogs = parse_files(discover(suites), dialog)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    target = out_dir or settings.home / "eval-runs" / stamp
    options = RunOptions(
        model="adversary" if adversary else settings.model,
        repeat=repeat,
        concurrency=concurrency,
        seed=seed,
        record=record,
        replay=replay,
        judge=judge,
        store=StoreSpec(n_products=store_products, profile=store_profile),
        cache_dir=cache_dir or settings.home / "evals",
    )
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[last]}"),
    )
    with Progress(*columns, console=err, transient=False) as bar:
        indexing = bar.add_task("index eval store", total=None, last="")
        injected = None
        if adversary:
            from shopagent.evals.adversary import AdversaryChatModel

            injected = AdversaryChatModel()
        runner = EvalRun.open(
            settings,
            options,
            model=injected,
            index_progress=lambda done, total: bar.update(indexing, completed=done, total=total),
        )
        bar.update(indexing, visible=False)
        try:
            resolved = [resolve(d, runner.store.index) for d in dialogs]
            task = bar.add_task("dialogs", total=len(resolved) * repeat, last="")
            passed = [0]

            def advance(record: Any) -> None:
                passed[0] += record.passed
                mark = "[green]pass[/]" if record.passed else "[red]fail[/]"
                bar.update(task, advance=1, last=f"{mark} {record.id} · {passed[0]} passed")

            report = asyncio.run(runner.run(resolved, progress=advance))
        finally:
            runner.close()
    paths = [write_json(report, target), write_markdown(report, target), write_html(report, target)]
    _print_summary(report)
    for path in paths:
        out.print(f"wrote {path}")


def _print_summary(report: Any) -> None:
    from shopagent.evals.report_md import SUMMARY_ROWS, fmt_metric, get_metric

    table = Table("metric", "value", title=f"eval run · model {report.meta.get('model')}")
    for name, label in SUMMARY_ROWS:
        table.add_row(label, fmt_metric(name, get_metric(report.metrics, name)))
    for k, v in (report.metrics.get("pass_hat_k") or {}).items():
        table.add_row(f"pass^{k}", fmt_metric("pass_hat_k", v))
    out.print(table)


# --------------------------------------------------------------------------- compare


@eval_app.command("compare")
@friendly
def compare(
    run_a: Annotated[Path, typer.Argument(help="Baseline run (--out dir or report.json).")],
    run_b: Annotated[Path, typer.Argument(help="Candidate run.")],
    threshold: Annotated[
        float, typer.Option(help="Largest tolerated absolute drop of a quality rate.")
    ] = 0.02,
    cost_threshold: Annotated[
        float, typer.Option(help="Largest tolerated relative increase of latency/LLM cost.")
    ] = 0.5,
    markdown: Annotated[
        Path | None, typer.Option(help="Also write the comparison as markdown to this file.")
    ] = None,
) -> None:
    """Per-metric and per-dialog changes; exit code 1 when a metric regresses."""
    from shopagent.evals.compare import (
        compare_reports,
        format_value,
        pass_rate_change,
        render_markdown,
    )
    from shopagent.evals.report_json import load_report

    a, b = load_report(run_a), load_report(run_b)
    result = compare_reports(a, b, threshold=threshold, cost_threshold=cost_threshold)
    table = Table("metric", "A", "B", "change", title=f"{run_a} → {run_b}")
    for m in result.metrics:
        delta = "" if m.delta is None else f"{m.delta:+.4g}"
        if m.regressed:
            delta = f"[bold red]{delta} regressed[/]"
        elif m.improved:
            delta = f"[green]{delta} improved[/]"
        table.add_row(m.name, format_value(m.name, m.before), format_value(m.name, m.after), delta)
    out.print(table)
    if result.dialogs:
        dialogs = Table("dialog", "change", "pass rate A → B", "why (B)")
        dialogs.columns[0].overflow = "fold"
        for d in result.dialogs:
            style = {"regressed": "red", "fixed": "green"}.get(d.status, "yellow")
            rate = pass_rate_change(d)
            why = "; ".join(f if len(f) <= 120 else f[:117] + "..." for f in d.failures)
            dialogs.add_row(d.id, f"[{style}]{d.status}[/]", rate, why)
        out.print(dialogs)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}")
    if markdown:
        markdown.write_text(
            render_markdown(result, label_a=str(run_a), label_b=str(run_b)) + "\n",
            encoding="utf-8",
        )
    if result.regressed:
        names = ", ".join(m.name for m in result.regressions)
        err.print(f"[bold red]regressed:[/] {names}")
        raise typer.Exit(1)
    out.print("[green]no regression beyond thresholds[/]")


# --------------------------------------------------------------------------- import-log


@eval_app.command("import-log")
@friendly
def import_log(
    file: Annotated[Path, typer.Argument(help="CSV of logged conversations.")],
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the YAML here (default: stdout).")
    ] = None,
    prefix: Annotated[
        str | None, typer.Option(help="Suite name and dialog id prefix (default: file stem).")
    ] = None,
    guess_intents: Annotated[
        bool, typer.Option(help="Pre-fill each turn's intent with the router's guess.")
    ] = False,
) -> None:
    """Turn logged conversations (user turns) into dialog skeletons to annotate."""
    from shopagent.evals.import_log import import_log as run_import

    guess = None
    if guess_intents:
        _quiet_logs()
        from shopagent.agent.understanding.classifier import load_router
        from shopagent.tools.embeddings import get_embedder

        from shopagent.settings import get_settings

        # the router the product uses: the store's trained intent model (`shopagent
        # train`), the exemplar kNN router only when there is none
        embedder = get_embedder()
        router = load_router(get_settings().home, embedder.embed, embedder.identity)

        def guess(message: str) -> str:
            return router.classify(message).intent

    text, stats = run_import(file, prefix=prefix, guess_intent=guess)
    if out_file is None:
        sys.stdout.write(text)
    else:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text, encoding="utf-8")
        err.print(f"wrote {out_file}")
    err.print(
        f"{stats.conversations} dialog(s), {stats.turns} turn(s); "
        f"{stats.skipped_rows} non-user or empty row(s) skipped"
    )


def register(app: typer.Typer) -> None:
    """Add ``shopagent eval`` to the CLI (the ``shopagent.cli`` entry point)."""
    app.add_typer(eval_app, name="eval")
