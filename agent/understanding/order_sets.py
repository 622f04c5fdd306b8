"""Questions over several of the customer's own orders: "the two t-shirts in my other order:
what are they made of?", "what are the things in my last two orders made of?", "is the kettle
in the order with the lamp dishwasher safe?".

Pure functions over the orders the (ownership-checked) order tools returned:

* :func:`order_set_reference` reads which orders a message points at, from the phrases of
  ``agent/data/order_sets.yaml`` (``other``, ``last_n``, ``all``, ``named``) and a count
  ("the two t-shirts");
* :func:`resolve_order_set` picks those orders: the ones other than the order talked about, the
  newest *n*, all, or the ones a date, "latest" or their contents name
  (:func:`~shopagent.agent.understanding.order_refs.narrow_orders`);
* :func:`pick_lines` picks the lines the message names in them, each line scored on its name
  and options (:func:`~shopagent.agent.understanding.lines.best_lines`); every line when it
  names none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from shopagent.agent.understanding.lines import Line, best_lines
from shopagent.agent.understanding.order_refs import narrow_orders

Kind = Literal["other", "last_n", "all", "named"]
KINDS: tuple[Kind, ...] = ("other", "last_n", "all", "named")
MAX_LINES = 4
"""Products one answer describes at most."""


@dataclass(frozen=True)
class OrderSetRef:
    """Which of the customer's orders a message points at."""

    kind: Kind
    phrase: str
    """The words that said so (left out when the message's item words are read)."""
    n: int | None = None
    """``last_n``: how many orders."""
    count: int | None = None
    """How many items the message names ("the two t-shirts"), when it says."""


@cache
def _data() -> dict[str, Any]:
    path = resources.files("shopagent.agent").joinpath("data/order_sets.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _number(word: str) -> int | None:
    word = word.casefold()
    if word.isdigit():
        return int(word)
    return _data()["counts"].get(word)


@cache
def _patterns() -> list[tuple[Kind, re.Pattern[str]]]:
    data = _data()
    counts = "|".join([r"\d{1,2}", *map(re.escape, data["counts"])])
    out: list[tuple[Kind, str]] = []
    for kind in KINDS:
        for phrase in data[kind]:
            body = r"\s+".join(re.escape(w) for w in str(phrase).split())
            body = body.replace(re.escape("{n}"), rf"(?P<n>{counts})")
            out.append((kind, body))
    out.sort(key=lambda kp: len(kp[1]), reverse=True)  # the longest phrase first
    return [(kind, re.compile(rf"\b{body}\b", re.I)) for kind, body in out]


def order_set_reference(text: str) -> OrderSetRef | None:
    """The orders ``text`` points at, or None when it names none of the customer's orders."""
    for kind, pattern in _patterns():
        if m := pattern.search(text):
            n = _number(m.group("n")) if "n" in pattern.groupindex else None
            if kind == "last_n" and not n:
                continue
            rest = text[: m.start()] + " " + text[m.end() :]
            return OrderSetRef(kind=kind, phrase=m.group(0), n=n, count=_item_count(rest))
    return None


def _item_count(text: str) -> int | None:
    """ "the two t-shirts", "both mugs", "the 3 candles": how many items are named."""
    counts = "|".join([r"\d{1,2}", *map(re.escape, _data()["counts"])])
    m = re.search(rf"\b(?:the|both|my|those|these)\s+({counts})\b|\bboth\b", text, re.I)
    if not m:
        return None
    return _number(m.group(1)) if m.group(1) else 2


def _placed(order: Any) -> Any:
    return order.placed_at


def resolve_order_set(
    orders: Sequence[Any],
    ref: OrderSetRef,
    *,
    current: str | None,
    text: str,
    query: str,
    latest: bool,
    today: date,
) -> list[Any]:
    """The customer's orders ``ref`` points at, newest first (``current``: the order number
    the conversation is about, if any)."""
    newest = sorted(orders, key=_placed, reverse=True)
    if ref.kind == "other":
        talked = current.casefold() if current else (newest[0].number.casefold() if newest else "")
        return [o for o in newest if o.number.casefold() != talked]
    if ref.kind == "last_n":
        return newest[: ref.n or 1]
    if ref.kind == "all":
        return newest
    return narrow_orders(newest, text=text, query=query, latest=latest, today=today)


def order_lines(orders: Sequence[Any]) -> list[tuple[Any, Any]]:
    """Every (order, line) of ``orders``, a product once (its newest line)."""
    seen: set[str] = set()
    out = []
    for order in orders:
        for item in order.items:
            if item.product_id not in seen:
                seen.add(item.product_id)
                out.append((order, item))
    return out


def pick_lines(
    orders: Sequence[Any], ref: OrderSetRef, query: str, options: dict[str, dict[str, str]]
) -> list[tuple[Any, Any]]:
    """The (order, line) pairs the message names in ``orders`` (``query``: its words without
    the order phrase; ``options``: variant options by SKU). Every line when no word names
    one; at most ``ref.count`` (else :data:`MAX_LINES`) of them."""
    pairs = order_lines(orders)
    lines = [
        Line(str(i), item.name, options.get(item.sku, {})) for i, (_, item) in enumerate(pairs)
    ]
    best = best_lines(query, lines)
    chosen = [pairs[int(line.key)] for line in best] if best else pairs
    return chosen[: ref.count or MAX_LINES]


def item_words(text: str, ref: OrderSetRef) -> str:
    """The message without the words that pointed at the orders and the words that name no
    item ("what", "the", "things": a line named "Set of the Month" must not win on them)."""
    filler = {str(w).casefold() for w in _data().get("filler") or []}
    words = re.findall(r"[^\s:;,.!?]+", text.replace(ref.phrase, " "))
    return " ".join(w for w in words if w.casefold() not in filler)
