"""Turn a shopper's request into a catalog query, structured filters and a sort order.

:func:`parse_search_request` is pure: it reads only its arguments (and the slot patterns of
``agent/data/slots.yaml`` through :func:`shopagent.agent.understanding.slots.extract`). It finds,
in this order:

* **price**: ``extract()``'s "under $50" / "between 20 and 40 dollars" / "over $100", plus
  "$40 or less", "$20-$40", "20 to 40 dollars", "around $50" (±20%), "< $30", "$100+";
* **sort**: "cheapest (first)", "sort by price", "price low to high" → ``price_asc``;
  "most expensive", "priciest", "price high to low" → ``price_desc``;
* **in stock**: "in stock", "available now", "ready to ship";
* **negations**: "not leather", "no plastic", "without a lid", "isn't plastic"… are
  *excluded terms*, not query words ("no more than $40" is a price; "no-pull" and
  "non-slip" are product words);
* **brand** and **category**: the store's own names, case-insensitively, with "&"/"and",
  a trailing "." and plurals tolerated ("toys and game" → ``Toys & Games``); a category is
  also recognised from one of its words followed by "section", "gear", "stuff"…;
* **colour** (``extract()``'s colour words plus the store's multi-word colours; two colours
  such as "blue or green" stay query words, one filter cannot hold both), **size**
  (XS…XXL, queen/king/twin, "size 9.5", "size large") and **material** (the store's
  materials plus common material words) as attribute filters.

What is left, minus politeness and filler, is the query. Brand, category, colour, size,
price, stock and sort phrases are removed from it (the filters do their work); material words
stay in it (they also describe the product for ranking), and only an explicitly stated material
("made of wool", "in leather", "solid oak", "100% cotton") becomes a filter: "fleece pullover"
or "cotton sheets" name the product, not a constraint the catalog records.

The exclusions ride on the returned filters: :class:`RequestFilters` is a
:class:`~shopagent.tools.results.SearchFilters` with an ``exclude_terms`` list, which
:meth:`shopagent.tools.catalog.ChromaCatalog.search` honours.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Literal, NamedTuple

from pydantic import Field
from shopagent.agent.understanding.slots import _patterns as _slot_patterns
from shopagent.agent.understanding.slots import extract
from shopagent.tools.results import SearchFilters

__all__ = [
    "MATERIAL_WORDS",
    "RequestFilters",
    "SearchRequest",
    "Sort",
    "parse_search_request",
]

Sort = Literal["relevance", "price_asc", "price_desc"]

MATERIAL_WORDS: tuple[str, ...] = (
    "stainless steel",
    "cast iron",
    "carbon fiber",
    "vegan leather",
    "faux leather",
    "merino wool",
    "merino",
    "organic cotton",
    "memory foam",
    "natural rubber",
    "white oak",
    "black walnut",
    "aluminum",
    "aluminium",
    "bamboo",
    "brass",
    "canvas",
    "cashmere",
    "ceramic",
    "copper",
    "cotton",
    "denim",
    "felt",
    "fleece",
    "glass",
    "jute",
    "leather",
    "linen",
    "maple",
    "marble",
    "melamine",
    "mesh",
    "nylon",
    "oak",
    "plastic",
    "polyester",
    "rattan",
    "rubber",
    "silicone",
    "silk",
    "steel",
    "stoneware",
    "suede",
    "teak",
    "titanium",
    "walnut",
    "wood",
    "wooden",
    "wool",
)
"""Material words recognised even when the store records no such material."""

_SIZE_WORDS = {
    "xxs": "xxs",
    "xs": "xs",
    "s": "s",
    "small": "s",
    "m": "m",
    "medium": "m",
    "l": "l",
    "large": "l",
    "xl": "xl",
    "extra large": "xl",
    "x-large": "xl",
    "xxl": "xxl",
    "2xl": "xxl",
    "xx-large": "xxl",
    "twin": "twin",
    "full": "full",
    "queen": "queen",
    "king": "king",
}
_SIZE_ALT = (
    "|".join(sorted((re.escape(w) for w in _SIZE_WORDS), key=len, reverse=True))
    + r"|\d{1,2}(?:\.5)?"
)
_SIZE_PATTERNS = (
    re.compile(
        rf"\bsize\s*(?:is\s*)?({_SIZE_ALT})\b(?!\s*(?:inseam|waist|inch|in\b|\"|cm|mm))", re.I
    ),
    re.compile(rf"\b({_SIZE_ALT})\s+size[ds]?\b", re.I),
    re.compile(r"\bin\s+(?:an?\s+)?(small|medium|large|extra large|xx?l|xx?s)\b", re.I),
    re.compile(r"\b(xxs|xs|xl|xxl|2xl|x-large|xx-large)\b", re.I),
    re.compile(r"\b(queen|king|twin)(?:[- ]?(?:bed|sized?))?\b", re.I),
)

_MONEY = r"(\d{1,6}(?:\.\d{1,2})?)"
_PRICE_EXTRA: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "range",
        re.compile(
            rf"\$\s?{_MONEY}\s*(?:-|–|to)\s*\$?\s?{_MONEY}(?:\s*(?:dollars?|bucks|usd))?", re.I
        ),
    ),
    ("range", re.compile(rf"\b{_MONEY}\s*(?:-|–|to)\s*{_MONEY}\s*(?:dollars?|bucks|usd)\b", re.I)),
    (
        "max",
        re.compile(
            rf"(?:\$\s?{_MONEY}|\b{_MONEY}\s*(?:dollars?|bucks|usd))\s*"
            r"(?:or\s+(?:less|under|below|cheaper)|max(?:imum)?|tops|at\s+most)\b",
            re.I,
        ),
    ),
    (
        "min",
        re.compile(
            rf"(?:\$\s?{_MONEY}|\b{_MONEY}\s*(?:dollars?|bucks|usd))\s*"
            r"(?:or\s+(?:more|above|over)|and\s+up\b|plus\b|\+)",
            re.I,
        ),
    ),
    ("around", re.compile(rf"\b(?:around|about|roughly|approximately|~)\s*\$\s?{_MONEY}", re.I)),
    (
        "around",
        re.compile(
            rf"\b(?:around|about|roughly|approximately)\s*{_MONEY}\s*(?:dollars?|bucks|usd)\b"
            rf"|\bbudget\s+(?:of\s+|is\s+)?(?:around|about|roughly|approximately)\s*{_MONEY}"
            r"(?!\s*(?:%|[^\W\d_]))",
            re.I,
        ),
    ),
    ("max", re.compile(rf"(?:<|≤)\s*\$?\s?{_MONEY}")),
    ("min", re.compile(rf"(?:>|≥)\s*\$?\s?{_MONEY}")),
)

_SORT_PATTERNS: tuple[tuple[Sort, re.Pattern[str]], ...] = (
    (
        "price_desc",
        re.compile(
            r"\b(?:(?:the\s+)?most\s+expensive(?:\s+(?:ones?\s+)?first)?|priciest|"
            r"highest[- ]priced?(?:\s+first)?|(?:price\s*:?\s*)?high(?:est)?\s+to\s+low(?:est)?|"
            r"(?:sort(?:ed)?|order(?:ed)?)\s+by\s+price\s+desc(?:ending)?|expensive\s+first|"
            r"premium\s+first)\b",
            re.I,
        ),
    ),
    (
        "price_asc",
        re.compile(
            r"\b(?:(?:the\s+)?cheapest(?:\s+(?:ones?\s+)?first)?|least\s+expensive|"
            r"lowest[- ]priced?(?:\s+first)?|(?:price\s*:?\s*)?low(?:est)?\s+to\s+high(?:est)?|"
            r"(?:sort(?:ed)?|order(?:ed)?)\s+by\s+(?:lowest\s+)?price(?:\s+asc(?:ending)?)?|"
            r"cheap(?:er)?\s+(?:ones?\s+)?first)\b",
            re.I,
        ),
    ),
)

_IN_STOCK = re.compile(
    r"\b(?:(?:only\s+)?in[- ]stock(?:\s+only)?|available\s+(?:now|today|right\s+now)|"
    r"ready\s+to\s+ship|ships?\s+(?:today|now|immediately))\b",
    re.I,
)

_NEGATION = re.compile(
    r"(?:\b(?:not|no|without|w/o|minus|except|excluding|exclude|avoid|nothing|never)\s+"
    r"|\b(?:isn'?t|aren'?t|is\s+not|are\s+not)\s+(?:made\s+(?:of|from)\s+)?|\bfree\s+of\s+|\b(?:anything|something)\s+but\s+|\bother\s+than\s+"
    r"|\bdon'?t\s+want\s+(?:an?y?\s+)?|\brather\s+than\s+)",
    re.I,
)
_NEGATION_SKIP = frozenset(
    "a an any the made of from with in too very real genuine actual more".split()
)
_NEGATION_CONTINUE = re.compile(r"^\s*(?:,|or|nor|and\s+no|and\s+not)\s+", re.I)
_NOT_EXCLUDABLE = frozenset(
    """
    expensive cheap cheaper pricey costly fancy big bigger small smaller heavy huge tiny
    sure thanks thank worries problem rush hurry idea clue preference budget limit longer
    than more less much many one ones thing things stuff way matter
    """.split()
)

_CATEGORY_CUES = (
    r"section|category|department|aisle|stuff|gear|things|items|products|supplies|essentials"
)
_LEFTOVER_FILLER = frozenset(
    """
    a an the any some me my i i'm im we you your do does did is are was were am can could would
    will shall should please pls hi hello hey thanks thank looking look for find search show
    want need get buy have has got sell selling recommend suggest tell about what whats what's
    which where who when how much many price prices cost costs priced available of in on at
    to with and or but if so just also too very really something anything thing things item
    items product products dollars dollar bucks under below over above less more than between
    cheap cheaper budget right now today currently good best nice great like kind sort
    expensive pricey costly
    ones one options option stuff got there here that this these those it its they them
    """.split()
)


class RequestFilters(SearchFilters):
    """:class:`SearchFilters` plus the exclusions a request states ("not leather").

    Until ``SearchFilters`` itself has an ``exclude_terms`` field, the catalog reads it from
    this subclass (``getattr(filters, "exclude_terms", ())``).
    """

    exclude_terms: list[str] = Field(default_factory=list)


class SearchRequest(NamedTuple):
    """A parsed request: what to search for, the filters, and the order."""

    query: str
    filters: RequestFilters
    sort: Sort


# --------------------------------------------------------------------------- helpers


def _cut(text: str, match: re.Match[str]) -> str:
    return text[: match.start()] + " " + text[match.end() :]


def _plural_word(word: str) -> str:
    """A regex for one word that accepts its singular and plural forms."""
    w = word.casefold()
    if w.endswith("ies") and len(w) > 4:
        return re.escape(w[:-3]) + r"(?:y|ies)"
    if w.endswith(("ches", "shes", "sses", "xes")):
        return re.escape(w[:-2]) + r"(?:es)?"
    if w.endswith("s") and not w.endswith("ss"):
        return re.escape(w[:-1]) + r"s?"
    if w.endswith("y") and len(w) > 2 and w[-2] not in "aeiou":
        return re.escape(w[:-1]) + r"(?:y|ies)"
    if w.endswith(("ch", "sh", "ss", "x")):
        return re.escape(w) + r"(?:es)?"
    return re.escape(w) + r"s?"


def _name_pattern(name: str, *, plural: bool) -> str:
    """A regex body for a store name: any case, "&" or "and", optional trailing "."."""
    pieces: list[str] = []
    for token in re.findall(r"&|[^\s&]+", name.strip()):
        if token == "&":
            pieces.append(r"(?:\s*[&+]\s*|\s+and\s+)")
            continue
        word = token.rstrip(".")
        body = _plural_word(word) if plural and word.isalpha() else re.escape(word)
        if token.endswith("."):
            body += r"\.?"
        if pieces and not pieces[-1].startswith(r"(?:\s*[&+]"):
            pieces.append(r"\s+")
        pieces.append(body)
    return "".join(pieces)


@functools.lru_cache(maxsize=4096)
def _name_regex(name: str, plural: bool) -> re.Pattern[str]:
    body = _name_pattern(name, plural=plural)
    return re.compile(rf"(?<![\w&])(?:{body})(?:'s)?(?![\w&])", re.I)


def _find_name(
    text: str, names: Iterable[str], *, plural: bool
) -> tuple[str, re.Match[str]] | None:
    """The longest store name mentioned in ``text`` (first occurrence), with its match."""
    best: tuple[str, re.Match[str]] | None = None
    for name in sorted({n for n in names if n and n.strip()}, key=len, reverse=True):
        m = _name_regex(name, plural).search(text)
        if m and (best is None or len(m.group(0)) > len(best[1].group(0))):
            best = (name, m)
    return best


def _find_category(text: str, categories: Iterable[str]) -> tuple[str, re.Match[str]] | None:
    """A category by its full name, else by one of its words followed by a cue ("gear")."""
    cats = [c for c in categories if c and c.strip()]
    found = _find_name(text, cats, plural=True)
    if found:
        return found
    for cat in sorted(cats, key=len, reverse=True):
        words = [w for w in re.findall(r"[A-Za-z]+", cat) if len(w) > 2 and w.casefold() != "and"]
        if len(words) < 2:
            continue
        for word in words:
            rx = re.compile(rf"\b{_plural_word(word)}\s+(?:{_CATEGORY_CUES})\b", re.I)
            m = rx.search(text)
            if m:
                return cat, m
    return None


def _phrase_regex(phrases: Iterable[str]) -> re.Pattern[str] | None:
    items = sorted(
        {p.casefold().strip() for p in phrases if p and p.strip()}, key=len, reverse=True
    )
    if not items:
        return None
    body = "|".join(r"\s+".join(_word_regex(w) for w in p.split()) for p in items)
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", re.I)


def _word_regex(word: str) -> str:
    return r"gr[ae]y" if word in ("gray", "grey") else re.escape(word)


def _decimal(text: str) -> Decimal:
    return Decimal(text)


def _prices(text: str) -> tuple[Decimal | None, Decimal | None, str]:
    """Price bounds via ``extract()`` and the extra forms; the text without those phrases."""
    slots = extract(text)
    low, high = slots.min_price, slots.max_price
    p = _slot_patterns()
    rest = text
    if low is not None or high is not None:
        if m := p["between"].search(rest):
            rest = _cut(rest, m)
        else:
            if high is not None and (m := p["price_max"].search(rest)):
                rest = _cut(rest, m)
            if low is not None and (m := p["price_min"].search(rest)):
                rest = _cut(rest, m)
    for kind, rx in _PRICE_EXTRA:
        m = rx.search(rest)
        if not m:
            continue
        values = [_decimal(g) for g in m.groups() if g is not None]
        if kind == "range" and low is None and high is None:
            low, high = sorted(values[:2])
        elif kind == "max" and high is None:
            high = values[0]
        elif kind == "min" and low is None:
            low = values[0]
        elif kind == "around" and low is None and high is None:
            low = (values[0] * Decimal("0.8")).quantize(Decimal("0.01"))
            high = (values[0] * Decimal("1.2")).quantize(Decimal("0.01"))
        else:
            continue
        rest = _cut(rest, m)
    if low is not None and high is not None and low > high:
        low, high = high, low
    return low, high, rest


def _negations(text: str, phrases: re.Pattern[str] | None) -> tuple[list[str], str]:
    """Excluded terms ("not leather", "no plastic or glass") and the text without them.

    The negated object is one word, or a known multi-word phrase (a material or colour such
    as "stainless steel"); articles and "made of" are skipped; "or"/"nor" continue the list.
    """
    terms: list[str] = []
    rest = text
    while m := _NEGATION.search(rest):
        start, pos = m.start(), m.end()
        found_any = False
        while True:
            # skip articles and the like
            while skip := re.match(r"\s*([A-Za-z']+)\s+", rest[pos:]):
                if skip.group(1).casefold() not in _NEGATION_SKIP:
                    break
                pos += skip.end()
            phrase = phrases.match(rest, pos) if phrases else None
            if phrase:
                term, end = phrase.group(0), phrase.end()
            else:
                word = re.match(r"\s*([A-Za-z][A-Za-z0-9'-]*)", rest[pos:])
                if not word or word.group(1).casefold() in _NOT_EXCLUDABLE:
                    break
                term, end = word.group(1), pos + word.end()
            terms.append(" ".join(term.casefold().split()))
            found_any = True
            pos = end
            more = _NEGATION_CONTINUE.match(rest[pos:])
            if not more:
                break
            pos += more.end()
        if not found_any:
            # Not a negation of a product property ("not too expensive"): leave the words but
            # drop the negation word so the loop moves on.
            rest = rest[:start] + " " + rest[m.end() :]
            continue
        rest = rest[:start] + " " + rest[pos:]
    return list(dict.fromkeys(t for t in terms if t)), rest


_MATERIAL_CUE = re.compile(
    r"(?:\bmade\s+(?:of|from|with|out\s+of)|\bcrafted\s+from|\bin|\bgenuine|\breal|\bpure"
    r"|\bsolid|\ball|100\s*%)[\s-]+(?:[A-Za-z]+\s+)?$",
    re.I,
)
_MATERIAL_AFTER = re.compile(r"\s+(?:material|fabric|finish|construction)\b", re.I)
_MADE_OF = re.compile(r"\b(?:made\s+(?:of|from|with|out\s+of)|crafted\s+from)\s+$", re.I)


def _material(text: str, rx: re.Pattern[str] | None) -> tuple[str | None, str]:
    """A material the shopper asks for explicitly ("made of wool", "in leather", "solid oak",
    "100% cotton", "leather material"); a bare material word stays a query word only."""
    if rx is None:
        return None, text
    for m in rx.finditer(text):
        before = text[: m.start()]
        if _MATERIAL_CUE.search(before) or _MATERIAL_AFTER.match(text[m.end() :]):
            value = " ".join(m.group(0).casefold().split())
            value = {"aluminium": "aluminum", "wooden": "wood"}.get(value, value)
            if cue := _MADE_OF.search(before):  # "made of" is not a product word
                text = text[: cue.start()] + " " + text[cue.end() :]
            return value, text
    return None, text


def _blank_out(text: str, rx: re.Pattern[str] | None) -> str:
    """``text`` with every match of ``rx`` replaced by spaces (positions stay the same)."""
    return rx.sub(lambda m: " " * len(m.group(0)), text) if rx else text


def _color(
    text: str,
    multiword: Sequence[str],
    store_words: set[str],
    masks: Sequence[re.Pattern[str] | None],
    keys: set[str],
) -> tuple[str | None, str]:
    """One colour to filter on: a store's multi-word colour ("forest green"), else
    ``extract()``'s colour word when the store sells that colour (``store_words``, if known),
    it is not part of another attribute's value ("earl grey", "natural rubber") and does not
    name another attribute's value ("brown switches"). Two colours ("blue or green") give
    none: one filter cannot hold both."""
    color_rx = _phrase_regex(multiword)
    if color_rx and (m := color_rx.search(text)):
        return " ".join(m.group(0).casefold().split()), _cut(text, m)
    masked = text
    for rx in masks:
        masked = _blank_out(masked, rx)
    color = extract(masked).color
    if not color:
        return None, text
    spelled = r"gr[ae]y" if color in ("grey", "gray") else re.escape(color)
    m = re.search(rf"\b{spelled}\b", masked, re.I)
    if m is None:
        return None, text
    canonical = "gray" if color in ("grey", "gray") else color.casefold()
    if store_words and canonical not in store_words:
        return None, text
    following = re.match(r"\s+([A-Za-z]+)", masked[m.end() :])
    if following and following.group(1).casefold().rstrip("s") in keys:
        return None, text
    if extract(_blank_out(masked, re.compile(rf"\b{spelled}\b", re.I))).color:
        return None, text
    return color, _cut(text, m)


def _attr_words(value: str) -> list[str]:
    return [("gray" if w == "grey" else w) for w in re.findall(r"[a-z]+", value.casefold())]


def _size(text: str) -> tuple[str | None, str]:
    for rx in _SIZE_PATTERNS:
        m = rx.search(text)
        if m:
            raw = " ".join(m.group(1).casefold().split())
            return _SIZE_WORDS.get(raw, raw), _cut(text, m)
    return None, text


def _clean_query(text: str) -> str:
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9'\-\.]*[A-Za-z0-9]|[A-Za-z0-9]", text)
    kept = [w for w in words if w.casefold() not in _LEFTOVER_FILLER]
    return " ".join(kept)


# --------------------------------------------------------------------------- parse


def parse_search_request(
    text: str,
    *,
    categories: Iterable[str] = (),
    brands: Iterable[str] = (),
    colors: Iterable[str] = (),
    materials: Iterable[str] | None = None,
    values: Iterable[str] = (),
    keys: Iterable[str] = (),
) -> SearchRequest:
    """Parse a shopper's request into ``(query, filters, sort)``.

    The keyword arguments describe the store (:func:`shopagent.tools.catalog.facets` gives them all;
    ``parse_search_request(text, **facets)`` works): ``categories`` and ``brands`` are its
    names; ``colors`` its colour values (a colour word becomes a filter only if the store sells
    that colour; multi-word ones such as "forest green" are recognised whole); ``materials``
    adds to :data:`MATERIAL_WORDS`; ``values`` (other attribute values, e.g. "earl grey") and
    ``keys`` (attribute names, e.g. "switches") keep colour words that belong to another
    attribute from becoming colour filters. Never raises on odd input.
    """
    colors, values, keys = list(colors), list(values), list(keys)
    rest = " ".join(str(text).split())
    low, high, rest = _prices(rest)

    sort: Sort = "relevance"
    for order, rx in _SORT_PATTERNS:
        if m := rx.search(rest):
            sort = order
            rest = _cut(rest, m)
            break

    in_stock = False
    while m := _IN_STOCK.search(rest):
        in_stock = True
        rest = _cut(rest, m)

    material_list = [*MATERIAL_WORDS, *(materials or ())]
    multiword_colors = [c for c in colors if len(c.split()) > 1]
    known_phrases = _phrase_regex([*material_list, *multiword_colors])
    excluded, rest = _negations(rest, known_phrases)

    brand: str | None = None
    if found := _find_name(rest, brands, plural=False):
        brand, m = found
        rest = _cut(rest, m)

    category: str | None = None
    if found := _find_category(rest, categories):
        category, m = found
        rest = _cut(rest, m)

    attributes: dict[str, str] = {}
    store_words = {w for c in colors for w in _attr_words(c)}
    material_rx = _phrase_regex(m for m in material_list if m.casefold() not in store_words)
    material, rest = _material(rest, material_rx)
    if material:
        attributes["material"] = material

    masks = (
        _phrase_regex(p for p in material_list if len(p.split()) > 1),
        _phrase_regex(v for v in values if len(v.split()) > 1),
    )
    key_stems = {k.casefold().rstrip("s") for k in keys} - {"color", "colour"}
    color, rest = _color(rest, multiword_colors, store_words, masks, key_stems)
    if color:
        attributes["color"] = color

    size, rest = _size(rest)
    if size:
        attributes["size"] = size

    filters = RequestFilters(
        min_price=low,
        max_price=high,
        category=category,
        brand=brand,
        attributes=attributes,
        in_stock_only=in_stock,
        exclude_terms=excluded,
    )
    return SearchRequest(_clean_query(rest), filters, sort)
