"""Every ``shopagent`` command printed in the docs parses with the real CLI, and the ones that
neither block nor need a model run as printed on a temporary home.

Placeholders in the docs (``<product name>``, ``path/to/my-store``) are arguments, so they
parse like any value; a renamed option or a missing argument fails here.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
from shopagent.agent.cli.main import app
from typer._click.exceptions import UsageError  # typer vendors click (typer._click)
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
DOCS = ["README.md", "agent/server/README.md", "docs/evals.md", "docs/store-format.md"]
FENCE = re.compile(r"```(?:bash|sh|console)?\n(.*?)```", re.S)


def commands(doc: str) -> list[list[str]]:
    """The ``shopagent ...`` command lines of a markdown file's code blocks (comments cut)."""
    found = []
    for block in FENCE.findall((REPO / doc).read_text(encoding="utf-8")):
        for line in block.splitlines():
            if line.startswith("shopagent "):
                found.append(shlex.split(line, comments=True)[1:])
    return found


def parse(argv: list[str]) -> Any:
    """Parse ``argv`` down to the command it names, exactly as the CLI would; raises the
    CLI's usage errors (unknown option, missing argument) without running anything."""
    command: Any = typer.main.get_command(app)
    name, rest, parent = "shopagent", list(argv), None
    while hasattr(command, "list_commands"):  # a group: descend by the next word
        parent = command.make_context(name, list(rest), parent=parent, resilient_parsing=True)
        assert rest and not rest[0].startswith("-"), f"no command after {name!r}"
        name, rest = rest[0], rest[1:]
        command = command.get_command(parent, name)
        assert command is not None, f"no command {name!r}"
    command.make_context(name, rest, parent=parent)
    return command


ALL = [(doc, argv) for doc in DOCS for argv in commands(doc)]


def test_the_docs_have_commands() -> None:
    """A regex that finds nothing would pass everything."""
    readme = [argv for doc, argv in ALL if doc == "README.md"]
    assert len(readme) >= 12
    assert ["doctor"] in readme


@pytest.mark.parametrize(("doc", "argv"), ALL, ids=[f"{d}:{' '.join(a)}" for d, a in ALL])
def test_every_documented_command_parses(doc: str, argv: list[str]) -> None:
    try:
        parse(argv)
    except UsageError as exc:
        pytest.fail(f"{doc}: `shopagent {' '.join(argv)}` does not parse: {exc.format_message()}")


def test_no_documented_command_expands_in_the_shell() -> None:
    """``"under $30"`` in double quotes becomes "under 0" in bash: use single quotes."""
    expanding = [
        line
        for doc in DOCS
        for block in FENCE.findall((REPO / doc).read_text(encoding="utf-8"))
        for line in block.splitlines()
        if line.startswith("shopagent ") and re.search(r'"[^"]*\$[^"]*"', line)
    ]
    assert not expanding, expanding


def test_parse_catches_a_wrong_command() -> None:
    with pytest.raises(UsageError):
        parse(["keys", "create", "--name", "my-shop"])
    with pytest.raises(UsageError):
        parse(["ask"])
    with pytest.raises(AssertionError):
        parse(["keyz", "list"])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from shopagent.settings import get_settings

    monkeypatch.setenv("SHOPAGENT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SHOPAGENT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def test_readme_commands_that_run_as_printed(home: Path) -> None:
    """``keys create`` and ``doctor`` from the README, run for real on an empty home."""
    runner = CliRunner()
    readme = commands("README.md")
    keys = next(argv for argv in readme if argv[:2] == ["keys", "create"])
    created = runner.invoke(app, keys)
    assert created.exit_code == 0, created.output
    assert "sa_" in created.output
    listed = runner.invoke(app, ["keys", "list"])
    assert keys[-1] in listed.output

    doctor = runner.invoke(app, next(argv for argv in readme if argv == ["doctor"]))
    assert "shopagent store demo" in doctor.output  # an empty home says how to fix it


def test_ask_json_fails_with_json(home: Path) -> None:
    """``ask --json`` prints ``{error, hint}`` on its last line when it fails (exit 2)."""
    result = CliRunner().invoke(app, ["ask", "--json", "is it in stock?"])
    assert result.exit_code == 2
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert "no store database" in last["error"]
    assert "shopagent store demo" in last["hint"]

    empty = CliRunner().invoke(app, ["ask", "--json", "   "])
    assert empty.exit_code == 2
    assert set(json.loads(empty.stdout.strip().splitlines()[-1])) == {"error", "hint"}


def test_readme_lists_every_answer_source() -> None:
    from typing import get_args

    from shopagent.agent.records import AnswerSource

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [value for value in get_args(AnswerSource) if f"| `{value}` |" not in readme]
    assert not missing, f"README's answer_source table lacks {missing}"
