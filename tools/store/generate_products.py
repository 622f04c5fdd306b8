"""Demo-store products: names, descriptions, attributes, tags and variants from the vocab.

Everything is drawn from the generator's one ``random.Random``, in a fixed order, so the same
seed always gives the same catalog.
"""

from __future__ import annotations

import functools
import random
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal

from shopagent.tools.store import vocab
from shopagent.tools.store.schema import Product, Variant

FINAL_SALE_SHARE = 0.03
_SMALL_WORDS = frozenset({"a", "an", "and", "of", "or", "the", "to", "with", "for", "in", "on"})


def products(rng: random.Random, count: int) -> list[Product]:
    cats = [vocab.CATEGORIES[i % len(vocab.CATEGORIES)] for i in range(count)]
    rng.shuffle(cats)
    products = [_product(rng, number, cat) for number, cat in enumerate(cats, start=1)]
    seen: dict[str, int] = {}
    for i, product in enumerate(products):  # a shop does not sell two products of one name
        seen[product.name] = seen.get(product.name, 0) + 1
        if seen[product.name] > 1:
            products[i] = product.model_copy(
                update={"name": f"{product.name} Gen {seen[product.name]}"}
            )
    return products


def _product(rng: random.Random, number: int, cat: vocab.Category) -> Product:
    ptype = rng.choice(cat.types)
    brand, line = rng.choice(cat.brands), rng.choice(cat.lines)
    attributes = _attributes(rng, cat, ptype)
    features = rng.sample(ptype.features, 3)
    final_sale = rng.random() < FINAL_SALE_SHARE
    return Product(
        id=f"P-{number:06d}",
        name=_name(rng, brand, line, ptype, attributes, features[0]),
        brand=brand,
        category=cat.name,
        description=_description(rng, cat, ptype, brand, line, features, attributes),
        attributes=attributes,
        tags=_tags(rng, cat, ptype, final_sale),
        final_sale=final_sale,
        variants=_variants(rng, cat, ptype, number),
    )


def _attributes(
    rng: random.Random, cat: vocab.Category, ptype: vocab.ProductType
) -> dict[str, str]:
    lists = {"@colors": cat.colors, "@materials": cat.materials}
    specs = {**ptype.attributes, **cat.extra_attributes}
    return {key: rng.choice(lists.get(spec, spec)) for key, spec in specs.items()}


def _name(
    rng: random.Random,
    brand: str,
    line: str,
    ptype: vocab.ProductType,
    attributes: dict[str, str],
    feature: str,
) -> str:
    value = attributes.get(ptype.name_attr, "")
    attr = re.sub(r"(\d) in$", r'\1"', value) + " " if value else ""
    return rng.choice(vocab.NAME_PATTERNS).format(
        brand=brand,
        line=line,
        model=rng.choice(vocab.MODELS),
        attr=attr,
        Noun=_title(ptype.noun),
        Feature=_title(feature),
    )


@functools.cache
def _title(phrase: str) -> str:
    """Title case that keeps small words, numbers and mixed-case words (mAh, 4K) as they are."""
    words = phrase.split(" ")
    return " ".join(
        w if (i and w in _SMALL_WORDS) else "-".join(_cap(part) for part in w.split("-"))
        for i, w in enumerate(words)
    )


def _cap(word: str) -> str:
    if word[1:] != word[1:].lower():
        return word
    return _upper_first(word)


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _description(
    rng: random.Random,
    cat: vocab.Category,
    ptype: vocab.ProductType,
    brand: str,
    line: str,
    features: list[str],
    attributes: dict[str, str],
) -> str:
    fields = _phrase_fields(rng, cat, ptype, brand, line, features, attributes)
    pools = [vocab.FEATURE_SENTENCES, vocab.USE_SENTENCES, vocab.CLOSING_SENTENCES]
    if "material" in attributes:
        pools.append(vocab.MATERIAL_SENTENCES)
    chosen = rng.sample(pools, rng.randint(1, 3))
    templates = [rng.choice(vocab.OPENERS), *(rng.choice(pool) for pool in chosen)]
    return " ".join(_upper_first(t.format(**fields)) for t in templates)


def _phrase_fields(
    rng: random.Random,
    cat: vocab.Category,
    ptype: vocab.ProductType,
    brand: str,
    line: str,
    features: list[str],
    attributes: dict[str, str],
) -> dict[str, str]:
    plural = ptype.noun.endswith("s") and not ptype.noun.endswith("ss")
    specific = vocab.TYPE_BENEFITS[ptype.noun]
    benefit = rng.choice(specific)
    benefit2 = rng.choice([b for b in (*specific, *cat.benefits) if b != benefit])
    use, use2 = rng.sample((*vocab.TYPE_USES.get(ptype.noun, ()), *cat.uses), 2)
    pronouns = (
        {"it": "they", "it_obj": "them", "its": "their", "it_s": "They're", "this": "these"}
        if plural
        else {"it": "it", "it_obj": "it", "its": "its", "it_s": "It's", "this": "this"}
    )
    return {
        **pronouns,
        "It": _upper_first(pronouns["it"]),
        "Its": _upper_first(pronouns["its"]),
        "This": _upper_first(pronouns["this"]),
        "it_s_lower": pronouns["it_s"].lower(),
        "brand": brand,
        "line": line,
        "noun": ptype.noun,
        "a_noun": ptype.noun if plural else _with_article(ptype.noun),
        "aka": rng.choice(ptype.aka) if ptype.aka else ptype.noun,
        "feature1": features[0],
        "feature2": features[1],
        "feature3": features[2],
        "benefit": _agree(benefit, plural),
        "benefit2": _agree(benefit2, plural),
        "quality": _agree(rng.choice(cat.qualities), plural),
        "use": use,
        "use2": use2,
        "audience": rng.choice(cat.audiences),
        "material": attributes.get("material", ""),
    }


def _with_article(noun: str) -> str:
    return f"{'an' if noun[0].lower() in 'aeiou' else 'a'} {noun}"


def _agree(phrase: str, plural: bool) -> str:
    """Make a third-person-singular verb phrase agree with a plural subject."""
    if not plural:
        return phrase
    verb, _, rest = phrase.partition(" ")
    irregular = {"is": "are", "has": "have", "does": "do"}
    if verb in irregular:
        verb = irregular[verb]
    elif verb.endswith(("ches", "shes", "sses", "xes")):
        verb = verb[:-2]
    elif verb.endswith("s"):
        verb = verb[:-1]
    return f"{verb} {rest}".strip()


def _tags(
    rng: random.Random, cat: vocab.Category, ptype: vocab.ProductType, final_sale: bool
) -> list[str]:
    tags = [ptype.noun.lower(), *(a.lower() for a in ptype.aka), *rng.sample(cat.tags, 2)]
    if rng.random() < 0.3:
        tags.append(rng.choice(vocab.EXTRA_TAGS))
    if final_sale:
        tags += ["clearance", "final sale"]
    return list(dict.fromkeys(tags))


def _variants(
    rng: random.Random, cat: vocab.Category, ptype: vocab.ProductType, number: int
) -> list[Variant]:
    axis = vocab.AXES[ptype.axis]
    options = axis.options or (cat.colors if axis.name == "color" else ())
    count = min(len(options), rng.choices((1, 2, 3, 4), weights=(35, 25, 20, 20))[0])
    if not axis.name:
        indexes: Sequence[int] = [-1]
    elif axis.ordered:
        start = rng.randrange(len(options) - count + 1)
        indexes = range(start, start + count)
    else:
        indexes = sorted(rng.sample(range(len(options)), count))
    base = rng.uniform(*ptype.price)
    ending = rng.choices((".99", ".49", ".00"), weights=(65, 20, 15))[0]
    variants: list[Variant] = []
    codes: set[str] = set()
    for i in indexes:
        option = options[i] if i >= 0 else ""
        multiplier = axis.multipliers[i] if axis.multipliers else 1.0
        code = _sku_code(option, codes)
        variants.append(
            Variant(
                sku=f"{cat.code}-{number:06d}{code}",
                attributes={axis.name: option} if option else {},
                price=Decimal(f"{max(1, int(base * multiplier))}{ending}"),
            )
        )
    return variants


def _sku_code(option: str, taken: set[str]) -> str:
    words = re.findall(r"[A-Za-z0-9]+", unicodedata.normalize("NFKD", option))
    code = words[0][:6] if len(words) == 1 else "".join(w[:3] for w in words)[:9]
    code = f"-{code.upper()}" if code else ""
    if code in taken:
        code += str(len(taken))
    taken.add(code)
    return code
