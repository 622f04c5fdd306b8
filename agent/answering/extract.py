"""Claim extraction: what an answer states (money, numbers, names, availability, polarity,
comparatives, statuses, dates, policy terms), with positions for binding to products."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from shopagent.agent.answering.claims import ProductRef
from shopagent.agent.answering.words import lists, matcher, phrase_pattern

_MONEY = re.compile(
    r"(?:[$€£]\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?)"
    r"|(?:\b(\d+(?:\.\d{1,2})?)\s?(?:usd|eur|gbp|dollars?)\b)",
    re.I,
)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n")
_CAPITAL_RUN = re.compile(r"(?<![\w'’-])(?:[A-Z][\w'’-]*|&)(?:\s+(?:[A-Z][\w'’-]*|&|\d[\w-]*))*")
MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        1,
    )
    for m in names
}
_MONTH_DAY = re.compile(
    r"\b(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?\s+(\d{1,2})\b", re.I
)


@dataclass(frozen=True)
class Mention:
    """Something the answer states, at ``start`` in the text."""

    start: int
    end: int
    text: str


def norm_number(raw: str) -> str:
    """``1,299.00`` -> ``1299``; ``34.90`` -> ``34.9``."""
    value = raw.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"


def money(text: str) -> list[tuple[Decimal, Mention]]:
    """Every money amount with its place."""
    out = []
    for m in _MONEY.finditer(text):
        whole, cents, plain = m.group(1), m.group(2), m.group(3)
        raw = plain if plain else whole.replace(",", "") + (f".{cents}" if cents else "")
        try:
            out.append((Decimal(raw), Mention(m.start(), m.end(), m.group(0))))
        except InvalidOperation:
            continue
    return out


def numbers(text: str) -> list[tuple[str, Mention]]:
    """Every number (normalised) that is not part of a money amount or an ISO date."""
    taken = [(m.start(), m.end()) for m in _MONEY.finditer(text)]
    taken += [(m.start(), m.end()) for m in _ISO_DATE.finditer(text)]
    out = []
    for m in _NUMBER.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        out.append((norm_number(m.group(0)), Mention(m.start(), m.end(), m.group(0))))
    return out


def number_set(text: str) -> set[str]:
    """Every number in ``text`` (money and dates included), normalised."""
    found = {norm_number(n) for n in _NUMBER.findall(text)}
    found |= {norm_number(str(a)) for a, _ in money(text)}
    for m in _ISO_DATE.finditer(text):
        found |= {norm_number(p) for p in m.group(0).split("-")}
    return found


def dates(text: str) -> list[tuple[str, Mention]]:
    """ISO dates as-is, "Nov 17" as ``11-17`` (month-day)."""
    out = [(m.group(0), Mention(m.start(), m.end(), m.group(0))) for m in _ISO_DATE.finditer(text)]
    for m in _MONTH_DAY.finditer(text):
        key = f"{MONTHS[m.group(1).casefold()]:02d}-{int(m.group(2)):02d}"
        out.append((key, Mention(m.start(), m.end(), m.group(0))))
    return out


_ABBREVIATION = re.compile(
    r"(?:^|\s)(?:co|inc|ltd|corp|st|dr|mr|mrs|ms|no|vs|jr|sr|etc|approx)$", re.I
)


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line ("Co." and other abbreviations end none)."""
    bounds, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.group(0) == "." and _ABBREVIATION.search(text[max(0, m.start() - 8) : m.start()]):
            continue
        bounds.append((start, m.end()))
        start = m.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds


def sentence_of(text: str, pos: int) -> tuple[int, int]:
    for a, b in sentence_bounds(text):
        if a <= pos < b:
            return a, b
    return 0, len(text)


def phrases(text: str, pattern: re.Pattern[str]) -> list[Mention]:
    return [Mention(m.start(), m.end(), m.group(0)) for m in pattern.finditer(text)]


def aliases(product: ProductRef) -> list[str]:
    """Ways an answer may name the product: the full name, without the brand, the last
    three words (case-insensitive)."""
    name = product.name.strip()
    out = [name]
    if product.brand and name.casefold().startswith(product.brand.casefold() + " "):
        out.append(name[len(product.brand) + 1 :])
    for cut in (" – ", " - ", ", "):
        if cut in name:
            out.append(name.split(cut)[0])
    parts = name.split()
    if len(parts) >= 4:
        out.append(" ".join(parts[-3:]))
    return [a for a in dict.fromkeys(out) if len(a) > 3]


def product_mentions(text: str, products: list[ProductRef]) -> list[tuple[int, Mention]]:
    """(index into ``products``, mention) for every name found; longest aliases win."""
    found: list[tuple[int, Mention]] = []
    taken: list[tuple[int, int]] = []
    candidates = [(alias, i) for i, p in enumerate(products) for alias in aliases(p)]
    counts: dict[str, int] = {}
    for alias, _ in candidates:
        counts[alias.casefold()] = counts.get(alias.casefold(), 0) + 1
    for alias, i in sorted(candidates, key=lambda c: len(c[0]), reverse=True):
        if counts[alias.casefold()] > 1 and alias != products[i].name:
            continue  # an alias two products share names neither
        for m in re.finditer(re.escape(alias), text, re.I):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append((i, Mention(m.start(), m.end(), m.group(0))))
    return sorted(found, key=lambda f: f[1].start)


def bound_product(
    text: str, pos: int, mentions: list[tuple[int, Mention]], *, after: bool = True
) -> int | None:
    """The product a statement at ``pos`` is about: the nearest name before it in the same
    sentence, else (``after``) the nearest name after it in that sentence."""
    a, b = sentence_of(text, pos)
    before = [i for i, m in mentions if a <= m.start and m.end <= pos]
    if before:
        return before[-1]
    if after:
        following = [i for i, m in mentions if pos <= m.start < b]
        if following:
            return following[0]
    return None


def capital_runs(text: str) -> list[Mention]:
    """Runs of capitalised words (possible names), without leading plain words."""
    plain = {w.casefold() for w in lists()["plain_capitals"]}
    out = []
    for m in _CAPITAL_RUN.finditer(text):
        tokens = m.group(0).split()
        start = m.start()
        while tokens and (tokens[0].casefold().strip("'’") in plain or tokens[0] == "&"):
            start = text.index(tokens[0], start) + len(tokens[0])
            tokens = tokens[1:]
        if tokens:
            begin = text.index(tokens[0], start)
            tokens[-1] = re.sub(r"['’]s$", "", tokens[-1])
            out.append(Mention(begin, m.end(), " ".join(tokens)))
    return out


def negated_near(text: str, pos: int, window: int = 24) -> bool:
    """A negation word shortly before ``pos`` in the same sentence."""
    a, _ = sentence_of(text, pos)
    before = text[max(a, pos - window) : pos]
    return bool(matcher("negations").search(before))


def vocabulary(key: str, extra: list[str] = ()) -> re.Pattern[str]:  # type: ignore[assignment]
    return phrase_pattern(tuple([*lists()[key], *extra]))
