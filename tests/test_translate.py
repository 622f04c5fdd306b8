"""Cross-lingual query words (tools/catalog/translate.py): Spanish and Chinese shoppers find
an English catalog's products through the glossary; the catalog's own words stay as written."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import catalog_common
from catalog_common import _ids
from shopagent.tools.catalog import ChromaCatalog
from shopagent.tools.catalog.text import tokenize
from shopagent.tools.catalog.translate import glossaries, translate, unread

embedder = catalog_common.embedder
products = catalog_common.products
indexed = catalog_common.indexed
catalog = catalog_common.catalog

ENGLISH = set(tokenize("insulated water bottle sleeping bag wireless earbuds headlamp leather"))


def test_glossary_words_the_catalog_lacks_are_translated() -> None:
    assert translate("saco de dormir", ENGLISH) == "sleeping bag"
    assert translate("auriculares inalámbricos", ENGLISH) == "headphones earbuds wireless"
    assert translate("有没有无线耳机", ENGLISH) == "wireless headphones earbuds"
    # plural falls back to the singular; untranslatable words are kept
    assert translate("cuchillos Zwilling", ENGLISH) == "knife zwilling"


def test_the_catalogs_own_words_are_never_translated() -> None:
    assert translate("insulated water bottle", ENGLISH) is None
    assert translate("cutting board for a kitchen", ENGLISH | {"cutting", "board"}) is None
    # a Chinese catalog indexes its character bigrams: the query is searched as written
    chinese = set(tokenize("无线耳机 保温杯"))
    assert translate("无线耳机", chinese) is None
    # "pan" is an English word of this catalog, not Spanish bread
    assert translate("pan", ENGLISH | {"pan"}) is None


def test_glossaries_are_data_per_language() -> None:
    found = {g.language: g for g in glossaries()}
    assert {"es", "zh"} <= set(found)
    assert found["zh"].script == "cjk" and found["es"].script == "latin"


@pytest.mark.real_model
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("saco de dormir para invierno", "o-sleeping-bag"),
        ("睡袋", "o-sleeping-bag"),
        ("linterna frontal", "o-headlamp"),
        ("头灯", "o-headlamp"),
    ],
)
def test_a_foreign_query_finds_the_english_product_by_its_words(
    catalog: ChromaCatalog, query: str, expected: str
) -> None:
    hits = catalog.search(query, k=3, method="bm25")
    assert hits and hits[0].product_id == expected, (query, _ids(hits))


def test_a_rendering_that_keeps_foreign_words_is_unread() -> None:
    """What the glossary left in another language (a CJK character, a latin word the catalog
    lacks that no glossary knows) makes BM25's reading partial; the glossary's dropped
    function words ("para", "de") and the catalog's own words do not."""
    vocab = ENGLISH | {"rug", "boot", "webcam"}
    assert unread("rug yute", vocab)
    assert unread("切 尔 西 短 boots", vocab)
    assert not unread("insulated water bottle", vocab)
    assert not unread("webcam para de", vocab)
    # a word no glossary or lexicon knows stays as written
    assert translate("alfombra de zorbla", vocab) == "rug zorbla"
    # A Chinese catalog reads its own characters: only runs it does not index are left over.
    chinese = vocab | set(tokenize("保温杯"))
    assert not unread("保温杯 insulated", chinese)
    assert unread("保温杯 炉", chinese)


def test_an_unread_rendering_weighs_bm25_less(catalog: ChromaCatalog) -> None:
    """A partly rendered query fuses BM25 at UNREAD_LEXICAL_WEIGHT: the dense side's first
    candidate keeps more of the fused score than with a fully rendered query."""
    from shopagent.tools.catalog import config

    assert 0 < config.UNREAD_LEXICAL_WEIGHT < 1
    full = catalog.search("saco de dormir", k=3)
    partial = catalog.search("saco de dormir zorblax", k=3)
    assert full and partial and partial[0].product_id == full[0].product_id == "o-sleeping-bag"
    assert partial[0].score < full[0].score
