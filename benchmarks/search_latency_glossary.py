"""What the cross-lingual glossary (tools/catalog/translate.py) costs an English query: hybrid
search latency over the English relevance queries with and without it, in one process on one
index, rounds interleaved so machine load hits both alike.

    .venv/bin/python benchmarks/search_latency_glossary.py [--embedder aligned] [--rounds 5]
        [--compare glossary|unread|lexicon]

Prints median and p95 ms per query for each, and how many English queries the glossary
rewrote at all (a query whose every word the catalog indexes is searched as written).
``--compare unread`` times the search with and without the check of a partly rendered query
(:func:`~shopagent.tools.catalog.translate.unread`, issue 16) instead. ``--compare lexicon``
times the Spanish, Chinese and English queries of the cross-lingual needs with and without
the general lexicons behind the glossaries (``tools/catalog/lexicon.py``), after one warm-up
pass that loads them.
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
    parser.add_argument("--compare", choices=("glossary", "unread", "lexicon"), default="glossary")
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
    texts = [q.text for q in load_queries(QUERIES, data.products)]
    if args.compare == "lexicon":
        texts = _i18n_queries()
    parsed = [parse_search_request(text, **facets) for text in texts]
    vocab = catalog._current()[1].files.vocab
    rewritten = sum(translate(p.query, vocab) is not None for p in parsed)
    # The switched function, its real version and its "off" stand-in.
    attr, real = ("translate", translate) if args.compare == "glossary" else ("unread", unread)
    off = (lambda query, vocab: None) if args.compare == "glossary" else (lambda text, vocab: False)
    if args.compare == "lexicon":
        attr, real, off = _lexicon_switch(translate)
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
    kind = "es/zh/en" if args.compare == "lexicon" else "English"
    print(f"{len(parsed)} {kind} queries, {rewritten} rewritten by the glossary")
    for name, values in timings.items():
        values.sort()
        p95 = values[int(0.95 * (len(values) - 1))]
        print(f"{name:16} median {statistics.median(values):.2f} ms  p95 {p95:.2f} ms")
    medians = [statistics.median(v) for v in timings.values()]
    print(f"median ratio (with / without): {medians[0] / medians[1]:.3f}")
    return 0


def _i18n_queries() -> list[str]:
    """The cross-lingual needs in the three languages, localized as the agent does."""
    import yaml
    from search_relevance_languages import LANGUAGES, NEEDS
    from shopagent.agent.understanding.localize import localize

    needs = yaml.safe_load(NEEDS.read_text(encoding="utf-8"))["needs"]
    return [localize(need[lang], lang) for lang in LANGUAGES for need in needs]


def _lexicon_switch(translate):  # type: ignore[no-untyped-def]
    """``translate`` with the general lexicons, and the glossaries alone."""
    from shopagent.tools.catalog import translate as translate_module

    def without(query, vocab):  # type: ignore[no-untyped-def]
        saved = translate_module.word_lexicon, dict(translate_module.CJK_LEXICONS)
        translate_module.word_lexicon = lambda language: None
        translate_module.CJK_LEXICONS.clear()
        try:
            return translate(query, vocab)
        finally:
            translate_module.word_lexicon = saved[0]
            translate_module.CJK_LEXICONS.update(saved[1])

    return "translate", translate, without


if __name__ == "__main__":
    raise SystemExit(main())
