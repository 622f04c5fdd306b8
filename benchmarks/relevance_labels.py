"""Relevance labels and metrics for benchmarks/search_relevance.py.

Each query in ``benchmarks/data/relevance_queries.yaml`` carries *rules* over the generator's
ground truth (product type, category, brand, attributes, variant prices); :func:`load_queries`
resolves them against the generated store, so no retrieval method takes part in labelling.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from shopagent.tools.store.schema import Product

K = 10
_VARIANT_KEYS = ("min_price", "max_price", "color", "size", "attrs")


# --------------------------------------------------------------------------- labels


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:[.,][0-9]+)?", text.casefold().replace("grey", "gray"))


def _contains(value: str, wanted: str) -> bool:
    """``wanted``'s words appear, in order and adjacent, among ``value``'s words."""
    have, want = _words(value), _words(wanted)
    if not want:
        return False
    return any(have[i : i + len(want)] == want for i in range(len(have) - len(want) + 1))


@dataclass
class Query:
    index: int
    text: str
    kind: str
    rules: dict[str, Any]
    grades: dict[str, int] = field(default_factory=dict)

    @property
    def split(self) -> str:
        return "dev" if self.index % 3 == 0 else "test"


def product_type(product: Product, nouns: set[str]) -> str:
    """The generator's product type: its first tag is the type noun (checked against vocab)."""
    noun = product.tags[0] if product.tags else ""
    if noun not in nouns:
        raise SystemExit(f"product {product.id} has no known type tag ({product.tags[:1]})")
    return noun


def grade(product: Product, ptype: str, rules: dict[str, Any]) -> int:
    """The graded relevance of ``product`` for a query's rules (see the YAML header)."""
    if "category" in rules:
        answers = product.category.casefold() == str(rules["category"]).casefold()
    else:
        answers = ptype in [t.casefold() for t in rules.get("type", [])]
    if not answers:
        related = [t.casefold() for t in rules.get("related", [])]
        return 1 if ptype in related else 0
    failures = 0
    if "brand" in rules and product.brand.casefold() != str(rules["brand"]).casefold():
        failures += 1
    if "material" in rules:
        material = product.attributes.get("material")
        known = material if material is not None else ptype
        if not _contains(known, str(rules["material"])):
            failures += 1
    failures += _variant_failures(product, rules)
    for term in rules.get("exclude", []):
        if _excluded(product, ptype, str(term)):
            return 1
    if failures == 0:
        return 3
    return 2 if failures == 1 else 1


def _variant_failures(product: Product, rules: dict[str, Any]) -> int:
    """The fewest variant-level constraints any one SKU fails (price, colour, size, attrs)."""
    if not any(key in rules for key in _VARIANT_KEYS):
        return 0
    best = None
    for variant in product.variants:
        attrs = {k.casefold(): v for k, v in {**product.attributes, **variant.attributes}.items()}
        fails = 0
        if "min_price" in rules and variant.price < Decimal(str(rules["min_price"])):
            fails += 1
        if "max_price" in rules and variant.price > Decimal(str(rules["max_price"])):
            fails += 1
        if "color" in rules and not _contains(attrs.get("color", ""), str(rules["color"])):
            fails += 1
        if "size" in rules and _words(attrs.get("size", "")) != _words(str(rules["size"])):
            fails += 1
        for key, value in (rules.get("attrs") or {}).items():
            if not _contains(attrs.get(str(key).casefold(), ""), str(value)):
                fails += 1
        best = fails if best is None else min(best, fails)
    return best or 0


def _excluded(product: Product, ptype: str, term: str) -> bool:
    if _contains(product.brand, term) or _contains(ptype, term):
        return True
    if any(_contains(v, term) for v in product.attributes.values()):
        return True
    return all(any(_contains(v, term) for v in var.attributes.values()) for var in product.variants)


def load_queries(path: Path, products: Sequence[Product]) -> list[Query]:
    from shopagent.tools.store import vocab

    nouns = {t.noun.casefold() for c in vocab.CATEGORIES for t in c.types}
    categories = {c.name.casefold() for c in vocab.CATEGORIES}
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    types = {p.id: product_type(p, nouns) for p in products}
    queries: list[Query] = []
    problems: list[str] = []
    for i, item in enumerate(spec["queries"]):
        rules = {k: v for k, v in item.items() if k not in ("q", "kind")}
        for noun in [*rules.get("type", []), *rules.get("related", [])]:
            if noun.casefold() not in nouns:
                problems.append(f"query {i} {item['q']!r}: unknown product type {noun!r}")
        if "category" in rules and str(rules["category"]).casefold() not in categories:
            problems.append(f"query {i} {item['q']!r}: unknown category {rules['category']!r}")
        query = Query(i, str(item["q"]), str(item.get("kind", "")), rules)
        for product in products:
            g = grade(product, types[product.id], rules)
            if g:
                query.grades[product.id] = g
        if not any(g == 3 for g in query.grades.values()):
            problems.append(f"query {i} {item['q']!r}: no product satisfies every rule")
        queries.append(query)
    if problems:
        raise SystemExit("invalid relevance labels:\n  " + "\n  ".join(problems))
    return queries


# --------------------------------------------------------------------------- metrics


def metrics(ranking: Sequence[str], grades: dict[str, int], k: int = K) -> dict[str, float]:
    top = list(ranking[:k])
    dcg = sum((2 ** grades.get(pid, 0) - 1) / math.log2(i + 2) for i, pid in enumerate(top))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    relevant = {pid for pid, g in grades.items() if g == 3}
    found = sum(1 for pid in top if pid in relevant)
    first = next((i for i, pid in enumerate(top, 1) if pid in relevant), None)
    return {
        "ndcg@10": dcg / idcg if idcg else 0.0,
        "recall@10": found / min(k, len(relevant)) if relevant else 0.0,
        "mrr": 1.0 / first if first else 0.0,
    }


def mean_metrics(rows: Iterable[dict[str, float]]) -> dict[str, float]:
    rows = list(rows)
    if not rows:
        return {"ndcg@10": 0.0, "recall@10": 0.0, "mrr": 0.0}
    return {key: round(statistics.fmean(r[key] for r in rows), 4) for key in rows[0]}
