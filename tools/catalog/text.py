"""Text processing shared by both retrievers and the filters: tokens and attribute values."""

from __future__ import annotations

import re
import unicodedata

from shopagent.tools.catalog.config import _MAX_PHRASE_WORDS
from shopagent.tools.store.schema import Product

_STOPWORD_TEXT = """
    a an and are as at be but by for from has have i if in into is it its me my no not of on
    or our show so some such that the their them then there these they this to us was we were
    will with want need looking find get buy any something anything please can could would
    you your
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_LETTER = rf"[^\W_{_CJK_CLASS}]"
_WORD = re.compile(rf"{_LETTER}+(?:[-']{_LETTER}+)*")
_SPLIT = re.compile(rf"{_LETTER}+")
_CJK_RUN = re.compile(rf"[{_CJK_CLASS}]+")
_SPELLING = {"grey": "gray", "colour": "color", "colours": "colors"}
"""Spelling variants that mean the same word (British → American)."""


def _stem(token: str) -> str:
    """A tiny plural stripper: kettles→kettle, boxes→box, batteries→battery, glasses→glass."""
    token = _SPELLING.get(token, token)
    if len(token) <= 3 or token.isdigit():
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith(("sses", "xes", "ches", "shes", "zes")):
        return token[:-2]
    if token.endswith(("ss", "us", "is")):
        return token
    if token.endswith("s"):
        return token[:-1]
    return token


def _fold(text: str) -> str:
    """Lowercase without accents ("Sartén" → "sarten"); ASCII text is only lowercased."""
    text = text.casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def _cjk_tokens(text: str) -> list[str]:
    """Chinese/Japanese/Korean runs as overlapping character bigrams, plus single characters
    for runs of one or two ("保温杯" → 保温, 温杯; "杯" → 杯): the segmenter-free indexing of
    CJK text that full-text engines use (no dictionary, any domain's words)."""
    tokens: list[str] = []
    for run in _CJK_RUN.findall(text):
        if len(run) <= 2:
            tokens.extend(run)
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


def tokenize(text: str) -> list[str]:
    """Lowercase, stopword-free, plural-stripped tokens; ``wh-1000xm5`` adds ``wh1000xm5``.

    Letters of any script count (accents folded: "inalámbricos" is one token,
    "inalambrico"); CJK text gives character bigrams (:func:`_cjk_tokens`)."""
    tokens: list[str] = []
    text = _fold(text)
    cjk = [] if text.isascii() else _cjk_tokens(text)
    for word in _WORD.findall(text):
        parts = _SPLIT.findall(word)
        if len(parts) > 1:
            tokens.append("".join(parts))
        tokens.extend(parts)
    words = [_stem(t) for t in tokens if t not in _STOPWORDS and (len(t) > 1 or t.isdigit())]
    return cjk + words if cjk else words


def _norm(value: str) -> str:
    return " ".join(value.casefold().split())


def _attr_norm(value: str) -> str:
    """An attribute value as matched: lowercase, single spaces, "grey" spelled "gray"."""
    return " ".join(_SPELLING.get(w, w) for w in value.casefold().split())


def _attr_key(key: str) -> str:
    return "attr_" + (re.sub(r"[^a-z0-9]+", "_", key.casefold()).strip("_") or "x")


def _attr_values(value: str) -> list[str]:
    """The whole normalised value plus every run of its words, longest first.

    ``"Matte Black"`` gives ``["matte black", "matte", "black"]``; ``"tri-ply stainless
    steel"`` also gives ``"stainless steel"``. Values of more than six words add single words.
    """
    whole = _attr_norm(value)
    words = [w for w in re.split(r"[\s/,;|+&]+", whole) if w]
    out = [whole] if whole else []
    longest = len(words) if len(words) <= _MAX_PHRASE_WORDS else 1
    for size in range(longest, 0, -1):
        for start in range(len(words) - size + 1):
            phrase = " ".join(words[start : start + size])
            if phrase not in out:
                out.append(phrase)
    return out


def _attr_buckets(product: Product) -> dict[str, list[str]]:
    """``attr_<key>`` -> matchable values over the product's and its variants' attributes."""
    attrs: dict[str, list[str]] = {}
    for source in (product.attributes, *(v.attributes for v in product.variants)):
        for key, value in source.items():
            bucket = attrs.setdefault(_attr_key(key), [])
            bucket.extend(v for v in _attr_values(value) if v not in bucket)
    return {k: v for k, v in attrs.items() if v}
