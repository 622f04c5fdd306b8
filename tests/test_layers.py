"""The architecture as a contract: layers import downward only, rooms of one layer are
independent, production code never imports test fakes, and every package folder is packaged.

import-linter cannot see this project (its folders are mapped under the ``shopagent``
namespace by setuptools' package-dir, and grimp walks only the physical ``shopagent/``
folder), so the contract reads every import statement with :mod:`ast` instead: imports inside
functions and ``TYPE_CHECKING`` blocks count too.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FOLDERS = {
    "shopagent": "shopagent",
    "agent": "shopagent.agent",
    "tools": "shopagent.tools",
    "evals": "shopagent.evals",
    "prompts": "shopagent.prompts",
}

LAYERS: list[set[str]] = [  # top to bottom: a room imports its own layer's rooms never,
    # lower layers' rooms freely, higher layers' rooms never.
    {"shopagent.evals", "shopagent.agent.cli", "shopagent.agent.server", "shopagent.agent.mcp"},
    {"shopagent.agent.service"},
    {"shopagent.agent.graph"},
    {"shopagent.agent.understanding", "shopagent.agent.safety"},
    {"shopagent.agent.answering"},
    {"shopagent.agent.models", "shopagent.agent.records", "shopagent.agent"},
    {"shopagent.tools", "shopagent.prompts"},
    {"shopagent.settings", "shopagent.errors", "shopagent"},
]

ALLOWED: dict[tuple[str, str], str] = {
    # (importing module, imported module): why the exception is sound
    ("shopagent.agent.server.cli", "shopagent.agent.cli.common"): (
        "command groups share the CLI's error display (every group shows errors alike)"
    ),
    ("shopagent.evals.cli", "shopagent.agent.cli.common"): (
        "command groups share the CLI's error display (every group shows errors alike)"
    ),
}

FORBIDDEN: list[tuple[str, str, str]] = [
    # (importer prefix, imported prefix, why)
    ("shopagent.agent", "shopagent.agent.models.scripted", "production code never imports fakes"),
    ("shopagent.tools", "shopagent.agent", "tools get values, never the agent"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([FOLDERS[parts[0]], *parts[1:]])


def room(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 2 and parts[1] == "agent":
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def layer_of(module: str) -> int:
    for index, rooms in enumerate(LAYERS):
        if room(module) in rooms:
            return index
    raise AssertionError(f"{module} is in no layer: add its room to LAYERS in {__file__}")


def imports() -> list[tuple[str, str, str]]:
    """``(importer, imported, file:line)`` for every import of a ShopAgent module."""
    found = []
    for folder in FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            importer = module_name(path)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                else:
                    continue
                where = f"{path.relative_to(REPO)}:{node.lineno}"
                found += [(importer, n, where) for n in names if n.split(".")[0] == "shopagent"]
    return found


def test_the_contract_sees_the_code() -> None:
    """A contract that reads nothing passes everything: it must see hundreds of imports."""
    found = imports()
    assert len(found) > 300
    assert any(i == "shopagent.agent.graph.build" for i, _, _ in found)


def test_layers_import_downward_only() -> None:
    wrong = []
    for importer, imported, where in imports():
        if room(importer) == room(imported) or (importer, imported) in ALLOWED:
            continue
        if layer_of(importer) >= layer_of(imported):
            wrong.append(f"{where}: {importer} imports {imported}")
    assert not wrong, "imports that go up or sideways:\n" + "\n".join(wrong)


@pytest.mark.parametrize(("importer_prefix", "imported_prefix", "why"), FORBIDDEN)
def test_forbidden_imports(importer_prefix: str, imported_prefix: str, why: str) -> None:
    wrong = [
        f"{where}: {importer} imports {imported}"
        for importer, imported, where in imports()
        if (importer + ".").startswith(importer_prefix + ".")
        and (imported + ".").startswith(imported_prefix + ".")
        and not (importer + ".").startswith(imported_prefix + ".")
    ]
    assert not wrong, f"{why}:\n" + "\n".join(wrong)


def test_the_contract_catches_an_upward_import() -> None:
    """The rule itself: tools importing the graph, or the graph importing the CLI, is wrong."""
    assert layer_of("shopagent.tools.catalog") > layer_of("shopagent.agent.graph.build")
    assert layer_of("shopagent.agent.graph.build") > layer_of("shopagent.agent.cli.main")
    assert layer_of("shopagent.agent.cli.main") == layer_of("shopagent.evals.cli")


def test_every_package_folder_is_packaged() -> None:
    """pyproject lists packages explicitly (package-dir mapping): a new room must be listed."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        module_name(init)
        for folder in FOLDERS
        for init in (REPO / folder).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - on_disk == set(), "these packages in pyproject.toml have no folder"


def test_no_python_file_over_400_lines() -> None:
    roots = [*FOLDERS, "tests", "benchmarks"]
    long = {
        str(path.relative_to(REPO)): n
        for folder in roots
        for path in (REPO / folder).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert not long, f"split these files (at most 400 lines each): {long}"
