"""Types and tuning constants of catalog search (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

StockFilter = Callable[[list[str]], set[str]]
"""Live-stock hook: given SKUs, return the subset that is in stock."""

ProgressCallback = Callable[[int, int], None]

Sort = Literal["relevance", "price_asc", "price_desc"]
"""Result order: by relevance, or the most relevant hits by price."""

Method = Literal["hybrid", "dense", "bm25"]
"""Which retrievers a search fuses (the single ones exist for evaluation)."""

METADATA_VERSION = 3
"""Bump when the metadata layout changes: every product is then rewritten on the next index.
2: attribute values include every run of words and spell "grey" as "gray".
3: ``text_hash`` covers :func:`embedding_text` (re-embeds), no Chroma documents."""

CANDIDATES = 50
"""Candidates fetched from each retriever before fusion."""

RRF_K = 10
"""Reciprocal rank fusion constant (tuned on the dev split of benchmarks/search_relevance.py;
60, the textbook value, scored 0.880 there against 0.883)."""

Fusion = Literal["rrf", "minmax"]
FUSION: Fusion = "rrf"
"""How the two candidate lists are combined (see :meth:`ChromaCatalog._fuse`)."""

DENSE_WEIGHT = 0.5
"""Weight of the dense side in ``minmax`` fusion (BM25 gets the rest)."""

PARTIAL_LEXICAL_WEIGHT = 0.3
"""RRF weight of the BM25 list when none of its candidates contains every query word."""

UNREAD_LEXICAL_WEIGHT = 0.5
"""RRF weight (at most) of the BM25 list when a query rendered in the catalog's language by the
glossary keeps words of another language neither reads (issue 16): BM25 saw only part of the
request. Chosen on the dev split of benchmarks/search_relevance_languages.py: zh hybrid
nDCG@10 0.910 -> 0.919 there (0.3: 0.917, 0.7: 0.916), es unchanged (BENCHMARKS.md, issue 16,
after)."""

WEAK_DENSE_WEIGHT = 0.5
"""RRF weight of the dense list when its best cosine similarity is below DENSE_CONFIDENT."""

DENSE_CONFIDENT = 0.4
"""Cosine similarity of the best dense candidate from which the dense side is trusted.

The three confidence settings were tuned on the dev split of benchmarks/search_relevance.py
(every third query): hybrid nDCG@10 0.883 -> 0.892 there; see BENCHMARKS.md for the test
split."""

WEAK_SIMILARITY = 0.35
"""Below this cosine similarity a hit with no matching word is reported as a "weak match"."""

MIN_COVERAGE = 0.5
"""A BM25 candidate must contain at least this share of the query's words to be fused: one
incidental word of a longer query ("...you *wear* on your forehead") is not lexical evidence."""

FULL_MATCH_BONUS = 1.0
"""Added to the fused score (in units of the top RRF rank, ``1 / (RRF_K + 1)``) of a hybrid
candidate that contains every word of a query of two or more words: the whole request in a
product's text is stronger evidence than either ranking ("bath rug" is a bath mat tagged so,
not the area rugs both sides rank for "rug"). Tuned on the dev split of
benchmarks/search_relevance.py: hybrid nDCG@10 0.8914 -> 0.8944 for any value 0.5-4."""

SORT_POOL = 10
"""A price-sorted search orders this many of the most relevant hits (or ``k``, if larger)."""

_FETCH_PAGE = 1000
_VARIANT_AXES = frozenset({"attr_color", "attr_colour", "attr_size"})
"""Attributes that only ever match recorded values: a product that records no colour or size
has no such variant to sell, whatever its text says ("a red night-light mode")."""
_MAX_PHRASE_WORDS = 6
