"""Which units of an order a return request names: "the mug and both t-shirts", "two of
the sheet sets", "everything from order N".

The message is split into parts ("the mug" / "both t-shirts"); each part names order lines
by :func:`~.lines.best_lines` (the order's own product names and variant options: nothing
here knows a store's products) and says how many units ("both", "all", "two", a plural noun:
every unit of the line; else one). Per-unit lines of one SKU are interchangeable, so "one
of the two sheet sets" picks the first of them. :func:`return_picks` answers only when the
message names more than one unit; a single item stays with the one-item return.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from shopagent.agent.understanding.lines import Line, _stem, _words, best_lines

_EVERYTHING = re.compile(
    r"\b(?:everything|all\s+(?:of\s+)?(?:the\s+|my\s+)?(?:items|things|products|of\s+it)"
    r"|(?:the\s+)?(?:whole|entire|full)\s+order|all\s+of\s+(?:it|them))\b",
    re.I,
)
_SPLIT = re.compile(r"\s*(?:,|;|&|\+|\band\b|\bplus\b|\bas well as\b|\balong with\b)\s*", re.I)
_ORDER_REF = re.compile(
    r"\b(?:from|in|of|on)?\s*(?:my\s+|the\s+)?order\s*(?:#|no\.?|number)?\s*[A-Z0-9][\w-]*", re.I
)
_NUMBERS = {"one": 1, "a": 1, "an": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_NUMBERS |= {"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_ALL_WORDS = {"both", "all", "every", "each"}
_GIFT = re.compile(r"\b(?:gift\s*card|store\s+credit)\b", re.I)


@dataclass(frozen=True)
class Unit:
    """An order line as the picker sees it."""

    item_id: str
    sku: str
    name: str
    quantity: int = 1
    options: dict[str, str] = field(default_factory=dict)


def wants_gift_card(text: str) -> bool:
    """Whether the shopper asks for the refund on a gift card (or as store credit)."""
    return bool(_GIFT.search(text))


def _count(part: str, lines: list[Line]) -> int | None:
    """Units the part asks for: a number, None for every unit ("both", a plural noun)."""
    words = re.findall(r"[^\W_]+", part.casefold())
    for word in words:
        if word in _ALL_WORDS:
            return None
        if word.isdigit() and 0 < int(word) < 100:
            return int(word)
        if word in _NUMBERS and word not in {"a", "an"}:
            return _NUMBERS[word]
    raw = {w.casefold() for line in lines for w in re.findall(r"[^\W_]+", line.name)}
    named = set().union(*(_words(line.name) for line in lines)) if lines else set()
    plural = any(_stem(w) != w and _stem(w) in named and w not in raw for w in words)
    return None if plural else 1


def _take(units: list[Unit], count: int | None, picks: dict[str, int]) -> int:
    """Pick ``count`` (None: all) not yet picked units of ``units``; how many were picked."""
    left = count
    taken = 0
    for unit in units:
        free = unit.quantity - picks.get(unit.item_id, 0)
        n = free if left is None else min(free, left)
        if n > 0:
            picks[unit.item_id] = picks.get(unit.item_id, 0) + n
            taken += n
            left = None if left is None else left - n
        if left == 0:
            break
    return taken


def return_picks(text: str, units: Sequence[Unit]) -> dict[str, int] | None:
    """Item id -> units to return, when ``text`` names more than one unit of ``units``;
    None when it names one or none, or a part is ambiguous (the one-item flow asks)."""
    units = list(units)
    if sum(u.quantity for u in units) < 2:
        return None
    if _EVERYTHING.search(text):
        return {u.item_id: u.quantity for u in units}
    by_sku: dict[str, list[Unit]] = {}
    for unit in units:
        by_sku.setdefault(unit.sku, []).append(unit)
    lines = [Line(sku, us[0].name, us[0].options) for sku, us in by_sku.items()]
    picks: dict[str, int] = {}
    for part in _SPLIT.split(_ORDER_REF.sub(" ", text)):
        named = best_lines(part, lines)
        if not named:
            continue
        count = _count(part, named)
        if len(named) > 1 and count is not None and count < len(named):
            return None  # "the t-shirt" with two t-shirts in the order: ask which
        for line in named:
            _take(by_sku[line.key], count if len(named) == 1 else None, picks)
    return picks if sum(picks.values()) >= 2 else None
