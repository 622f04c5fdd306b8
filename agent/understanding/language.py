"""The language of a turn: detected with lingua (its models ship in the wheel; no download),
restricted to the languages the store serves (``agent/data/languages.yaml``).

One-word turns ("no", "ok", "vale") are ambiguous between languages; when the detector is not
sure, the thread keeps the language it was in, so a Spanish thread stays Spanish on "no" and
a shopper who switches language with a real sentence is followed at once.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Container
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class LanguageSpec:
    code: str
    name: str
    lingua: str
    marks: re.Pattern[str] | None


@dataclass(frozen=True)
class LanguageTable:
    default: str
    min_confidence: float
    min_letters: int
    languages: dict[str, LanguageSpec]


@lru_cache(maxsize=1)
def language_table() -> LanguageTable:
    """The served languages (``agent/data/languages.yaml``)."""
    raw = resources.files("shopagent.agent").joinpath("data/languages.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(raw)
    specs: dict[str, LanguageSpec] = {}
    for code, item in data["languages"].items():
        body = item.get("marks_regex") or (
            "[" + re.escape(item["marks"]) + "]" if item.get("marks") else ""
        )
        specs[code] = LanguageSpec(
            code=code,
            name=item["name"],
            lingua=item["lingua"],
            marks=re.compile(body) if body else None,
        )
    return LanguageTable(
        default=data["default"],
        min_confidence=float(data["min_confidence"]),
        min_letters=int(data["min_letters"]),
        languages=specs,
    )


_DETECTOR: Any = None
_LOCK = threading.Lock()


def _detector() -> tuple[Any, dict[Any, str]]:
    global _DETECTOR
    if _DETECTOR is None:
        with _LOCK:
            if _DETECTOR is None:
                from lingua import Language, LanguageDetectorBuilder

                table = language_table()
                codes = {getattr(Language, s.lingua): c for c, s in table.languages.items()}
                if len(codes) < 2:  # lingua needs two languages; one served language is trivial
                    _DETECTOR = (None, codes)
                else:
                    built = LanguageDetectorBuilder.from_languages(*codes).build()
                    _DETECTOR = (built, codes)
    return _DETECTOR


_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")


def _without(text: str, ignore: Container[str]) -> str:
    """``text`` without the words in ``ignore`` (casefolded)."""
    return _WORD.sub(lambda m: " " if m.group(0).casefold() in ignore else m.group(0), text)


def detect_language(
    text: str, previous: str | None = None, ignore: Container[str] = frozenset()
) -> str:
    """The served language ``text`` is written in; ``previous`` (the thread's language, else
    the default) when the text is too short or too mixed to tell. Words in ``ignore``
    (casefolded: the store's product names and brands, written as the store wrote them) are
    no evidence of the language and are left out."""
    if ignore:
        text = _without(text, ignore)
    table = language_table()
    known = previous in table.languages
    fallback = previous if known and previous else table.default
    letters = sum(ch.isalpha() for ch in text or "")
    if not letters:
        return fallback
    for code, spec in table.languages.items():
        if spec.marks is not None and spec.marks.search(text):
            return code
    detector, codes = _detector()
    if detector is None:
        return next(iter(codes.values()), fallback)
    values = detector.compute_language_confidence_values(text)
    if not values:
        return fallback
    best = values[0]
    if best.value < table.min_confidence or (known and letters < table.min_letters):
        return fallback
    return codes.get(best.language, fallback)


def language_name(code: str) -> str:
    """The English name of a served language ("Chinese"), for prompts."""
    spec = language_table().languages.get(code)
    return spec.name if spec else code
