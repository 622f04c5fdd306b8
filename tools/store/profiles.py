"""Store profiles: the seeded demo store rewritten for another language's shop, as data
(``tools/store/data/profiles/<name>.yaml``). A profile keeps the categories it names and
writes product types, categories, colours, materials and descriptions in its language; brands
and product lines stay as written. Orders, stock and the return policy follow the products.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from shopagent.tools.store.schema import Product, StoreData

from shopagent.errors import ShopAgentError


def profile_names() -> list[str]:
    folder = resources.files("shopagent.tools.store").joinpath("data/profiles")
    names = (f.name for f in folder.iterdir())
    return sorted(n.removesuffix(".yaml") for n in names if n.endswith(".yaml"))


def is_language_profile(name: str) -> bool:
    """A profile that rewrites the demo store in another language (it declares ``language``)."""
    return name in profile_names() and "language" in load_profile(name)


@lru_cache(maxsize=8)
def load_profile(name: str) -> dict[str, Any]:
    if name not in profile_names():
        raise ShopAgentError(
            f"unknown store profile {name!r}",
            hint=f"use one of: {', '.join(profile_names())} (tools/store/data/profiles/)",
        )
    path = resources.files("shopagent.tools.store").joinpath(f"data/profiles/{name}.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _noun_of(product: Product, nouns: dict[str, str]) -> str | None:
    """The product's type: the generator's noun, which it tags every product with."""
    by_fold = {n.casefold(): n for n in nouns}
    return next((by_fold[t.casefold()] for t in product.tags if t.casefold() in by_fold), None)


def _pick(options: list[str], key: str) -> str:
    digest = hashlib.sha256(key.encode()).digest()
    return options[digest[0] % len(options)]


def _localise(product: Product, profile: dict[str, Any], noun: str) -> Product:
    colors, materials = profile.get("colors", {}), profile.get("materials", {})
    zh_noun = profile["nouns"][noun]
    at = product.name.casefold().find(noun.casefold())
    # brand and line as written, then the type in the profile's language (an English feature
    # tail such as "with Airtight Lid" is dropped: the description says it in the language)
    name = f"{product.name[:at].strip()} {zh_noun}" if at >= 0 else f"{product.name} {zh_noun}"
    category = profile["categories"][product.category]

    def attrs(values: dict[str, str]) -> dict[str, str]:
        out = {}
        for key, value in values.items():
            out[key] = colors.get(value, materials.get(value, value))
        return out

    material = materials.get(product.attributes.get("material", ""), "")
    description = _pick(profile["descriptions"], product.id).format(
        noun=zh_noun, brand=product.brand, category=category, material=material or "优质"
    )
    variants = [v.model_copy(update={"attributes": attrs(v.attributes)}) for v in product.variants]
    return product.model_copy(
        update={
            "name": name.strip(),
            "category": category,
            "description": description,
            "attributes": attrs(product.attributes),
            "variants": variants,
            "tags": [zh_noun, category, *product.tags],
        }
    )


def apply_profile(data: StoreData, name: str) -> StoreData:
    """``data`` (a generated English demo store) as the profile's shop."""
    profile = load_profile(name)
    kept: dict[str, Product] = {}
    for product in data.products:
        noun = _noun_of(product, profile["nouns"])
        if product.category in profile["categories"] and noun:
            kept[product.id] = _localise(product, profile, noun)
    skus = {v.sku: p for p in kept.values() for v in p.variants}
    orders = []
    for order in data.orders:
        if all(item.sku in skus for item in order.items):
            items = [i.model_copy(update={"name": skus[i.sku].name}) for i in order.items]
            orders.append(order.model_copy(update={"items": items}))
    owners = {o.customer_id for o in orders}
    categories = profile["categories"]
    policy = data.policy.model_copy(
        update={
            "categories": {
                categories[c]: rule for c, rule in data.policy.categories.items() if c in categories
            }
        }
    )
    return data.model_copy(
        update={
            "info": data.info.model_copy(update={"name": profile["store_name"]}),
            "products": list(kept.values()),
            "stock": [s for s in data.stock if s.sku in skus],
            "customers": [c for c in data.customers if c.id in owners],
            "orders": orders,
            "policy": policy,
            "policy_docs": profile.get("policy_docs") or data.policy_docs,
        }
    )
