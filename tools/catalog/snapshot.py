"""The in-memory snapshot of the collection a search runs on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shopagent.tools.catalog.text import _stem
from shopagent.tools.store.schema import Product


@dataclass
class _Snapshot:
    """The whole collection in memory at one revision, with its BM25 index and the arrays the
    filters' necessary conditions are evaluated on."""

    revision: str
    ids: list[str]
    products: list[Product]
    tokens: list[set[str]]
    position: dict[str, int]
    bm25: Any
    vocab: dict[str, int]
    by_initial: dict[str, list[str]] = field(default_factory=dict)
    min_price: np.ndarray = field(default_factory=lambda: np.zeros(0))
    max_price: np.ndarray = field(default_factory=lambda: np.zeros(0))
    category: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    brand: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    attr_index: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    """``attr_<key>`` -> matchable value -> indexes of the products that have it."""
    attr_keys: dict[str, np.ndarray] = field(default_factory=dict)
    """``attr_<key>`` -> indexes of the products that record the attribute."""
    vectors: np.ndarray | None = None
    """Every product's embedding (for exact filtered dense search)."""


def _split_compound(token: str, vocab: Mapping[str, int]) -> list[str]:
    """Two indexed words (3+ letters each) that make up ``token``, longest head first."""
    for cut in range(len(token) - 3, 2, -1):
        head, tail = token[:cut], _stem(token[cut:])
        if head in vocab and tail in vocab:
            return [head, tail]
    return []
