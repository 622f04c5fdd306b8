"""What the cross-lingual glossary (tools/catalog/translate.py) costs an English query: hybrid
search latency over the English relevance queries with and without it, in one process on one
index, rounds interleaved so machine load hits both alike.

    .venv/bin/python benchmarks/search_latency_glossary.py [--embedder aligned] [--rounds 5]
        [--compare glossary|unread]

Prints median and p95 ms per query for each, and how many English queries the glossary
rewrote at all (a query whose every word the catalog indexes is searched as written).
``--compare unread`` times the search with and without the check of a partly rendered query
(:func:`~shopagent.tools.catalog.translate.unread`, issue 16) instead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "benchmarks"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from relevance_labels import load_queries  # noqa: E402
from search_relevance import QUERIES, build_index  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embedder", default="aligned")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compare", choices=("glossary", "unread"), default="glossary")
    args = parser.parse_args(argv)

    from shopagent.agent.understanding.search_request import parse_search_request
    from shopagent.tools.catalog import facets as catalog_facets
    from shopagent.tools.catalog import search as catalog_search
    from shopagent.tools.catalog.translate import translate, unread
    from shopagent.tools.embeddings import make_embedder
    from shopagent.tools.store.generate import generate_store

    data = generate_store(
        seed=7, n_products=1200, n_customers=1, n_orders=1, today=date(2025, 6, 1)
    )
    facets = catalog_facets(data.products)
    embedder = make_embedder(args.embedder)
    home = Path(os.environ.get("SHOPAGENT_HOME", ROOT / "var"))
    catalog, _ = build_index(
        home, data.products, embedder, f"{args.embedder}-default-embedding", True
    )
    parsed = [parse_search_request(q.text, **facets) for q in load_queries(QUERIES, data.products)]
    vocab = catalog._current()[1].files.vocab
    rewritten = sum(translate(p.query, vocab) is not None for p in parsed)
    # The switched function, its real version and its "off" stand-in.
    attr, real = ("translate", translate) if args.compare == "glossary" else ("unread", unread)
    off = (lambda query, vocab: None) if args.compare == "glossary" else (lambda text, vocab: False)
    on_name = f"with {args.compare}"
    timings: dict[str, list[float]] = {on_name: [], "without": []}
    for p in parsed:  # warm caches
        catalog.search(p.query, filters=p.filters, k=10)
    for round_ in range(args.rounds):
        order = [(on_name, real), ("without", off)]
        for name, fn in order if round_ % 2 else order[::-1]:
            setattr(catalog_search, attr, fn)
            for p in parsed:
                started = time.perf_counter()
                catalog.search(p.query, filters=p.filters, k=10)
                timings[name].append((time.perf_counter() - started) * 1000)
    setattr(catalog_search, attr, real)
    print(f"{len(parsed)} English queries, {rewritten} rewritten by the glossary")
    for name, values in timings.items():
        values.sort()
        p95 = values[int(0.95 * (len(values) - 1))]
        print(f"{name:16} median {statistics.median(values):.2f} ms  p95 {p95:.2f} ms")
    medians = [statistics.median(v) for v in timings.values()]
    print(f"median ratio (with / without): {medians[0] / medians[1]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
