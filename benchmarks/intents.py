"""Intent routing on the held-out set: the trained model (``shopagent train``) vs the kNN router.

    .venv/bin/python benchmarks/intents.py [--features embed+char] [--features embed]
        [--store-profile alder] [--json] [--errors]

Labels come from ``benchmarks/data/heldout_intents.yaml`` (written before training existed,
never used for training). The models are trained here, in memory, on the store at
``settings.database`` (run ``shopagent store demo`` first), or on a store profile generated
in memory (``--store-profile alder``), exactly as ``shopagent train`` trains them; nothing
under ``settings.home`` is written. A training sentence that happens to equal a held-out one
(the store's words in a generic template can make one) is left out of training here and
counted (``dropped_as_heldout``), so the figures measure unseen sentences only. Per router:
accuracy, macro F1, out-of-scope precision and recall, expected calibration error, the
training time and the grouped cross-validated accuracy on the training data.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import sys
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import yaml
from shopagent.agent.understanding.classifier import TrainedRouter
from shopagent.agent.understanding.entities import OrderNumberShapes
from shopagent.agent.understanding.intents import EmbeddingRouter, IntentRouter
from shopagent.agent.understanding.training import (
    expected_calibration_error,
    fit,
)
from shopagent.agent.understanding.training_data import training_set
from shopagent.tools.embeddings import get_embedder
from shopagent.tools.store.db import StoreDB

from shopagent.settings import get_settings

HELD_OUT = Path(__file__).resolve().parent / "data/heldout_intents.yaml"
OOS = "out_of_scope"


def load_heldout() -> list[tuple[str, str]]:
    data = yaml.safe_load(HELD_OUT.read_text(encoding="utf-8"))["intents"]
    return [(str(text), intent) for intent, texts in data.items() for text in texts]


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.casefold()))


def without_heldout(examples: list, pairs: list[tuple[str, str]]) -> tuple[list, int]:
    """``examples`` minus any whose words equal a held-out sentence's, and how many."""
    held = {_norm(t) for t, _ in pairs}
    kept = [e for e in examples if _norm(e.text) not in held]
    return kept, len(examples) - len(kept)


def open_store(profile: str | None) -> StoreDB:
    if not profile:
        return StoreDB.open(get_settings().database)
    from shopagent.tools.store.profile import generate_profile_store, load_profile

    return StoreDB.in_memory(generate_profile_store(load_profile(profile), today=date.today()))


def evaluate(router: IntentRouter, pairs: list[tuple[str, str]]) -> dict:
    from sklearn.metrics import f1_score

    gold, got, conf = [], [], []
    for text, intent in pairs:
        u = router.classify(text)
        gold.append(intent)
        got.append(u.intent)
        conf.append(u.confidence)
    gold_a, got_a = np.array(gold), np.array(got)
    predicted_oos = got_a == OOS
    true_oos = gold_a == OOS
    tp = int((predicted_oos & true_oos).sum())
    out = {
        "n": len(pairs),
        "accuracy": round(float((gold_a == got_a).mean()), 4),
        "macro_f1": round(float(f1_score(gold_a, got_a, average="macro")), 4),
        "oos_precision": round(tp / max(1, int(predicted_oos.sum())), 4),
        "oos_recall": round(tp / max(1, int(true_oos.sum())), 4),
        "errors": [(t, g, p) for (t, g), p in zip(pairs, got, strict=True) if g != p],
    }
    if isinstance(router, TrainedRouter):
        probs = router.model.predict_proba([t for t, _ in pairs], get_embedder().embed)
        out["ece"] = round(expected_calibration_error(probs, gold, router.model.labels), 4)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--features", action="append", choices=["embed", "embed+char"])
    parser.add_argument("--store-profile", help="train on this store profile (e.g. alder)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--errors", action="store_true", help="print the misrouted utterances")
    args = parser.parse_args()
    embedder = get_embedder()
    pairs = load_heldout()
    db = open_store(args.store_profile)
    examples, vocab = training_set(db)
    examples, dropped = without_heldout(examples, pairs)
    shapes = OrderNumberShapes.from_numbers(vocab.orders)
    results: dict[str, dict] = {"knn": evaluate(EmbeddingRouter(embedder.embed), pairs)}
    for features in args.features or ["embed+char"]:
        started = time.perf_counter()
        model = fit(
            examples,
            embedder.embed,
            features=features,
            embedder=embedder.identity,
            order_shapes=shapes,
        )
        seconds = time.perf_counter() - started
        result = evaluate(TrainedRouter(model, embedder.embed), pairs)
        result["train_seconds"] = round(seconds, 1)
        result["train_examples"] = len(examples)
        result["dropped_as_heldout"] = dropped
        result["cv_accuracy"] = model.report["cv"]["accuracy"]
        result["cv_ece"] = model.report["cv"]["ece"]
        result["oos_threshold"] = model.report["cv"]["oos_threshold"]
        result["model_bytes"] = len(pickle.dumps(model))
        results[f"trained[{features}]"] = result
    for name, r in results.items():
        extra = (
            f" ece={r['ece']:.3f} cv_acc={r['cv_accuracy']:.3f} train={r['train_seconds']}s"
            f" examples={r['train_examples']} dropped_as_heldout={r['dropped_as_heldout']}"
            f" size={r['model_bytes'] / 1e6:.2f}MB"
            f" oos_threshold={r['oos_threshold']}"
            if "ece" in r
            else ""
        )
        print(
            f"{name:22s} n={r['n']} acc={r['accuracy']:.3f} macroF1={r['macro_f1']:.3f} "
            f"oos_p={r['oos_precision']:.3f} oos_r={r['oos_recall']:.3f}{extra}"
        )
        if args.errors:
            for text, gold, got in r["errors"]:
                print(f"    {gold:>15s} -> {got:15s} {text}")
    if args.json:
        print(
            json.dumps(
                {k: {kk: vv for kk, vv in v.items() if kk != "errors"} for k, v in results.items()}
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
