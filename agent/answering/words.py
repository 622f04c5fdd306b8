"""The word lists of agent/data/answers.yaml, loaded once, with phrase matchers."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


@lru_cache(maxsize=1)
def lists() -> dict[str, Any]:
    """The raw lists (see the YAML file's comments)."""
    path = resources.files("shopagent.agent").joinpath("data/answers.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=256)
def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One case-insensitive pattern matching any of ``phrases`` as whole words."""
    items = sorted({str(p) for p in phrases if str(p)}, key=len, reverse=True)
    body = "|".join(re.escape(p) for p in items) or r"(?!x)x"
    return re.compile(r"(?<![\w-])(?:" + body + r")(?![\w-])", re.I)


def matcher(key: str, sub: str | None = None) -> re.Pattern[str]:
    """The pattern for list ``key`` (or ``key[sub]``)."""
    value = lists()[key] if sub is None else lists()[key][sub]
    return phrase_pattern(tuple(value))


def words(text: str) -> list[str]:
    """Lower-case words (hyphenated and apostrophe words stay whole)."""
    return _WORD.findall(text.casefold())


def stem(word: str) -> str:
    """A light stem so that "washable"/"washing"/"washed" and "colors"/"color" meet."""
    for suffix in ("ability", "able", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)]
    return word


def content_stems(text: str) -> set[str]:
    """Stems of the words of ``text`` that carry meaning (no stop words); hyphenated words
    also count by their parts ("dishwasher-safe" -> dishwasher, safe)."""
    stop = set(lists()["stop"])
    out: set[str] = set()
    for w in words(text):
        parts = [w, *w.split("-")] if "-" in w else [w]
        out |= {stem(p) for p in parts if p not in stop and len(p) > 1}
    return out
