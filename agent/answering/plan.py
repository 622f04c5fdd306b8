"""Answer plans: what a turn's answer must say, computed deterministically from the
question and the tool results. Templates and the model realise a plan; the verifier checks
an answer against it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from shopagent.agent.answering.attributes import answer_attribute, compared_features, features
from shopagent.agent.answering.claims import (
    Claim,
    Comparison,
    Eligibility,
    Notice,
    OrderState,
    PolicyRule,
    PriceStock,
    ProductList,
    ProductRef,
)
from shopagent.agent.answering.facts import NEXT_STEPS, Facts, collect, focus_products
from shopagent.agent.answering.words import content_stems, matcher

LIST_SHOWN = 5
"""Search results listed; past this many the answer says how many were found."""

ProductInfo = Callable[[str], dict[str, Any] | None]
"""product id -> the catalog product as a dict (final_sale, description...), or None."""

NOTICES = {
    "inventory_down": "I can't confirm live price and stock right now; please try again in a "
    "moment.",
    "search_down": "Product search isn't available right now; please try again in a moment.",
    "not_found": "I couldn't find any products matching that.",
    "order_not_found": "I couldn't find that order on your account. Please check the order number.",
    "verify_first": "I need to verify it's you before I can look up orders.",
}


class AnswerPlan(BaseModel):
    """The claims an answer must make, and everything else it may draw on."""

    intents: list[str]
    question: str
    claims: list[Claim] = Field(default_factory=list)
    products: list[ProductRef] = Field(
        default_factory=list, description="Every product the answer may name."
    )
    context: list[str] = Field(
        default_factory=list, description="Other texts the answer may draw from."
    )

    def kinds(self) -> list[str]:
        return [c.kind for c in self.claims]

    def money(self) -> set[Decimal]:
        """Every amount the answer may state."""
        out = {p.price for p in self.products if p.price is not None}
        for c in self.claims:
            for name in ("total", "refund_amount"):
                if getattr(c, name, None) is not None:
                    out.add(Decimal(str(getattr(c, name))))
        return out

    def text(self) -> str:
        """Every fact of the plan as text (names, values, sentences): what may be said."""
        parts = [*self.context, self.question]
        for p in self.products:
            parts += [p.name, p.brand, p.category, p.variant]
            if p.stock is not None:
                parts.append(str(p.stock))
        for c in self.claims:
            parts.append(c.model_dump_json())
            listed = getattr(c, "items", None) or getattr(c, "products", None) or []
            if isinstance(listed, list) and len(listed) > 1:  # "and 5 more": a list's counts
                parts.append(" ".join(str(n) for n in range(1, len(listed) + 1)))
        return "\n".join(x for x in parts if x)


def _variant(details: dict[str, Any] | None, sku: str) -> str:
    """The values of variant ``sku`` ("Slate", "Large Navy"), from details or a catalog dump."""
    for v in (details or {}).get("variants", []):
        if v.get("sku") == sku:
            values = v["attributes"] if isinstance(v.get("attributes"), dict) else v
            return " ".join(str(x) for k, x in values.items() if k != "sku")
    return ""


def product_refs(
    facts: Facts, info: ProductInfo | None = None, *, variants: bool = False
) -> list[ProductRef]:
    """The turn's products with their live figures and own flags (``variants``: name the
    quoted variant, when the shopper asked for one)."""
    by_id = {d["product_id"]: d for d in facts.details}
    refs: list[ProductRef] = []
    seen: set[str] = set()
    for p in [*facts.products, *facts.details]:
        pid = p["product_id"]
        if pid in seen:
            continue
        seen.add(pid)
        sku = p.get("sku", "")
        quote = facts.quotes.get(sku) if sku else None
        details = by_id.get(pid)
        own = info(pid) if info else None
        final_sale = bool((details or own or {}).get("final_sale", False))
        refs.append(
            ProductRef(
                product_id=pid,
                name=p["name"],
                brand=p.get("brand", "") or "",
                category=p.get("category", "") or "",
                sku=sku,
                variant=_variant(details or own, sku) if sku and variants else "",
                price=Decimal(str(quote["price"])) if quote else None,
                currency=quote["currency"] if quote else "USD",
                stock=int(quote["stock"]) if quote else None,
                final_sale=final_sale,
            )
        )
    return refs


def _asks(question: str) -> str:
    price = bool(matcher("asks_price").search(question))
    stock = bool(matcher("asks_stock").search(question))
    return "both" if price == stock else "price" if price else "stock"


def _asks_price_only(question: str) -> bool:
    """A comparison by price alone ("which is cheaper?", "how much more is the X?")."""
    return any(
        matcher(key).search(question) for key in ("asks_price", "cheaper_words", "dearer_words")
    )


def _explains(question: str) -> bool:
    return bool(matcher("explain_cues").search(question))


def build_plan(
    intents: list[str],
    question: str,
    facts: Facts,
    calls: list[dict[str, Any]],
    *,
    slots: dict[str, Any] | None = None,
    need: str = "",
    info: ProductInfo | None = None,
    targets: list[dict[str, Any]] | None = None,
) -> AnswerPlan:
    """The plan for one turn (``calls``: the turn's tool calls; ``need``: what the shopper
    said they want, for explanations; ``info``: catalog lookups for own product flags)."""
    slots = slots or {}
    asked_variant = any(slots.get(k) for k in ("color", "size", "variant"))
    refs = product_refs(facts, info, variants=asked_variant)
    if not refs and "return_policy" in intents:
        refs = [_target_ref(t, info) for t in (targets or [])[:1]]
    plan = AnswerPlan(intents=intents, question=question, products=refs)
    claims: list[Claim] = []
    quoted = [r for r in refs if r.price is not None]
    for intent in intents:
        if intent == "price_stock":
            claims += [PriceStock(product=r, asks=_asks(question)) for r in quoted[:1]]
        elif intent == "compare" and len(quoted) >= 2:
            a, b = sorted(quoted[:2], key=lambda r: r.price or 0)
            claims.append(Comparison(cheaper=a, dearer=b, same_price=a.price == b.price))
            if not _asks_price_only(question):  # "which is better?": what sets each apart
                details = {d["product_id"]: d for d in facts.details}
                claims += compared_features(details, quoted[:2], need or question)
        elif intent == "product_question":
            claims += _product_question(question, facts, refs, slots, need)
            if slots.get("color") or slots.get("size") or slots.get("variant"):
                claims += [PriceStock(product=r, asks="stock") for r in quoted[:1]]
        elif intent == "product_search" and refs:
            claims.append(
                ProductList(
                    products=refs[:LIST_SHOWN],
                    found=len(refs),
                    based_on=facts.based_on,
                    left_out=facts.left_out,
                )
            )
        elif intent == "return_policy":
            claims += _policy(question, facts, calls, refs, info)
        elif intent == "order_status" and facts.orders:
            claims += _orders(facts.orders, question)
        elif intent in {"return_request", "cancel_order"}:
            claims += _eligibility(facts)
    claims += _notices(facts, claims, calls)
    plan.claims = _unique(claims)
    plan.context = _context(facts)
    return plan


def plan_for_turn(
    intents: list[str],
    question: str,
    calls: list[dict[str, Any]],
    *,
    slots: dict[str, Any] | None = None,
    targets: list[dict[str, Any]] | None = None,
    clean: Callable[[Facts], Facts] | None = None,
    **kw: Any,
) -> tuple[AnswerPlan, Facts]:
    """The plan of a recorded turn (its intents, message and tool calls), and its facts:
    collected, focused on the turn's products and (``clean``) sanitised."""
    facts = collect(calls)
    focus_products(facts, intents[0] if intents else "", list(targets or []), calls)
    if clean is not None:
        facts = clean(facts)
    plan = build_plan(intents, question, facts, calls, slots=slots, targets=targets, **kw)
    return plan, facts


def _target_ref(target: dict[str, Any], info: ProductInfo | None) -> ProductRef:
    """A product the conversation refers to ("it"), with its own final-sale flag."""
    own = info(target["product_id"]) if info else None
    return ProductRef(
        product_id=target["product_id"],
        name=target["name"],
        brand=(own or {}).get("brand", ""),
        category=target.get("category", ""),
        final_sale=bool((own or {}).get("final_sale", False)),
    )


def _unique(claims: list[Claim]) -> list[Claim]:
    out: list[Claim] = []
    for c in claims:
        if c not in out:
            out.append(c)
    return out


def _product_question(
    question: str, facts: Facts, refs: list[ProductRef], slots: dict[str, Any], need: str
) -> list[Claim]:
    by_id = {r.product_id: r for r in refs}
    out: list[Claim] = []
    # one product, or each item of the customer's orders the question is about
    for details in facts.details[: len(facts.details) if facts.orders else 1]:
        ref = by_id.get(details["product_id"]) or ProductRef(name=details["name"])
        if _explains(question):
            out.append(features(details, ref, need or question))
            continue
        found = answer_attribute(question, ref, details, color=slots.get("color"))
        nothing = found.value is None and found.evidence is None and not found.verdict
        if nothing and not question_asks_something(question):
            # nothing in the listing matches and nothing specific was asked: describe it
            out.append(features(details, ref, need or question))
            continue
        out.append(found)
    return out


def question_asks_something(question: str) -> bool:
    """Whether the question asks about a specific property (vs. "tell me about X")."""
    return "?" in question and not _explains(question)


def _policy(
    question: str,
    facts: Facts,
    calls: list[dict[str, Any]],
    refs: list[ProductRef],
    info: ProductInfo | None,
) -> list[Claim]:
    """The rule of the asked category (the product's own, when a product is asked about)."""
    asked = [c["result"].get("category") for c in calls if c["name"] == "lookup_return_policy"]
    sections = [s for s in facts.policy if s.get("rule")]
    if not sections:
        return []
    best = sections[0]
    rule = best["rule"]
    category = next((c for c in asked if c), None) or best.get("category")
    product = next((r for r in refs if category and r.category == category), None)
    product = product or (refs[0] if len(refs) == 1 and not category else None)
    hits = [
        h for c in calls if c["name"] == "search_products" and c["ok"] for h in c["result"]["hits"]
    ]
    if product is None and hits and category and hits[0]["category"] == category:
        named = content_stems(hits[0]["name"])
        if len(named & content_stems(question)) >= 0.6 * len(named):  # named, not a type
            product = _target_ref(hits[0], info)
    return [
        PolicyRule(
            category=category,
            product=product.name if product else None,
            window_days=int(rule["window_days"]),
            condition=rule["condition"],
            final_sale=bool(rule["final_sale"]) or bool(product and product.final_sale),
            restocking_fee_pct=Decimal(str(rule["restocking_fee_pct"])),
            refund_method=rule["refund_method"],
            heading=best["heading"],
            excerpt=best["text"].strip(),
        )
    ]


def _orders(orders: list[dict[str, Any]], question: str) -> list[Claim]:
    latest = bool(matcher("latest_words").search(question))
    chosen = orders[:1] if latest or len(orders) == 1 else orders[:3]
    out: list[Claim] = []
    for o in chosen:
        date = o.get("delivered_at") or o.get("shipped_at") or o.get("cancelled_at")
        date = date or o.get("returned_at")
        out.append(
            OrderState(
                number=o["number"],
                status=o["status"],
                date=str(date) if date else None,
                carrier=o.get("carrier") if o["status"] == "shipped" else None,
                tracking=o.get("tracking_number") if o["status"] == "shipped" else None,
                items=[f"{i['quantity']} x {i['name']}" for i in o["items"]],
                total=Decimal(str(o["total"])),
                currency=o.get("currency", "USD"),
                next_step=NEXT_STEPS.get(o["status"], ""),
            )
        )
    return out


def _eligibility(facts: Facts) -> list[Claim]:
    out: list[Claim] = []
    if facts.cancel_check:
        c = facts.cancel_check
        out.append(
            Eligibility(
                action="cancel",
                order_number=c["order_number"],
                eligible=bool(c["eligible"]),
                reasons=[c["reason"]] if c.get("reason") else [],
                refund_amount=Decimal(str(c["refund_amount"])),
            )
        )
    for item in facts.return_checks:
        out.append(
            Eligibility(
                action="return",
                order_number=item["order_number"],
                item=item["name"],
                eligible=bool(item["eligible"]),
                reasons=list(item["reasons"]),
                refund_amount=Decimal(str(item["refund_amount"])),
                window_days=int(item["window_days"]),
            )
        )
    return out


def _notices(facts: Facts, claims: list[Claim], calls: list[dict[str, Any]]) -> list[Claim]:
    out: list[Claim] = []
    names = {f["name"] for f in facts.failures}
    if facts.inventory_down:
        out.append(Notice(code="inventory_down", text=NOTICES["inventory_down"]))
    if facts.search_down and not facts.products:
        out.append(Notice(code="search_down", text=NOTICES["search_down"]))
    elif facts.searched and not claims and not _hits(calls):
        out.append(Notice(code="not_found", text=NOTICES["not_found"]))
    if "get_order_status" in names:
        out.append(Notice(code="verify_first", text=NOTICES["verify_first"]))
    elif facts.order_looked_up and not facts.orders and not claims:
        out.append(Notice(code="order_not_found", text=NOTICES["order_not_found"]))
    return out


def _hits(calls: list[dict[str, Any]]) -> int:
    return sum(
        len(c["result"].get("hits", []))
        for c in calls
        if c["name"] in {"search_products", "recommend_for_customer"} and c["ok"]
    )


def _context(facts: Facts) -> list[str]:
    """Texts beyond the claims that an answer may quote (descriptions, attributes, policy)."""
    out: list[str] = []
    for d in facts.details:
        out.append(d["description"])
        out += [f"{k}: {v}" for k, v in d["attributes"].items()]
        out += [" ".join(str(x) for k, x in v.items() if k != "sku") for v in d["variants"]]
    for s in facts.policy[:2]:
        out.append(f"{s['heading']}: {s['text']}")
    if facts.customer_name:
        out.append(facts.customer_name)
    return out
