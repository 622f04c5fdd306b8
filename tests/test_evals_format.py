"""Dialog files: the built-in suite is valid and complete; bad files fail with a location."""

from __future__ import annotations

from pathlib import Path

import pytest
from shopagent.agent.understanding.intents import INTENTS
from shopagent.evals.entities import StoreIndex
from shopagent.evals.loader import DialogFormatError, discover, parse_file, parse_files, resolve
from shopagent.evals.store import StoreSpec
from shopagent.tools.store.db import StoreDB


@pytest.fixture(scope="module")
def builtin():
    return parse_files(discover(None))


def _expected_intents(dialogs) -> set[str]:
    found = set()
    for d in dialogs:
        for turn in d.dialog.turns:
            intent = turn.expect.intent
            found.update([intent] if isinstance(intent, str) else intent or [])
            found.update(turn.expect.intents or [])
    return found


def test_builtin_suite_is_large_and_covers_every_intent(builtin) -> None:
    assert len(builtin) >= 80
    assert _expected_intents(builtin) == set(INTENTS)
    tags = {t for d in builtin for t in d.dialog.tags}
    for needed in ("multi_turn", "clarify", "final_sale", "cross_customer", "injection", "faults"):
        assert needed in tags
    assert any(d.dialog.expect_store for d in builtin)


def test_every_builtin_dialog_resolves_against_the_eval_store(builtin) -> None:
    spec = StoreSpec()
    db = StoreDB.in_memory(spec.generate())
    index = StoreIndex.from_db(db, spec.today)
    resolved = [resolve(d, index) for d in builtin]
    text = " ".join(t.user for d in resolved for t in d.dialog.turns)
    assert "{" not in text.replace("{{", "")  # every placeholder was substituted
    returns = next(d for d in resolved if d.id == "return-in-window-confirmed")
    order = index.orders[returns.bindings["o"]["number"]]
    assert order["within_window"] and order["items"] == 1
    assert returns.dialog.fixtures.customer == order["email"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


def test_error_names_file_dialog_turn_and_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
dialogs:
  - id: broken-one
    turns:
      - user: hi
      - user: hello
        expect: {intent: shopping}
""",
    )
    with pytest.raises(DialogFormatError) as info:
        parse_file(path)
    message = str(info.value)
    assert str(path) in message and "'broken-one'" in message
    assert "turn 2: expect.intent" in message and "unknown intent" in message


def test_unknown_keys_and_bad_tool_modes_are_errors(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
dialogs:
  - id: typo
    turns:
      - user: hi
        expect: {intnet: greeting}
  """,
    )
    with pytest.raises(DialogFormatError, match=r"turn 1: expect\.intnet: Extra inputs"):
        parse_file(path)
    path = _write(
        tmp_path,
        """
dialogs:
  - id: mode
    turns:
      - user: hi
        expect: {tools: {mode: fuzzy, calls: [a]}}
""",
    )
    with pytest.raises(DialogFormatError, match=r"tools\.mode"):
        parse_file(path)


def test_tool_short_forms() -> None:
    from shopagent.evals.format import ToolsExpect

    none = ToolsExpect.model_validate([])
    assert none.mode == "strict" and none.calls == []
    some = ToolsExpect.model_validate(["search_products", {"name": "x", "args": {"a": 1}}])
    assert some.mode == "subset" and [c.name for c in some.calls] == ["search_products", "x"]


def test_duplicate_ids_and_unknown_suites(tmp_path: Path) -> None:
    one = tmp_path / "a.yaml"
    one.write_text("dialogs:\n  - id: same\n    turns: [{user: hi}]\n")
    two = tmp_path / "b.yaml"
    two.write_text("dialogs:\n  - id: same\n    turns: [{user: hello}]\n")
    with pytest.raises(DialogFormatError, match="also defined"):
        parse_files([one, two])
    with pytest.raises(DialogFormatError, match="unknown suite"):
        discover(["no-such-suite"])
    assert discover([str(tmp_path)]) == [one, two]
    assert [d.id for d in parse_files([one], ["sa*"])] == ["same"]


def test_unresolvable_variable_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
dialogs:
  - id: no-match
    vars: {p: "product: category=Spaceships"}
    turns: [{user: "how much is the {p.name}?"}]
""",
    )
    (loaded,) = parse_file(path)
    spec = StoreSpec(n_products=30, n_customers=5, n_orders=10)
    index = StoreIndex.from_db(StoreDB.in_memory(spec.generate()), spec.today)
    with pytest.raises(DialogFormatError, match="no product in the eval store matches"):
        resolve(loaded, index)
