"""What the importer fuzz suites run against: an import target and a store-directory target
that attempt one case, check the all-or-nothing outcome, and their module-scoped fixtures."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from factories import tiny_store
from fuzz_common import Outcome, deep_json, hostile_text
from fuzz_importer_common import RAW_MAPPINGS, csv_files, json_cells, jsonl_files
from hypothesis import strategies as st
from shopagent.tools.store import files, writer
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.importer import import_catalog

from shopagent.errors import StoreFormatError

# --------------------------------------------------------------------------- harness


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (relative path -> bytes)."""
    if not directory.exists():
        return {}
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def _attempt(call: Callable[[], object]) -> Outcome:
    """Run ``call``: accepted (2xx), refused with a StoreFormatError that says why (4xx), or
    anything else (a crash)."""
    outcome = Outcome("2xx")
    try:
        call()
    except StoreFormatError as exc:
        outcome.status = "4xx"
        if not str(exc).strip():
            outcome.add("shape", "StoreFormatError without a message")
    except Exception as exc:
        outcome.status = "5xx"
        outcome.add("crash", f"{type(exc).__name__}: {exc}"[:300])
    return outcome


class ImportTarget:
    """A store directory (the tiny store) to import into, reset every ``reset_every`` inputs
    so that successful imports do not pile up."""

    def __init__(self, root: Path, reset_every: int = 100) -> None:
        self.root = root
        self.store = root / "shop" / "store"
        self.reset_every = reset_every
        self.count = 0
        self.base = tiny_store()
        self.reset()

    def reset(self) -> None:
        shutil.rmtree(self.store.parent, ignore_errors=True)
        writer.write_store(self.base, self.store)

    def run(self, case: dict[str, Any]) -> Outcome:
        """One import of hostile files; every problem in the outcome."""
        self.count += 1
        if self.count % self.reset_every == 0:
            self.reset()
        draw = case["data"].draw
        content = draw(csv_files() if case["kind"] == "csv" else jsonl_files())
        work = Path(tempfile.mkdtemp(prefix="in-", dir=self.root))
        source = work / f"catalog{case['suffix']}"
        source.write_bytes(content)
        mapping = work / "mapping.yaml"
        mapping.write_bytes(case["mapping"])
        before = snapshot(self.store)
        outcome = _attempt(
            lambda: import_catalog(
                source, mapping, self.store, fmt=case["fmt"], dry_run=case["dry_run"]
            )
        )
        after = snapshot(self.store)
        if outcome.status != "2xx" or case["dry_run"]:
            if after != before:
                outcome.add("partial_write", "the store changed though nothing was imported")
        else:
            self._check_store(outcome)
        left = [p.name for p in self.store.parent.iterdir() if p.name != self.store.name]
        if left:
            outcome.add("partial_write", f"left behind next to the store: {left}")
        shutil.rmtree(work, ignore_errors=True)
        return outcome

    def _check_store(self, outcome: Outcome) -> None:
        """After an import: the store reads back, loads, and kept everything but products."""
        try:
            data = files.read_store(self.store)
            StoreDB.in_memory(data).close()
        except Exception as exc:
            outcome.add("crash", f"imported store does not load: {exc!r}"[:300])
            return
        for part in ("customers", "orders", "policy", "policy_docs"):
            if getattr(data, part) != getattr(self.base, part):
                outcome.add("partial_write", f"the import changed the store's {part}")


# --------------------------------------------------------------------------- store dirs

STORE_FILES = [
    files.STORE_FILE,
    files.PRODUCTS_FILE,
    files.STOCK_FILE,
    files.CUSTOMERS_FILE,
    files.ORDERS_FILE,
    files.RULES_FILE,
    f"{files.POLICY_DIR}/returns.md",
]
_records = st.fixed_dictionaries(
    {},
    optional={
        k: json_cells
        for k in ("id", "sku", "name", "email", "price", "stock", "status", "variants", "items")
    },
)
store_edits = st.fixed_dictionaries(
    {
        "file": st.sampled_from(STORE_FILES),
        "edit": st.sampled_from(["replace", "line", "append", "delete", "directory", "field"]),
        "content": st.one_of(
            hostile_text.map(lambda s: s.encode("utf-8", "surrogatepass")),
            st.binary(max_size=200),
            st.integers(1, 30_000).map(lambda d: deep_json(d).encode()),
            _records.map(lambda r: json.dumps(r).encode()),
            st.sampled_from(
                [
                    b'name: "\\ud800"',
                    b"name: !!binary aGVsbG8=",
                    b"a: &a [*a]",
                    RAW_MAPPINGS[-1].encode(),
                    b"\xef\xbb\xbf" + b'{"id": "P9"}',
                    b"\x00" * 10,
                ]
            ),
        ),
        "field": st.sampled_from(["name", "email", "price", "sku", "status", "id", "currency"]),
        "value": json_cells,
    }
)


class StoreDirTarget:
    """A valid tiny store directory, with one file broken per input."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = root / "base"
        writer.write_store(tiny_store(), self.base)

    def run(self, edit: dict[str, Any]) -> Outcome:
        work = Path(tempfile.mkdtemp(prefix="dir-", dir=self.root)) / "store"
        shutil.copytree(self.base, work)
        path = work / edit["file"]
        content: bytes = edit["content"]
        if edit["edit"] == "replace":
            path.write_bytes(content)
        elif edit["edit"] == "append":
            path.write_bytes(path.read_bytes() + content)
        elif edit["edit"] == "line":
            lines = path.read_bytes().split(b"\n")
            lines[len(content) % len(lines)] = content
            path.write_bytes(b"\n".join(lines))
        elif edit["edit"] == "delete":
            path.unlink()
        elif edit["edit"] == "directory":
            path.unlink()
            path.mkdir()
        elif path.suffix == ".jsonl":  # one field of the first record gets a hostile value
            lines = path.read_text(encoding="utf-8").split("\n")
            record = json.loads(lines[0])
            record[edit["field"]] = edit["value"]
            lines[0] = json.dumps(record)
            path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
        else:
            text = (
                path.read_text(encoding="utf-8") + f"\n{edit['field']}: {json.dumps(edit['value'])}"
            )
            path.write_bytes(text.encode("utf-8", "surrogatepass"))
        outcome = _attempt(lambda: StoreDB.in_memory(files.read_store(work)).close())
        shutil.rmtree(work.parent, ignore_errors=True)
        return outcome


# --------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> ImportTarget:
    return ImportTarget(tmp_path_factory.mktemp("fuzz-import"))


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> StoreDirTarget:
    return StoreDirTarget(tmp_path_factory.mktemp("fuzz-store-dir"))
