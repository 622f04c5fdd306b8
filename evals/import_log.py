"""``eval import-log FILE.csv``: logged conversations -> dialog skeletons to annotate.

The CSV needs a conversation column (``conversation_id``, ``conversation``, ``thread_id``,
``session_id`` or ``dialog_id``) and a text column (``message``, ``text``, ``content`` or
``utterance``). With a role column (``role``, ``speaker``, ``author`` or ``sender``) only the
shopper's rows are kept (``user``, ``customer``, ``shopper``, ``human``, ``client``); a
timestamp column (``timestamp``, ``time``, ``created_at``) orders the turns, else file order.

Real customer data never reaches the suite: emails, order numbers and zip codes are replaced
by entity variables of the eval store (``{c1.email}``, ``{o1.number}``, ``{c1.zip}``), so the
skeleton runs as soon as it is annotated. Each dialog is tagged ``imported`` and ``todo``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml
from shopagent.evals.format import Dialog

from shopagent.errors import ConfigError

CONVERSATION_COLUMNS = ("conversation_id", "conversation", "thread_id", "session_id", "dialog_id")
TEXT_COLUMNS = ("message", "text", "content", "utterance")
ROLE_COLUMNS = ("role", "speaker", "author", "sender")
TIME_COLUMNS = ("timestamp", "time", "created_at")
USER_ROLES = frozenset({"user", "customer", "shopper", "human", "client"})
MAX_CHARS = 4000

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_ORDER = re.compile(r"\b[A-Za-z]{2,4}-?\d{4,10}\b")
_ZIP = re.compile(
    r"(\b(?:zip(?:\s*code)?|postcode|postal code)\s*(?:is|:)?\s*)(\d{5}(?:-\d{4})?)\b", re.I
)


@dataclass
class ImportStats:
    """What an import produced."""

    conversations: int
    turns: int
    skipped_rows: int


def _column(header: list[str], names: tuple[str, ...], required: bool, path: Path) -> str | None:
    lowered = {h.strip().casefold(): h for h in header}
    for name in names:
        if name in lowered:
            return lowered[name]
    if required:
        raise ConfigError(
            f"{path}: no {names[0]} column (found: {', '.join(header)})",
            hint=f"name the column one of: {', '.join(names)}",
        )
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "x"


class _Anonymizer:
    """Replaces one conversation's identifiers with entity variables."""

    def __init__(self) -> None:
        self.emails: dict[str, str] = {}
        self.orders: dict[str, str] = {}

    @property
    def vars(self) -> dict[str, str]:
        """Customers first, then orders (owned by the first customer, if any)."""
        out = {name: "customer" for name in self.emails.values()}
        owner = next(iter(self.emails.values()), None)
        for name in self.orders.values():
            out[name] = f"order: owner={owner}" if owner else "order"
        return out

    def customer(self, email: str) -> str:
        return self.emails.setdefault(email.casefold(), f"c{len(self.emails) + 1}")

    def _order(self, number: str) -> str:
        key = number.upper().replace("-", "")
        return self.orders.setdefault(key, f"o{len(self.orders) + 1}")

    def __call__(self, text: str) -> str:
        for email in _EMAIL.findall(text):
            self.customer(email)
        text = _EMAIL.sub(lambda m: "{" + self.customer(m.group(0)) + ".email}", text)
        text = _ORDER.sub(lambda m: "{" + self._order(m.group(0)) + ".number}", text)
        if _ZIP.search(text):
            first = next(iter(self.emails.values()), None) or self.customer("(zip)")
            text = _ZIP.sub(lambda m: m.group(1) + "{" + first + ".zip}", text)
        return text


def read_conversations(path: Path) -> tuple[dict[str, list[str]], int]:
    """User messages per conversation, in order, plus the number of rows skipped."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    try:
        return _read_rows(handle, path)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{path} is not a UTF-8 CSV file: {exc}") from None


def _read_rows(handle: TextIO, path: Path) -> tuple[dict[str, list[str]], int]:
    with handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        conv = _column(header, CONVERSATION_COLUMNS, True, path)
        text = _column(header, TEXT_COLUMNS, True, path)
        role = _column(header, ROLE_COLUMNS, False, path)
        stamp = _column(header, TIME_COLUMNS, False, path)
        rows: dict[str, list[tuple[str, int, str]]] = {}
        skipped = 0
        for number, row in enumerate(reader):
            message = (row.get(text) or "").strip()
            who = (row.get(role) or "user").strip().casefold() if role else "user"
            if not message or who not in USER_ROLES:
                skipped += 1
                continue
            key = (row.get(conv) or "").strip() or "unknown"
            rows.setdefault(key, []).append(
                ((row.get(stamp) or "") if stamp else "", number, message)
            )
    return {k: [m for _, _, m in sorted(v)] for k, v in rows.items()}, skipped


def skeletons(
    conversations: dict[str, list[str]],
    *,
    source: str,
    prefix: str,
    guess_intent: Callable[[str], str] | None = None,
) -> list[dict[str, Any]]:
    """One dialog skeleton per conversation (validated against the dialog format)."""
    out = []
    for conv_id, messages in conversations.items():
        anonymize = _Anonymizer()
        for message in messages:  # customers first, so orders and zips can refer to them
            for email in _EMAIL.findall(message):
                anonymize.customer(email)
        turns = []
        for message in messages:
            expect: dict[str, Any] = {}
            if guess_intent is not None:
                expect["intent"] = guess_intent(message)
            turns.append({"user": anonymize(message)[:MAX_CHARS], "expect": expect})
        dialog: dict[str, Any] = {
            "id": f"{prefix}-{_slug(conv_id)}",
            "description": f"Imported from {source}, conversation {conv_id}. TODO: annotate.",
            "tags": ["imported", "todo"],
        }
        if anonymize.vars:
            dialog["vars"] = anonymize.vars
        dialog["turns"] = turns
        Dialog.model_validate(dialog)
        out.append(dialog)
    return out


def import_log(
    path: Path,
    *,
    prefix: str | None = None,
    guess_intent: Callable[[str], str] | None = None,
) -> tuple[str, ImportStats]:
    """The YAML text of a dialog file built from the CSV log at ``path``."""
    conversations, skipped = read_conversations(path)
    if not conversations:
        raise ConfigError(f"{path}: no user messages found", hint="check the role and text columns")
    dialogs = skeletons(
        conversations,
        source=path.name,
        prefix=_slug(prefix or path.stem),
        guess_intent=guess_intent,
    )
    header = (
        f"# Dialog skeletons imported from {path.name}: annotate each turn's `expect`\n"
        "# (see docs/evals.md), then drop the `todo` tag.\n"
    )
    text = header + yaml.safe_dump(
        {"suite": _slug(prefix or path.stem), "dialogs": dialogs},
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    stats = ImportStats(
        conversations=len(dialogs),
        turns=sum(len(d["turns"]) for d in dialogs),
        skipped_rows=skipped,
    )
    return text, stats
