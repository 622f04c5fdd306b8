"""Search at scale: index a generated 50,000-product catalog, re-index 1% changes, query it.

    .venv/bin/python benchmarks/search_scale.py [--json] [--products N]
        [--embedder aligned|static|onnx-int8|onnx|torch] [--max-seq-length TOKENS]
    .venv/bin/python benchmarks/search_scale.py --compare aligned:128,static,onnx-int8:128
        [--products N]

``--compare`` runs each embedder (``name[:max tokens]``) in its own process, one after the
other, and prints a table with each figure's ratio to the last one (the baseline).

1. Generate the catalog (seed 7, fixed date) and index it from scratch into a fresh embedded
   Chroma directory (a rich progress bar on stderr): products/s, and how much of the time was
   spent embedding (``fit_seconds``: learning the ``aligned`` embedder's map from the store,
   MiniLM on a sample of its products included). On a shared machine the CPU seconds the
   process got (all threads) tell how much of the wall time it actually ran:
   ``products_per_cpu_s`` depends little on the load, and times the number of cores it is
   roughly what an idle machine would reach.
2. Edit the description of 1% of the products (500 of 50,000) and index again: seconds, how
   many texts were re-embedded, and the ratio to the full index time.
3. In a fresh process (as a server would be: it opens the index, nothing else), 200 fresh
   queries (every one distinct, the query-embedding cache cleared before each, after one
   warm-up query that opens the search files): latency p50/p95 of request parsing plus
   ``ChromaCatalog.search`` (query embedding, dense retrieval, BM25, filters, fusion).
4. Peak RSS (``resource.getrusage``) of the indexing process (which also holds the generated
   catalog, as ``shopagent index`` holds the store's products) and of the serving process.

The last line of ``--json`` output is one JSON object with every figure, plus the embedder,
CPU count and load average (the machine may be shared: the load average says how much).
The index lives in a temporary directory under ``$SHOPAGENT_HOME/bench/`` that is removed at
the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shopagent.tools.store.schema import Product  # noqa: E402

SEED = 7
TODAY = date(2025, 6, 1)

_NEEDS = (
    "for my {who}",
    "for {use}",
    "that lasts",
    "good value",
    "as a gift",
    "for a small apartment",
    "for everyday use",
    "lightweight",
    "easy to clean",
    "for travel",
)
_WHO = ("dad", "sister", "roommate", "kids", "partner", "office", "grandma", "team")
_USE = ("weekends", "camping", "the gym", "my desk", "winter", "the beach", "mornings")


def queries(n: int, seed: int = SEED) -> list[str]:
    """``n`` distinct shopper-style queries built from the vocabulary (type names, synonyms,
    colours, budgets, negations)."""
    from shopagent.tools.store import vocab

    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        category = rng.choice(vocab.CATEGORIES)
        ptype = rng.choice(category.types)
        noun = rng.choice((ptype.noun, *ptype.aka))
        parts = [noun]
        roll = rng.random()
        if roll < 0.25:
            parts.insert(0, rng.choice(category.colors).lower())
        elif roll < 0.4:
            parts.append(f"not {rng.choice(category.materials).split()[-1]}")
        if rng.random() < 0.5:
            need = rng.choice(_NEEDS).format(who=rng.choice(_WHO), use=rng.choice(_USE))
            parts.append(need)
        if rng.random() < 0.4:
            parts.append(f"under ${rng.randint(ptype.price[0], ptype.price[1] + 40)}")
        text = " ".join(parts)
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def edited(products: list[Product], share: float, seed: int = SEED) -> tuple[list[Product], int]:
    """The catalog with ``share`` of the products' descriptions changed (a sentence added)."""
    rng = random.Random(seed + 1)
    count = max(1, round(len(products) * share))
    chosen = set(rng.sample(range(len(products)), count))
    changed = [
        p.model_copy(update={"description": p.description + " Now with a refreshed design."})
        if i in chosen
        else p
        for i, p in enumerate(products)
    ]
    return changed, count


class TimedEmbedder:
    """Wraps an embedder and adds up the seconds spent in ``embed`` (and in ``fit``, for an
    embedder that learns from the store: the views it returns are timed too)."""

    def __init__(self, inner: Any, parent: TimedEmbedder | None = None) -> None:
        self.inner = inner
        self.parent = parent
        self.seconds = 0.0
        self.fit_seconds = 0.0

    @property
    def identity(self) -> str:
        return self.inner.identity

    def _root(self) -> TimedEmbedder:
        return self.parent._root() if self.parent is not None else self

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.embed(texts, batch_size=batch_size)
        finally:
            self._root().seconds += time.perf_counter() - started

    def embed_one(self, text: str) -> Any:
        return self.inner.embed_one(text)

    def fit(self, texts: Sequence[str]) -> TimedEmbedder:
        started = time.perf_counter()
        try:
            return TimedEmbedder(self.inner.fit(texts), parent=self._root())
        finally:
            self._root().fit_seconds += time.perf_counter() - started

    def restore(self, identity: str, directory: Path) -> TimedEmbedder | None:
        view = self.inner.restore(identity, directory)
        return None if view is None else TimedEmbedder(view, parent=self._root())

    def __getattr__(self, name: str) -> Any:
        if name in ("fit", "restore") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.inner, name)


def _peak_rss_mb() -> float:
    """This process's peak resident set (``VmHWM``: unlike ``getrusage``, not inherited from
    the parent that started it)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _open(workdir: Path, embedder: Any) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from shopagent.tools.catalog import ChromaCatalog

    client = chromadb.PersistentClient(
        path=str(workdir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    return ChromaCatalog(client, "products", embedder)


def serve(args: argparse.Namespace) -> dict[str, Any]:
    """Step 3 in this (fresh) process: open the index in ``args.serve`` and query it."""
    from shopagent.agent.understanding.search_request import parse_search_request
    from shopagent.tools.embeddings import make_embedder

    embedder = make_embedder(args.embedder, max_seq_length=args.max_seq_length)
    embedder.warm_up()  # model load is not query time
    catalog = _open(args.serve, embedder)
    started = time.perf_counter()
    vocabulary = catalog.facets()  # opens the search files
    catalog.search("warm up kettle", k=10)
    opened = round(time.perf_counter() - started, 2)
    latencies: list[float] = []
    for text in queries(args.queries):
        embedder.clear_cache()  # every query is embedded
        started = time.perf_counter()
        parsed = parse_search_request(text, **vocabulary)
        catalog.search(parsed.query, filters=parsed.filters, k=10, sort=parsed.sort)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return {
        "open_s": opened,
        "n": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[max(0, round(0.95 * len(latencies)) - 1)], 1),
        "mean_ms": round(statistics.fmean(latencies), 1),
        "peak_rss_mb": round(_peak_rss_mb(), 0),
    }


def _child(argv: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *argv, "--json"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(args: argparse.Namespace) -> int:
    """``--compare``: one process per embedder, then a table with ratios to the last."""
    from rich.console import Console
    from rich.table import Table

    rows: list[dict[str, Any]] = []
    for spec in args.compare.split(","):
        name, _, tokens = spec.partition(":")
        argv = ["--products", str(args.products), "--queries", str(args.queries)]
        argv += ["--embedder", name] + (["--max-seq-length", tokens] if tokens else [])
        if args.home:
            argv += ["--home", str(args.home)]
        rows.append(_child(argv))
    base = rows[-1]
    table = Table("embedder", "products/s", "re-index ratio", "p50 / p95 ms", "peak RSS MB")

    def ratio(value: float, of: float) -> str:
        return f"{value / of:.2f}x" if of else "-"

    for row in rows:
        label = f"{row['embedder']}:{row['max_seq_length'] or '-'}"
        speed, rss = (
            row["index"]["products_per_s"],
            max(row["peak_rss_mb"], row["query"]["peak_rss_mb"]),
        )
        base_rss = max(base["peak_rss_mb"], base["query"]["peak_rss_mb"])
        table.add_row(
            label,
            f"{speed} ({ratio(speed, base['index']['products_per_s'])})",
            f"{row['reindex']['ratio_to_full']}",
            f"{row['query']['p50_ms']} / {row['query']['p95_ms']}"
            f" ({ratio(row['query']['p50_ms'], base['query']['p50_ms'])})",
            f"{rss:.0f} ({ratio(rss, base_rss)})",
        )
    Console(stderr=args.json).print(table)
    if args.json:
        print(json.dumps(rows))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="JSON object on the last line")
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--change", type=float, default=0.01, help="share of products edited")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embedder", default="static", help="static, onnx-int8, onnx or torch")
    parser.add_argument("--max-seq-length", type=int, default=None, help="token cap per text")
    parser.add_argument("--batch-size", type=int, default=256, help="products per index batch")
    parser.add_argument("--home", type=Path, default=None, help="default: $SHOPAGENT_HOME or var")
    parser.add_argument("--keep", action="store_true", help="keep the index directory")
    parser.add_argument("--compare", default=None, help="embedders to compare, baseline last")
    parser.add_argument("--serve", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.compare:
        return compare(args)
    if args.serve:
        print(json.dumps(serve(args)))
        return 0

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from shopagent.tools.embeddings import make_embedder
    from shopagent.tools.store.generate import generate_store

    console = Console(stderr=True)
    home = args.home or Path(os.environ.get("SHOPAGENT_HOME", ROOT / "var"))
    (home / "bench").mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="scale-", dir=home / "bench"))
    result: dict[str, Any] = {
        "products": args.products,
        "embedder": args.embedder,
        "max_seq_length": args.max_seq_length,
        "cpus": os.cpu_count(),
    }
    try:
        started = time.perf_counter()
        products = generate_store(
            seed=SEED, n_products=args.products, n_customers=1, n_orders=1, today=TODAY
        ).products
        result["generate_s"] = round(time.perf_counter() - started, 1)
        console.print(f"generated {len(products)} products in {result['generate_s']}s")

        inner = make_embedder(args.embedder, max_seq_length=args.max_seq_length)
        started = time.perf_counter()
        inner.warm_up()  # model load (or export/distillation) is not indexing time
        result["embedder_ready_s"] = round(time.perf_counter() - started, 1)
        embedder = TimedEmbedder(inner)
        catalog = _open(workdir, embedder)

        load_before = os.getloadavg()
        cpu_before = time.process_time()
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("full index", total=len(products))
            stats = catalog.index(
                products,
                batch_size=args.batch_size,
                progress=lambda done, total: bar.update(task, completed=done),
            )
        cpu_seconds = time.process_time() - cpu_before
        result["index"] = {
            "seconds": round(stats.seconds, 1),
            "products_per_s": round(len(products) / stats.seconds, 1),
            "cpu_seconds": round(cpu_seconds, 1),
            "products_per_cpu_s": round(len(products) / cpu_seconds, 1),
            "embed_seconds": round(embedder.seconds, 1),
            "fit_seconds": round(embedder.fit_seconds, 1),
            "embedded": stats.embedded,
            "load_avg_1m": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        }
        console.print(f"full index: {result['index']}")

        changed, count = edited(products, args.change)
        embedder.seconds = 0.0
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task(f"re-index ({count} changed)", total=len(changed))
            again = catalog.index(
                changed,
                batch_size=args.batch_size,
                progress=lambda done, total: bar.update(task, completed=done),
            )
        result["reindex"] = {
            "changed": count,
            "embedded": again.embedded,
            "updated": again.updated,
            "unchanged": again.unchanged,
            "seconds": round(again.seconds, 2),
            "embed_seconds": round(embedder.seconds, 2),
            "ratio_to_full": round(again.seconds / stats.seconds, 4),
        }
        console.print(f"incremental re-index: {result['reindex']}")
        result["peak_rss_mb"] = round(_peak_rss_mb(), 0)
        del products, changed, catalog

        argv = ["--serve", str(workdir), "--embedder", args.embedder]
        argv += ["--queries", str(args.queries)]
        if args.max_seq_length:
            argv += ["--max-seq-length", str(args.max_seq_length)]
        result["query"] = _child(argv)
        console.print(f"queries (fresh process): {result['query']}")
        result["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    finally:
        if args.keep:
            console.print(f"index kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
    else:
        console.print_json(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
