"""Cross-lingual search relevance: the same needs asked in English, Spanish and Chinese over
the English demo store (``benchmarks/data/relevance_queries_i18n.yaml``), per embedder.

    .venv/bin/python benchmarks/search_relevance_languages.py [--embedders static,use-multilingual]
        [--no-glossary] [--json]

Labels are the rules of each need, resolved against the generated store exactly as in
``benchmarks/search_relevance.py`` (same index, parsing and metrics); only the language of the
query changes. The table gives nDCG@10 per language and method, and the gap to English, over
all needs and over the held-out *test* split (every need but each third, as in
``search_relevance.py``; the glossaries were never written from them). ``--no-glossary``
searches without the cross-lingual glossary (``tools/catalog/translate.py``): the figures
before it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "benchmarks"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import yaml  # noqa: E402
from relevance_labels import load_queries  # noqa: E402
from search_relevance import METHODS, build_index, run, summarize  # noqa: E402

NEEDS = ROOT / "benchmarks" / "data" / "relevance_queries_i18n.yaml"
LANGUAGES = ("en", "es", "zh")


def language_queries(spec: dict[str, Any], lang: str, products: list, tmp: Path) -> list:
    """The needs as the relevance benchmark's queries, asked in ``lang`` and rewritten as the
    agent rewrites a turn before parsing it (:func:`localize`)."""
    from shopagent.agent.understanding.localize import localize

    items = [
        {"q": localize(need[lang], lang), **{k: v for k, v in need.items() if k not in LANGUAGES}}
        for need in spec["needs"]
    ]
    path = tmp / f"queries-{lang}.yaml"
    path.write_text(yaml.safe_dump({"queries": items}, allow_unicode=True), encoding="utf-8")
    return load_queries(path, products)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embedders", default="static,use-multilingual")
    parser.add_argument("--needs", type=Path, default=NEEDS)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-glossary", action="store_true")
    args = parser.parse_args(argv)
    if args.no_glossary:
        from shopagent.tools.catalog import search as catalog_search

        catalog_search.translate = lambda query, vocab: None

    from rich.console import Console
    from rich.table import Table
    from shopagent.tools.catalog import facets as catalog_facets
    from shopagent.tools.embeddings import make_embedder
    from shopagent.tools.store.generate import generate_store

    spec = yaml.safe_load(args.needs.read_text(encoding="utf-8"))
    store = spec["store"]
    data = generate_store(
        seed=int(store["seed"]),
        n_products=int(store["n_products"]),
        n_customers=1,
        n_orders=1,
        today=date.fromisoformat(str(store["today"])),
    )
    products = data.products
    facets = catalog_facets(products)
    home = args.home or Path(os.environ.get("SHOPAGENT_HOME", ROOT / "var"))
    with tempfile.TemporaryDirectory() as tmp:
        queries = {lang: language_queries(spec, lang, products, Path(tmp)) for lang in LANGUAGES}
    table = Table(
        "embedder", "language", "queries", *(f"{m} nDCG@10" for m in METHODS), "test", "ms/q"
    )
    out: dict[str, Any] = {}
    for name in args.embedders.split(","):
        embedder = make_embedder(name)
        embedder.embed(["warm up"])
        catalog, _ = build_index(home, products, embedder, f"{name}-default-embedding", args.json)
        out[name] = {}
        for lang in LANGUAGES:
            started = time.perf_counter()
            summary = summarize(queries[lang], run(catalog, queries[lang], facets))
            ms = (time.perf_counter() - started) * 1000 / len(queries[lang]) / len(METHODS)
            out[name][lang] = {m: round(summary[m]["ndcg@10"], 4) for m in METHODS}
            out[name][lang]["hybrid_test"] = round(summary["hybrid"]["test"]["ndcg@10"], 4)
            out[name][lang]["ms_per_query"] = round(ms, 1)
            gap = "" if lang == "en" else " (Δen {:+.3f})"
            cells = []
            for m in METHODS:
                value = summary[m]["ndcg@10"]
                delta = gap.format(value - out[name]["en"][m]) if gap else ""
                cells.append(f"{value:.4f}{delta}")
            test = out[name][lang]["hybrid_test"]
            test_gap = gap.format(test - out[name]["en"]["hybrid_test"]) if gap else ""
            table.add_row(
                name, lang, str(len(queries[lang])), *cells, f"{test:.4f}{test_gap}", f"{ms:.1f}"
            )
    Console(stderr=args.json).print(table)
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
