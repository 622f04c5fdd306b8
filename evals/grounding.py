"""Groundedness: the share of an answer's factual claims found in the turn's tool outputs.

A claim is each distinct number (money amounts, quantities, dates, percentages, order
numbers' digits) and each order-status word in the answer. Numbers are normalised the way
the answer verifier does (:func:`shopagent.agent.answering.verify.numbers`: ``1,299.00`` ->
``1299``). The
evidence is what the turn's tools returned (arguments and results), the fact lines the
composer saw (:func:`shopagent.agent.answering.facts.collect`) and the user's own message.
Numbered-list markers
("1. ") are layout, not claims. The sizes of the lists the tools returned are evidence too
("I found 3 options" over 3 hits).
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from shopagent.agent.answering.facts import collect
from shopagent.agent.answering.verify import numbers
from shopagent.evals.results import Grounding

_ENUMERATOR = re.compile(r"(?m)^\s*(?:[-*\u2022]\s*)?\d{1,2}[.)](?=\s|$)")
_STATUS = re.compile(
    r"(?<!\bbe )\b(pending|processing|shipped|delivered|cancell?ed|returned)\b", re.I
)
"""A status word claims a status, except as an action's infinitive ("can't be returned",
"to be cancelled"): that states what may happen, not what an order's status is."""
_MONEY = re.compile(
    r"[$€£]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s?(?:usd|eur|gbp|dollars?)\b", re.I
)
_WORD = re.compile(r"[a-z]+")


def evidence_text(
    user_message: str,
    tool_calls: list[dict[str, Any]],
    earlier: list[dict[str, Any]] | None = None,
) -> str:
    """Everything an answer's facts may come from, as one text (``earlier``: the tool calls
    of the conversation's earlier turns, which "the first one" and "it" refer back to)."""
    parts = [user_message]
    for call in [*(earlier or []), *tool_calls]:
        payload = {"name": call.get("name"), "args": call.get("args"), "result": call.get("result")}
        parts.append(json.dumps(payload, ensure_ascii=False, default=str))
        parts.append(" ".join(str(n) for n in list_sizes(call.get("result"))))
    with contextlib.suppress(KeyError, TypeError, ValueError):  # a result of an odd shape
        parts.extend(collect([*(earlier or []), *tool_calls]).lines(limit=50))  # type: ignore[arg-type]
    return "\n".join(parts)


def list_sizes(result: Any) -> list[int]:
    """The sizes of the lists a tool returned (search hits, orders, an order's items): "I found
    3 options" counts 3 hits, a fact of the result that its JSON never spells out."""
    if isinstance(result, dict):
        return [n for v in result.values() for n in list_sizes(v)]
    if isinstance(result, list):
        return [len(result), *(n for v in result for n in list_sizes(v))]
    return []


def _status(word: str) -> str:
    word = word.casefold()
    return "cancelled" if word == "canceled" else word


def claims(answer: str) -> list[str]:
    """The answer's factual claims: ``n:<number>`` and ``status:<word>`` items."""
    text = _ENUMERATOR.sub(" ", answer)
    found = [f"n:{n}" for n in sorted(numbers(text))]
    found += [f"status:{s}" for s in sorted({_status(w) for w in _STATUS.findall(text)})]
    return found


def ground(answer: str, evidence: str) -> Grounding:
    """How many of the answer's claims the evidence supports (unsupported ones listed)."""
    known_numbers = numbers(evidence)
    known_words = {_status(w) for w in _WORD.findall(evidence.casefold())}
    result = Grounding()
    for claim in claims(answer):
        kind, _, value = claim.partition(":")
        ok = value in known_numbers if kind == "n" else value in known_words
        result.claims += 1
        if ok:
            result.supported += 1
        else:
            result.unsupported.append(value)
    return result


def unsupported_money(answer: str, evidence: str) -> list[str]:
    """Money amounts in the answer whose value the evidence does not contain."""
    known = numbers(evidence)
    return [m for m in _MONEY.findall(answer) if not numbers(m) <= known]
