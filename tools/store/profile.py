"""Store profiles: a data file that turns the seeded demo generator's output into another shop.

A profile (``tools/store/data/profiles/<name>.yaml``, or any YAML path) says how the shop
differs: its info, order-number format, which of the generator's categories it sells and
under what names, how it writes product names, its return policy (by its own policy
categories) and its size. :func:`generate_profile_store` generates the demo store with the
profile's seed and size and applies the profile; nothing else in ShopAgent knows the shop.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field
from shopagent.tools.store.generate import generate_store
from shopagent.tools.store.policy_docs import render_policy_docs
from shopagent.tools.store.schema import ReturnPolicy, StoreData, StoreInfo

from shopagent.errors import ConfigError


class StoreProfile(BaseModel):
    """How one shop differs from the demo store (see ``data/profiles/alder.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    info: StoreInfo
    seed: int = 7
    n_products: int = Field(400, ge=1)
    n_customers: int = Field(60, ge=1)
    n_orders: int = Field(400, ge=1)
    order_number: str = "SA-{n}"
    order_start: int = 100001
    product_name: str = "{brand} {rest}"
    categories: dict[str, str] = Field(default_factory=dict)
    """Generator category -> this shop's name; empty: every category, names unchanged."""
    policy: ReturnPolicy | None = None


def load_profile(name: str) -> StoreProfile:
    """A profile by name (a file under ``data/profiles``) or by YAML path."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.exists():
        text = path.read_text(encoding="utf-8")
    else:
        res = resources.files("shopagent.tools.store").joinpath(f"data/profiles/{name}.yaml")
        if not res.is_file():
            raise ConfigError(
                f"no store profile {name!r}",
                hint=f"use one of {', '.join(profile_names())} or a path to a profile YAML file",
            )
        text = res.read_text(encoding="utf-8")
    try:
        return StoreProfile.model_validate(yaml.safe_load(text))
    except ValueError as exc:
        raise ConfigError(
            f"store profile {name!r} is invalid: {exc}",
            hint="see tools/store/data/profiles/alder.yaml for the fields",
        ) from exc


def profile_names() -> list[str]:
    folder = resources.files("shopagent.tools.store").joinpath("data/profiles")
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def generate_profile_store(profile: StoreProfile, *, today: date) -> StoreData:
    """The demo generator's store with the profile's seed and size, made the profile's shop."""
    data = generate_store(
        seed=profile.seed,
        n_products=profile.n_products,
        n_customers=profile.n_customers,
        n_orders=max(profile.n_orders, profile.n_customers),
        today=today,
    )
    return apply_profile(data, profile)


def apply_profile(data: StoreData, profile: StoreProfile) -> StoreData:
    """``data`` as the profile's shop: only its categories (renamed), its product names, its
    order numbers and policy; orders keep only lines of products it sells."""
    rename = profile.categories or {p.category: p.category for p in data.products}
    products = [
        p.model_copy(update={"category": rename[p.category], "name": _name(profile, p)})
        for p in data.products
        if p.category in rename
    ]
    kept = {p.id: p for p in products}
    skus = {v.sku for p in products for v in p.variants}
    orders: list[Any] = []
    for order in sorted(data.orders, key=lambda o: o.placed_at):
        items = [
            i.model_copy(update={"name": _line_name(kept[i.product_id], i.name)})
            for i in order.items
            if i.product_id in kept
        ]
        if items:
            number = profile.order_number.format(n=profile.order_start + len(orders))
            orders.append(order.model_copy(update={"number": number, "items": items}))
    policy = profile.policy or data.policy
    return data.model_copy(
        update={
            "info": profile.info,
            "products": products,
            "stock": [s for s in data.stock if s.sku in skus],
            "orders": orders,
            "policy": policy,
            "policy_docs": render_policy_docs(policy, list(policy.categories), profile.info),
        }
    )


def _name(profile: StoreProfile, product: Any) -> str:
    rest = product.name.removeprefix(product.brand).strip(" ,–-") or product.name
    return profile.product_name.format(brand=product.brand, rest=rest)


def _line_name(product: Any, line_name: str) -> str:
    """An order line's name with the product's new name (its variant label kept)."""
    label = line_name.rsplit(" (", 1)[1] if line_name.endswith(")") and " (" in line_name else ""
    return f"{product.name} ({label}" if label else product.name
