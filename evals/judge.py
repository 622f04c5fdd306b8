"""Optional LLM-as-judge: helpfulness and tone of a whole dialog, 1 (poor) to 5 (excellent).

The judge is any chat model spec (``--judge openai:gpt-4o-mini``). It is wrapped in a
cassette (:mod:`shopagent.evals.cassette`), so each verdict is cached by its full request: the same
transcript is never judged twice, and a ``--replay`` run judges from the cache only.
"""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from shopagent.evals.results import DialogRecord

JUDGE_SYSTEM = (
    "You grade a shopping assistant's conversation with a customer. Judge only the "
    "assistant. Reply with one JSON object and nothing else: "
    '{"helpfulness": <1-5>, "tone": <1-5>, "reason": "<one sentence>"}. '
    "helpfulness: did it answer what was asked, correctly and completely, or ask a fair "
    "clarifying question? tone: polite, clear, concise, on-brand for a shop."
)
_SCORE = re.compile(r'"?(helpfulness|tone)"?\s*[:=]\s*([1-5])')


def transcript(record: DialogRecord) -> str:
    """The dialog as plain text for the judge."""
    lines = []
    for turn in record.turns:
        lines.append(f"Customer: {turn.user}")
        lines.append(f"Assistant: {turn.answer or '(no answer: ' + str(turn.error) + ')'}")
    return "\n".join(lines)


def parse_verdict(text: str) -> dict[str, Any]:
    """Scores from the judge's reply: JSON first, then ``key: n`` patterns."""
    match = re.search(r"\{.*\}", text, re.S)
    if match:
        try:
            data = json.loads(match.group(0))
            scores = {k: int(data[k]) for k in ("helpfulness", "tone") if k in data}
            if len(scores) == 2 and all(1 <= v <= 5 for v in scores.values()):
                return {**scores, "reason": str(data.get("reason", ""))[:300]}
        except (ValueError, TypeError):
            pass
    found = {k: int(v) for k, v in _SCORE.findall(text)}
    if {"helpfulness", "tone"} <= set(found):
        return {"helpfulness": found["helpfulness"], "tone": found["tone"], "reason": ""}
    return {"error": f"unreadable verdict: {text[:200]!r}"}


async def judge_dialog(model: BaseChatModel, record: DialogRecord) -> dict[str, Any]:
    """The judge's verdict on one dialog (``{"error": ...}`` when it cannot be read)."""
    messages = [SystemMessage(JUDGE_SYSTEM), HumanMessage(transcript(record))]
    try:
        reply = await model.ainvoke(messages)
    except Exception as exc:  # the judge is optional: a failing judge never fails the run
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return parse_verdict(str(reply.content))
