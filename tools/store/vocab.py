"""Word lists for the demo-store generator: categories, brands, product types, phrasing.

The words live in YAML data files next to this module (``data/*.yaml``); this module holds
their types and loads them once, on import, into the read-only constants the generator uses.
Everything there is fictional but meant to read like a real shop's catalog. Attribute values
may name a category list with ``"@colors"`` or ``"@materials"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class Axis:
    """How a product's variants differ: the attribute name, its options, price multipliers."""

    name: str
    options: tuple[str, ...] = ()
    multipliers: tuple[float, ...] = ()
    ordered: bool = False


@dataclass(frozen=True)
class ProductType:
    """A kind of product within a category, e.g. "pour-over kettle"."""

    noun: str
    price: tuple[int, int]
    features: tuple[str, ...]
    axis: str = "color"
    attributes: dict[str, tuple[str, ...] | str] = field(default_factory=dict)
    aka: tuple[str, ...] = ()
    name_attr: str = ""


@dataclass(frozen=True)
class Category:
    """A catalog category and the words its products are made of."""

    name: str
    code: str
    brands: tuple[str, ...]
    lines: tuple[str, ...]
    colors: tuple[str, ...]
    materials: tuple[str, ...]
    benefits: tuple[str, ...]
    qualities: tuple[str, ...]
    uses: tuple[str, ...]
    audiences: tuple[str, ...]
    tags: tuple[str, ...]
    types: tuple[ProductType, ...]
    extra_attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _load(name: str) -> Any:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _frozen(value: Any) -> Any:
    """YAML lists as tuples, all the way down (the constants are read-only)."""
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value


def _product_type(raw: dict[str, Any]) -> ProductType:
    fields = _frozen(raw)
    return ProductType(**{**fields, "attributes": fields.get("attributes", {})})


def _category(raw: dict[str, Any]) -> Category:
    fields = _frozen({key: value for key, value in raw.items() if key != "types"})
    return Category(**fields, types=tuple(_product_type(t) for t in raw["types"]))


AXES: dict[str, Axis] = {key: Axis(**_frozen(raw)) for key, raw in _load("axes.yaml").items()}
CATEGORIES: tuple[Category, ...] = tuple(_category(raw) for raw in _load("categories.yaml"))

_PHRASING: dict[str, Any] = _frozen(_load("phrasing.yaml"))
# What each product type is good at (used before the category's generic benefits), and
# extra occasions for types whose category-wide ones don't cover them.
TYPE_BENEFITS: dict[str, tuple[str, ...]] = _PHRASING["type_benefits"]
TYPE_USES: dict[str, tuple[str, ...]] = _PHRASING["type_uses"]
# Description phrasing; data/phrasing.yaml lists the fields the sentences may use.
OPENERS: tuple[str, ...] = _PHRASING["openers"]
FEATURE_SENTENCES: tuple[str, ...] = _PHRASING["feature_sentences"]
USE_SENTENCES: tuple[str, ...] = _PHRASING["use_sentences"]
MATERIAL_SENTENCES: tuple[str, ...] = _PHRASING["material_sentences"]
CLOSING_SENTENCES: tuple[str, ...] = _PHRASING["closing_sentences"]
# Product name patterns. Fields: brand, line, model, Noun, Feature, attr (may be empty).
NAME_PATTERNS: tuple[str, ...] = _PHRASING["name_patterns"]
MODELS: tuple[str, ...] = _PHRASING["models"]
EXTRA_TAGS: tuple[str, ...] = _PHRASING["extra_tags"]

_PEOPLE: dict[str, Any] = _frozen(_load("people.yaml"))
FIRST_NAMES: tuple[str, ...] = _PEOPLE["first_names"]
LAST_NAMES: tuple[str, ...] = _PEOPLE["last_names"]
EMAIL_DOMAINS: tuple[str, ...] = _PEOPLE["email_domains"]
# First three digits of real US ZIP codes spread across the country.
ZIP_PREFIXES: tuple[str, ...] = _PEOPLE["zip_prefixes"]
CARRIERS: tuple[str, ...] = _PEOPLE["carriers"]
