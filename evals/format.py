"""The dialog format: what a YAML file under ``evals/dialogs/`` may say (docs/evals.md).

A file holds a list of dialogs. A dialog has fixtures (clock, authenticated customer,
inventory faults, store overrides), named entity variables resolved from the eval store
(``vars``), turns (a user message plus expectations) and checks of the store after the
dialog (``expect_store``). Every model forbids unknown fields, so a misspelt key is an
error that names the file, the dialog and the turn.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from shopagent.agent.understanding.intents import INTENTS
from shopagent.agent.understanding.slots import Slots

ToolMatchMode = Literal["strict", "subset", "unordered"]
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DIALOG_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToolCallExpect(_Model):
    """One expected tool call: its name and (optionally) arguments and outcome."""

    name: str = Field(min_length=1)
    args: dict[str, Any] | None = Field(
        None, description="Expected arguments; None accepts any. See docs/evals.md for matching."
    )
    ok: bool | None = Field(None, description="Whether the call must succeed (or fail).")


class ToolsExpect(_Model):
    """The tool calls of a turn and how to match them against the actual calls.

    * ``strict``: exactly these calls, in this order, with exactly these arguments.
    * ``unordered``: exactly these calls in any order (no extra calls); arguments are
      matched on the keys given.
    * ``subset``: at least these calls, in any order; extra calls are allowed.

    ``forbid`` names tools that must not be called at all (in any mode).
    """

    mode: ToolMatchMode = "subset"
    calls: list[ToolCallExpect] = Field(default_factory=list)
    forbid: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        # ``tools: [a, b]`` is subset mode over those names; ``tools: []`` means no calls.
        if isinstance(value, list):
            if not value:
                return {"mode": "strict", "calls": []}
            return {"mode": "subset", "calls": value}
        return value

    @field_validator("calls", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value


class ContainsAny(_Model):
    """Any one of several phrasings counts (e.g. ``{any: ["in stock", "available"]}``)."""

    any: list[str] = Field(min_length=1)


Phrase = str | ContainsAny


class TurnExpect(_Model):
    """What must be true of one answered turn. Unset fields are not checked."""

    intent: str | list[str] | None = Field(None, description="The intent, or any of several.")
    intents: list[str] | None = Field(
        None, description="Every one of these intents must be among the turn's intents."
    )
    tools: ToolsExpect | None = None
    slots: dict[str, Any] | None = Field(
        None, description="Slot values (null/false: the slot must be absent)."
    )
    contains: list[Phrase] = Field(
        default_factory=list, description="Facts the answer must state (case-insensitive)."
    )
    not_contains: list[str] = Field(
        default_factory=list, description="Text the answer must not contain (case-insensitive)."
    )
    clarify: bool | None = Field(
        False,
        description="Whether a clarifying question is expected (null: either is fine).",
    )
    handoff: bool | None = Field(None, description="Whether a human handoff is expected.")
    confirmation: bool | dict[str, Any] | None = Field(
        None, description="Whether the turn must wait for a yes/no (payload keys to match)."
    )
    answer_source: str | list[str] | None = Field(
        None, description="model / template / clarify / confirm (prefix match)."
    )
    grounded_prices: bool = Field(
        True, description="Every money amount in the answer must come from tool results."
    )
    language: str | None = Field(
        None,
        description="The language the reply is written in (en, es, zh: a served language of "
        "agent/data/languages.yaml).",
        pattern=r"^[a-z]{2,3}$",
    )

    @field_validator("intent", "intents", mode="after")
    @classmethod
    def _known_intents(cls, value: str | list[str] | None) -> str | list[str] | None:
        names = [value] if isinstance(value, str) else (value or [])
        unknown = [n for n in names if n not in INTENTS]
        if unknown:
            raise ValueError(f"unknown intent(s) {unknown}; known: {', '.join(INTENTS)}")
        return value

    @field_validator("slots", mode="after")
    @classmethod
    def _known_slots(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        unknown = sorted(set(value or {}) - set(Slots.model_fields))
        if unknown:
            raise ValueError(f"unknown slot(s) {unknown}; known: {', '.join(Slots.model_fields)}")
        return value


class Turn(_Model):
    """One user message and what the assistant's answer must satisfy.

    ``customer`` (when given) replaces the dialog's authenticated customer for this turn:
    an email, or ``null`` for an anonymous shopper (a shared or hijacked thread).
    """

    user: str = Field(min_length=1, max_length=4000)
    customer: str | None = Field(
        None, description="Host-authenticated customer for this turn only (null: anonymous)."
    )
    expect: TurnExpect = Field(default_factory=TurnExpect)

    def customer_for(self, default: str | None) -> str | None:
        """This turn's authenticated customer: its own ``customer`` if set, else ``default``."""
        return self.customer if "customer" in self.model_fields_set else default


class ProductOverride(_Model):
    """New text for one product of the dialog's store copy (e.g. a hostile description)."""

    description: str | None = Field(None, max_length=10_000)
    attributes: dict[str, str] | None = Field(None, description="Replaces every attribute.")


class StoreOverrides(_Model):
    """Changes applied to the dialog's private copy of the store before it starts."""

    stock: dict[str, int] = Field(default_factory=dict, description="SKU -> units on hand.")
    price: dict[str, str] = Field(default_factory=dict, description="SKU -> price (decimal).")
    products: dict[str, ProductOverride] = Field(
        default_factory=dict, description="Product id -> new description / attributes."
    )
    policy_docs: dict[str, str] = Field(
        default_factory=dict,
        description="Policy document name -> markdown (replaces that document or adds one).",
    )

    def planted_text(self) -> str:
        """Every product and policy text this dialog plants (public shop text)."""
        parts = [*self.policy_docs.values()]
        for change in self.products.values():
            parts += [change.description or "", *(change.attributes or {}).values()]
        return "\n".join(p for p in parts if p)

    @field_validator("stock", mode="after")
    @classmethod
    def _non_negative(cls, value: dict[str, int]) -> dict[str, int]:
        bad = {k: v for k, v in value.items() if v < 0}
        if bad:
            raise ValueError(f"stock must be >= 0: {bad}")
        return value


class InventoryFaults(_Model):
    """Faults injected into the inventory API (fields of
    ``shopagent.tools.inventory_api.FaultConfig``)."""

    latency_s: float = Field(0.0, ge=0)
    fail_first_n: int = Field(0, ge=0)
    fail_rate: float = Field(0.0, ge=0, le=1)
    drop_rate: float = Field(0.0, ge=0, le=1)
    status: int = Field(503, ge=400, le=599)
    retry_after_s: float | None = Field(0.05, ge=0)
    seed: int = 0


class Fixtures(_Model):
    """The world a dialog runs in."""

    clock: str | None = Field(None, description="ISO date-time; default: the store's today.")
    customer: str | None = Field(
        None, description="Email of the host-authenticated customer; null: anonymous."
    )
    inventory: InventoryFaults | None = None
    store: StoreOverrides = Field(default_factory=StoreOverrides)


class StoreCheck(_Model):
    """A check of the dialog's store copy after the last turn.

    Rows of ``table`` matching ``where`` (column = value) are selected; ``count`` checks how
    many there are; ``values`` checks columns of every selected row (at least one needed).
    """

    table: str
    where: dict[str, Any] = Field(default_factory=dict)
    count: int | None = Field(None, ge=0)
    values: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _identifiers(self) -> StoreCheck:
        for name in [self.table, *self.where, *self.values]:
            if not _IDENT.match(name):
                raise ValueError(f"{name!r} is not a table or column name")
        if self.count is None and not self.values:
            raise ValueError("a store check needs `count` or `values`")
        return self


class Dialog(_Model):
    """One scripted conversation."""

    id: str = Field(description="Unique across the suite: lowercase, digits, - _ .")
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    vars: dict[str, str] = Field(
        default_factory=dict, description="Entity variables: name -> query (docs/evals.md)."
    )
    fixtures: Fixtures = Field(default_factory=Fixtures)
    turns: list[Turn] = Field(min_length=1)
    expect_store: list[StoreCheck] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _DIALOG_ID.match(value):
            raise ValueError(f"dialog id {value!r}: use lowercase letters, digits, '-', '_', '.'")
        return value

    @field_validator("vars")
    @classmethod
    def _var_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _IDENT.match(name):
                raise ValueError(f"variable name {name!r}: use letters, digits and _")
        return value


class DialogFile(_Model):
    """A YAML file of dialogs: ``dialogs: [...]`` (``suite`` defaults to the file stem)."""

    suite: str | None = None
    description: str = ""
    dialogs: list[dict[str, Any]] = Field(min_length=1)
