"""Which of the customer's orders a message points at: "my latest order", "the one from last
week", "the order with the lamp".

:func:`narrow_orders` is pure: the customer's orders, the message, its product words and
today's date. Dates are read from phrases in ``agent/data/slots.yaml`` (``order_when``),
"3 days ago" / "2 weeks ago", and month and weekday names; contents by scoring every order
line on the message's words (:func:`~shopagent.agent.understanding.lines.best_lines`).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from shopagent.agent.understanding.lines import Line, best_lines
from shopagent.agent.understanding.slots import _patterns as _slot_patterns

_AGO = re.compile(
    r"\b(\d{1,2}|a|an|one|two|three|four|five|six)\s+(day|week|month)s?\s+ago\b", re.I
)
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_MONTHS = {m.casefold(): i for i, m in enumerate(calendar.month_name) if m} | {
    m.casefold(): i for i, m in enumerate(calendar.month_abbr) if m and m != "May"
}
_DAYS = {d.casefold(): i for i, d in enumerate(calendar.day_name)}
_ON_DAY = re.compile(r"\b(?:on|last|this\s+past)\s+(" + "|".join(_DAYS) + r")\b", re.I)
_IN_MONTH = re.compile(
    r"\b(?:in|from|during|back\s+in|early|late|mid)\s+(" + "|".join(_MONTHS) + r")\b", re.I
)


def date_window(text: str, today: date) -> tuple[date, date] | None:
    """The (oldest, newest) placing dates a message names, or None."""
    if m := _AGO.search(text):
        n = int(m.group(1)) if m.group(1).isdigit() else _NUMBERS[m.group(1).casefold()]
        days = {"day": 1, "week": 7, "month": 30}[m.group(2).casefold()] * n
        slack = 1 if m.group(2).casefold() == "day" else days // 3 + 2
        return today - timedelta(days=days + slack), today - timedelta(days=max(0, days - slack))
    if m := _ON_DAY.search(text):
        back = (today.weekday() - _DAYS[m.group(1).casefold()]) % 7 or 7
        day = today - timedelta(days=back)
        return day, day
    if m := _IN_MONTH.search(text):
        month = _MONTHS[m.group(1).casefold()]
        year = today.year if month <= today.month else today.year - 1
        last = calendar.monthrange(year, month)[1]
        return date(year, month, 1), date(year, month, last)
    phrases: dict[str, Any] = _slot_patterns()["raw"].get("order_when") or {}
    for phrase in sorted(phrases, key=len, reverse=True):
        if re.search(rf"\b{re.escape(phrase)}\b", text, re.I):
            newest, oldest = phrases[phrase]
            return today - timedelta(days=int(oldest)), today - timedelta(days=int(newest))
    return None


def _placed(order: Any) -> date:
    placed = order.placed_at
    return placed.date() if hasattr(placed, "date") else placed


def narrow_orders(
    orders: Sequence[Any], *, text: str, query: str, latest: bool, today: date
) -> list[Any]:
    """The orders the message points at (newest first); all of them when it names none.

    ``latest``: the newest one. A date phrase keeps the orders placed then (the nearest one
    when none was). Product words keep the orders holding the lines they name best."""
    picked = sorted(orders, key=_placed, reverse=True)
    if not picked:
        return []
    if latest:
        return picked[:1]
    if window := date_window(text, today):
        oldest, newest = window
        inside = [o for o in picked if oldest <= _placed(o) <= newest]
        if not inside:
            middle = oldest + (newest - oldest) / 2
            nearest = min(abs((_placed(o) - middle).days) for o in picked)
            inside = [o for o in picked if abs((_placed(o) - middle).days) == nearest]
        picked = inside
    if query.strip() and len(picked) > 1:
        lines = [
            Line(f"{i}:{item.sku}", item.name) for i, o in enumerate(picked) for item in o.items
        ]
        best = best_lines(query, lines)
        if best and len(best) < len(lines):
            keep = {int(line.key.split(":")[0]) for line in best}
            picked = [o for i, o in enumerate(picked) if i in keep]
    return picked


def names_an_order(text: str, query: str, latest: bool, today: date) -> bool:
    """Whether the message says which order without its number (a date, newest, contents)."""
    return latest or date_window(text, today) is not None or bool(query.strip())


_HISTORY = re.compile(
    r"\b(?:order\s+history|purchase\s+history"
    r"|(?:show|list|see|view|display|give)\b[^.?!]{0,20}\b(?:all\s+)?(?:my|of\s+my)\s+orders"
    r"|all\s+(?:of\s+)?my\s+orders|every\s+order\s+i|(?:past|previous|old|earlier)\s+orders"
    r"|what\s+(?:have|did)\s+i\s+(?:ever\s+)?(?:order|buy|bought|purchase)(?:ed)?)\b",
    re.I,
)


def asks_order_history(text: str) -> bool:
    """Whether the message asks for the customer's order history ("show my orders", "my
    order history", "what have I ordered?"), not one order or the most recent ones."""
    return bool(_HISTORY.search(text))
