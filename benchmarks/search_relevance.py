"""Search relevance on the demo store: BM25 alone, dense alone, and the hybrid (RRF).

    .venv/bin/python benchmarks/search_relevance.py [--json]
        [--embedder torch|onnx|onnx-int8|static|aligned] [--max-seq-length TOKENS]
        [--dense-text embedding|search] [--tune] [--by-kind]
    .venv/bin/python benchmarks/search_relevance.py --compare aligned:128,static,onnx-int8:128
        [--fit-sample PRODUCTS]

Labels come from ``benchmarks/data/relevance_queries.yaml``: each query is written the way a
shopper writes it and carries *rules* over the generator's ground truth (product type,
category, brand, attributes, variant prices); the rules are resolved here against the
seeded demo store (seed 7, 1200 products), so no retrieval method takes part in labelling.

Every method sees the same request parsing
(:func:`shopagent.agent.understanding.search_request.parse_search_request`:
the same query words and the same filters), the same index and the same candidate depth; only
the retrievers differ (``ChromaCatalog.search(method=...)``). Metrics at 10 results:

* ``ndcg@10``: gains ``2**grade - 1``, ideal ranking over every graded product;
* ``recall@10``: share of the grade-3 products found in the top 10, out of
  ``min(10, number of grade-3 products)``;
* ``mrr``: reciprocal rank of the first grade-3 product in the top 10 (0 if none).

Queries are split deterministically: every third query (0, 3, 6, ...) is the *dev* split that
any tuning (``--tune``) may look at, the rest is the *test* split. The last line of ``--json``
output is ``{"bm25": {...}, "dense": {...}, "hybrid": {...}}``, each with the all-queries
metrics plus ``"dev"``/``"test"`` sub-objects and ``"queries"`` (count).

The index is built (incrementally) under ``$SHOPAGENT_HOME/bench/relevance/`` from the
generated store; nothing else under ``var/`` is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
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

import yaml  # noqa: E402
from relevance_labels import K, Query, load_queries, mean_metrics, metrics  # noqa: E402
from shopagent.tools.store.schema import Product  # noqa: E402

QUERIES = ROOT / "benchmarks" / "data" / "relevance_queries.yaml"
METHODS = ("bm25", "dense", "hybrid")


# --------------------------------------------------------------------------- running


def build_index(home: Path, products: list[Product], embedder: Any, tag: str, quiet: bool):
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from shopagent.tools.catalog import ChromaCatalog

    path = home / "bench" / "relevance" / tag / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    client = chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    catalog = ChromaCatalog(client, "products", embedder)
    columns = (TextColumn("indexing"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True, disable=quiet) as bar:
        task = bar.add_task("index", total=len(products))
        stats = catalog.index(products, progress=lambda d, t: bar.update(task, completed=d))
    return catalog, stats


def run(
    catalog: Any,
    queries: Sequence[Query],
    facets: dict[str, list[str]],
    methods: Sequence[str] = METHODS,
) -> dict[str, list[dict[str, float]]]:
    from shopagent.agent.understanding.search_request import parse_search_request

    per_method: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    for query in queries:
        parsed = parse_search_request(query.text, **facets)
        for method in methods:
            hits = catalog.search(
                parsed.query, filters=parsed.filters, k=K, method=method, sort="relevance"
            )
            per_method[method].append(metrics([h.product_id for h in hits], query.grades))
    return per_method


def summarize(
    queries: Sequence[Query], per_method: dict[str, list[dict[str, float]]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for method, rows in per_method.items():
        entry: dict[str, Any] = mean_metrics(rows)
        for split in ("dev", "test"):
            entry[split] = mean_metrics(
                r for q, r in zip(queries, rows, strict=True) if q.split == split
            )
        entry["queries"] = len(rows)
        out[method] = entry
    return out


def by_kind(queries: Sequence[Query], rows: Sequence[dict[str, float]]) -> dict[str, dict]:
    kinds: dict[str, list[dict[str, float]]] = {}
    for q, r in zip(queries, rows, strict=True):
        kinds.setdefault(q.kind, []).append(r)
    return {kind: {**mean_metrics(v), "n": len(v)} for kind, v in sorted(kinds.items())}


def tune(catalog: Any, queries: Sequence[Query], facets: dict[str, list[str]]) -> None:
    """A grid over the fusion settings, on the dev split only (prints the best first).

    (An earlier grid on dev over candidate depth 20/50/100, BM25 word coverage 0.34/0.5/1.0
    and min-max score fusion with dense weights 0.3-0.7 moved dev nDCG@10 by under 0.003.)
    """
    from shopagent.tools.catalog import ChromaCatalog

    dev = [q for q in queries if q.split == "dev"]
    grid: list[dict[str, Any]] = [
        {
            "rrf_k": rrf_k,
            "partial_lexical_weight": lex,
            "weak_dense_weight": weak,
            "dense_confident": conf,
        }
        for rrf_k in (10, 60)
        for lex in (1.0, 0.7, 0.5, 0.3, 0.0)
        for weak in (1.0, 0.5, 0.0)
        for conf in (0.35, 0.4, 0.45)
    ]
    results = []
    for params in grid:
        variant = ChromaCatalog(catalog.client, catalog.collection_name, catalog.embedder, **params)
        rows = run(variant, dev, facets, methods=("hybrid",))["hybrid"]
        results.append((mean_metrics(rows)["ndcg@10"], json.dumps(params)))
    results.sort(key=lambda r: -r[0])
    print(f"dev-split hybrid nDCG@10 over {len(dev)} queries (best first):", file=sys.stderr)
    for ndcg, params in results[:25]:
        print(f"  {ndcg:.4f}  {params}", file=sys.stderr)


def compare(args: argparse.Namespace, products: list[Product], queries: list[Query]) -> int:
    """``--compare``: the same queries over one index per embedder, one table row each."""
    from rich.console import Console
    from rich.table import Table
    from shopagent.tools.catalog import facets as catalog_facets
    from shopagent.tools.embeddings import make_embedder

    home = args.home or Path(os.environ.get("SHOPAGENT_HOME", ROOT / "var"))
    facets = catalog_facets(products)
    table = Table("embedder", "index s", *(f"{m} nDCG@10 (test)" for m in METHODS))
    out: dict[str, Any] = {}
    for spec in args.compare.split(","):
        name, _, tokens = spec.partition(":")
        embedder = make_embedder(name, max_seq_length=int(tokens) if tokens else None)
        embedder.warm_up()  # model load (or distillation) is not index time
        tag = f"{name}-{tokens or 'default'}-embedding"
        if args.fit_sample and hasattr(embedder, "sample"):
            embedder.sample = args.fit_sample  # type: ignore[attr-defined]
            tag += f"-fit{args.fit_sample}"
        catalog, stats = build_index(home, products, embedder, tag, quiet=args.json)
        summary = summarize(queries, run(catalog, queries, facets))
        summary["index_s"] = round(stats.seconds, 1)
        summary["embedded"] = stats.embedded
        out[spec] = summary
        cells = [
            f"{summary[m]['ndcg@10']:.4f} ({summary[m]['test']['ndcg@10']:.4f})" for m in METHODS
        ]
        table.add_row(spec, f"{stats.seconds:.1f} ({stats.embedded} embedded)", *cells)
    Console(stderr=args.json).print(table)
    if args.json:
        print(json.dumps(out))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="JSON object on the last line")
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--home", type=Path, default=None, help="default: $SHOPAGENT_HOME or var")
    parser.add_argument(
        "--embedder",
        default="torch",
        help="torch (default), onnx, onnx-int8, static or aligned (see tools/embeddings/)",
    )
    parser.add_argument(
        "--compare",
        default=None,
        help="embedders to compare, e.g. static,onnx-int8:128 (name[:max tokens])",
    )
    parser.add_argument("--max-seq-length", type=int, default=None)
    parser.add_argument(
        "--fit-sample",
        type=int,
        default=None,
        help="with --compare, products an embedder that learns from the store (aligned) "
        "fits on (default: its own, 1000); products outside the sample are only mapped",
    )
    parser.add_argument(
        "--dense-text",
        choices=("embedding", "search"),
        default="embedding",
        help="what the dense side embeds: tools.catalog.embedding_text (default) or, for "
        "comparison, Product.search_text (description before attributes)",
    )
    parser.add_argument("--tune", action="store_true", help="grid-search fusion on the dev split")
    parser.add_argument("--by-kind", action="store_true", help="hybrid metrics per query kind")
    parser.add_argument("--show", type=int, default=0, help="print the N worst hybrid queries")
    parser.add_argument(
        "--no-glossary", action="store_true", help="search without tools/catalog/translate.py"
    )
    args = parser.parse_args(argv)
    if args.no_glossary:  # the figures before the cross-lingual glossary (issue 16)
        from shopagent.tools.catalog import search as catalog_search

        catalog_search.translate = lambda query, vocab: None

    import shopagent.tools.catalog.records
    from shopagent.tools.catalog import facets as catalog_facets
    from shopagent.tools.embeddings import make_embedder
    from shopagent.tools.store.generate import generate_store

    if args.dense_text == "search":  # the index then re-embeds what changed (text hashes)
        shopagent.tools.catalog.records.embedding_text = Product.search_text  # type: ignore[assignment]

    spec = yaml.safe_load(args.queries.read_text(encoding="utf-8"))["store"]
    started = time.perf_counter()
    data = generate_store(
        seed=int(spec["seed"]),
        n_products=int(spec["n_products"]),
        n_customers=1,
        n_orders=1,
        today=date.fromisoformat(str(spec["today"])),
    )
    products = data.products
    queries = load_queries(args.queries, products)
    if args.compare:
        return compare(args, products, queries)
    home = args.home or Path(os.environ.get("SHOPAGENT_HOME", ROOT / "var"))
    embedder = make_embedder(args.embedder, max_seq_length=args.max_seq_length)
    tag = f"{args.embedder}-{args.max_seq_length or 'default'}-{args.dense_text}"
    catalog, stats = build_index(home, products, embedder, tag, quiet=args.json)
    facets = catalog_facets(products)
    if args.tune:
        tune(catalog, queries, facets)
    per_method = run(catalog, queries, facets)
    summary = summarize(queries, per_method)

    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=args.json)
    table = Table("method", "split", "queries", "nDCG@10", "recall@10", "MRR")
    for method in METHODS:
        entry = summary[method]
        for split, values, n in (
            ("all", entry, entry["queries"]),
            ("dev", entry["dev"], sum(q.split == "dev" for q in queries)),
            ("test", entry["test"], sum(q.split == "test" for q in queries)),
        ):
            table.add_row(
                method,
                split,
                str(n),
                f"{values['ndcg@10']:.4f}",
                f"{values['recall@10']:.4f}",
                f"{values['mrr']:.4f}",
            )
    console.print(table)
    best_single = max(summary["bm25"]["ndcg@10"], summary["dense"]["ndcg@10"])
    console.print(
        f"hybrid − best single method, nDCG@10: {summary['hybrid']['ndcg@10'] - best_single:+.4f} "
        f"(index: {stats.embedded} embedded, {stats.unchanged} unchanged; embedder {tag}; "
        f"{time.perf_counter() - started:.0f}s)"
    )
    if args.by_kind:
        kinds = Table("kind", "n", "nDCG@10", "recall@10", "MRR", title="hybrid by query kind")
        for kind, values in by_kind(queries, per_method["hybrid"]).items():
            kinds.add_row(
                kind,
                str(values["n"]),
                f"{values['ndcg@10']:.4f}",
                f"{values['recall@10']:.4f}",
                f"{values['mrr']:.4f}",
            )
        console.print(kinds)
    if args.show:
        worst = sorted(
            zip(queries, per_method["hybrid"], strict=True), key=lambda qr: qr[1]["ndcg@10"]
        )
        for query, row in worst[: args.show]:
            console.print(f"{row['ndcg@10']:.3f}  [{query.split}] {query.text}", highlight=False)
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
