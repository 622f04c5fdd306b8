"""The intent model's training set, built from the store's own data.

Three sources, each example labelled with an intent and a *group* (the template or exemplar
it came from, so cross-validation never tests on a sibling of a training sentence):

* the packaged exemplars (``agent/data/intents.yaml``);
* the phrasing templates (``agent/data/phrasings.yaml``) filled with the store's product
  names, product types, brands, categories, variant values, order numbers, prices and
  product features (``agent/understanding/aspects.py``);
* labelled logs: ``{"text": ..., "intent": ...}`` JSONL lines, or dialog YAML as
  ``shopagent eval import-log`` writes it once its turns carry ``expect: {intent: ...}``.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from shopagent.agent.understanding.aspects import store_aspects
from shopagent.agent.understanding.intents import INTENTS, load_exemplars

from shopagent.errors import ConfigError

FILLS_PER_TEMPLATE = 6
NOISY_SHARE = 0.3
"""Share of generated sentences also added with a typo (shoppers type fast)."""

_SEPARATORS = re.compile(r"\s+(?:[–—-]|with|for|in)\s+|,|\(|\|", re.I)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    source: str
    """``exemplar``, ``store`` (a filled template), ``noisy`` or ``log``."""
    group: str


@dataclass
class StoreVocabulary:
    """The words a store's shoppers use, taken from its catalog, policy and orders."""

    products: list[str] = field(default_factory=list)
    nouns: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)
    prices: list[str] = field(default_factory=list)
    aspects: list[str] = field(default_factory=list)
    """Features and properties of the products (:func:`store_aspects`)."""

    def fills(self) -> dict[str, list[str]]:
        return {
            "product": self.products,
            "product2": self.products,
            "noun": self.nouns,
            "noun2": self.nouns,
            "brand": self.brands,
            "category": self.categories,
            "value": self.values,
            "order": self.orders,
            "price": self.prices,
            "price2": self.prices,
            "aspect": self.aspects,
        }


def short_name(name: str, brand: str) -> str:
    """A product name as a shopper says it: no brand, no trailing description."""
    text = name.strip()
    if brand and text.casefold().startswith(brand.casefold()):
        text = text[len(brand) :].strip()
    head = _SEPARATORS.split(text, maxsplit=1)[0].strip()
    return head or text


def product_nouns(name: str, brand: str) -> list[str]:
    """Product types at the end of a short name: ``Organic Cotton T-Shirt`` -> ``cotton
    t-shirt``, ``t-shirt``."""
    words = [w for w in short_name(name, brand).split() if re.search(r"[A-Za-z]{2}", w)]
    words = [w.casefold() for w in words if not re.search(r"\d", w)]
    if not words:
        return []
    nouns = [words[-1]]
    if len(words) >= 2:
        nouns.append(" ".join(words[-2:]))
    return nouns


def _common_nouns(names: list[tuple[str, str]]) -> list[str]:
    """Product types: two-word endings, and one-word endings that end several products
    (a word that ends one name only is as likely a model name as a product type)."""
    counts: Counter[str] = Counter()
    for name, brand in names:
        counts.update(product_nouns(name, brand))
    return sorted(n for n, c in counts.items() if " " in n or (c >= 2 and len(n) >= 4))


def store_vocabulary(db: Any) -> StoreVocabulary:
    """The vocabulary of the store in ``db`` (a StoreDB or anything with its read API)."""
    names, brands, categories, values, prices = set(), set(), set(), set(), []
    named: list[tuple[str, str]] = []
    products = list(db.products())
    for product in products:
        names.update({product.name, short_name(product.name, product.brand)})
        named.append((product.name, product.brand))
        brands.add(product.brand)
        categories.add(product.category)
        for variant in product.variants:
            values.update(str(v) for v in variant.attributes.values() if str(v).strip())
            prices.append(Decimal(variant.price))
    with contextlib.suppress(Exception):  # a store without a policy trains on its catalog
        categories.update(db.policy().categories)
    orders = sorted(str(row["number"]) for row in db.rows("SELECT number FROM orders"))
    return StoreVocabulary(
        products=sorted(names),
        nouns=_common_nouns(named),
        brands=sorted(brands),
        categories=sorted(categories),
        values=sorted(values),
        orders=orders,
        prices=_round_prices(prices),
        aspects=store_aspects(products),
    )


def _round_prices(prices: list[Decimal]) -> list[str]:
    if not prices:
        return ["20", "50", "100"]
    ranked = sorted(prices)
    picks = {ranked[int(q * (len(ranked) - 1))] for q in (0.1, 0.25, 0.5, 0.75, 0.9)}
    return sorted({str(max(5, int(round(float(p) / 5) * 5))) for p in picks}, key=int)


def load_phrasings(languages: bool = False) -> dict[str, dict[str, list[str]]]:
    """The packaged templates by intent: ``{"templates": [...], "plain": [...]}``, English
    (``data/phrasings.yaml``) plus, with ``languages``, every other language's
    ``data/lang/phrasings.<code>.yaml`` (for a multilingual embedder: an English-only one
    cannot place them, and they cost English accuracy; BENCHMARKS.md, "Languages")."""
    out: dict[str, dict[str, list[str]]] = {}
    data_dir = resources.files("shopagent.agent").joinpath("data")
    files = [data_dir.joinpath("phrasings.yaml")]
    lang_dir = data_dir.joinpath("lang")
    if languages and lang_dir.is_dir():
        files += sorted(
            (f for f in lang_dir.iterdir() if f.name.startswith("phrasings.")), key=lambda f: f.name
        )
    for file in files:
        for intent, body in _phrasings_of(file.read_text(encoding="utf-8")).items():
            merged = out.setdefault(intent, {"templates": [], "plain": []})
            merged["templates"] += body["templates"]
            merged["plain"] += body["plain"]
    return out


def _phrasings_of(raw: str) -> dict[str, dict[str, list[str]]]:
    data = yaml.safe_load(raw)["templates"]
    unknown = set(data) - set(INTENTS)
    if unknown:
        raise ValueError(f"phrasings.yaml names unknown intents: {sorted(unknown)}")
    out = {}
    for intent, body in data.items():
        body = {"templates": body} if isinstance(body, list) else body
        out[intent] = {
            "templates": [str(t) for t in body.get("templates", [])],
            "plain": [str(t) for t in body.get("plain", [])],
        }
    return out


def generated_examples(
    vocab: StoreVocabulary, *, seed: int = 13, languages: bool = False
) -> list[Example]:
    """Every template filled ``FILLS_PER_TEMPLATE`` times with the store's words (templates
    whose placeholders the store has no words for are skipped), plus the plain sentences."""
    rng = random.Random(seed)
    fills = vocab.fills()
    out: list[Example] = []
    for intent, body in load_phrasings(languages).items():
        for i, template in enumerate(body["templates"]):
            names = _PLACEHOLDER.findall(template)
            if any(not fills.get(n) for n in names):
                continue
            group = f"{intent}:t{i}"
            seen = set()
            for _ in range(FILLS_PER_TEMPLATE if names else 1):
                text = _fill(template, fills, rng)
                if text not in seen:
                    seen.add(text)
                    out.append(Example(text, intent, "store", group))
        for i, text in enumerate(body["plain"]):
            out.append(Example(text, intent, "store", f"{intent}:p{i}"))
    noisy = [
        Example(_typo(e.text, rng), e.intent, "noisy", e.group)
        for e in out
        if rng.random() < NOISY_SHARE
    ]
    return out + [e for e in noisy if e.text]


def _fill(template: str, fills: dict[str, list[str]], rng: random.Random) -> str:
    """``template`` with its placeholders filled; ``{x2}`` never repeats ``{x}``'s value."""
    chosen: dict[str, str] = {}
    for name in _PLACEHOLDER.findall(template):
        if name in chosen:
            continue
        taken = chosen.get(name[:-1]) if name.endswith("2") else None
        options = [v for v in fills[name] if v != taken] or fills[name]
        chosen[name] = rng.choice(options)
    return _PLACEHOLDER.sub(lambda m: chosen[m.group(1)], template)


def _typo(text: str, rng: random.Random) -> str:
    """One shopper-style slip: a dropped or swapped letter, no capitals, no punctuation."""
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) > 3 and w.isalpha()]
    if long:
        i = rng.choice(long)
        w = words[i]
        j = rng.randrange(1, len(w) - 1)
        words[i] = (
            w[:j] + w[j + 1 :] if rng.random() < 0.5 else w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :]
        )
    out = " ".join(words)
    if rng.random() < 0.5:
        out = re.sub(r"[?!.,']", "", out.lower())
    return out if out != text else ""


def exemplar_examples() -> list[Example]:
    return [
        Example(text, intent, "exemplar", f"{intent}:e{i}")
        for intent, texts in load_exemplars().items()
        for i, text in enumerate(texts)
    ]


def log_examples(paths: Iterable[Path], vocab: StoreVocabulary) -> list[Example]:
    """Labelled lines from JSONL (``{text, intent}``) and annotated import-log YAML files."""
    out: list[Example] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise ConfigError(f"log file {path} not found", hint="pass existing files to --logs")
        text = path.read_text(encoding="utf-8")
        if path.suffix in {".yaml", ".yml"}:
            pairs = list(_dialog_pairs(yaml.safe_load(text), vocab))
        else:
            pairs = [_jsonl_pair(line, path, n) for n, line in enumerate(text.splitlines(), 1)]
        for n, pair in enumerate(p for p in pairs if p):
            message, intent = pair
            if intent not in INTENTS:
                raise ConfigError(
                    f"{path}: unknown intent {intent!r} for {message!r}",
                    hint=f"use one of: {', '.join(INTENTS)}",
                )
            out.append(Example(message, intent, "log", f"log:{path.name}:{n}"))
    return out


def _jsonl_pair(line: str, path: Path, n: int) -> tuple[str, str] | None:
    if not line.strip():
        return None
    try:
        row = json.loads(line)
        return str(row["text"]).strip(), str(row["intent"]).strip()
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{path}:{n}: not a {{text, intent}} JSON line ({type(exc).__name__})",
            hint='write one object per line: {"text": "where is my order", "intent": '
            '"order_status"}',
        ) from None


def _dialog_pairs(data: Any, vocab: StoreVocabulary) -> Iterable[tuple[str, str]]:
    """``(user text, intent)`` of every annotated turn; ``{o1.number}``-style variables get
    the store's values back so the sentence reads as the shopper wrote it."""
    dialogs = data.get("dialogs", []) if isinstance(data, dict) else data or []
    order = vocab.orders[0] if vocab.orders else "order"
    product = vocab.products[0] if vocab.products else "item"

    def fill(match: re.Match[str]) -> str:
        attr = match.group(1).rsplit(".", 1)[-1]
        return {"number": order, "email": "shopper@example.com", "zip": "12345"}.get(attr, product)

    for dialog in dialogs:
        for turn in (dialog or {}).get("turns", []) or []:
            intent = ((turn or {}).get("expect") or {}).get("intent")
            if isinstance(intent, list):
                intent = intent[0] if intent else None
            user = (turn or {}).get("user")
            if isinstance(user, str) and isinstance(intent, str):
                yield re.sub(r"\{([\w.]+)\}", fill, user).strip(), intent


def training_set(
    db: Any, logs: Iterable[Path] = (), *, seed: int = 13, languages: bool = False
) -> tuple[list[Example], StoreVocabulary]:
    """Exemplars + store-generated sentences + labelled logs, and the store's vocabulary."""
    vocab = store_vocabulary(db)
    examples = exemplar_examples() + generated_examples(vocab, seed=seed, languages=languages)
    examples += log_examples(logs, vocab)
    return examples, vocab
