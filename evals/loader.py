"""Finding, reading and validating dialog files, then resolving their variables.

Loading has two steps: :func:`parse_files` validates the YAML against :mod:`shopagent.evals.format`
(no store needed), :func:`resolve` binds each dialog's variables to entities of the eval store
and substitutes ``{var.field}`` everywhere. Every error names the file, the dialog id and,
where it applies, the turn (1-based) and field.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from shopagent.evals.entities import EntityError, Resolved, StoreIndex, resolve_vars, substitute
from shopagent.evals.format import Dialog, DialogFile

from shopagent.errors import ShopAgentError

BUILTIN_DIR = Path(__file__).resolve().parent / "dialogs"


class DialogFormatError(ShopAgentError):
    """A dialog file is not valid (see docs/evals.md)."""

    hint = "see docs/evals.md for the dialog format"


@dataclass
class LoadedDialog:
    """A validated dialog, where it came from, and (after resolve) its bound variables."""

    suite: str
    file: Path
    raw: dict[str, Any]
    dialog: Dialog
    bindings: Resolved = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.dialog.id


def builtin_suites() -> list[str]:
    """Names of the built-in suites (YAML file stems under ``evals/dialogs``)."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def discover(specs: list[str] | None) -> list[Path]:
    """Dialog files for suite specs: a built-in suite name, a YAML file or a directory.

    No specs: every built-in suite.
    """
    if not specs:
        return sorted(BUILTIN_DIR.glob("*.yaml"))
    files: list[Path] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                raise DialogFormatError(f"{spec}: no *.yaml dialog files in this directory")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif (BUILTIN_DIR / f"{spec}.yaml").is_file():
            files.append(BUILTIN_DIR / f"{spec}.yaml")
        else:
            raise DialogFormatError(
                f"unknown suite {spec!r}",
                hint=f"use a YAML file, a directory, or one of: {', '.join(builtin_suites())}",
            )
    return list(dict.fromkeys(files))


def _where(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    items = list(loc)
    if len(items) >= 2 and items[0] == "turns" and isinstance(items[1], int):
        parts.append(f"turn {items[1] + 1}")
        items = items[2:]
    elif len(items) >= 2 and items[0] == "expect_store" and isinstance(items[1], int):
        parts.append(f"expect_store[{items[1] + 1}]")
        items = items[2:]
    dotted = ".".join(str(i) if not isinstance(i, int) else f"[{i + 1}]" for i in items)
    if dotted:
        parts.append(dotted.replace(".[", "["))
    return ": ".join(parts)


def _validation_message(prefix: str, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False, include_input=False):  # inputs can be huge
        where = _where(tuple(error["loc"]))
        lines.append(f"{prefix}{': ' + where if where else ''}: {error['msg']}")
    return "\n".join(lines)


def parse_file(path: Path) -> list[LoadedDialog]:
    """Read and validate one dialog file (DialogFormatError on any problem)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DialogFormatError(f"{path}: not valid YAML: {exc}") from None
    except RecursionError:  # the YAML composer recurses once per level of nesting
        raise DialogFormatError(f"{path}: nested too deeply to be a dialog file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DialogFormatError(f"{path}: cannot read: {exc}") from None
    try:
        parsed = DialogFile.model_validate(data)
    except ValidationError as exc:
        raise DialogFormatError(_validation_message(str(path), exc)) from None
    suite = parsed.suite or path.stem
    out: list[LoadedDialog] = []
    for number, raw in enumerate(parsed.dialogs, 1):
        name = raw.get("id") if isinstance(raw.get("id"), str) else f"#{number}"
        try:
            dialog = Dialog.model_validate(raw)
        except ValidationError as exc:
            raise DialogFormatError(_validation_message(f"{path}: dialog {name!r}", exc)) from None
        out.append(LoadedDialog(suite=suite, file=path, raw=raw, dialog=dialog))
    return out


def parse_files(paths: list[Path], only: list[str] | None = None) -> list[LoadedDialog]:
    """Every dialog of ``paths``; ids must be unique. ``only``: glob patterns over ids."""
    dialogs: list[LoadedDialog] = []
    seen: dict[str, Path] = {}
    for path in paths:
        for loaded in parse_file(path):
            if loaded.id in seen:
                raise DialogFormatError(
                    f"{path}: dialog {loaded.id!r} is also defined in {seen[loaded.id]}"
                )
            seen[loaded.id] = path
            dialogs.append(loaded)
    if only:
        dialogs = [d for d in dialogs if any(fnmatch.fnmatch(d.id, pat) for pat in only)]
        if not dialogs:
            raise DialogFormatError(f"no dialog id matches {', '.join(only)}")
    return dialogs


def resolve(loaded: LoadedDialog, index: StoreIndex) -> LoadedDialog:
    """Bind the dialog's variables in the eval store and substitute them everywhere."""
    prefix = f"{loaded.file}: dialog {loaded.id!r}"
    try:
        bindings = resolve_vars(loaded.id, loaded.dialog.vars, index)
        raw = {k: v for k, v in loaded.raw.items() if k != "vars"}
        turns = raw.get("turns", [])
        resolved_turns = []
        for number, turn in enumerate(turns, 1):
            try:
                resolved_turns.append(substitute(turn, bindings))
            except EntityError as exc:
                raise EntityError(f"turn {number}: {exc}") from None
        raw = {**substitute({k: v for k, v in raw.items() if k != "turns"}, bindings)}
        raw["turns"] = resolved_turns
        raw["vars"] = loaded.dialog.vars
        dialog = Dialog.model_validate(raw)
    except EntityError as exc:
        raise DialogFormatError(
            f"{prefix}: {exc}",
            hint="check the filters against the entity fields listed in docs/evals.md",
        ) from None
    except ValidationError as exc:
        raise DialogFormatError(_validation_message(prefix, exc)) from None
    return LoadedDialog(
        suite=loaded.suite, file=loaded.file, raw=loaded.raw, dialog=dialog, bindings=bindings
    )
