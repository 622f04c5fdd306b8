"""Parse one store or import file into validated records, with errors that point at it.

Text, JSON Lines and YAML files are read as UTF-8 and validated against a pydantic model; a
problem raises ``StoreFormatError`` naming the file, line and field. Input nested deeper than
:data:`MAX_NESTING` is refused before a recursive parser can exhaust its stack.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from shopagent.errors import StoreFormatError

MAX_NESTING = 32
"""The deepest nesting of lists/objects a store or import file may have. Real records are a
few levels deep; deeper input is refused before it can exhaust the parsers' stacks."""

M = TypeVar("M", bound=BaseModel)
Numbered = list[tuple[int, M]]


def too_deep(file: str, line: int = 0) -> StoreFormatError:
    """The error for a file or line nested deeper than :data:`MAX_NESTING`."""
    error = StoreFormatError(
        f"nested too deeply (more than {MAX_NESTING} levels of lists/objects)",
        file=file,
        line=line,
    )
    error.hint = (
        f"flatten the data: records need only a few levels, at most {MAX_NESTING} are read "
        "(see docs/store-format.md)"
    )
    return error


def nesting_depth(value: Any) -> int:
    """How many levels of lists/dicts ``value`` has (a scalar: 0), without recursion.

    Shared containers (YAML aliases) are measured once, so an alias bomb costs its size, not
    its expansion; a container that contains itself counts as deeper than any limit.
    """
    if not isinstance(value, dict | list):
        return 0
    depths: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[Any] = [value]
    while stack:
        node = stack[-1]
        key = id(node)
        if key in depths:
            stack.pop()
            continue
        children = [
            c
            for c in (node.values() if isinstance(node, dict) else node)
            if isinstance(c, dict | list) and id(c) not in depths
        ]
        if key not in open_:
            open_.add(key)
            if any(id(c) in open_ for c in children):
                return MAX_NESTING + 1_000_000  # a cycle: infinitely deep
            stack.extend(children)
            continue
        open_.discard(key)
        stack.pop()
        inner = (
            depths[id(c)]
            for c in (node.values() if isinstance(node, dict) else node)
            if isinstance(c, dict | list)
        )
        depths[key] = 1 + max(inner, default=0)
    return depths[id(value)]


def read_text(directory: Path, name: str) -> str:
    path = directory / name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise StoreFormatError(f"missing file (expected {path})", file=name) from None
    except IsADirectoryError:
        raise StoreFormatError(f"{path} is a directory, expected a file", file=name) from None
    except OSError as exc:  # unreadable, a name too long, ...
        raise StoreFormatError(f"cannot read {path}: {exc.strerror or exc}", file=name) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise StoreFormatError("not valid UTF-8 text", file=name, line=line) from None


def read_jsonl(directory: Path, name: str, model: type[M]) -> Numbered[M]:
    """Every non-blank line of ``name`` validated as ``model``, with its line number."""
    records: Numbered[M] = []
    for number, line in enumerate(read_text(directory, name).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append((number, model.model_validate_json(line)))
        except ValidationError as exc:
            message, field = explain(exc)
            raise StoreFormatError(message, file=name, line=number, field=field) from None
    return records


def read_yaml(directory: Path, name: str, model: type[M]) -> M:
    """A YAML mapping file validated as ``model``; errors point at the offending line."""
    text = read_text(directory, name)
    try:
        _check_yaml_nesting(text, name)
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise StoreFormatError(f"invalid YAML: {problem}", file=name, line=line) from None
    except RecursionError:  # the YAML composer recurses once per level of nesting
        raise too_deep(name) from None
    if not isinstance(data, dict):
        raise StoreFormatError("expected a mapping of field: value", file=name, line=1)
    if nesting_depth(data) > MAX_NESTING:
        raise too_deep(name)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message, field = explain(exc, data)
        loc = exc.errors(include_url=False, include_input=False)[0]["loc"]
        raise StoreFormatError(
            message, file=name, line=_yaml_line(root, loc), field=field
        ) from None


def _check_yaml_nesting(text: str, name: str) -> None:
    """Refuse YAML nested deeper than :data:`MAX_NESTING`, naming the line, before anything
    recursive (the composer, the constructor, validation) sees it. The event parser keeps
    its own stack, so this pass is safe at any depth."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise too_deep(name, event.start_mark.line + 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _yaml_line(node: yaml.Node | None, loc: Iterable[int | str]) -> int:
    """The line of the deepest YAML node on the path ``loc`` (1-based)."""
    line = node.start_mark.line + 1 if node else 1
    for key in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if pair is not None:
                line = pair[0].start_mark.line + 1
                child = pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            child = node.value[key] if key < len(node.value) else None
            if child is not None:
                line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


_MISSING = object()
_SHORT = reprlib.Repr()  # a bounded repr of an offending value (keyword arguments: 3.12+)
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 2, 60, 60
_SHORT.maxlist = _SHORT.maxdict = 4


def explain(exc: ValidationError, data: Any = _MISSING) -> tuple[str, str]:
    """A short, human message and the dotted field path for a validation error.

    ``data``: what was validated, when it is at hand (YAML). The offending value is then
    looked up in it rather than copied out of the error: a YAML alias bomb expands to
    billions of items when pydantic renders or copies the input.
    """
    error = exc.errors(include_url=False, include_input=False)[0]
    loc = error["loc"]
    field = ".".join(str(part) for part in loc)
    name = _field_name(loc)
    ctx = error.get("ctx", {})
    kind = error["type"]
    messages = {
        "missing": f"{name} is required",
        "extra_forbidden": f"unknown field {name!r}",
        "greater_than_equal": f"{name} must be >= {ctx.get('ge')}",
        "less_than_equal": f"{name} must be <= {ctx.get('le')}",
        "string_too_short": f"{name} must not be empty"
        if ctx.get("min_length") == 1
        else f"{name} must be at least {ctx.get('min_length')} characters",
        "string_too_long": f"{name} must be at most {ctx.get('max_length')} characters",
        "too_short": f"{name} needs at least {ctx.get('min_length')} item(s)",
        "literal_error": f"{name} must be one of {ctx.get('expected')} "
        f"(got {_SHORT.repr(_input(exc, data, loc))})",
        "json_invalid": f"invalid JSON: {ctx.get('error')}",
        "model_type": "expected a JSON object {...}",
        "model_attributes_type": "expected a mapping of field: value",
    }
    return messages.get(kind, f"{name}: {error['msg']}"), field


def _input(exc: ValidationError, data: Any, loc: tuple[int | str, ...]) -> Any:
    """The value at ``loc`` in ``data`` (or, without ``data``, from the error itself)."""
    if data is _MISSING:
        return exc.errors(include_url=False)[0].get("input")
    for key in loc:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _field_name(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "record"
    if isinstance(loc[-1], int) and len(loc) > 1:
        return f"{loc[-2]}[{loc[-1]}]"
    return str(loc[-1])
