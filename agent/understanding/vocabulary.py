"""The store's own vocabulary: product types, names, brands, categories and policy categories.

Everything here is derived from the store's data when the agent starts (:func:`vocabulary_of`),
never hard-coded for one store:

* **facets** (categories, brands, colours, materials, other attribute values, attribute names)
  are :func:`shopagent.tools.catalog.facets`, the same vocabulary ``shopagent search`` hands to
  :func:`~shopagent.agent.understanding.search_request.parse_search_request`;
* **product types** are the products' tags whose last word their names carry ("insulated
  travel mug" for "Nomad 16 oz Insulated Travel Mug", not "final sale"), and every shorter
  tail of those ("travel mug", "mug"), plus the endings of the names ("gooseneck kettle" and
  "kettle" in "Brewster Gooseneck Kettle", brand words left out); each type knows the
  categories it occurs in; in a script written without spaces (Chinese, Japanese, Thai), a
  type is found where it is typed inside the question ("降噪耳机" in "降噪耳机可以退吗"),
  longest first, and so is a **head** several of the store's types end in ("耳机" of
  "降噪耳机" and "真无线耳机"), which stands for all their products;
* **protected phrases** are runs of two to four words of product names and types that hold a
  colour, size or price word or a number ("Hand Cream", "Max 2", "Pro 15"): linked to the
  catalog before the slot patterns run, they are never read as prices or colours;
* **policy categories**: each product category is mapped to the return-policy category whose
  name shares its words (a store whose catalog says "Bedding" and whose policy says "Bedding
  & Bath"), as the tools' rules map it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from shopagent.agent.understanding.availability import ProductMarks
from shopagent.agent.understanding.slots import _patterns as _slot_patterns
from shopagent.tools.catalog import facets as catalog_facets
from shopagent.tools.policy_categories import policy_category_for
from shopagent.tools.store.schema import Product, ReturnPolicy

_WORD = re.compile(r"[^\W_]+(?:['’\-.][^\W_]+)*")
_STOP = frozenset("a an and of the for with in on to by & + -".split())
_PLACEHOLDER = "zqprot{}zq"
_MAX_RUN = 4
_NOT_ASKED = frozenset({"id", "name", "variants", "tags", "attributes", "description"})
_UNCHANGED = frozenset("series species news plus gas lens bus dress glass chess".split())
UNSPACED = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana, CJK ideographs
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]"  # Thai, Lao, Myanmar, Khmer
)
"""Scripts written without spaces between words: "降噪耳机可以退吗" is one run of word
characters, so a product type there is found where it is typed inside the text."""
_UNSPACED_RUN = re.compile(f"{UNSPACED.pattern}+$")
_MIN_HEAD = 2  # characters of the shortest head: "机" (of "耳机", "咖啡机") names no type


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def singular(word: str) -> str:
    """A plain English singular ("mugs" -> "mug", "boxes" -> "box", "knives" -> "knife")."""
    w = word.casefold()
    if w in _UNCHANGED:
        return w
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith("ves"):
        return w[:-3] + "fe" if w.endswith("ives") else w[:-3] + "f"
    if len(w) > 4 and w.endswith(("ches", "shes", "sses", "xes", "zes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def _key(words: Iterable[str]) -> str:
    return " ".join(singular(w) for w in words)


@dataclass
class StoreVocabulary:
    """What the store sells, in its own words (build it with :meth:`from_store`)."""

    facets: dict[str, list[str]] = field(default_factory=dict)
    types: dict[str, Counter[str]] = field(default_factory=dict)
    """Product-type phrase (singular words) -> how many products of each category have it."""
    heads: dict[str, Counter[str]] = field(default_factory=dict)
    """Unspaced scripts: a type or a head several types end in ("耳机" of "降噪耳机") -> how
    many products of each category have a type ending in it (:func:`_unspaced_heads`)."""
    protected: frozenset[str] = frozenset()
    """Lowercase runs of name/type words that must stay product words."""
    policy_categories: dict[str, str] = field(default_factory=dict)
    """Product category (casefolded) -> the policy category whose rule applies to it."""
    marks: ProductMarks = field(default_factory=ProductMarks)
    """The name and brand words that tell products apart (a message naming one product)."""

    @classmethod
    def from_store(
        cls,
        products: Iterable[Product],
        policy: ReturnPolicy | None = None,
    ) -> StoreVocabulary:
        products = list(products)
        risky = _risky_words()
        types: dict[str, Counter[str]] = {}
        tails: dict[str, Counter[str]] = {}
        protected: set[str] = set()
        owned: list[tuple[str, set[str]]] = []  # each product's category and type phrases
        for product in products:
            name_key = _key(_words(product.name))
            own: set[str] = set()
            owned.append((product.category, own))
            for tag in product.tags:
                words = _words(tag)
                if not words:
                    continue
                if f" {singular(words[-1])} " not in f" {name_key} ":
                    continue  # a tag whose head the name does not carry ("fitness", "final sale")
                for start in range(len(words)):
                    tail = _key(words[start:])
                    head = tail.split()[-1]
                    if head in _STOP or len(head) < 3 or not head.replace("-", "").isalpha():
                        continue
                    types.setdefault(tail, Counter())[product.category] += 1
                    own.add(tail)
            for phrase in (product.name, *product.tags):
                protected.update(_risky_runs(_words(phrase), risky))
            for tail in _name_tails(product.name, product.brand):
                tails.setdefault(tail, Counter())[product.category] += 1
                own.add(tail)
        for tail, counts in tails.items():  # what the names end in ("gooseneck kettle")
            types.setdefault(tail, counts)
        facets = catalog_facets(products)
        generic = [  # type heads only: "glide" of a "glide leather sneaker" tail names a line
            *(t.split()[-1] for t in types),
            *(v for k in ("colors", "materials", "values", "keys") for v in facets.get(k, [])),
        ]
        vocab = cls(
            facets=facets,
            types=types,
            heads=_unspaced_heads(owned, types),
            protected=frozenset(protected),
            marks=ProductMarks.of(products, generic, singular),
        )
        if policy is not None:
            cats = {p.category for p in products}
            vocab.policy_categories = map_policy_categories(cats, policy)
        return vocab

    @cached_property
    def name_words(self) -> frozenset[str]:
        """Casefolded words of the store's product types and brands: a shopper writing in
        Spanish or Chinese names products in the store's own words, which say nothing about
        the language of the message (agent/understanding/language.py)."""
        phrases = [*self.types, *self.facets.get("brands", [])]
        return frozenset(w.casefold() for p in phrases for w in re.findall(r"[^\W\d_]+", p))

    # ------------------------------------------------------------------ linking

    def protect(self, text: str) -> tuple[str, Callable[[str], str]]:
        """``text`` with product-name phrases replaced by placeholders, and a function that
        puts them back into any text derived from it (the slot query)."""
        if not self.protected:
            return text, _identity
        spans = _find_runs(text, self.protected)
        if not spans:
            return text, _identity
        originals: dict[str, str] = {}
        out, last = [], 0
        for i, (start, end) in enumerate(spans):
            token = _PLACEHOLDER.format(_letters(i))
            originals[token] = text[start:end]
            out += [text[last:start], token]
            last = end
        out.append(text[last:])

        def restore(derived: str) -> str:
            for token, original in originals.items():
                derived = derived.replace(token, original)
            return derived

        return "".join(out), restore

    def product_type(self, text: str) -> str | None:
        """The longest product type named in ``text`` (singular words), else None. In a
        script written without spaces, the longest type or head typed inside the text."""
        if UNSPACED.search(text) and (typed := self._typed_type(text)):
            return typed
        words = [singular(w) for w in _words(text)]
        for size in range(min(len(words), 5), 0, -1):
            for start in range(len(words) - size + 1):
                phrase = " ".join(words[start : start + size])
                if phrase in self.types:
                    return phrase
        return None

    @cached_property
    def _unspaced_types(self) -> list[tuple[str, re.Pattern[str]]]:
        """Types and heads with a character of an unspaced script, longest first (a type
        before a head), each with the pattern that finds it typed inside a text."""
        found = [t for t in self.types if UNSPACED.search(t)]
        found += [h for h in self.heads if h not in self.types]
        found.sort(key=lambda t: len(_compact(t)), reverse=True)  # stable: types first
        return [(t, _typed_pattern(t)) for t in found]

    def _typed_type(self, text: str) -> str | None:
        typed = _compact(text.casefold())
        return next((t for t, pattern in self._unspaced_types if pattern.search(typed)), None)

    def _counts(self, product_type: str | None) -> Counter[str] | None:
        key = product_type or ""
        return self.heads.get(key) or self.types.get(key)

    def kinds(self, product_type: str | None) -> int:
        """How many products are of that type."""
        return sum((self._counts(product_type) or {}).values())

    def type_category(self, product_type: str | None, *, share: float = 0.8) -> str | None:
        """The product category (nearly) all products of that type are in, else None."""
        counts = self._counts(product_type)
        if not counts:
            return None
        category, n = counts.most_common(1)[0]
        return category if n >= share * sum(counts.values()) else None

    def policy_category(self, category: str | None) -> str | None:
        """The policy category for a product category (None: the default rule applies)."""
        if not category:
            return None
        return self.policy_categories.get(category.casefold())

    def names_attribute(self, text: str) -> bool:
        """Whether ``text`` asks about one of the store's product attributes (its attribute
        names, e.g. "warranty", "capacity", and the product record's own fields, e.g.
        "final sale") and not about price or stock."""
        raw = _slot_patterns()["raw"]
        cues = [str(c) for c in raw.get("price_stock_cues") or []]
        low = f" {' '.join(_words(text))} "
        if any(f" {' '.join(_words(c)) or c} " in low or (c == "$" and c in text) for c in cues):
            return False
        fields = [f.replace("_", " ") for f in Product.model_fields if f not in _NOT_ASKED]
        names = {*self.facets.get("keys", []), *fields}
        words = " ".join(singular(w) for w in _words(text))
        return any(f" {_key(_words(n))} " in f" {words} " for n in names if _words(n))

    def search_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``parse_search_request`` for this store."""
        return dict(self.facets)


def _identity(text: str) -> str:
    return text


def _letters(i: int) -> str:
    out = ""
    while True:
        out = chr(ord("a") + i % 26) + out
        i = i // 26 - 1
        if i < 0:
            return out


_NAME_CUT = re.compile(r"\s[–—-]\s|,|\(|\bwith\b|\bfor\b|\bin\b", re.I)


def _name_tails(name: str, brand: str) -> list[str]:
    """The last one to three words of a product name's core (before " – ", ",", "with"),
    brand words left out: "Brewster Gooseneck Kettle" -> "kettle", "gooseneck kettle"."""
    core = _NAME_CUT.split(name, maxsplit=1)[0]
    brand_words = set(_words(brand))
    words = [w for w in _words(core) if w not in brand_words]
    tails = []
    for size in (1, 2, 3):
        if len(words) < size:
            break
        run = words[-size:]
        head = run[-1]
        if len(head) < 3 or run[0] in _STOP or not all(w.replace("-", "").isalpha() for w in run):
            break
        tails.append(_key(run))
    return tails


_EDGE_SPACE = re.compile(f"(?<={UNSPACED.pattern})\\s+|\\s+(?={UNSPACED.pattern})")


def _compact(text: str) -> str:
    """``text`` without the spaces that touch an unspaced script ("usb-c 扩展坞" ->
    "usb-c扩展坞"): the shopper's spacing there, or the localizer's, is no word boundary."""
    return _EDGE_SPACE.sub("", text)


def _typed_pattern(phrase: str) -> re.Pattern[str]:
    """Finds ``phrase`` typed anywhere in compacted text; a Latin end of it ("ii 回音壁")
    must still be a whole word."""
    body = re.escape(_compact(phrase))
    before = "" if UNSPACED.match(phrase) else r"(?<![^\W_])"
    after = "" if UNSPACED.match(phrase[-1:]) else r"(?![^\W_])"
    return re.compile(f"{before}{body}{after}")


def ends_in_type(text: str, product_type: str) -> bool:
    """Whether a word of ``text`` (a product's name or tag) ends in ``product_type`` written
    in an unspaced script: "真无线耳机" is of the type "耳机", "耳机套" is not."""
    pattern = _typed_pattern(product_type).pattern
    return re.search(f"{pattern}(?!{UNSPACED.pattern})", _compact(text.casefold())) is not None


def _unspaced_heads(
    owned: list[tuple[str, set[str]]], types: dict[str, Counter[str]]
) -> dict[str, Counter[str]]:
    """Heads of the types written in an unspaced script: a final run of at least
    ``_MIN_HEAD`` such characters that is a type itself, that two or more longer types end in
    ("耳机" of "降噪耳机" and "儿童耳机"), or that ends a type after Latin letters ("扩展坞" of
    "usb-c扩展坞"); each counts the products having a type that ends in it, once a product."""
    longer: dict[str, set[str]] = {}  # candidate head -> the longer unspaced runs ending in it
    words: set[str] = set()  # unspaced runs that are a word: a type, or after Latin letters
    for phrase in types:
        run = _UNSPACED_RUN.search(phrase)
        if run is None:
            continue
        tail = run.group(0)
        words.add(tail)
        for start in range(1, len(tail) - _MIN_HEAD + 1):
            longer.setdefault(tail[start:], set()).add(tail)
    heads: dict[str, Counter[str]] = {}
    for head in {*longer, *words}:
        if len(head) < _MIN_HEAD or (head not in words and len(longer[head]) < 2):
            continue
        for category, own in owned:
            if any(_UNSPACED_RUN.search(p) and p.endswith(head) for p in own):
                heads.setdefault(head, Counter())[category] += 1
    return heads


def _risky_words() -> frozenset[str]:
    """Words a slot pattern reads as a colour, size or price."""
    raw = _slot_patterns()["raw"]
    words = {str(w).casefold() for key in ("colors", "sizes") for w in raw[key]}
    for key in ("price_max", "price_max_marked", "price_min"):
        words.update(w for p in raw[key] for w in str(p).casefold().split())
    return frozenset(words)


def _risky_runs(words: list[str], risky: frozenset[str]) -> set[str]:
    runs: set[str] = set()
    for size in range(2, _MAX_RUN + 1):
        for start in range(len(words) - size + 1):
            run = words[start : start + size]
            if run[0] in _STOP or run[-1] in _STOP:
                continue
            if any(w in risky or any(c.isdigit() for c in w) for w in run):
                runs.add(" ".join(run))
    return runs


def _find_runs(text: str, phrases: frozenset[str]) -> list[tuple[int, int]]:
    """Non-overlapping spans of ``text`` whose words form one of ``phrases`` (longest first)."""
    tokens = [(m.start(), m.end(), m.group(0).casefold()) for m in _WORD.finditer(text)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        for size in range(min(_MAX_RUN, len(tokens) - i), 1, -1):
            phrase = " ".join(t[2] for t in tokens[i : i + size])
            if phrase in phrases:
                spans.append((tokens[i][0], tokens[i + size - 1][1]))
                i += size
                break
        else:
            i += 1
    return spans


def map_policy_categories(categories: Iterable[str], policy: ReturnPolicy) -> dict[str, str]:
    """Product category (casefolded) -> the policy category it falls under
    (:func:`~shopagent.tools.policy_categories.policy_category_for`, as the tools' rules do);
    categories under none get the default rule."""
    out = {}
    for category in categories:
        if name := policy_category_for(category, policy.categories):
            out[category.casefold()] = name
    return out


_CACHE: dict[tuple[Any, ...], StoreVocabulary] = {}


def vocabulary_of(db: Any) -> StoreVocabulary:
    """The vocabulary of the store ``db`` (a :class:`~shopagent.tools.store.db.StoreDB`);
    reused while the store's products and policy are unchanged (copies of one store share it)."""
    row = db.rows("SELECT COUNT(*) AS n, MAX(id) AS last, SUM(LENGTH(data)) AS size FROM products")[
        0
    ]
    key = (row["n"], row["last"], row["size"], db.meta("policy"))
    if key not in _CACHE:
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = StoreVocabulary.from_store(db.products(), db.policy())
    return _CACHE[key]
