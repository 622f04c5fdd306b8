"""What an attribute answer states beyond its verdict: "No, X is a final sale item" still
claims final sale; "The Inkwell & Co. Gel Pen Set from." names the brand only inside the
product's name, which answers nothing."""

from __future__ import annotations

import re

from shopagent.agent.answering import extract as ex
from shopagent.agent.answering.claims import AttributeAnswer

_FINAL_SALE = re.compile(r"final[ -]sale", re.I)


def attribute_statements(
    text: str, c: AttributeAnswer, mentions: list[tuple[int, ex.Mention]]
) -> list[str]:
    """Problems with the attribute statements of ``text`` (empty: none)."""
    out: list[str] = []
    if c.attribute == "final sale":
        for m in _FINAL_SALE.finditer(text):
            said_not = ex.negated_near(text, m.start(), 16)
            if c.verdict == "no" and not said_not:
                out.append("says it is final sale; it is not")
            if c.verdict == "yes" and said_not:
                out.append("says it is not final sale; it is")
    if c.attribute == "brand" and c.value:
        rest = list(text)
        for _, m in mentions:  # the brand must be said outside the product's own name
            rest[m.start : m.end] = " " * (m.end - m.start)
        if c.value.casefold() not in "".join(rest).casefold():
            out.append("does not say who makes it")
    return list(dict.fromkeys(out))
