"""The trained intent model (``shopagent train``) behind the router interface.

:class:`IntentModel` is a calibrated multinomial logistic regression over the bundled
MiniLM sentence embeddings (plus character n-grams when ``features`` says so), with
``out_of_scope`` as one of its classes. Order numbers and emails are masked to words before
featurising, so a number shape the model never saw reads like any other order number.

:class:`TrainedRouter` classifies messages with it (one verdict per clause for multi-intent
turns, like the kNN router). :func:`load_router` returns it when a model trained with the
same embedder exists under ``settings.home``, else the exemplar kNN router (the fallback).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from shopagent.agent.understanding.entities import OrderNumberShapes, mask_identifiers
from shopagent.agent.understanding.intents import (
    _CLAUSE,
    EmbeddingRouter,
    EmbedFn,
    IntentRouter,
    Understanding,
)

log = logging.getLogger("shopagent.intent_model")

MODEL_FILE = "intent_model.joblib"
REPORT_FILE = "intent_model.report.json"
FEATURES = ("embed", "embed+char")


def model_path(home: Path) -> Path:
    """Where the trained model lives: beside the catalog index, under ``settings.home``."""
    return Path(home) / MODEL_FILE


@dataclass
class IntentModel:
    """A fitted classifier and what it needs to featurise a message the same way."""

    classifier: Any
    labels: list[str]
    features: str
    embedder: str
    """Identity of the embedder the model was trained with (must match at load time)."""
    data_hash: str
    char_vectorizer: Any = None
    order_shapes: OrderNumberShapes = field(default_factory=OrderNumberShapes)
    report: dict[str, Any] = field(default_factory=dict)
    oos_threshold: float = 0.5
    """``out_of_scope`` wins only at this probability or above (chosen by cross-validation
    for precision); below it the best in-scope intent is taken."""

    def featurize(self, texts: list[str], embed: EmbedFn) -> Any:
        masked = [mask_identifiers(t, self.order_shapes) for t in texts]
        dense = np.asarray(embed(masked), dtype=np.float32)
        if self.features == "embed" or self.char_vectorizer is None:
            return dense
        from scipy.sparse import csr_matrix, hstack

        return hstack([csr_matrix(dense), self.char_vectorizer.transform(masked)]).tocsr()

    def predict_proba(self, texts: list[str], embed: EmbedFn) -> np.ndarray:
        """Calibrated probabilities, one row per text, columns in :attr:`labels` order."""
        return self.classifier.predict_proba(self.featurize(texts, embed))


def decide(row: np.ndarray, labels: list[str], oos_threshold: float) -> tuple[str, float]:
    """The intent and its probability for one row of probabilities: the most probable one,
    except that ``out_of_scope`` under ``oos_threshold`` yields to the runner-up."""
    order = np.argsort(row)[::-1]
    best = int(order[0])
    if labels[best] == "out_of_scope" and row[best] < oos_threshold and len(order) > 1:
        best = int(order[1])
    return labels[best], float(row[best])


class TrainedRouter:
    """:class:`IntentRouter` over a trained :class:`IntentModel`."""

    def __init__(
        self, model: IntentModel, embed: EmbedFn, *, secondary_threshold: float = 0.6
    ) -> None:
        self.model = model
        self._embed = embed
        self._secondary = secondary_threshold

    def scores(self, message: str) -> dict[str, float]:
        probs = self.model.predict_proba([message], self._embed)[0]
        return {label: float(p) for label, p in zip(self.model.labels, probs, strict=True)}

    def classify(self, message: str) -> Understanding:
        clauses = [c.strip() for c in _CLAUSE.split(message) if c and len(c.split()) >= 3]
        texts = [message, *clauses] if len(clauses) >= 2 else [message]
        probs = self.model.predict_proba(texts, self._embed)
        labels, threshold = self.model.labels, self.model.oos_threshold
        if len(texts) == 1:
            intent, p = decide(probs[0], labels, threshold)
            return Understanding(
                intent=intent,  # type: ignore[arg-type]
                confidence=round(p, 4),
                intents=[intent],  # type: ignore[list-item]
            )
        found: list[tuple[str, float]] = []
        spans: dict[str, str] = {}
        for clause, row in zip(clauses, probs[1:], strict=True):
            label, p = decide(row, labels, threshold)
            if label not in {f for f, _ in found} and (not found or p >= self._secondary):
                found.append((label, p))
                spans[label] = clause
        return Understanding(
            intent=found[0][0],  # type: ignore[arg-type]
            confidence=round(found[0][1], 4),
            intents=[f for f, _ in found],  # type: ignore[misc]
            spans=spans,
        )


def load_model(home: Path) -> IntentModel | None:
    """The trained model under ``home``, or None when there is none (or it cannot load)."""
    path = model_path(home)
    if not path.exists():
        return None
    import joblib

    try:
        model = joblib.load(path)
    except Exception as exc:  # a corrupt or foreign file must not stop the agent
        log.warning("ignoring intent model %s: %s", path, exc)
        return None
    return model if isinstance(model, IntentModel) else None


def load_router(home: Path, embed: EmbedFn, embedder_identity: str) -> IntentRouter:
    """The trained router when ``home`` has a model made with this embedder, else the
    exemplar kNN router."""
    model = load_model(home)
    if model is not None and model.embedder == embedder_identity:
        return TrainedRouter(model, embed)
    if model is not None:
        log.warning(
            "intent model was trained with %s, not %s: using the exemplar router "
            "(run `shopagent train`)",
            model.embedder,
            embedder_identity,
        )
    return EmbeddingRouter(embed)
