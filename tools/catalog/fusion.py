"""Fusion of the dense and lexical candidate lists (confidence-weighted RRF or min-max)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shopagent.tools.catalog.snapshot import _Snapshot


class FusionMixin:
    """Fusion methods of :class:`~shopagent.tools.catalog.search.ChromaCatalog`."""

    def _weights(
        self,
        snap: _Snapshot,
        terms: list[str],
        dense: list[int],
        similarity: dict[int, float],
        lexical: list[int],
    ) -> tuple[float, float]:
        """(dense, lexical) weights from each side's confidence in this query.

        Lexical evidence is partial when no candidate contains every query word ("knife for
        chopping vegetables" finds boards with "chopping"); dense evidence is weak when even
        the best candidate is not similar ("gilet" is not a word MiniLM knows).
        """
        dense_weight = lexical_weight = 1.0
        if dense and max(similarity[i] for i in dense) < self.dense_confident:
            dense_weight = self.weak_dense_weight
        if lexical and terms:
            matched = snap.files.matched(terms, lexical)
            best = max(len(matched[i]) for i in lexical)
            if best < len(terms):
                lexical_weight = self.partial_lexical_weight
        return dense_weight, lexical_weight

    def _fuse(
        self,
        dense: tuple[list[int], dict[int, float]],
        lexical: tuple[list[int], dict[int, float]],
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> dict[int, float]:
        """One score per candidate: reciprocal rank fusion weighted by each side's confidence
        (:meth:`_weights`), or a weighted sum of each side's scores scaled to [0, 1] over its
        candidates (``fusion="minmax"``)."""
        fused: dict[int, float] = {}
        if self.fusion == "rrf":
            for (ranking, _), weight in zip((dense, lexical), weights, strict=True):
                for rank, i in enumerate(ranking, start=1):
                    fused[i] = fused.get(i, 0.0) + weight / (self.rrf_k + rank)
            return fused
        sides = ((dense, self.dense_weight), (lexical, 1.0 - self.dense_weight))
        for (ranking, scores), weight in sides:
            if not ranking:
                continue
            values = [scores[i] for i in ranking]
            high, low = max(values), min(values)
            span = high - low
            for i in ranking:
                scaled = (scores[i] - low) / span if span > 0 else 1.0
                fused[i] = fused.get(i, 0.0) + weight * scaled
        return fused
