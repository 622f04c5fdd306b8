"""Source values of a catalog import as store values: prices, booleans, stock, text.

Each parser raises ValueError with a short reason; the importer adds file, line and column.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from shopagent.tools.store.schema import MAX_COUNT

_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_TRUE = {"true", "yes", "y", "1", "t", "x"}
_FALSE = {"false", "no", "n", "0", "f", ""}


def parse_price(raw: Any) -> tuple[Decimal, str | None]:
    """A price and the currency its symbol or code names (``"$1,299.00"`` → 1299.00, USD).

    Accepts thousands separators and a decimal comma (``"1.299,00 €"``). Raises ValueError.
    """
    if isinstance(raw, bool):
        raise ValueError("not a price")
    if isinstance(raw, int | float | Decimal):
        return Decimal(str(raw)), None
    text = str(raw).strip()
    currency = None
    for symbol, code in _SYMBOLS.items():
        if symbol in text:
            currency = code
            text = text.replace(symbol, "")
    if m := re.search(r"\b([A-Za-z]{3})\b", text):
        currency = m.group(1).upper()
        text = text[: m.start()] + text[m.end() :]
    text = text.replace(" ", "").replace("\u00a0", "").replace("'", "")
    if not re.fullmatch(r"-?[\d.,]+", text) or not re.search(r"\d", text):
        raise ValueError("not a price")
    if "," in text and "." in text:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
    elif "," in text:
        tail = text.rpartition(",")[2]
        decimal_sep = "," if len(tail) in (1, 2) and text.count(",") == 1 else ""
    else:
        decimal_sep = "." if text.count(".") == 1 else ""
    thousands = {",", "."} - {decimal_sep}
    for sep in thousands:
        text = text.replace(sep, "")
    if decimal_sep == ",":
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a price") from None
    if value < 0:
        raise ValueError("must be >= 0")
    return value, currency


def parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true/false, yes/no or 1/0")


def parse_stock(raw: Any) -> int:
    text = str(raw).strip()
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError("expected a whole number of units") from None
    if value != value.to_integral_value():
        raise ValueError("expected a whole number of units")
    if value < 0:
        raise ValueError("must be >= 0")
    if value > MAX_COUNT:  # checked before int(): 1e999999999 would take minutes to build
        raise ValueError(f"must be at most {MAX_COUNT}")
    return int(value)


def clean_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return " ".join(str(raw).split()) if not isinstance(raw, str) else raw.strip()


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())
