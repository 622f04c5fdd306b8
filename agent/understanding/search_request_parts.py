"""The pieces of a search request: price bounds, negations, names, colour, size, material.

Pure functions over the shopper's text; :mod:`.search_request` puts them together.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from shopagent.agent.understanding.slots import _patterns as _slot_patterns
from shopagent.agent.understanding.slots import extract

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
    words = re.findall(r"[^\W_][\w'\-\.]*[^\W_]|[^\W_]", text)  # letters of any script
    kept = [w for w in words if w.casefold() not in _LEFTOVER_FILLER]
    return " ".join(kept)


# --------------------------------------------------------------------------- parse
