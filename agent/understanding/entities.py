"""Entities learned from the store's own data: the shapes of its order numbers.

A store numbers its orders its own way (``SA-100234``, ``#W1234567``, ``112-5589231-4471``).
:class:`OrderNumberShapes` derives a shape signature from every order number the store has
(letters ``A``, digits ``9``, punctuation kept; a letter that is the same in every number of
that shape stays literal) and recognises any of those shapes in a message, with or without
the punctuation, returning the number as the store writes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_RUN = re.compile(r"[A-Za-z]+|\d+|[^A-Za-z\d]")

GENERIC_ID = re.compile(
    r"(?<![\w#])#?(?:[A-Za-z]{1,4}-?)?\d{5,}(?:-\d{2,})*(?![\w-])"
    r"|(?<![\w#])#?[A-Za-z]{1,4}-\d{4,}(?![\w-])"
)
"""Something that looks like an order or reference number in any store: five digits or more
(optionally behind a short letter prefix), or a short prefix, a hyphen and four digits."""


def shape_of(number: str) -> str:
    """The shape signature: ``#W1234567`` -> ``#A9999999``."""
    return re.sub(r"\d", "9", re.sub(r"[A-Za-z]", "A", number.strip()))


@dataclass(frozen=True)
class _Shape:
    signature: str
    runs: tuple[tuple[str, str], ...]
    """(kind, text) per run: kind ``L`` letters, ``D`` digits, ``P`` punctuation; text is the
    literal letters when every number of the shape has the same ones."""

    def pattern(self) -> str:
        parts = []
        for position, (kind, text) in enumerate(self.runs):
            if kind == "L":
                parts.append(re.escape(text) if text.isalpha() else rf"[A-Za-z]{{{len(text)}}}")
            elif kind == "D":
                parts.append(rf"\d{{{len(text)}}}")
            elif position in (0, len(self.runs) - 1):  # a leading "#" may be left out
                parts.append(rf"{re.escape(text)}?")
            else:  # inner punctuation may be left out or typed as a space by the shopper
                parts.append(rf"(?:{re.escape(text)}|\s)?")
        return "".join(parts)

    def canonical(self, typed: str) -> str:
        """``typed`` (any case, punctuation optional) written the way the store writes it."""
        chars = [c for c in typed if c.isalnum()]
        out, i = [], 0
        for kind, text in self.runs:
            if kind == "P":
                out.append(text)
                continue
            out.append("".join(chars[i : i + len(text)]).upper())
            i += len(text)
        return "".join(out)


def _runs(number: str) -> list[tuple[str, str]]:
    return [
        ("L" if run.isalpha() else "D" if run.isdigit() else "P", run)
        for run in _RUN.findall(number.strip())
    ]


@dataclass
class OrderNumberShapes:
    """The order-number shapes one store uses (:meth:`from_numbers` learns them)."""

    shapes: list[_Shape] = field(default_factory=list)
    _regex: re.Pattern[str] | None = None

    @classmethod
    def from_numbers(cls, numbers: Iterable[str], *, max_shapes: int = 20) -> OrderNumberShapes:
        """Learn the shapes of ``numbers`` (the most common ``max_shapes`` of them)."""
        groups: dict[str, list[list[tuple[str, str]]]] = {}
        for number in numbers:
            if number and number.strip():
                groups.setdefault(shape_of(number), []).append(_runs(number))
        ranked = sorted(groups.items(), key=lambda kv: -len(kv[1]))[:max_shapes]
        shapes = []
        for signature, samples in ranked:
            runs = []
            for position, (kind, text) in enumerate(samples[0]):
                if kind == "L":
                    same = {s[position][1].upper() for s in samples}
                    text = same.pop() if len(same) == 1 else "?" * len(text)
                runs.append((kind, text))
            if any(kind != "P" for kind, _ in runs):
                shapes.append(_Shape(signature, tuple(runs)))
        return cls(shapes)

    @property
    def regex(self) -> re.Pattern[str] | None:
        """One case-insensitive pattern for every shape (longest first); None when empty."""
        if not self.shapes:
            return None
        if self._regex is None:
            ordered = sorted(self.shapes, key=lambda s: -len(s.signature))
            body = "|".join(f"(?P<s{i}>{s.pattern()})" for i, s in enumerate(ordered))
            self._regex = re.compile(rf"(?<![\w#])#?(?:{body})(?![\w-])", re.I)
            self._ordered = ordered
        return self._regex

    def find(self, text: str) -> tuple[str, str] | None:
        """``(as typed, as the store writes it)`` for the first order number in ``text``."""
        regex = self.regex
        if regex is None:
            return None
        match = regex.search(text)
        if match is None:
            return None
        for name, value in match.groupdict().items():
            if value is not None:
                shape = self._ordered[int(name[1:])]
                return match.group(0).strip(), shape.canonical(value)
        return None  # pragma: no cover - a match always has one named group

    def mask(self, text: str, placeholder: str = "order number") -> str:
        """``text`` with every order number (the store's shapes and generic ones) replaced."""
        regex = self.regex
        if regex is not None:
            text = regex.sub(placeholder, text)
        return GENERIC_ID.sub(placeholder, text)


def mask_identifiers(text: str, shapes: OrderNumberShapes | None = None) -> str:
    """``text`` with order numbers and emails replaced by words the intent model knows."""
    text = re.sub(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", "email address", text)
    return (shapes or OrderNumberShapes()).mask(text)


def order_shapes_of(db: Any) -> OrderNumberShapes:
    """The shapes of every order number in the store ``db`` (anything with ``rows(sql)``)."""
    return OrderNumberShapes.from_numbers(
        str(row["number"]) for row in db.rows("SELECT number FROM orders")
    )
