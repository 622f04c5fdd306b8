"""``shopagent train``: fit the intent model on the store's own data, report, save.

The model is refit only when its training data changed: the hash covers every training
sentence and label (so the store's catalog, policy and orders, the packaged exemplars and
phrasings, and the logs), the feature set and the embedder.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from shopagent.agent.understanding.classifier import (
    FEATURES,
    REPORT_FILE,
    IntentModel,
    decide,
    load_model,
    model_path,
)
from shopagent.agent.understanding.entities import OrderNumberShapes
from shopagent.agent.understanding.intents import INTENTS, EmbedFn
from shopagent.agent.understanding.training_data import Example, training_set
from shopagent.tools.embeddings.multilingual import is_multilingual

TRAINING_VERSION = 1
DEFAULT_FEATURES = "embed+char"
C = 100.0
"""Inverse regularisation of the logistic regression (see BENCHMARKS.md, intent model)."""
CV_FOLDS = 5
OOS = "out_of_scope"
OOS_FALSE_ALARM_COST = 2


@dataclass
class TrainResult:
    model: IntentModel
    trained: bool
    """False when the saved model was already up to date (nothing refit)."""
    path: Path
    seconds: float
    size_bytes: int


def data_hash(examples: list[Example], features: str, embedder: str) -> str:
    rows = sorted((e.text, e.intent, e.group) for e in examples)
    blob = json.dumps([TRAINING_VERSION, features, embedder, C, rows], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _char_vectorizer() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2, lowercase=True
    )


def _classifier() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=2000, class_weight="balanced")


def _features(
    dense: np.ndarray, masked: list[str], features: str, vectorizer: Any, *, fit: bool
) -> Any:
    if features == "embed":
        return dense
    from scipy.sparse import csr_matrix, hstack

    chars = vectorizer.fit_transform(masked) if fit else vectorizer.transform(masked)
    return hstack([csr_matrix(dense), chars]).tocsr()


def fit(
    examples: list[Example],
    embed: EmbedFn,
    *,
    features: str = DEFAULT_FEATURES,
    embedder: str = "",
    order_shapes: OrderNumberShapes | None = None,
    cross_validate: bool = True,
) -> IntentModel:
    """Fit the model on ``examples``; with ``cross_validate`` its report carries grouped
    k-fold accuracy, a confusion matrix and calibration (expected calibration error)."""
    if features not in FEATURES:
        raise ValueError(f"unknown features {features!r} (one of {', '.join(FEATURES)})")
    shapes = order_shapes or OrderNumberShapes()
    from shopagent.agent.understanding.entities import mask_identifiers

    masked = [mask_identifiers(e.text, shapes) for e in examples]
    dense = np.asarray(embed(masked), dtype=np.float32)
    labels = np.array([e.intent for e in examples])
    report: dict[str, Any] = {
        "examples": len(examples),
        "by_source": dict(Counter(e.source for e in examples)),
        "by_intent": dict(Counter(e.intent for e in examples)),
        "features": features,
        "C": C,
    }
    if cross_validate:
        report["cv"] = _cross_validate(dense, masked, labels, [e.group for e in examples], features)
    vectorizer = _char_vectorizer() if features != "embed" else None
    classifier = _classifier().fit(_features(dense, masked, features, vectorizer, fit=True), labels)
    return IntentModel(
        classifier=classifier,
        labels=[str(c) for c in classifier.classes_],
        features=features,
        embedder=embedder,
        data_hash="",
        char_vectorizer=vectorizer,
        order_shapes=shapes,
        report=report,
        oos_threshold=report["cv"]["oos_threshold"] if cross_validate else 0.5,
    )


def _cross_validate(
    dense: np.ndarray, masked: list[str], labels: np.ndarray, groups: list[str], features: str
) -> dict[str, Any]:
    """Grouped k-fold: every sentence of one template is in the same fold."""
    from sklearn.metrics import accuracy_score, confusion_matrix
    from sklearn.model_selection import GroupKFold

    classes = sorted(set(labels))
    probs = np.zeros((len(labels), len(classes)))
    for train, test in GroupKFold(n_splits=CV_FOLDS).split(dense, labels, groups):
        vectorizer = _char_vectorizer() if features != "embed" else None
        x_train = _features(
            dense[train], [masked[i] for i in train], features, vectorizer, fit=True
        )
        x_test = _features(dense[test], [masked[i] for i in test], features, vectorizer, fit=False)
        clf = _classifier().fit(x_train, labels[train])
        fold = clf.predict_proba(x_test)
        for j, c in enumerate(clf.classes_):
            probs[test, classes.index(c)] = fold[:, j]
    threshold = oos_threshold(probs, labels, classes)
    predicted = np.array([decide(row, classes, threshold)[0] for row in probs])
    matrix = confusion_matrix(labels, predicted, labels=classes)
    oos = predicted == OOS
    return {
        "folds": CV_FOLDS,
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "ece": round(expected_calibration_error(probs, labels, classes), 4),
        "oos_threshold": threshold,
        "oos_precision": round(float((labels[oos] == OOS).mean()) if oos.any() else 1.0, 4),
        "oos_recall": round(float((predicted[labels == OOS] == OOS).mean()), 4),
        "labels": classes,
        "confusion": matrix.tolist(),
    }


def oos_threshold(probs: np.ndarray, labels: np.ndarray, classes: list[str]) -> float:
    """The probability ``out_of_scope`` needs to win, chosen on the cross-validated
    predictions to minimise ``OOS_FALSE_ALARM_COST * false alarms + misses``: refusing a
    shopper's real question costs more than answering a stray one. Several thresholds often
    cost the same on the training data; the middle of those is taken (the lowest one sits
    at the edge where one more unseen sentence becomes a false alarm)."""
    if OOS not in classes:
        return 1.0
    costs: dict[float, int] = {}
    for threshold in (round(0.05 * i, 2) for i in range(20)):  # 0.0, 0.05, ..., 0.95
        predicted = np.array([decide(row, classes, threshold)[0] for row in probs])
        said, meant = predicted == OOS, labels == OOS
        cost = OOS_FALSE_ALARM_COST * int((said & ~meant).sum()) + int((meant & ~said).sum())
        costs[threshold] = cost
    cheapest = min(costs.values())
    tied = [t for t, c in costs.items() if c == cheapest]
    return tied[(len(tied) - 1) // 2]


def expected_calibration_error(
    probs: np.ndarray, labels: Iterable[str], classes: list[str], bins: int = 10
) -> float:
    """Mean |confidence - accuracy| over confidence bins, weighted by bin size."""
    labels = np.asarray(list(labels))
    confidence = probs.max(axis=1)
    correct = np.array(classes)[probs.argmax(axis=1)] == labels
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            ece += inside.mean() * abs(confidence[inside].mean() - correct[inside].mean())
    return float(ece)


def train_store(
    db: Any,
    home: Path,
    embed: EmbedFn,
    embedder: str,
    *,
    logs: Iterable[Path] = (),
    features: str = DEFAULT_FEATURES,
    force: bool = False,
) -> TrainResult:
    """Train on the store in ``db`` (plus ``logs``) and save under ``home``; a saved model
    whose data hash matches is kept as it is unless ``force``."""
    started = time.perf_counter()
    # zh/es phrasings only for a multilingual embedder (tools/embeddings/multilingual.py)
    examples, vocab = training_set(db, list(logs), languages=is_multilingual(embedder))
    digest = data_hash(examples, features, embedder)
    path = model_path(home)
    existing = load_model(home)
    if existing is not None and existing.data_hash == digest and not force:
        return TrainResult(existing, False, path, 0.0, path.stat().st_size)
    shapes = OrderNumberShapes.from_numbers(vocab.orders)
    model = fit(examples, embed, features=features, embedder=embedder, order_shapes=shapes)
    model.data_hash = digest
    seconds = time.perf_counter() - started
    model.report.update(
        {
            "data_hash": digest,
            "embedder": embedder,
            "seconds": round(seconds, 1),
            "order_shapes": [s.signature for s in shapes.shapes],
            "vocabulary": {k: len(v) for k, v in vocab.fills().items()},
        }
    )
    import joblib

    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path, compress=3)
    model.report["size_bytes"] = path.stat().st_size
    (home / REPORT_FILE).write_text(json.dumps(model.report, indent=2), encoding="utf-8")
    return TrainResult(model, True, path, seconds, path.stat().st_size)


__all__ = [
    "DEFAULT_FEATURES",
    "INTENTS",
    "TrainResult",
    "data_hash",
    "expected_calibration_error",
    "fit",
    "train_store",
]
