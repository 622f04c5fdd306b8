"""Product questions answered from a product's own data: attribute values, yes/no verdicts
from listing sentences, and features relevant to a shopper's need."""

from __future__ import annotations

import re
from typing import Any

from shopagent.agent.answering.claims import AttributeAnswer, Features, ProductRef
from shopagent.agent.answering.words import content_stems, lists, matcher, stem, words

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")
_LIST_INTRO = re.compile(r"^([^:]{2,40}):\s*(.+?)\.?$")
_LIST_COMMA = re.compile(r"(?<!\d),|,(?!\d)")  # a list comma, not "10,000"


def sentences(text: str) -> list[str]:
    """The sentences of a description (each ends with its punctuation)."""
    out = [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]
    return [s if s[-1] in ".!?" else s + "." for s in out]


def is_yes_no(question: str) -> bool:
    """Whether ``question`` asks for a yes or a no ("is it...", "does it...")."""
    first = words(question)[:1]
    return bool(first) and first[0] in set(lists()["yes_no_starts"])


def negated(text: str) -> bool:
    return bool(matcher("negations").search(text))


def _cue(question: str) -> str | None:
    for key in lists()["attribute_cues"]:
        if matcher("attribute_cues", key).search(question):
            return key
    return None


def _variant_values(details: dict[str, Any], key: str) -> list[str]:
    seen: list[str] = []
    for variant in details.get("variants", []):
        for k, v in variant.items():
            if k != "sku" and key in k.casefold() and v not in seen:
                seen.append(v)
    return seen


def _own_attribute(details: dict[str, Any], key: str) -> tuple[str, str] | None:
    for k, v in details.get("attributes", {}).items():
        if key in k.casefold():
            return k, v
    return None


def question_stems(question: str, product: ProductRef) -> set[str]:
    """The question's meaning words, without the product's own name and brand words."""
    named = content_stems(f"{product.name} {product.brand}")
    cue_words = content_stems(" ".join(lists()["yes_no_starts"]))
    asked = content_stems(question) - named - cue_words
    if asked:
        return asked
    # the question's words are all in the name ("is the X washable cover washable?"): what
    # is asked comes last
    tail = [w for w in words(question) if content_stems(w) - cue_words][-2:]
    return content_stems(" ".join(tail)) - content_stems(product.brand)


def _overlap(asked: set[str], text: str) -> tuple[float, float]:
    """(exact share of asked stems in text, share including 5-letter prefix matches)."""
    if not asked:
        return 0.0, 0.0
    have = content_stems(text)
    exact = sum(a in have for a in asked)
    near = sum(a in have or any(a[:5] == h[:5] and len(a) > 4 for h in have) for a in asked)
    return exact / len(asked), near / len(asked)


def answer_attribute(
    question: str, product: ProductRef, details: dict[str, Any], *, color: str | None = None
) -> AttributeAnswer:
    """The attribute the question asks about, from ``details`` (a get_product_details result)."""
    yes_no = is_yes_no(question)
    cue = _cue(question)

    def answer(attribute: str, value: str | None, **kw: Any) -> AttributeAnswer:
        return AttributeAnswer(product=product, attribute=attribute, value=value, **kw)

    if cue == "brand":
        return answer("brand", details["brand"])
    if cue == "final_sale":
        return answer("final sale", "final sale", verdict="yes" if details["final_sale"] else "no")
    if cue in {"color", "size"} or (color and yes_no):
        key = cue or "color"
        values = _variant_values(details, key)
        own = _own_attribute(details, key)
        if own and not values:
            values = [own[1]]
        if values:
            value = ", ".join(values)
            if yes_no and color:
                hit = [v for v in values if color.casefold() in v.casefold()]
                return answer(key, hit[0] if hit else value, verdict="yes" if hit else "no")
            return answer(key, value)
    if cue in {"material", "warranty"} and (own := _own_attribute(details, cue)):
        return answer(own[0], own[1], verdict="yes" if yes_no else None)
    asked = question_stems(question, product)
    for key, value in details.get("attributes", {}).items():
        named = content_stems(key)
        if asked and (asked <= content_stems(f"{key} {value}") or (named and named <= asked)):
            return answer(key, value, verdict="yes" if yes_no else None)
    best, best_score = None, (0.0, 0.0)
    for sentence in [details["name"] + ".", *sentences(details.get("description", ""))]:
        score = _overlap(asked, sentence)
        if score > best_score:
            best, best_score = sentence, score
    attribute = cue or " ".join(w for w in words(question) if stem(w) in asked) or "that"
    if best and best_score[0] == 1.0:
        verdict = ("no" if negated(best) else "yes") if yes_no else None
        return answer(attribute, best, verdict=verdict, evidence=best)
    return answer(attribute, None, evidence=best if best_score[1] > 0 else None)


def _list_items(sentence: str) -> list[str]:
    """Items of a "Highlights: a, b and c." sentence (empty when it is not such a list)."""
    found = _LIST_INTRO.match(sentence.strip())
    if not found:
        return []
    parts = [p.strip(" .") for p in _LIST_COMMA.split(found.group(2))]
    if parts and " and " in parts[-1] and not parts[-1].startswith("and "):
        parts[-1:] = parts[-1].split(" and ", 1)  # "a, b and c": the first "and" ends the list
    parts = [re.sub(r"^and\s+", "", p) for p in parts]
    return [p for p in parts if 2 <= len(p) <= 60]


def features(
    details: dict[str, Any], product: ProductRef, need: str = "", limit: int = 3
) -> Features:
    """2-3 features of the product, the most relevant to ``need`` first.

    Candidates are the items of the description's feature lists, the product's attributes
    and the description's other sentences; the ranking is by overlap with the need, then by
    kind (list items and attributes are concrete; loose sentences come last).
    """
    asked = content_stems(need) - content_stems(f"{product.name} {product.brand}")
    candidates: list[tuple[float, int, str]] = []
    for sentence in sentences(details.get("description", "")):
        items = _list_items(sentence)
        for item in items:
            candidates.append((_overlap(asked, item)[1], 2, item))
        score = _overlap(asked, sentence)[1]
        if not items and score > 0:  # loose sentences only when they speak to the need
            candidates.append((score, 0, sentence))
    for key, value in details.get("attributes", {}).items():
        candidates.append((_overlap(asked, f"{key} {value}")[1], 1, f"{key}: {value}"))
    if len(candidates) < 2:  # no feature list and few attributes: the listing's own opening
        said = {c[2] for c in candidates}
        opening = [x for x in sentences(details.get("description", "")) if x not in said]
        candidates += [(0.0, -1, x) for x in opening[: 2 - len(candidates)]]
    ranked = sorted(enumerate(candidates), key=lambda p: (-p[1][0], -p[1][1], p[0]))
    chosen = [c[2] for _, c in ranked[:limit]]
    keys = list(details.get("attributes", {}))
    return Features(product=product, features=chosen, need=need, attributes=keys)


def compared_features(
    details: dict[str, dict[str, Any]], refs: list[ProductRef], need: str
) -> list[Features]:
    """Two features of each compared product (``details`` by product id), the most relevant
    to the shopper's need; a feature both share ("color: Black") sets neither apart and is
    left out, unless the product has nothing else."""
    found = [features(details[r.product_id], r, need, 4) for r in refs if r.product_id in details]
    shared = set.intersection(*(set(f.features) for f in found)) if len(found) > 1 else set()
    return [
        c.model_copy(
            update={"features": ([f for f in c.features if f not in shared] or c.features)[:2]}
        )
        for c in found
    ]
