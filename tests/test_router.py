"""The default embedding router, with the real bundled MiniLM."""

from pathlib import Path

import pytest
import yaml
from shopagent.agent.understanding.intents import INTENTS, EmbeddingRouter, load_exemplars
from shopagent.tools.embeddings import get_embedder

HELD_OUT = Path(__file__).resolve().parents[1] / "benchmarks/data/routing_utterances.yaml"


@pytest.fixture(scope="module")
def router() -> EmbeddingRouter:
    return EmbeddingRouter(get_embedder().embed)


def test_exemplars_cover_every_intent() -> None:
    exemplars = load_exemplars()
    assert set(exemplars) == set(INTENTS)
    assert all(len(texts) >= 5 for texts in exemplars.values())


def test_held_out_accuracy(router: EmbeddingRouter) -> None:
    labeled = yaml.safe_load(HELD_OUT.read_text())
    pairs = [(text, intent) for intent, texts in labeled.items() for text in texts]
    got = [(text, intent, router.classify(text).intent) for text, intent in pairs]
    wrong = [row for row in got if row[1] != row[2]]
    accuracy = 1 - len(wrong) / len(pairs)
    assert accuracy >= 0.8, f"accuracy {accuracy:.2f}; misrouted: {wrong}"


def test_multi_intent_clauses(router: EmbeddingRouter) -> None:
    u = router.classify("is the rain jacket in stock and can I return it if it doesn't fit?")
    assert "return_policy" in u.intents
    assert u.intents[0] in {"price_stock", "return_policy"}
    assert len(u.intents) >= 2


def test_single_intent_stays_single(router: EmbeddingRouter) -> None:
    assert router.classify("where is my order").intents == ["order_status"]
