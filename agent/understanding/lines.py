"""Which line of an order the shopper means: every line scored on its name and options.

A word shared by every candidate line tells nothing apart, so words are weighted by how few
lines carry them (inverse line frequency); a line scores the weights of the shopper's words
it carries in its name or variant options ("the smart watch" -> *Smart Watch*, not *Smart
Thermostat*; "the blue kettle" -> the kettle whose colour option is Blue). Only lines tied
at the best score remain, and :func:`differences` names what tells them apart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Line:
    key: str
    """The line's SKU (or any id)."""
    name: str
    options: dict[str, str] = field(default_factory=dict)
    """Variant options, e.g. ``{"color": "Blue", "size": "M"}``."""


def _stem(word: str) -> str:
    word = word.casefold()
    if len(word) > 4 and (word.endswith(("ches", "shes")) or word[-3:] in {"ses", "xes", "zes"}):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text) if len(w) >= 2 or w.isdigit()}


def _line_words(line: Line) -> set[str]:
    return _words(line.name) | _words(" ".join(line.options.values()))


def best_lines(query: str, lines: Sequence[Line]) -> list[Line]:
    """The lines ``query`` names best (several only on a real tie); empty when it names
    none of them."""
    wanted = _words(query)
    if not wanted or not lines:
        return []
    carried = [_line_words(line) for line in lines]
    n = len(lines)
    weight = {
        w: math.log(1 + n / sum(w in c for c in carried))
        for w in wanted
        if any(w in c for c in carried)
    }
    if not weight:
        return []
    scores = [sum(weight.get(w, 0.0) for w in wanted & c) for c in carried]
    top = max(scores)
    return [line for line, score in zip(lines, scores, strict=True) if math.isclose(score, top)]


def differences(lines: Sequence[Line]) -> dict[str, list[str]]:
    """Per line key, what sets it apart from the others: the options whose values differ,
    else the name words the others lack."""
    out: dict[str, list[str]] = {}
    shared = set.intersection(*(set(line.options) for line in lines)) if lines else set()
    varying = sorted(o for o in shared if len({line.options[o] for line in lines}) > 1)
    for line in lines:
        if varying:
            out[line.key] = [f"{o}: {line.options[o]}" for o in varying if o in line.options]
        else:
            others = set().union(*(_words(x.name) for x in lines if x is not line))
            own = [w for w in _WORD.findall(line.name) if _stem(w) not in others]
            out[line.key] = own
    return out
