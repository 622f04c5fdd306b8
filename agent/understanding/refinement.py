"""Search refinements that carry over turns: "cheaper ones", "what about in copper?", "under
50 bucks" after a list was shown keep the need and change one filter.

:func:`refine` is pure: the previous request (as saved with the thread, :func:`saved`), the
request parsed from this message, the prices just shown, and whether the message asks for
cheaper or pricier ones.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from shopagent.agent.understanding.search_request import (
    RequestFilters,
    SearchRequest,
    parse_search_request,
)
from shopagent.agent.understanding.slots import _patterns as _slot_patterns
from shopagent.agent.understanding.vocabulary import StoreVocabulary

_CENT = Decimal("0.01")


def saved(request: SearchRequest) -> dict[str, Any]:
    """The request as a JSON-safe dict, to carry in the thread's state."""
    return {
        "query": request.query,
        "filters": request.filters.model_dump(mode="json", exclude_defaults=True),
        "sort": request.sort,
    }


def restored(data: Mapping[str, Any] | None) -> SearchRequest | None:
    """The request :func:`saved` wrote, or None."""
    if not data or not isinstance(data, Mapping):
        return None
    try:
        filters = RequestFilters(**dict(data.get("filters") or {}))
    except (TypeError, ValueError):
        return None
    sort = data.get("sort") if data.get("sort") in ("price_asc", "price_desc") else "relevance"
    return SearchRequest(str(data.get("query") or ""), filters, sort)  # type: ignore[arg-type]


def parse_in_store(text: str, vocabulary: StoreVocabulary | None) -> SearchRequest:
    """``text`` parsed with the store's vocabulary: its categories, brands, colours and
    materials, and product-name phrases hidden from the price and colour patterns."""
    if vocabulary is None:
        return parse_search_request(text)
    hidden, restore = vocabulary.protect(text)
    parsed = parse_search_request(hidden, **vocabulary.search_kwargs())
    return parsed._replace(query=restore(parsed.query))


def refines(
    text: str,
    previous: Mapping[str, Any] | None,
    vocabulary: StoreVocabulary | None,
    variant: str | None = None,
    *,
    names: bool = True,
) -> bool:
    """Whether ``text`` refines the previous search (saved in the thread) instead of naming
    a new need: it asks for cheaper or pricier ones, or states only filters ("under 50
    bucks", "what about in copper?", "in stock only"). ``names`` False: a brand or category
    alone ("the Brewster") does not count (it may name one of the products shown)."""
    if restored(previous) is None:
        return False
    cheaper, pricier = wants_more(text)
    parsed = parse_in_store(text, vocabulary)
    return cheaper or pricier or only_filters(parsed, variant, names=names)


def only_filters(request: SearchRequest, variant: str | None = None, *, names: bool = True) -> bool:
    """At least one filter, and no product words beyond the filters and refinement words."""
    f = request.filters
    has_filter = bool(
        f.min_price is not None
        or f.max_price is not None
        or f.attributes
        or (names and (f.brand or f.category))
        or f.in_stock_only
        or f.exclude_terms
        or request.sort != "relevance"
        or variant
    )
    return has_filter and only_refines(request, [variant] if variant else [])


def only_refines(request: SearchRequest, words: Iterable[str] = ()) -> bool:
    """Whether the query is empty once the words the filters already hold (a colour, a
    material...) and refinement words ("ones", "instead") are taken out."""
    covered = set(_refinement_words())
    for value in (*request.filters.attributes.values(), *words):
        covered.update(re.findall(r"[^\W_]+", str(value).casefold()))
    left = [w for w in re.findall(r"[^\W_]+", request.query.casefold()) if w not in covered]
    return not left


def refine(
    request: SearchRequest,
    previous: SearchRequest | None,
    *,
    shown_prices: Iterable[Decimal] = (),
    cheaper: bool = False,
    pricier: bool = False,
) -> SearchRequest:
    """``request`` over ``previous``: the previous need (query, category, brand) with this
    message's filters on top. "cheaper ones" searches below the lowest price just shown,
    "pricier ones" above the highest; a new colour replaces the old one."""
    if previous is None:
        return _bounded(request, shown_prices, cheaper=cheaper, pricier=pricier)
    old, new = previous.filters, request.filters
    low = new.min_price if new.min_price is not None else old.min_price
    high = new.max_price if new.max_price is not None else old.max_price
    if new.min_price is not None and new.max_price is None and high is not None:
        high = None if high <= new.min_price else high
    if new.max_price is not None and new.min_price is None and low is not None:
        low = None if low >= new.max_price else low
    merged = RequestFilters(
        min_price=low,
        max_price=high,
        category=new.category or old.category,
        brand=new.brand or old.brand,
        attributes={**old.attributes, **new.attributes},
        in_stock_only=new.in_stock_only or old.in_stock_only,
        exclude_terms=list(dict.fromkeys([*old.exclude_terms, *new.exclude_terms])),
    )
    sort = request.sort if request.sort != "relevance" else previous.sort
    out = SearchRequest(previous.query, merged, sort)
    return _bounded(out, shown_prices, cheaper=cheaper, pricier=pricier)


def _bounded(
    request: SearchRequest, shown: Iterable[Decimal], *, cheaper: bool, pricier: bool
) -> SearchRequest:
    prices = sorted(Decimal(str(p)) for p in shown)
    if not prices or not (cheaper or pricier):
        return request
    low, high = request.filters.min_price, request.filters.max_price
    if cheaper:  # below everything shown; an earlier lower bound no longer holds
        low, high = None, max(prices[0] - _CENT, _CENT)
    else:
        low, high = prices[-1] + _CENT, None
    f = request.filters.model_copy(update={"min_price": low, "max_price": high})
    return SearchRequest(request.query, f, request.sort)


def _refinement_words() -> list[str]:
    raw = _slot_patterns()["raw"]
    return str(raw.get("refinement_words", "")).casefold().split()


def wants_more(text: str) -> tuple[bool, bool]:
    """(cheaper, pricier): the message asks for other products below or above the ones
    shown ("show me cheaper ones", "anything less expensive?", "something nicer")."""
    p = _slot_patterns()["raw"]
    low = _phrases(tuple(p.get("more_cheaper", []))).search(text) is not None
    high = _phrases(tuple(p.get("more_pricier", []))).search(text) is not None
    return low and not high, high and not low


@functools.lru_cache(maxsize=16)
def _phrases(items: tuple[str, ...]) -> re.Pattern[str]:
    body = "|".join(re.escape(str(p)) for p in sorted(items, key=len, reverse=True))
    return re.compile(rf"\b(?:{body})\b", re.I) if body else re.compile(r"(?!)")
