"""Checks a model-written answer against the turn's facts before a shopper sees it."""

from __future__ import annotations

import re

from shopagent.agent.answering.facts import STATUS_WORDS, Facts

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MONEY = re.compile(r"[$€£]\s?\d|\d\s?(?:usd|dollars?)\b", re.I)
_WORD = re.compile(r"[a-z0-9]+")
_AVAILABILITY = re.compile(
    r"\b(?:in stock|out of stock|sold out|(?:un)?available|back in stock)\b", re.I
)
_STATUS = re.compile(
    r"\b(pending|processing|shipped|delivered|cancell?ed|returned|out for delivery)\b", re.I
)


def numbers(text: str) -> set[str]:
    """Every number in ``text``, normalised (``1,299.00`` -> ``1299``; ``34.90`` -> ``34.9``)."""
    out = set()
    for raw in _NUMBER.findall(text):
        value = raw.replace(",", "")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        out.add(value.lstrip("0") or "0")
    return out


def verify_answer(
    answer: str, facts: Facts, *, evidence: str, user_message: str, intent: str = ""
) -> list[str]:
    """Problems found (empty when the answer may be shown).

    ``evidence`` is every text the answer may draw numbers from (facts, deterministic answer).
    """
    problems: list[str] = []
    text = answer.strip()
    if not text:
        return ["empty answer"]
    if len(text) > 1500:
        problems.append("answer too long")
    if "FACTS" in text or "Rules:" in text:
        problems.append("leaks prompt text")
    if "?" in text or "？" in text:
        problems.append("asks a question (only the clarify step asks)")
    if _repeats(text):
        problems.append("repeats itself")
    if intent == "price_stock" and facts.quotes and not _states_price_or_stock(text, facts):
        problems.append("states neither price nor stock")
    unsupported = numbers(text) - numbers(evidence) - numbers(user_message)
    if unsupported:
        problems.append(f"numbers not in tool results: {sorted(unsupported)}")
    if facts.inventory_down and _MONEY.search(text):
        problems.append("states a price while live prices are unavailable")
    if facts.inventory_down and not facts.quotes and _AVAILABILITY.search(text):
        problems.append("states availability while live stock is unknown")
    problems += _stock_claims(text, facts)
    problems += _status_claims(text, facts)
    if (facts.products or facts.details) and not _names_a_product(text, facts):
        problems.append("does not name the product")
    if facts.orders and not any(o["number"] in text for o in facts.orders):
        problems.append("does not name the order")
    if (
        facts.policy
        and not (facts.products or facts.orders)
        and not numbers(text) & numbers(" ".join(s["text"] for s in facts.policy) + " " + evidence)
    ):
        problems.append("policy answer states no policy number")
    if len(_content(text) & _content(evidence)) < 2:
        problems.append("says too little of the facts")
    return problems


def _content(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.casefold()) if len(w) > 3}


def _stock_claims(text: str, facts: Facts) -> list[str]:
    if not facts.quotes:
        return []
    lowered = text.casefold()
    stocks = [int(q["stock"]) for q in facts.quotes.values()]
    says_out = bool(re.search(r"out of stock|sold out|not (?:in stock|available)", lowered))
    says_in = bool(re.search(r"(?<!out of )(?<!not )\bin stock\b", lowered))
    if says_out and min(stocks) > 0:
        return ["claims out of stock but every item is in stock"]
    if says_in and max(stocks) == 0:
        return ["claims in stock but nothing is"]
    return []


def _status_claims(text: str, facts: Facts) -> list[str]:
    if not facts.orders:
        return []
    actual = {o["status"] for o in facts.orders}
    said = {m.casefold().replace("canceled", "cancelled") for m in _STATUS.findall(text)}
    allowed = actual | {w for s in actual for w in STATUS_WORDS[s].split()}
    wrong = {s for s in said if s not in allowed}
    return [f"order status not in tool results: {sorted(wrong)}"] if wrong else []


def _names_a_product(text: str, facts: Facts) -> bool:
    """At least 80% of some product's name words (longer than two letters) are in the text."""
    said = set(_WORD.findall(text.casefold()))
    for item in [*facts.products, *facts.details]:
        words = [w for w in _WORD.findall(item["name"].casefold()) if len(w) > 2]
        if words and sum(w in said for w in words) >= max(1, -(-4 * len(words) // 5)):
            return True
    return False


def _repeats(text: str, n: int = 4, times: int = 3) -> bool:
    """Some run of ``n`` words occurs ``times`` or more: a generation loop."""
    words = _WORD.findall(text.casefold())
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return any(grams.count(g) >= times for g in set(grams))


def _states_price_or_stock(text: str, facts: Facts) -> bool:
    said = numbers(text)
    for quote in facts.quotes.values():
        if numbers(str(quote["price"])) & said or str(quote["stock"]) in said:
            return True
    return bool(re.search(r"\b(?:in stock|out of stock|sold out|available)\b", text, re.I))


_SENTENCE_END = re.compile(r"[.!?](?:[\"'”’)\]]*)(?=\s|$)|[。！？](?:[”’」』）]*)")
"""A sentence end: Latin punctuation before a space, or CJK punctuation (no space follows)."""


def complete_sentences(text: str) -> str:
    """``text`` up to its last sentence end (a model answer cut by the token budget loses its
    unfinished tail); empty when no sentence is complete."""
    text = _DANGLING_MARKERS.sub("", text.strip())
    ends = list(_SENTENCE_END.finditer(text))
    return _DANGLING_MARKERS.sub("", text[: ends[-1].end()].strip()) if ends else ""


_DANGLING_MARKERS = re.compile(r"(?:\n\s*(?:[-*\u2022]\s*)?(?:\d{1,2}[.)])?\s*)+$")
"""Trailing list markers with no item ("\n- 2."): the start of a list line the budget cut."""


def generic_problems(text: str) -> list[str]:
    """Checks every model answer must pass whatever its plan."""
    problems: list[str] = []
    if not text.strip():
        return ["empty answer"]
    if len(text) > 1500:
        problems.append("answer too long")
    if "FACTS" in text or "Rules:" in text or "{" in text:
        problems.append("leaks prompt text")
    if "?" in text or "？" in text:
        problems.append("asks a question (only the clarify step asks)")
    said = [" ".join(_WORD.findall(s.casefold())) for s in re.split(r"[.!?\n]+", text)]
    said = [s for s in said if len(s.split()) >= 3]
    if _repeats(text) or len(said) != len(set(said)):
        problems.append("repeats itself")
    return problems
