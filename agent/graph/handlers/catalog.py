"""Handlers of the catalog intents: search, price and stock, product questions, compare, policy."""

from __future__ import annotations

from typing import Any

from shopagent.agent.graph.handlers.order_items import order_items_question
from shopagent.agent.graph.handlers.search import (
    is_refinement,
    parsed_request,
    remember,
    run_search,
    search_request,
)
from shopagent.agent.graph.handlers.turn import Turn, user_text
from shopagent.agent.graph.state import FocusItem, last_assistant_text
from shopagent.agent.understanding.action_slots import without_condition, without_policy_terms
from shopagent.agent.understanding.clarification import choose_question
from shopagent.agent.understanding.policy_mentions import policy_category_mentioned, policy_names
from shopagent.agent.understanding.slots import Slots
from shopagent.agent.understanding.vocabulary import singular
from shopagent.tools import functions as fn
from shopagent.tools.results import ProductHit, SearchFilters, VerifiedCustomer

from shopagent.errors import ShopAgentError


def _focus(hit: ProductHit) -> FocusItem:
    return {
        "product_id": hit.product_id,
        "name": hit.name,
        "sku": hit.sku,
        "price": str(hit.price),
        "category": hit.category,
    }


def _filters(turn: Turn, slots: Slots) -> SearchFilters:
    """The slots' colour and price bounds; with no bounds in the slots, the ones the
    search-request parser finds ("around 100 bucks", "about $40", "budget around 100")."""
    attributes = {"color": slots.color} if slots.color else {}
    low, high = slots.min_price, slots.max_price
    if low is None and high is None:
        bounds = parsed_request(turn).filters
        low, high = bounds.min_price, bounds.max_price
    return SearchFilters(min_price=low, max_price=high, attributes=attributes)


def _is_ambiguous(query: str, hits: list[ProductHit]) -> bool:
    """Several products match every word of a short query, and none stands out."""
    words = set(_terms(query))
    if not words or len(words) > 2:
        return False
    full = [h for h in hits if words <= set(_terms(h.name))]
    return len(full) >= 2


def typed_name(text: str, hits: list[ProductHit]) -> ProductHit | None:
    """The hit whose whole name the shopper typed ("Deskwell Pro X LED Desk Lamp多少钱？"),
    the longest when several are typed; None when no name of two words or more is."""
    said = f" {' '.join(_terms(text))} "
    typed = [h for h in hits if len(_terms(h.name)) > 1 and f" {' '.join(_terms(h.name))} " in said]
    return max(typed, key=lambda h: len(h.name), default=None)


def _terms(text: str) -> list[str]:
    """Whitespace words without edge punctuation ("noise-cancelling" stays one word)."""
    return [w.strip(".,;:!?()\"'") for w in text.casefold().split() if w.strip(".,;:!?()\"'")]


async def _search(turn: Turn, *, k: int | None = None) -> list[ProductHit]:
    slots = turn.slots
    query = " ".join(p for p in (slots.color, slots.query) if p) or (slots.query or "")
    filters = _filters(turn, slots)
    args = {"query": query, "filters": filters.model_dump(mode="json", exclude_defaults=True)}
    result = await turn.call(
        "search_products",
        args,
        lambda: fn.search_products(turn.ctx.catalog, query, filters, k or turn.ctx.search_k),
    )
    return result.hits if result else []


async def _targets(turn: Turn, *, allow_choice: bool) -> list[FocusItem]:
    """The products this turn is about: resolved references, or a fresh search."""
    targets = list(turn.state.get("targets", []))
    if targets or not turn.slots.query:
        return targets
    hits = await _search(turn, k=3)
    if not hits:
        return []
    if (named := typed_name(user_text(turn), hits)) is not None:
        hits = [named]  # a name typed in full is that product, not a longer sibling
    elif allow_choice and _is_ambiguous(turn.slots.query, hits):
        options = [_focus(h) for h in hits]
        question = choose_question(options)
        if question.strip() != last_assistant_text(turn.state).strip():
            turn.focus, turn.clarify = options, question
            return []
        # asked that already: never the same question twice in a row; the best match answers
    turn.focus = [_focus(hits[0])]
    turn.current = turn.focus[0]
    return turn.focus


async def _quote(turn: Turn, targets: list[FocusItem]) -> None:
    skus = [t["sku"] for t in targets]
    if turn.slots.color or turn.slots.size or turn.slots.variant:
        skus = [_variant_sku(turn, t) for t in targets]
    await turn.call(
        "check_price_stock",
        {"skus": skus},
        lambda: fn.check_price_stock(turn.ctx.inventory, skus),
    )


def _product(turn: Turn, product_id: str) -> Any:
    """The product from the catalog, or None when the catalog cannot answer (the search
    tool call of the turn already reports that honestly)."""
    try:
        return turn.ctx.catalog.get(product_id)
    except ShopAgentError:
        return None


def _variant_sku(turn: Turn, target: FocusItem) -> str:
    """The SKU of the variant in the requested colour/size, else the default SKU."""
    product = _product(turn, target["product_id"])
    slots = turn.slots
    wanted = {v.casefold() for v in (slots.color, slots.size, slots.variant) if v}
    for variant in product.variants if product else []:
        values = [str(a).casefold() for a in variant.attributes.values()]
        if all(any(w == v or w in v.split() for v in values) for w in wanted):
            return variant.sku
    return target["sku"]


async def _details(turn: Turn, targets: list[FocusItem]) -> None:
    for target in targets:
        pid = target["product_id"]
        await turn.call(
            "get_product_details",
            {"product_id": pid},
            lambda pid=pid: fn.get_product_details(turn.ctx.catalog, pid),
        )


async def product_search(turn: Turn) -> None:
    customer = turn.customer
    refining = is_refinement(turn)
    if customer and not refining and not turn.slots.query and not turn.slots.max_price:
        result = await turn.call(
            "recommend_for_customer",
            {"k": turn.ctx.search_k},
            lambda: fn.recommend_for_customer(
                turn.ctx.catalog, turn.ctx.orders, customer, turn.ctx.search_k
            ),
        )
        hits = result.hits if result else []
    else:
        request = search_request(turn)
        hits = await run_search(turn, request, turn.ctx.search_k)
        if hits or not refining:  # a refinement that finds nothing is not carried on
            remember(turn, request)
        if customer and hits:
            hits = _without_recent_purchases(turn, customer, hits)
    if hits:
        turn.focus = [_focus(h) for h in hits]
        turn.current = None  # after a list, "it" means the first shown
        await _quote(turn, turn.focus)


def _without_recent_purchases(
    turn: Turn, customer: VerifiedCustomer, hits: list[ProductHit]
) -> list[ProductHit]:
    """Drop what the customer just bought; record it so the answer can say so."""
    bought = {line.product_id: line.name for line in fn.recent_purchases(turn.ctx.orders, customer)}
    left_out = [bought[h.product_id] for h in hits if h.product_id in bought]
    if left_out:
        search = turn.calls[-1]
        search["result"] = {
            **search["result"],
            "hits": [h for h in search["result"]["hits"] if h["product_id"] not in bought],
            "left_out_purchased": left_out,
        }
    return [h for h in hits if h.product_id not in bought]


async def price_stock(turn: Turn) -> None:
    targets = await _targets(turn, allow_choice=True)
    if targets:
        await _quote(turn, targets)


async def product_question(turn: Turn) -> None:
    if await order_items_question(turn):  # items of the customer's own orders
        return
    targets = await _targets(turn, allow_choice=True)
    if targets:
        await _details(turn, targets)
        if turn.slots.color or turn.slots.size or turn.slots.variant:
            await _quote(turn, targets)


async def compare(turn: Turn) -> None:
    targets = list(turn.state.get("targets", []))
    if len(targets) < 2 and turn.slots.query:
        hits = await _search(turn, k=2)
        targets = [_focus(h) for h in hits]
        turn.focus = targets
    if targets:
        await _details(turn, targets)
        await _quote(turn, targets)


async def return_policy(turn: Turn) -> None:
    question = turn.state.get("spans", {}).get("return_policy") or user_text(turn)
    targets = list(turn.state.get("targets", []))
    vocab = turn.ctx.vocabulary
    category = targets[0]["category"] if targets else _category_in(turn, similar=False)
    if turn.slots.query:  # "...if it doesn't fit?": the condition names no product, nor
        # do the rule's own terms ("final sale items")
        query = without_policy_terms(without_condition(turn.slots.query, question))
        turn.slots = turn.slots.model_copy(update={"query": query or None})
    kind = vocab.product_type(turn.slots.query or "") if vocab is not None else None
    one = vocab.kinds(kind) if vocab is not None else 0
    searched = category is None and not targets and _names_a_product(turn.slots.query, kind, one)
    if searched:  # "the Stonewater Woven Storage Basket": that product's own category and flags
        named = await _named_product(turn)
        category = named["category"] if named else None
    if category is None and not targets and vocab is not None:
        # a product type the store sells ("a duvet cover", "a webcam"): its category
        category = vocab.type_category(kind)
    if category is None and not targets and turn.slots.query and not searched:
        named = await _named_product(turn)
        if named and not _in_name(turn.slots.query, named["name"]):
            # a category word ("apparel"), not a product: the store's own category for it
            turn.focus, turn.current = None, False
            category = _category_in(turn, similar=True) or named["category"]
        else:
            category = named["category"] if named else None
    if category is None and not targets and not turn.focus:
        category = _category_in(turn, similar=True)  # "apparel" where the policy says "Clothing"
    await turn.call(
        "lookup_return_policy",
        {"question": question, "category": category},
        lambda: fn.lookup_return_policy(turn.ctx.policy, question, category),
    )


def _names_a_product(query: str | None, kind: str | None, products: int) -> bool:
    """A product type and more ("the Stonewater Woven Storage Basket"), or a "type" only one
    product has (its name's tail): one product, whose own category and flags apply."""
    said = [singular(w) for w in _terms(query or "") if w.isalpha() and len(w) > 1]
    return kind is not None and (products == 1 or any(w not in kind.split() for w in said))


def _in_name(query: str, name: str) -> bool:
    """Every word of ``query`` (plurals tolerated) is a word of the product's name."""
    words = [w.rstrip("s") for w in _terms(query) if len(w) > 2]
    return bool(words) and all(w in name.casefold() for w in words)


async def _named_product(turn: Turn) -> FocusItem | None:
    """The product a policy question names ("can I return the X?", "policy for shoes"): the
    top search hit, kept only when every query word is in its name, category or tags."""
    hits = await _search(turn, k=3)
    if not hits:
        return None
    product = _product(turn, hits[0].product_id)
    known = " ".join([hits[0].name, hits[0].category, *(product.tags if product else [])])
    words = [w.rstrip("s") for w in _terms(turn.slots.query) if len(w) > 2]
    if not words or sum(w in known.casefold() for w in words) < 0.75 * len(words):
        return None
    turn.focus = [_focus(hits[0])]
    turn.current = turn.focus[0]
    return turn.focus[0]


def _category_in(turn: Turn, *, similar: bool) -> str | None:
    """The policy category the shopper's words name in this store's terms (shared words with
    its policy or catalog category names; with ``similar``, by embedding similarity too)."""
    policy = turn.ctx.policy
    vocab = turn.ctx.vocabulary
    general = getattr(policy, "general_text", None)
    names = policy_names(
        policy.rules.categories,
        vocab.policy_categories if vocab is not None else {},
        general() if callable(general) else "",
    )
    embed = getattr(policy, "embed", None)
    return policy_category_mentioned(user_text(turn), names, embed, similar=similar)
