"""The catalog search of a turn: one search-request parser for the agent and ``shopagent search``.

The shopper's words go through
:func:`~shopagent.agent.understanding.search_request.parse_search_request` with the store's
vocabulary (categories, brands, colours, materials; product-name phrases hidden from the
price and colour patterns first). A message that only changes a filter ("cheaper ones", "what
about in copper?", "under 50 bucks") refines the previous search
(:mod:`~shopagent.agent.understanding.refinement`). When the request names a product type the
store sells ("travel mugs"), only products of that type are shown.
"""

from __future__ import annotations

import re
from decimal import Decimal

from shopagent.agent.graph.handlers.turn import Turn, user_text
from shopagent.agent.understanding.refinement import (
    only_filters,
    parse_in_store,
    refine,
    refines,
    restored,
    saved,
    wants_more,
)
from shopagent.agent.understanding.search_request import RequestFilters, SearchRequest
from shopagent.agent.understanding.vocabulary import UNSPACED, ends_in_type, singular
from shopagent.tools import functions as fn
from shopagent.tools.results import ProductHit, SearchResult

from shopagent.errors import ShopAgentError

TYPE_POOL = 4
"""Candidates fetched per result shown when only products of one type may be shown."""


def parsed_request(turn: Turn, text: str | None = None) -> SearchRequest:
    """This message parsed with the store's vocabulary (no carry-over)."""
    return parse_in_store(user_text(turn) if text is None else text, turn.ctx.vocabulary)


def search_request(turn: Turn) -> SearchRequest:
    """The request of a product-search turn, refinements of the previous one applied."""
    text = user_text(turn)
    parsed = parsed_request(turn, text)
    slots = turn.slots
    f = parsed.filters
    if f.min_price is None and f.max_price is None and (slots.min_price or slots.max_price):
        f = f.model_copy(update={"min_price": slots.min_price, "max_price": slots.max_price})
        parsed = parsed._replace(filters=f)
    cheaper, pricier = wants_more(text)
    focus = turn.state.get("focus", [])
    shown = [Decimal(str(item["price"])) for item in focus if item.get("price") is not None]
    previous = restored(turn.state.get("search"))
    if previous is not None and (cheaper or pricier or only_filters(parsed, slots.variant)):
        return refine(parsed, previous, shown_prices=shown, cheaper=cheaper, pricier=pricier)
    return parsed


def is_refinement(turn: Turn) -> bool:
    """Whether this message refines the previous search rather than naming a new need."""
    return refines(
        user_text(turn), turn.state.get("search"), turn.ctx.vocabulary, turn.slots.variant
    )


async def run_search(turn: Turn, request: SearchRequest, k: int) -> list[ProductHit]:
    """Search with ``request``; products of another type than the one asked for are left out
    (the recorded tool result holds only what may be shown)."""
    vocab = turn.ctx.vocabulary
    wanted = vocab.product_type(request.query) if vocab else None
    if wanted and not _heads_query(wanted, request.query):
        wanted = None
    filters = request.filters
    if request.sort != "relevance":
        filters = _with_sort(filters, request.sort)
    args: dict[str, object] = {
        "query": request.query,
        "filters": request.filters.model_dump(mode="json", exclude_defaults=True),
    }
    if request.sort != "relevance":
        args["sort"] = request.sort
    if wanted:
        args["product_type"] = wanted
    pool = min(20, k * TYPE_POOL) if wanted else k

    def run() -> SearchResult:
        result = fn.search_products(turn.ctx.catalog, request.query, filters, pool)
        if wanted:
            hits = [h for h in result.hits if _is_type(turn, h, wanted)][:k]
            result = result.model_copy(update={"hits": hits})
        return result

    result = await turn.call("search_products", args, run)
    return result.hits if result else []


class _SortedFilters(RequestFilters):
    sort: str = "relevance"


def _with_sort(filters: RequestFilters, sort: str) -> RequestFilters:
    return _SortedFilters(**filters.model_dump(), sort=sort)


def _heads_query(product_type: str, query: str) -> bool:
    """The type is the head of the request: its last word is the query's last noun."""
    words = [singular(w) for w in re.findall(r"[^\W_]+(?:[-'][^\W_]+)*", query.casefold())]
    return bool(words) and words[-1] == product_type.split()[-1]


def _is_type(turn: Turn, hit: ProductHit, product_type: str) -> bool:
    if _contains(hit.name, product_type):
        return True
    try:
        product = turn.ctx.catalog.get(hit.product_id)
    except ShopAgentError:
        return True  # cannot tell: keep it
    return product is not None and any(_contains(tag, product_type) for tag in product.tags)


def _contains(text: str, phrase: str) -> bool:
    if UNSPACED.search(phrase):  # "耳机": a word of the text ends in it ("真无线耳机")
        return ends_in_type(text, phrase)
    words = [singular(w) for w in re.findall(r"[^\W_]+(?:[-'][^\W_]+)*", text.casefold())]
    return f" {phrase} " in f" {' '.join(words)} "


def remember(turn: Turn, request: SearchRequest) -> None:
    """Carry the request to the next turn (for refinements)."""
    turn.search = saved(request)
