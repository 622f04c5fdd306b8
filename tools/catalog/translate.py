"""Cross-lingual query words: a shopper's Spanish or Chinese words the catalog does not index,
rendered in English through a store-independent glossary, so an English catalog's BM25 and an
English embedder find what a Spanish or Chinese query asks for.

The glossaries are data, one file per language (``tools/catalog/data/glossary.<code>.yaml``):
general retail nouns, adjectives and function words, written for any general store, naming no
product of any store. A word the catalog itself indexes is never translated (the catalog's
own vocabulary decides), so English queries over an English catalog and Chinese queries over
a Chinese catalog are left exactly as they were (and cost one dictionary lookup per word).
Words the glossary lacks are read from the language's general lexicon (``lexicon.py``:
CC-CEDICT for Chinese, Apertium for Spanish) when one is installed. A third language is one
more glossary file, and a lexicon where one exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml
from shopagent.tools.catalog.lexicon import chinese_match, word_lexicon
from shopagent.tools.catalog.text import _CJK_CLASS, _fold, tokenize

_CJK_RUN = re.compile(rf"[{_CJK_CLASS}A-Za-z]*[{_CJK_CLASS}]+[{_CJK_CLASS}A-Za-z]*")
CJK_LEXICONS: dict[str, Callable[[str, int], tuple[str, str] | None]] = {
    "zh": chinese_match,
}
"""General dictionaries read after a CJK glossary, for the words it lacks (``lexicon.py``)."""

_LATIN_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*|\S", re.UNICODE)


@dataclass(frozen=True)
class Glossary:
    language: str
    script: str
    """``latin`` (words separated by spaces) or ``cjk`` (segmented by longest match)."""
    words: dict[str, str]
    """Folded phrase → English (empty: the phrase is dropped)."""
    longest: int
    """Most words (latin) or characters (cjk) in a phrase."""


@lru_cache(maxsize=1)
def glossaries() -> tuple[Glossary, ...]:
    """Every glossary shipped in ``tools/catalog/data`` (sorted by language code)."""
    folder = resources.files("shopagent.tools.catalog").joinpath("data")
    out: list[Glossary] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not (entry.name.startswith("glossary.") and entry.name.endswith(".yaml")):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
        script = str(data.get("script", "latin"))
        words = {_fold(str(k)).strip(): str(v or "").strip() for k, v in data["words"].items()}
        size = (lambda k: len(k)) if script == "cjk" else (lambda k: len(k.split()))
        out.append(Glossary(str(data["language"]), script, words, max(map(size, words))))
    return tuple(out)


def _known(phrase: str, vocab: Container[str]) -> bool:
    """Whether the catalog indexes every token of ``phrase`` (its own words are kept)."""
    tokens = tokenize(phrase)
    return bool(tokens) and all(t in vocab for t in tokens)


def _pick(english: str, vocab: Container[str]) -> str:
    """A glossary entry's alternatives ("headphones / earbuds") as words: all of them (BM25
    keeps those the catalog indexes; measured better than picking one, BENCHMARKS.md)."""
    return " ".join(o.strip() for o in english.split("/") if o.strip())


def _singulars(word: str) -> list[str]:
    """Spanish-style plural fallbacks: relojes → reloj, cuchillos → cuchillo."""
    out = []
    if word.endswith("es") and len(word) > 4:
        out.append(word[:-2])
    if word.endswith("s") and len(word) > 3:
        out.append(word[:-1])
    return out


def _translate_latin(text: str, glossary: Glossary, vocab: Container[str]) -> tuple[str, int]:
    raw = _LATIN_WORD.findall(text.casefold())
    words = [_fold(w) for w in raw]
    out: list[str] = []
    left: dict[int, str] = {}
    """Position in ``out`` → the shopper's word (accents kept) no glossary entry read."""
    hits = seen = i = 0
    while i < len(words):
        for size in range(min(glossary.longest, len(words) - i), 0, -1):
            phrase = " ".join(words[i : i + size])
            english = glossary.words.get(phrase)
            if english is None and size == 1:
                found = [glossary.words[s] for s in _singulars(phrase) if s in glossary.words]
                english = found[0] if found else None
            if english is not None and not _known(phrase, vocab):
                out.append(_pick(english, vocab))
                hits += bool(english)
                # Evidence of the language: not a word English shares ("a", "me" are English
                # stopwords too).
                seen += bool(tokenize(phrase))
                i += size
                break
        else:
            if len(words[i]) >= 3 and words[i].isalpha() and not _known(words[i], vocab):
                left[len(out)] = raw[i]
            out.append(words[i])
            i += 1
    lexicon = word_lexicon(glossary.language) if seen and left else None
    if lexicon is not None:
        # The glossary read some of the words: the query is in its language, and the
        # language's general lexicon reads the rest it can.
        found = lexicon.lookup(list(left.values()))
        for at, word in left.items():
            if word in found:
                out[at] = found[word]
                hits += 1
    return " ".join(w for w in out if w), hits


def _cjk_match(
    chars: str, i: int, glossary: Glossary, vocab: Container[str]
) -> tuple[int, str] | None:
    """The phrase read at ``chars[i]``: the glossary's longest entry, or a longer word of the
    general lexicon (``lexicon.py``) when the glossary has none as long; a phrase the catalog
    indexes is left to the catalog."""
    best: tuple[int, str] | None = None
    for size in range(min(glossary.longest, len(chars) - i), 0, -1):
        phrase = chars[i : i + size]
        if phrase in glossary.words and not _known(phrase, vocab):
            best = (size, _pick(glossary.words[phrase], vocab))
            break
    if glossary.language in CJK_LEXICONS:
        word = CJK_LEXICONS[glossary.language](chars, i)
        longer = word is not None and len(word[0]) > (best[0] if best else 0)
        if word is not None and longer and not _known(word[0], vocab):
            best = (len(word[0]), word[1])
    return best


def _translate_cjk(text: str, glossary: Glossary, vocab: Container[str]) -> tuple[str, int]:
    hits = 0

    def run(match: re.Match[str]) -> str:
        nonlocal hits
        chars, out, i = _fold(match.group(0)), [], 0
        while i < len(chars):
            found = _cjk_match(chars, i, glossary, vocab)
            if found is None:
                out.append(chars[i])
                i += 1
                continue
            size, english = found
            out.append(english)
            hits += bool(english)
            i += size
        return " " + " ".join(w for w in out if w) + " "

    return " ".join(_CJK_RUN.sub(run, text).split()), hits


def translate(query: str, vocab: Container[str]) -> str | None:
    """The English rendering of ``query``'s glossary words the catalog does not index (other
    words kept), or None when no word needed it (the query is searched as written).

    ``vocab`` holds the catalog's BM25 tokens. A query with CJK characters is read with the
    CJK glossaries, any other with the latin-script ones. A query whose every word the
    catalog indexes is returned as None at once (the English path costs a lookup per word)."""
    if not any(t not in vocab for t in tokenize(query)):
        return None
    cjk = re.search(f"[{_CJK_CLASS}]", query) is not None
    step: Callable[[str, Glossary, Container[str]], tuple[str, int]] = (
        _translate_cjk if cjk else _translate_latin
    )
    best: tuple[str, int] | None = None
    for glossary in glossaries():
        if (glossary.script == "cjk") == cjk:
            text, hits = step(query, glossary, vocab)
            if hits and (best is None or hits > best[1]):
                best = (text, hits)
    return best[0] if best else None


def _glossary_word(word: str) -> bool:
    return any(word in g.words for g in glossaries())


def unread(rendering: str, vocab: Container[str]) -> bool:
    """Whether ``rendering`` (a query as :func:`translate` rendered it) keeps words of another
    language that the catalog does not index and no glossary knows: a CJK run none of whose
    characters or bigrams the catalog indexes (a Chinese catalog reads its own words), or a
    latin word of three or more letters none of whose tokens it indexes ("yute",
    "esmaltado"). BM25 then reads only part of the request."""
    for run in re.findall(f"[{_CJK_CLASS}]+", rendering):
        if not any(t in vocab for t in tokenize(run)):
            return True
    latin = re.sub(f"[{_CJK_CLASS}]+", " ", rendering)
    for word in re.findall(r"[^\W\d_]{3,}", _fold(latin)):
        tokens = tokenize(word)
        if tokens and not any(t in vocab for t in tokens) and not _glossary_word(word):
            return True
    return False
