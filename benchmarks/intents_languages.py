"""Intent routing in Spanish and Chinese: the trained intent model with a given embedder, with
and without the zh/es phrasings, on ``benchmarks/data/heldout_intents_i18n.yaml`` (never used
for training) and on the English held-out set.

    .venv/bin/python benchmarks/intents_languages.py [--embedders static,use-multilingual]

Trains in memory on the store at ``settings.database`` (``shopagent store demo`` first);
nothing under ``settings.home`` is written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import yaml
from shopagent.agent.understanding import training_data
from shopagent.agent.understanding.classifier import TrainedRouter
from shopagent.agent.understanding.entities import OrderNumberShapes
from shopagent.agent.understanding.training import fit
from shopagent.tools.embeddings import make_embedder
from shopagent.tools.store.db import StoreDB

from shopagent.settings import get_settings

DATA = Path(__file__).resolve().parent / "data"


def heldout() -> dict[str, list[tuple[str, str]]]:
    i18n = yaml.safe_load((DATA / "heldout_intents_i18n.yaml").read_text(encoding="utf-8"))
    en = yaml.safe_load((DATA / "heldout_intents.yaml").read_text(encoding="utf-8"))["intents"]
    sets = {"en": [(str(t), i) for i, ts in en.items() for t in ts]}
    for lang in ("es", "zh"):
        sets[lang] = [(str(t), i) for i, ts in i18n[lang].items() for t in ts]
    return sets


def english_only(db: StoreDB) -> list:
    """The training set from the English phrasings alone (the "before" row)."""
    return training_data.training_set(db, languages=False)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedders", default="static,use-multilingual")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = get_settings()
    db = StoreDB.open(settings.database)
    _, vocab = training_data.training_set(db)
    shapes = OrderNumberShapes.from_numbers(vocab.orders)
    sets = heldout()
    out: dict[str, dict] = {}
    for name in args.embedders.split(","):
        embedder = make_embedder(name)
        for label, train in (
            ("en phrasings", english_only(db)),
            ("+es/zh", training_data.training_set(db, languages=True)[0]),
        ):
            started = time.perf_counter()
            model = fit(
                train,
                embedder.embed,
                features="embed",
                embedder=embedder.identity,
                order_shapes=shapes,
            )
            router = TrainedRouter(model, embedder.embed)
            row = {"train_s": round(time.perf_counter() - started, 1), "examples": len(train)}
            for lang, pairs in sets.items():
                hits = sum(router.classify(t).intent == i for t, i in pairs)
                row[lang] = round(hits / len(pairs), 3)
            out[f"{name} [{label}]"] = row
            print(f"{name:18s} {label:13s} {json.dumps(row)}", flush=True)
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
