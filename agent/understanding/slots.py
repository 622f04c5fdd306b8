"""Slot extraction: deterministic patterns (agent/data/slots.yaml) over one user message."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, Field
from shopagent.agent.understanding.entities import OrderNumberShapes


class Slots(BaseModel):
    """What a message says, independent of intent."""

    email: str | None = None
    order_number: str | None = None
    zip_code: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    color: str | None = None
    size: str | None = None
    ordinal: int | None = Field(None, description="1-based position in the last list; -1 last.")
    reference: bool = Field(False, description="Refers back to something already discussed.")
    cheaper: bool = False
    pricier: bool = False
    in_stock_only: bool = False
    latest: bool = Field(False, description='Says the newest order ("my latest order").')
    condition: str | None = Field(None, description="unopened | unused | used, if said.")
    variant: str | None = Field(
        None, description="A variant value of the product in focus (e.g. 'Electric Blue')."
    )
    yes: bool = False
    no: bool = False
    query: str = Field("", description="The product words left after removing the rest.")


@lru_cache(maxsize=1)
def _patterns() -> dict[str, Any]:
    text = (
        resources.files("shopagent.agent").joinpath("data/slots.yaml").read_text(encoding="utf-8")
    )
    raw = yaml.safe_load(text)

    def phrases_of(values: list[str]) -> re.Pattern[str]:
        items = sorted((str(p) for p in values), key=len, reverse=True)
        return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in items) + r")\b", re.I)

    def phrases(key: str) -> re.Pattern[str]:
        return phrases_of(raw[key])

    money = raw["money"]
    return {
        "email": re.compile(raw["email"]),
        "order_number": re.compile(raw["order_number"], re.I),
        "zip": re.compile(raw["zip"], re.I),
        "between": re.compile(raw["between"], re.I),
        "price_max": re.compile(r"\b(?:" + "|".join(raw["price_max"]) + r")\s+" + money, re.I),
        "price_max_marked": re.compile(
            r"\b(?:" + "|".join(raw["price_max_marked"]) + r")\s+\$\s?(\d{1,6}(?:\.\d{1,2})?)", re.I
        ),
        "price_min": re.compile(r"\b(?:" + "|".join(raw["price_min"]) + r")\s+" + money, re.I),
        "colors": phrases("colors"),
        "sizes": phrases("sizes"),
        "references": phrases("references"),
        "ordinals": {str(k): int(v) for k, v in raw["ordinals"].items()},
        "ordinal_re": phrases("ordinals"),
        "cheaper": phrases("cheaper"),
        "condition": [(name, phrases_of(items)) for name, items in raw["condition"].items()],
        "pricier": phrases("pricier"),
        "in_stock": phrases("in_stock"),
        "latest": phrases("latest"),
        "yes": re.compile(r"^\W*(?:" + "|".join(re.escape(w) for w in raw["yes"]) + r")\b", re.I),
        "no": re.compile(r"^\W*(?:" + "|".join(re.escape(w) for w in raw["no"]) + r")\b", re.I),
        "filler": frozenset(raw["filler"].split()),
    }


def _is_price_context(match: re.Match[str]) -> bool:
    """A bare number is a price only with a currency marker or a price word before it."""
    span = match.group(0)
    return "$" in span or bool(re.search(r"dollars?|bucks|usd", span, re.I))


def extract(message: str, order_shapes: OrderNumberShapes | None = None) -> Slots:
    """All slots found in ``message``; never raises on odd input.

    ``order_shapes`` (learned from the store's orders) recognise the store's own order
    numbers, returned as the store writes them; the generic pattern is the fallback."""
    p = _patterns()
    text = message.strip()
    slots: dict[str, Any] = {}
    rest = text

    if m := p["email"].search(text):
        slots["email"] = m.group(0).lower()
        rest = rest.replace(m.group(0), " ")
    if order_shapes is not None and (found := order_shapes.find(rest)):
        slots["order_number"] = found[1]
        rest = rest.replace(found[0], " ")
    elif m := p["order_number"].search(rest):
        slots["order_number"] = m.group(0).upper().replace("--", "-")
        rest = rest.replace(m.group(0), " ")
    if m := p["zip"].search(rest):
        slots["zip_code"] = m.group(1)
        rest = rest.replace(m.group(0), " ")

    if m := p["between"].search(rest):
        low, high = sorted((Decimal(m.group(1)), Decimal(m.group(2))))
        slots["min_price"], slots["max_price"] = low, high
        rest = rest.replace(m.group(0), " ")
    else:
        if m := p["price_max"].search(rest) or p["price_max_marked"].search(rest):
            slots["max_price"] = Decimal(m.group(1))
            rest = rest.replace(m.group(0), " ")
        m = p["price_min"].search(rest)
        if m and (_is_price_context(m) or "max_price" in slots):
            slots["min_price"] = Decimal(m.group(1))
            rest = rest.replace(m.group(0), " ")

    if m := p["colors"].search(rest):
        slots["color"] = m.group(0).lower().replace("gray", "grey")
    if m := p["sizes"].search(rest):
        slots["size"] = m.group(0).lower()
    if m := p["ordinal_re"].search(rest):
        slots["ordinal"] = p["ordinals"][m.group(0).lower()]
    slots["reference"] = bool(p["references"].search(rest))
    slots["cheaper"] = bool(p["cheaper"].search(rest))
    slots["pricier"] = bool(p["pricier"].search(rest))
    slots["in_stock_only"] = bool(p["in_stock"].search(rest))
    slots["latest"] = bool(p["latest"].search(rest))
    rest = p["latest"].sub(" ", rest)
    slots["condition"] = next((n for n, rx in p["condition"] if rx.search(rest)), None)
    for _, rx in p["condition"]:
        rest = rx.sub(" ", rest)
    slots["yes"] = bool(p["yes"].search(text))
    slots["no"] = bool(p["no"].search(text)) and not slots["yes"]
    rest = p["sizes"].sub(" ", p["colors"].sub(" ", rest))
    slots["query"] = _product_words(rest, p["filler"])
    return Slots(**slots)


def _product_words(text: str, filler: frozenset[str]) -> str:
    words = re.findall(r"[^\W_][\w'\-]*", text)  # any script: "inalámbricos" stays whole
    kept = [w for w in words if w.lower() not in filler and not w.isdigit()]
    return " ".join(kept)
