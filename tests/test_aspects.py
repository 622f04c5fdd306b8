"""The features shoppers ask about are learned from the store's own names and descriptions
(agent/understanding/aspects.py), and fill the product-question phrasings of the training set."""

from __future__ import annotations

from factories import tiny_store
from shopagent.agent.understanding.aspects import feature_phrases, phrase_aspects, store_aspects
from shopagent.agent.understanding.training_data import generated_examples, store_vocabulary
from shopagent.tools.store.db import StoreDB


def test_a_feature_phrase_gives_its_head_and_last_two_words() -> None:
    assert phrase_aspects("70-day battery life") == ["life", "battery life"]
    assert phrase_aspects("a precise gooseneck spout") == ["spout", "gooseneck spout"]
    assert phrase_aspects("and") == []
    assert phrase_aspects("one two three four five six") == []  # a clause, not a feature


def test_features_come_from_name_tails_description_lists_and_possessives() -> None:
    phrases = feature_phrases(
        "Pixel Webcam with Privacy Shutter",
        "A sharp webcam. What you get: contoured shell, 70-day battery life and a clip. "
        "We like its low-light mode.",
    )
    assert {"Privacy Shutter", "contoured shell", "70-day battery life", "low-light mode"} <= {
        p.strip() for p in phrases
    }


def test_store_aspects_keep_attribute_names_and_shared_features() -> None:
    aspects = store_aspects(tiny_store().products)
    assert {"color", "size"} <= set(aspects)  # variant attribute names
    data = tiny_store()
    one = data.products[0].model_copy(update={"description": "What you get: a steel lid."})
    two = data.products[1].model_copy(update={"description": "What you get: a glass lid."})
    shared = store_aspects([one, two])
    assert "lid" in shared  # two products have a lid
    assert "steel lid" not in shared  # one product only: not learned


def test_product_questions_are_generated_about_the_stores_features() -> None:
    vocab = store_vocabulary(StoreDB.in_memory(tiny_store()))
    assert vocab.aspects
    about = [
        e
        for e in generated_examples(vocab)
        if e.intent == "product_question" and any(f" {a}" in e.text for a in vocab.aspects)
    ]
    assert len(about) >= 20
