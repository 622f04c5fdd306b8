"""The turn's language: the real lingua detector over the served languages, sticky on
one-word turns, followed when the shopper switches with a sentence."""

from __future__ import annotations

import graph_common
import pytest
from factories import make_context
from graph_common import Chat
from shopagent.agent.understanding.language import detect_language, language_table

db = graph_common.db


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("有保温杯吗？", "zh"),
        ("200元以下的咖啡研磨机", "zh"),
        ("auriculares inalámbricos por menos de 50", "es"),
        ("¿dónde está mi pedido?", "es"),
        ("where is my order?", "en"),
        ("show me travel mugs", "en"),
    ],
)
def test_detects_served_languages(text: str, want: str) -> None:
    assert detect_language(text) == want


def test_short_turns_keep_the_thread_language() -> None:
    assert detect_language("no", "es") == "es"
    assert detect_language("ok", "zh") == "zh"
    assert detect_language("42", "es") == "es"
    assert detect_language("", "zh") == "zh"


def test_a_sentence_switches_language() -> None:
    assert detect_language("quiero devolver mi pedido", "en") == "es"
    assert detect_language("do you have kettles", "zh") == "en"
    assert detect_language("我想退货", "es") == "zh"


def test_unknown_previous_falls_back_to_default() -> None:
    assert detect_language("ok", "xx") == language_table().default


async def test_thread_state_carries_language_and_switches(db, scripted_model) -> None:
    intents = {"hola, busco una tetera": "greeting", "no": "greeting", "hello again": "greeting"}
    chat = Chat(make_context(db, scripted_model([]), intents))
    assert (await chat.say("hola, busco una tetera"))["language"] == "es"
    assert (await chat.say("no"))["language"] == "es"
    assert (await chat.say("hello again"))["language"] == "en"


def test_the_stores_own_words_are_no_evidence_of_the_language() -> None:
    names = frozenset({"strategy", "board", "game", "kettle", "puzzlewood"})
    assert detect_language("Busco un strategy board game", None, names) == "es"
    assert detect_language("Quiero un kettle", None, names) == "es"
    assert detect_language("Do you have a strategy board game?", None, names) == "en"
