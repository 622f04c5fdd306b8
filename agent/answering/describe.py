"""Product copy from a product's own data only: 2-3 features chosen for a need, the options
it comes in, its final-sale flag; verified claim by claim against that data."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from shopagent.agent.answering.attributes import features
from shopagent.agent.answering.checks import verify_plan
from shopagent.agent.answering.claims import ProductRef
from shopagent.agent.answering.plan import AnswerPlan
from shopagent.agent.answering.realise import features as features_sentence
from shopagent.agent.answering.realise import join_list
from shopagent.tools.store.schema import Product


class ProductCopy(BaseModel):
    """The copy for one product and whether every claim in it is supported."""

    product_id: str
    name: str
    need: str = ""
    copy_text: str = Field(serialization_alias="copy")
    features: list[str]
    verified: bool
    problems: list[str] = Field(default_factory=list)


def details_of(product: Product) -> dict[str, Any]:
    """The product as a get_product_details result (the shape plans read)."""
    return {
        "product_id": product.id,
        "name": product.name,
        "brand": product.brand,
        "category": product.category,
        "description": product.description,
        "attributes": dict(product.attributes),
        "variants": [{"sku": v.sku, **v.attributes} for v in product.variants],
        "final_sale": product.final_sale,
    }


def _options(details: dict[str, Any]) -> str:
    by_key: dict[str, list[str]] = {}
    for variant in details["variants"]:
        for key, value in variant.items():
            if key != "sku" and value not in by_key.setdefault(key, []):
                by_key[key].append(value)
    parts = [f"{join_list(v)}" for k, v in by_key.items() if len(v) > 1]
    return f"It comes in {' and in '.join(parts)}." if parts else ""


def describe(product: Product, need: str = "") -> ProductCopy:
    """Copy for ``product`` written from its data, features ranked by ``need``."""
    details = details_of(product)
    ref = ProductRef(
        product_id=product.id,
        name=product.name,
        brand=product.brand,
        category=product.category,
        final_sale=product.final_sale,
    )
    chosen = features(details, ref, need)
    parts = [features_sentence(chosen), _options(details)]
    if product.final_sale:
        parts.append("Please note that it is final sale.")
    text = " ".join(p for p in parts if p)
    context = [details["description"], *(f"{k}: {v}" for k, v in details["attributes"].items())]
    context += [" ".join(v for k, v in var.items() if k != "sku") for var in details["variants"]]
    plan = AnswerPlan(
        intents=["describe"], question=need, claims=[chosen], products=[ref], context=context
    )
    problems = verify_plan(text, plan)
    return ProductCopy(
        product_id=product.id,
        name=product.name,
        need=need,
        copy_text=text,
        features=chosen.features,
        verified=not problems,
        problems=problems,
    )
