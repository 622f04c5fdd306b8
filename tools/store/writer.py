"""Write a store directory (the layout of docs/store-format.md) atomically.

The new store is built in a temporary directory next to the target and then swapped in, so
a failure never leaves a half-written store.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from shopagent.tools.store.files import (
    CUSTOMERS_FILE,
    ORDERS_FILE,
    POLICY_DIR,
    PRODUCTS_FILE,
    RULES_FILE,
    STOCK_FILE,
    STORE_FILE,
    gc_paused,
)
from shopagent.tools.store.schema import StoreData

from shopagent.errors import StoreFormatError

_DOC_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def write_store(data: StoreData, directory: Path) -> None:
    """Write ``data`` to ``directory`` atomically, replacing any store already there.

    The files are written into a temporary directory beside ``directory`` and swapped in
    with renames, so a failure never leaves a half-written store. Refuses to replace a
    non-empty directory that is not a store (has no ``store.yaml``).
    """
    directory = Path(directory)
    _check_replaceable(directory)
    _check_doc_names(data.policy_docs)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        with gc_paused():
            _write_files(data, staging)
        mode = directory.stat().st_mode & 0o777 if directory.exists() else 0o755
        staging.chmod(mode)
        _swap_in(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _check_replaceable(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise StoreFormatError(f"{directory} exists and is not a directory")
    if directory.is_dir() and any(directory.iterdir()) and not (directory / STORE_FILE).exists():
        raise StoreFormatError(
            f"refusing to replace {directory}: it is not empty and has no {STORE_FILE}"
        )


def _check_doc_names(docs: dict[str, str]) -> None:
    for stem in docs:
        if not _DOC_STEM.fullmatch(stem):
            raise StoreFormatError(
                f"invalid policy document name {stem!r} (letters, digits, '.', '_', '-')",
                file=POLICY_DIR,
            )


def _swap_in(staging: Path, directory: Path) -> None:
    """Rename ``staging`` to ``directory``; an old store is moved aside, then deleted."""
    if not directory.exists():
        staging.rename(directory)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old.", dir=directory.parent))
    old = trash / directory.name
    directory.rename(old)
    try:
        staging.rename(directory)
    except BaseException:
        old.rename(directory)
        raise
    shutil.rmtree(trash, ignore_errors=True)


def _write_files(data: StoreData, root: Path) -> None:
    _write(root / STORE_FILE, _yaml_text(data.info.model_dump(mode="json", exclude_none=True)))
    _write_jsonl(root / PRODUCTS_FILE, data.products)
    _write_jsonl(root / STOCK_FILE, data.stock)
    _write_jsonl(root / CUSTOMERS_FILE, data.customers)
    _write_jsonl(root / ORDERS_FILE, data.orders)
    (root / POLICY_DIR).mkdir()
    rules = "# Return rules; see docs/store-format.md.\n" + _yaml_text(
        _yaml_ready(data.policy.model_dump())
    )
    _write(root / RULES_FILE, rules)
    for stem, text in data.policy_docs.items():
        _write(root / POLICY_DIR / f"{stem}.md", text)


def _write(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _write_jsonl(path: Path, records: Iterable[BaseModel]) -> None:
    _write(path, "".join(_record_json(record) + "\n" for record in records))


def _record_json(record: BaseModel) -> str:
    """One record as a JSON object: Decimals as numbers with two decimals, dates in ISO.

    Plain fields go through one ``json.dumps``; Decimals and nested records are appended.
    """
    plain: dict[str, Any] = {}
    special: list[str] = []
    for name, value in record.__dict__.items():
        if value is None:
            continue
        if isinstance(value, Decimal):
            special.append(f'"{name}": {value:.2f}')
        elif isinstance(value, BaseModel):
            special.append(f'"{name}": {_record_json(value)}')
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            special.append(f'"{name}": [' + ", ".join(map(_record_json, value)) + "]")
        else:
            plain[name] = value
    head = _ENCODER.encode(plain)
    if not special:
        return head
    return head[:-1] + (", " if plain else "") + ", ".join(special) + "}"


def _json_default(value: Any) -> Any:
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_json_default)


def _yaml_text(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _yaml_ready(value: Any) -> Any:
    """Decimals as plain YAML numbers (15, 12.5)."""
    if isinstance(value, dict):
        return {k: _yaml_ready(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
