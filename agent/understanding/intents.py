"""Intent routing behind one interface. The default is an embedding kNN router.

It embeds the exemplars of ``agent/data/intents.yaml`` once and classifies a message by
its nearest exemplars, so it works with no capable LLM at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources
from typing import Literal, Protocol, get_args

import numpy as np
import yaml
from pydantic import BaseModel

Intent = Literal[
    "product_search",
    "product_question",
    "price_stock",
    "compare",
    "return_policy",
    "return_request",
    "order_status",
    "cancel_order",
    "exchange_request",
    "modify_order",
    "change_address",
    "greeting",
    "human_handoff",
    "out_of_scope",
]
INTENTS: tuple[Intent, ...] = get_args(Intent)

EmbedFn = Callable[[list[str]], np.ndarray]

_CLAUSE = re.compile(r"\?|;|\band\b(?=\s+(?:can|could|is|are|do|does|what|how|will|when))", re.I)


class Understanding(BaseModel):
    """The router's verdict on one message."""

    intent: Intent
    confidence: float
    intents: list[Intent]
    """Every distinct intent found, primary first (multi-intent turns)."""
    spans: dict[str, str] = {}
    """The clause of the message each intent came from (multi-intent turns)."""


class IntentRouter(Protocol):
    """Classifies a user message into intents."""

    def classify(self, message: str) -> Understanding: ...


def load_exemplars() -> dict[str, list[str]]:
    """The packaged exemplars, by intent."""
    raw = (
        resources.files("shopagent.agent").joinpath("data/intents.yaml").read_text(encoding="utf-8")
    )
    data = yaml.safe_load(raw)["intents"]
    unknown = set(data) - set(INTENTS)
    if unknown:
        raise ValueError(f"intents.yaml names unknown intents: {sorted(unknown)}")
    return {intent: [str(x) for x in data[intent]] for intent in data}


class EmbeddingRouter:
    """k-nearest-exemplar intent classifier over sentence embeddings."""

    def __init__(
        self,
        embed: EmbedFn,
        exemplars: dict[str, list[str]] | None = None,
        *,
        k: int = 3,
        secondary_threshold: float = 0.55,
    ) -> None:
        self._embed = embed
        exemplars = exemplars or load_exemplars()
        self._labels = [intent for intent, texts in exemplars.items() for _ in texts]
        self._matrix = embed([text for texts in exemplars.values() for text in texts])
        self._k = k
        self._secondary = secondary_threshold

    def scores(self, message: str) -> dict[str, float]:
        """Mean of the top-k exemplar similarities, per intent."""
        sims = self._matrix @ self._embed([message])[0]
        per: dict[str, list[float]] = {}
        for label, sim in zip(self._labels, sims, strict=True):
            per.setdefault(label, []).append(float(sim))
        return {
            intent: float(np.mean(sorted(values, reverse=True)[: self._k]))
            for intent, values in per.items()
        }

    def classify(self, message: str) -> Understanding:
        """The best intent; for a message of several clauses, each clause's intent in order."""
        scores = self.scores(message)
        intent = max(scores, key=scores.__getitem__)
        clauses = [c.strip() for c in _CLAUSE.split(message) if c and len(c.split()) >= 3]
        if len(clauses) < 2:
            return Understanding(
                intent=intent, confidence=round(scores[intent], 4), intents=[intent]
            )
        found: list[tuple[str, float]] = []
        spans: dict[str, str] = {}
        for clause in clauses:
            part = self.scores(clause)
            best = max(part, key=part.__getitem__)
            if best not in {f for f, _ in found} and (not found or part[best] >= self._secondary):
                found.append((best, part[best]))
                spans[best] = clause
        return Understanding(
            intent=found[0][0],  # type: ignore[arg-type]
            confidence=round(found[0][1], 4),
            intents=[f for f, _ in found],  # type: ignore[misc]
            spans=spans,
        )
