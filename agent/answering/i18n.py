"""Replies in the shopper's language: the English template sentences translated through
gettext catalogs (``agent/locale/<code>/LC_MESSAGES/shopagent.po``, read with Babel at run
time, so a fresh clone needs no compile step).

A template sentence is a msgid with ``{name}`` placeholders. :func:`translate` matches each
line, then each sentence, of an English template answer against the catalog's msgids; the
captured values (product names as the store wrote them, prices, order numbers, dates) are
copied into the translated msgstr unchanged, after translating a value that is itself a
catalog phrase (``msgctxt "phrase"``, e.g. "your original payment method"). Sentences the
catalog does not know stay as they are, so a missing translation degrades to English, never to
a wrong statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_ABBREVIATIONS = ("Co", "Inc", "Ltd", "Corp", "St", "Mr", "Mrs", "Ms", "Dr", "Jr", "Sr", "vs")
_NOT_AFTER = "".join(rf"(?<!\b{a})" for a in _ABBREVIATIONS)
"""No sentence ends after an abbreviation: "Inkwell & Co. Atlas Laptop Sleeve" is one name."""
_SENTENCE = re.compile(
    r"(?<=[.?!:])" + "".join(rf"(?<!\b{a}\.)" for a in _ABBREVIATIONS) + r"\s+(?=[A-Z(])"
)
_VALUE = rf"(?:(?!{_NOT_AFTER}[.?!]\s+[A-Z])[^\n])+?"
"""A placeholder's value: never spans a sentence boundary or a line."""
_NUMBERS = frozenset({"index", "count", "days", "quantity"})
_NUMBER = r"\d+(?:[.,]\d+)?"
"""Placeholders that are numbers ("{index}. {name}." must not match any two sentences)."""
_CJK_STOPS = ("。", "！", "？", "：")


@dataclass(frozen=True)
class _Entry:
    pattern: re.Pattern[str]
    target: str
    literal: int
    """Characters of the msgid outside placeholders (a longer literal is a better match)."""


@dataclass(frozen=True)
class _Catalog:
    entries: tuple[_Entry, ...]
    phrases: dict[str, str]
    prompts: dict[str, str]
    phrase_entries: tuple[_Entry, ...] = ()
    """Phrases with placeholders ("{category} items"), matched when no phrase is equal."""

    def phrase(self, value: str) -> str:
        """``value`` translated when it is a catalog phrase, else unchanged."""
        if value in self.phrases:
            return self.phrases[value]
        for entry in self.phrase_entries:
            m = entry.pattern.match(value)
            if m:
                return entry.target.format(**m.groupdict())
        return value


def _compile(msgid: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in _PLACEHOLDER.finditer(msgid):
        out.append(re.escape(msgid[pos : m.start()]))
        value = _NUMBER if m.group(1) in _NUMBERS else _VALUE
        out.append(f"(?P<{m.group(1)}>{value})")
        pos = m.end()
    out.append(re.escape(msgid[pos:]))
    return re.compile("".join(out) + r"\Z", re.S)


@lru_cache(maxsize=16)
def catalog(language: str) -> _Catalog | None:
    """The reply catalog of ``language`` (None: English, or no catalog for it)."""
    if not re.fullmatch(r"[a-z]{2,3}(?:_[A-Z]{2})?", language or "") or language == "en":
        return None
    path = resources.files("shopagent.agent").joinpath(
        f"locale/{language}/LC_MESSAGES/shopagent.po"
    )
    if not path.is_file():
        return None
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        po = read_po(handle)
    entries, phrases, prompts, phrase_entries = [], {}, {}, []
    for message in po:
        if not message.id or not message.string or message.fuzzy:
            continue
        msgid, msgstr = str(message.id), str(message.string)
        if message.context == "phrase" and _PLACEHOLDER.search(msgid):
            literal = len(_PLACEHOLDER.sub("", msgid))
            phrase_entries.append(_Entry(_compile(msgid), msgstr, literal))
            continue
        if message.context in ("phrase", "prompt"):
            (phrases if message.context == "phrase" else prompts)[msgid] = msgstr
            continue
        literal = len(_PLACEHOLDER.sub("", msgid))
        entries.append(_Entry(_compile(msgid), msgstr, literal))
    entries.sort(key=lambda e: -e.literal)
    phrase_entries.sort(key=lambda e: -e.literal)
    return _Catalog(tuple(entries), phrases, prompts, tuple(phrase_entries))


def phrasing(language: str | None) -> str:
    """Every word the catalog writes in ``language`` (its sentences without placeholders, and
    its ``msgctxt "prompt"`` entry ``phrasing``): the own-language counterpart of the English
    phrasing list the verifier accepts in an answer (agent/data/answers.yaml)."""
    cat = catalog(language or "")
    if cat is None:
        return ""
    texts = [_PLACEHOLDER.sub(" ", e.target) for e in (*cat.entries, *cat.phrase_entries)]
    return "\n".join([*texts, *cat.phrases.values(), cat.prompts.get("phrasing", "")])


def reply_instruction(language: str | None) -> str:
    """The line a capable model is told to answer in the shopper's language with ("" for
    English or a language without a catalog)."""
    cat = catalog(language or "")
    line = cat.prompts.get("reply-language", "") if cat else ""
    return f"\n\n{line}" if line else ""


def _translate_piece(text: str, cat: _Catalog) -> str | None:
    for entry in cat.entries:
        m = entry.pattern.match(text)
        if m:
            values = {k: cat.phrase(v) for k, v in m.groupdict().items()}
            return entry.target.format(**values)
    return None


def translate(text: str, language: str | None) -> str:
    """``text`` (an English template answer) in ``language`` as far as its catalog goes."""
    cat = catalog(language or "")
    if cat is None or not text:
        return text
    lines = []
    for line in text.split("\n"):
        whole = _translate_piece(line.strip(), cat) if line.strip() else None
        if whole is not None:
            lines.append(whole)
            continue
        out = ""
        for part in _SENTENCE.split(line):
            piece = _translate_piece(part, cat) or part
            out += piece if not out or out.endswith(_CJK_STOPS) else " " + piece
        lines.append(out)
    return "\n".join(lines)


_CURRENCY_AFTER = r"\s?(?:\$|€|US\$|usd|eur|d[oó]lares?|euros?|美元|元|块钱|块)"
_MONEY_BEFORE = re.compile(r"(?:US\$|＄|\$|€)\s?(\d[\d.,\s]*\d|\d)")
_MONEY_AFTER = re.compile(r"(?<![\d.,])(\d[\d.,\s]*\d|\d)" + _CURRENCY_AFTER + r"(?![a-z])", re.I)
_ZH_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")


def _amount(raw: str, language: str) -> str:
    from babel.numbers import NumberFormatError, parse_decimal

    try:
        value = parse_decimal(raw.replace(" ", "").replace("\u00a0", ""), locale=language)
    except (NumberFormatError, ValueError):
        return raw
    return f"{value:.2f}" if value != value.to_integral() else f"{value:.0f}"


@lru_cache(maxsize=16)
def _month_dates(language: str) -> re.Pattern[str] | None:
    """ "18 de noviembre de 2026" with the locale's month names (Babel's CLDR data)."""
    from babel.dates import get_month_names

    try:
        names = get_month_names("wide", locale=language)
    except Exception:  # an unknown locale: no written-out dates to read
        return None
    body = "|".join(re.escape(n) for n in names.values())
    return re.compile(rf"\b(\d{{1,2}})\s+(?:de\s+)?({body})(?:\s+(?:de\s+)?(\d{{4}}))?", re.I)


def delocalize(text: str, language: str | None) -> str:
    """A reply in ``language`` with its numbers, money and dates written the way the verifier
    reads them ("29,49 €" / "29.49美元" → "$29.49"; "2026年11月18日" / "18 de noviembre de
    2026" → "2026-11-18"); other text unchanged. Only for checking: the shopper sees the reply
    as written."""
    import unicodedata

    if not language or language == "en" or not text:
        return text
    out = unicodedata.normalize("NFKC", text)
    out = _ZH_DATE.sub(lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", out)
    months = _month_dates(language)
    if months is not None:
        from babel.dates import get_month_names

        index = {v.casefold(): k for k, v in get_month_names("wide", locale=language).items()}

        def iso(m: re.Match[str]) -> str:
            month = index[m[2].casefold()]
            return f"{m[3]}-{month:02d}-{int(m[1]):02d}" if m[3] else f"{month:02d}-{int(m[1]):02d}"

        out = months.sub(iso, out)
    out = _MONEY_BEFORE.sub(lambda m: "$" + _amount(m[1], language), out)
    return _MONEY_AFTER.sub(lambda m: "$" + _amount(m[1], language), out)
