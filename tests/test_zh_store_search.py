"""The Chinese demo store (`shopagent store demo --profile zh`) searched end to end: its
products are written in Chinese, indexed with the multilingual embedder (a real index, real
USE vectors), and found by Chinese, Spanish and English shoppers' words (issue 16)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import chromadb
from chromadb.config import Settings as ChromaSettings
from shopagent.tools.catalog import ChromaCatalog
from shopagent.tools.embeddings import make_embedder
from shopagent.tools.store.generate import generate_store
from shopagent.tools.store.profiles import apply_profile


@pytest.fixture(scope="module")
def zh_catalog(tmp_path_factory: pytest.TempPathFactory) -> ChromaCatalog:
    english = generate_store(
        seed=7, n_products=200, n_customers=5, n_orders=5, today=date(2026, 11, 20)
    )
    shop = apply_profile(english, "zh")
    path: Path = tmp_path_factory.mktemp("zh-store") / "chroma"
    client = chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    catalog = ChromaCatalog(client, "products", make_embedder("use-multilingual"))
    stats = catalog.index(shop.products)
    assert stats.added == len(shop.products) > 50
    return catalog


@pytest.mark.parametrize(
    ("query", "noun"),
    [
        ("保温杯", "保温杯"),
        ("咖啡磨豆机", "咖啡磨豆机"),
        ("切菜用的刀", "主厨刀"),
        ("跑步用的无线耳机", "真无线耳机"),
        ("法压壶", "法压壶"),
        ("molinillo de café", "咖啡磨豆机"),
        ("coffee grinder", "咖啡磨豆机"),
        ("French press", "法压壶"),
    ],
)
def test_the_chinese_store_finds_its_products_in_three_languages(
    zh_catalog: ChromaCatalog, query: str, noun: str
) -> None:
    hits = zh_catalog.search(query, k=3)
    assert hits and hits[0].name.endswith(noun), (query, [h.name for h in hits])


def test_chinese_words_are_the_chinese_catalogs_own(zh_catalog: ChromaCatalog) -> None:
    """BM25 alone reads a Chinese query over Chinese product texts (character bigrams); the
    cross-lingual glossary leaves the catalog's own words alone."""
    hits = zh_catalog.search("保温杯", k=3, method="bm25")
    assert hits and "保温杯" in hits[0].name
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in h.name) for h in hits)
