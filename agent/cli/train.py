"""``shopagent train``: the intent model, trained on the store's own data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from shopagent.agent.cli.common import friendly, quiet_logs

from shopagent.errors import ConfigError
from shopagent.settings import get_settings

out = Console()

Logs = Annotated[
    list[Path] | None,
    typer.Option(
        "--logs",
        help="Labelled logs: {text, intent} JSONL, or annotated `eval import-log` YAML. "
        "Repeat for several files.",
    ),
]


def train(
    logs: Logs = None,
    features: Annotated[
        str, typer.Option(help="embed (MiniLM only) or embed+char (plus character n-grams).")
    ] = "embed+char",
    force: Annotated[bool, typer.Option(help="Retrain even if nothing changed.")] = False,
) -> None:
    """Train the intent model on the store's catalog, policy, orders and labelled logs.

    Retrains only when the store or the training data changed; prints the cross-validated
    report and saves the model and report beside the index (under the ShopAgent home)."""
    quiet_logs()
    from shopagent.agent.understanding.classifier import FEATURES
    from shopagent.agent.understanding.training import train_store
    from shopagent.tools.embeddings import MULTILINGUAL_BACKEND, get_embedder, shared_embedder
    from shopagent.tools.store.db import StoreDB

    if features not in FEATURES:
        raise ConfigError(
            f"unknown features {features!r}", hint=f"use one of: {', '.join(FEATURES)}"
        )
    settings = get_settings()
    if not settings.database.exists():
        raise ConfigError(
            f"no store database at {settings.database}",
            hint="run `shopagent store demo` or `shopagent store load DIR` first",
        )
    db = StoreDB.open(settings.database)
    try:
        embedder = get_embedder()
        if settings.embedder == MULTILINGUAL_BACKEND:  # zh/es shoppers (issue 16)
            embedder = shared_embedder(MULTILINGUAL_BACKEND)  # router as the evals run it
        result = train_store(
            db,
            settings.home,
            embedder.embed,
            embedder.identity,
            logs=logs or [],
            features=features,
            force=force,
        )
    finally:
        db.close()
    report = result.model.report
    if not result.trained:
        out.print(f"intent model up to date at {result.path} (data unchanged; --force retrains)")
        return
    cv = report["cv"]
    out.print(
        f"trained on {report['examples']} examples {report['by_source']} in "
        f"{result.seconds:.1f}s; model {result.size_bytes / 1024:.0f} KiB at {result.path}"
    )
    out.print(
        f"{cv['folds']}-fold grouped cross-validation: accuracy {cv['accuracy']:.3f}, "
        f"calibration error {cv['ece']:.3f}, out-of-scope threshold {cv['oos_threshold']:.2f} "
        f"(precision {cv['oos_precision']:.3f}, recall {cv['oos_recall']:.3f})"
    )
    numbers = [str(i) for i in range(1, len(cv["labels"]) + 1)]
    table = Table("true \\ predicted", *numbers, title="confusion matrix (cross-validated)")
    for i, (label, row) in enumerate(zip(cv["labels"], cv["confusion"], strict=True), 1):
        table.add_row(f"{i} {label}", *(str(n) for n in row))
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add ``train`` to ``app``."""
    app.command("train")(friendly(train))
