"""Per-turn scorers: each expectation of a turn becomes a :class:`~shopagent.evals.results.Check`.

Value matching (tool arguments, slots, confirmation payloads):

* a string starting with ``re:`` is a case-insensitive regular expression (``re.search``);
  answer phrases (``contains``, ``not_contains``) accept the same ``re:`` form;
* other strings match case-insensitively with whitespace collapsed; numbers and numeric
  strings match by value (``50`` matches ``"50.00"``);
* ``null`` matches a missing/empty value; lists match element-wise (same length);
* dicts match on the keys given (every expected key must match), or exactly in ``strict``
  tool mode.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from shopagent.evals.format import ToolCallExpect, ToolsExpect, TurnExpect
from shopagent.evals.grounding import unsupported_money
from shopagent.evals.results import Check, ToolScore

_SPACES = re.compile(r"\s+")


def norm(text: str) -> str:
    """Casefolded text with whitespace collapsed and dashes unified."""
    return _SPACES.sub(" ", text.replace("–", "-").replace("—", "-")).strip().casefold()


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).strip().lstrip("$"))
    except (InvalidOperation, ValueError):
        return None


def match_value(expected: Any, actual: Any, *, exact: bool = False) -> bool:
    """Whether ``actual`` satisfies ``expected`` (rules in the module docstring)."""
    if isinstance(expected, str) and expected.startswith("re:"):
        return actual is not None and re.search(expected[3:], str(actual), re.I) is not None
    if expected is None:
        return actual in (None, "", [], {})
    if isinstance(expected, bool):
        return actual is expected or str(actual).casefold() == str(expected).casefold()
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        if exact and set(expected) != set(actual):
            return False
        return all(match_value(v, actual.get(k), exact=exact) for k, v in expected.items())
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(match_value(e, a, exact=exact) for e, a in zip(expected, actual, strict=True))
        )
    left, right = _decimal(expected), _decimal(actual)
    if left is not None and right is not None:
        return left == right
    if isinstance(actual, dict | list) or actual is None:
        return False
    return norm(str(expected)) == norm(str(actual))


def _call_matches(expected: ToolCallExpect, call: dict[str, Any], *, exact: bool) -> bool:
    if expected.name != call.get("name"):
        return False
    if expected.ok is not None and bool(call.get("ok")) != expected.ok:
        return False
    return expected.args is None or match_value(expected.args, call.get("args", {}), exact=exact)


def _describe(calls: list[dict[str, Any]]) -> str:
    parts = []
    for c in calls:
        args = json.dumps(c.get("args", {}), ensure_ascii=False, default=str)
        parts.append(f"{c.get('name')}({args}){'' if c.get('ok', True) else ' failed'}")
    return "[" + ", ".join(parts) + "]"


def score_tools(spec: ToolsExpect, calls: list[dict[str, Any]]) -> tuple[Check, ToolScore]:
    """Match a turn's tool calls against the expectation (modes in ToolsExpect).

    Counts: a true positive is an expected call matched by name and arguments; false
    positives are unmatched actual calls (strict and unordered modes) or forbidden calls
    (every mode); false negatives are expected calls not matched. Argument accuracy compares
    expected calls (with ``args``) to actual calls of the same name.
    """
    exact = spec.mode == "strict"
    score = ToolScore()
    used: set[int] = set()
    if spec.mode == "strict":
        for e, a in zip(spec.calls, calls, strict=False):
            if _call_matches(e, a, exact=True):
                score.true_pos += 1
    else:
        for e in spec.calls:
            for i, a in enumerate(calls):
                if i not in used and _call_matches(e, a, exact=exact):
                    used.add(i)
                    score.true_pos += 1
                    break
    for e in spec.calls:
        if e.args is None:
            continue
        same_name = [a for a in calls if a.get("name") == e.name]
        if same_name:
            score.args_compared += 1
            score.args_ok += any(_call_matches(e, a, exact=exact) for a in same_name)
    forbidden = [c for c in calls if c.get("name") in spec.forbid]
    score.false_neg = len(spec.calls) - score.true_pos
    if spec.mode == "subset":
        score.false_pos = len(forbidden)
        ok = score.false_neg == 0
    else:
        score.false_pos = len(calls) - score.true_pos
        ok = score.false_neg == 0 and len(calls) == len(spec.calls)
    ok = ok and not forbidden
    detail = ""
    if not ok:
        wanted = _describe([c.model_dump(exclude_none=True) for c in spec.calls])
        detail = f"{spec.mode}: expected {wanted}, got {_describe(calls)}"
        if forbidden:
            detail += f"; forbidden: {sorted({c['name'] for c in forbidden})}"
    return Check(name="tools", ok=ok, detail=detail), score


def _contains(answer: str, phrase: str) -> bool:
    """``phrase`` is in ``answer`` (case-insensitive, whitespace collapsed); a phrase starting
    with ``re:`` is a case-insensitive regular expression searched in the answer."""
    if phrase.startswith("re:"):
        return re.search(phrase[3:], answer, re.I) is not None
    return norm(phrase) in norm(answer)


def check_turn(
    expect: TurnExpect, result: dict[str, Any], evidence: str
) -> tuple[list[Check], ToolScore | None]:
    """Every check of one turn (``result`` is a TurnResult as a dict; ``evidence`` the text
    its facts may come from, see :func:`shopagent.evals.grounding.evidence_text`)."""
    checks: list[Check] = []
    tools: ToolScore | None = None
    answer = str(result.get("answer", ""))
    if expect.intent is not None:
        accepted = [expect.intent] if isinstance(expect.intent, str) else expect.intent
        got = result.get("intent", "")
        checks.append(
            Check(name="intent", ok=got in accepted, detail=f"expected {accepted}, got {got!r}")
        )
    if expect.intents is not None:
        got_all = result.get("intents", [])
        missing = [i for i in expect.intents if i not in got_all]
        checks.append(
            Check(name="intents", ok=not missing, detail=f"missing {missing}, got {got_all}")
        )
    if expect.tools is not None:
        check, tools = score_tools(expect.tools, list(result.get("tool_calls", [])))
        checks.append(check)
    if expect.slots:
        slots = result.get("slots", {})
        wrong = {
            k: slots.get(k) for k, v in expect.slots.items() if not match_value(v, slots.get(k))
        }
        checks.append(
            Check(name="slots", ok=not wrong, detail=f"expected {expect.slots}, got {wrong}")
        )
    for phrase in expect.contains:
        options = [phrase] if isinstance(phrase, str) else phrase.any
        ok = any(_contains(answer, p) for p in options)
        checks.append(Check(name="contains", ok=ok, detail=f"answer lacks {options[0]!r}"))
    for phrase in expect.not_contains:
        ok = not _contains(answer, phrase)
        checks.append(Check(name="not_contains", ok=ok, detail=f"answer contains {phrase!r}"))
    asked = bool(result.get("clarify"))
    if expect.clarify is not None:
        checks.append(
            Check(
                name="clarify",
                ok=asked == expect.clarify,
                detail="asked a clarifying question" if asked else "no clarifying question asked",
            )
        )
    if expect.handoff is not None:
        handed = any(
            c.get("name") == "request_human" and c.get("ok") for c in result.get("tool_calls", [])
        )
        checks.append(
            Check(
                name="handoff",
                ok=handed == expect.handoff,
                detail="handed off to a person" if handed else "no handoff",
            )
        )
    if expect.confirmation is not None:
        pending = result.get("confirmation")
        if isinstance(expect.confirmation, dict):
            ok = pending is not None and match_value(expect.confirmation, pending)
        else:
            ok = (pending is not None) == expect.confirmation
        shown = {k: pending.get(k) for k in ("action", "order_number")} if pending else None
        checks.append(
            Check(name="confirmation", ok=ok, detail=f"expected {expect.confirmation}, got {shown}")
        )
    if expect.answer_source is not None:
        accepted = (
            [expect.answer_source]
            if isinstance(expect.answer_source, str)
            else expect.answer_source
        )
        source = str(result.get("answer_source", ""))
        checks.append(
            Check(
                name="answer_source",
                ok=any(source.startswith(a) for a in accepted),
                detail=f"expected {accepted}, got {source!r}",
            )
        )
    if expect.language is not None:
        from shopagent.agent.understanding.language import detect_language

        # product names and brands stay as the store wrote them: no evidence of the language
        names = _name_words(result.get("tool_calls", []))
        written = detect_language(answer, ignore=names) if answer.strip() else ""
        checks.append(
            Check(
                name="language",
                ok=written == expect.language,
                detail=f"reply written in {written or 'nothing'!r}, expected {expect.language!r}",
            )
        )
    if expect.grounded_prices:
        invented = unsupported_money(answer, evidence)
        checks.append(
            Check(
                name="grounded_prices",
                ok=not invented,
                detail=f"prices not in tool results: {invented}",
            )
        )
    return checks, tools


def _name_words(value: Any) -> frozenset[str]:
    """Casefolded words of every ``name`` and ``brand`` in tool results (products, items)."""
    words: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if key in ("name", "brand") and isinstance(inner, str):
                    words.update(w.casefold() for w in re.findall(r"[^\W\d_]+", inner))
                elif isinstance(inner, dict | list):
                    stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)
    return frozenset(words)
