"""A shopper's phrasing in another language, rewritten into the canonical phrases the slot
patterns and the search-request parser read ("menos de 50" → "under $50", "200元以下" →
"under $200", "便宜一点的" → "cheaper one", "el segundo" → "the second").

The phrasings are data, one file per language: ``agent/data/lang/<code>.yaml`` (regex
``rules``, whole-phrase ``words``, and message-initial ``answers`` such as "sí" or "不").
Product words are left as the shopper wrote them: the multilingual embedder and the Unicode
BM25 tokenizer search with them. A language without a file is returned unchanged, so English
(and any language a store has not described) costs nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class Phrasing:
    rules: tuple[tuple[re.Pattern[str], str], ...]
    words: re.Pattern[str] | None
    word_map: dict[str, str]
    answers: re.Pattern[str] | None
    answer_map: dict[str, str]


def _alternation(phrases: list[str]) -> str:
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


@lru_cache(maxsize=16)
def phrasing(language: str) -> Phrasing | None:
    """The phrasing data of ``language`` (None when the store has no file for it)."""
    if not re.fullmatch(r"[a-z]{2,3}(?:-[A-Za-z]{2,4})?", language or ""):
        return None
    path = resources.files("shopagent.agent").joinpath(f"data/lang/{language}.yaml")
    if not path.is_file():
        return None
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules = tuple((re.compile(r["match"], re.I), r["to"]) for r in data.get("rules", []))
    word_map = {str(k).casefold(): str(v) for k, v in (data.get("words") or {}).items()}
    answer_map = {str(k).casefold(): str(v) for k, v in (data.get("answers") or {}).items()}
    bounded = bool(data.get("boundaries", True))
    words = None
    if word_map:
        body = _alternation(list(word_map))
        words = re.compile(rf"(?<!\w)(?:{body})(?!\w)" if bounded else f"(?:{body})", re.I)
    answers = None
    if answer_map:
        body = _alternation(list(answer_map))
        answers = re.compile(rf"^\W*({body})(?!\w)", re.I)
    return Phrasing(rules, words, word_map, answers, answer_map)


_CJK = "\u3400-\u9fff\uf900-\uffef"
_CJK_EDGE = re.compile(rf"(?<=[{_CJK}])(?=[A-Za-z0-9$#])|(?<=[A-Za-z0-9])(?=[{_CJK}])")
"""Where a run of Latin letters or digits touches CJK text: "订单SA-100378的状态" has no
word boundary around the order number (CJK characters are word characters)."""


def localize(text: str, language: str | None) -> str:
    """``text`` with the language's slot phrases in canonical form (unchanged without data).
    Latin runs inside CJK text are set apart by spaces in any language, so the slot patterns
    see "SA-100378" and an email address as words."""
    if text and not text.isascii():
        text = _CJK_EDGE.sub(" ", text)
    data = phrasing(language or "")
    if data is None or not text:
        return text
    out = text
    if data.answers is not None and (m := data.answers.match(out)):
        canon = data.answer_map[m.group(1).casefold()]
        out = f"{out[: m.start(1)]}{canon} {out[m.end(1) :]}"
    for pattern, replacement in data.rules:
        out = pattern.sub(replacement, out)
    if data.words is not None:
        out = data.words.sub(lambda m: f" {data.word_map[m.group(0).casefold()]} ", out)
    return " ".join(out.split())
