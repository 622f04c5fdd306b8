"""Read and write a store directory (the layout of docs/store-format.md).

Reading validates every record and cross-reference and raises ``StoreFormatError`` naming the
file, line and field of the first problem. Writing is atomic: the new store is built in a
temporary directory next to the target and then swapped in.
"""

from __future__ import annotations

import gc
import json
import os
import re
import reprlib
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from shopagent.tools.store.schema import (
    Customer,
    Order,
    Product,
    ReturnPolicy,
    StockLevel,
    StoreData,
    StoreInfo,
)

from shopagent.errors import StoreFormatError

STORE_FILE = "store.yaml"
PRODUCTS_FILE = "products.jsonl"
STOCK_FILE = "stock.jsonl"
CUSTOMERS_FILE = "customers.jsonl"
ORDERS_FILE = "orders.jsonl"
POLICY_DIR = "policy"
RULES_FILE = f"{POLICY_DIR}/rules.yaml"
_DOC_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_LIFECYCLE_DATES = ("shipped_at", "delivered_at", "returned_at")
_STATUS_DATE = {
    "shipped": "shipped_at",
    "delivered": "delivered_at",
    "returned": "returned_at",
    "cancelled": "cancelled_at",
}

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


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects.

    Bulk reads and generation allocate hundreds of thousands of records that all stay
    alive; without this, repeated full collections make them several times slower.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- reading --------------------------------------------------------------------------


def read_store(directory: Path) -> StoreData:
    """Read and validate the store in ``directory``.

    Raises ``StoreFormatError`` (with ``file``, ``line`` and ``field`` set where known) for a
    missing file, invalid JSON/YAML, a record that breaks the schema, a duplicate id, SKU,
    email or order number, or a reference to an unknown SKU or customer.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise StoreFormatError(f"store directory {directory} does not exist")
    with gc_paused():
        return _read_all(directory)


def _read_all(directory: Path) -> StoreData:
    info = _read_yaml(directory, STORE_FILE, StoreInfo)
    products = _read_jsonl(directory, PRODUCTS_FILE, Product)
    sku_owner = _check_products(products)
    stock = _read_jsonl(directory, STOCK_FILE, StockLevel)
    _check_stock(stock, sku_owner)
    customers = _read_jsonl(directory, CUSTOMERS_FILE, Customer)
    _check_customers(customers)
    orders = _read_jsonl(directory, ORDERS_FILE, Order)
    _check_orders(orders, sku_owner, {c.id for _, c in customers})
    return StoreData(
        info=info,
        products=[p for _, p in products],
        stock=[s for _, s in stock],
        customers=[c for _, c in customers],
        orders=[o for _, o in orders],
        policy=_read_yaml(directory, RULES_FILE, ReturnPolicy),
        policy_docs=_read_policy_docs(directory),
    )


def _read_text(directory: Path, name: str) -> str:
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


def _read_jsonl(directory: Path, name: str, model: type[M]) -> Numbered[M]:
    """Every non-blank line of ``name`` validated as ``model``, with its line number."""
    records: Numbered[M] = []
    for number, line in enumerate(_read_text(directory, name).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append((number, model.model_validate_json(line)))
        except ValidationError as exc:
            message, field = _explain(exc)
            raise StoreFormatError(message, file=name, line=number, field=field) from None
    return records


def _read_yaml(directory: Path, name: str, model: type[M]) -> M:
    """A YAML mapping file validated as ``model``; errors point at the offending line."""
    text = _read_text(directory, name)
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
        message, field = _explain(exc, data)
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


def _explain(exc: ValidationError, data: Any = _MISSING) -> tuple[str, str]:
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


def _check_unique(rows: Iterable[tuple[int, str, str]], file: str, what: str) -> None:
    """Raise on the first repeated key in ``(line, key, field)`` rows."""
    seen: dict[str, int] = {}
    for line, key, field in rows:
        if key in seen:
            raise StoreFormatError(
                f"duplicate {what} {key!r} (first on line {seen[key]})",
                file=file,
                line=line,
                field=field,
            )
        seen[key] = line


def _check_products(products: Numbered[Product]) -> dict[str, str]:
    """Unique product ids and SKUs; returns SKU -> product id."""
    _check_unique(((n, p.id, "id") for n, p in products), PRODUCTS_FILE, "product id")
    _check_unique(
        ((n, v.sku, f"variants.{i}.sku") for n, p in products for i, v in enumerate(p.variants)),
        PRODUCTS_FILE,
        "SKU",
    )
    return {v.sku: p.id for _, p in products for v in p.variants}


def _check_stock(stock: Numbered[StockLevel], sku_owner: dict[str, str]) -> None:
    _check_unique(((n, s.sku, "sku") for n, s in stock), STOCK_FILE, "stock row for SKU")
    for line, level in stock:
        if level.sku not in sku_owner:
            raise StoreFormatError(
                f"unknown SKU {level.sku!r} (not in {PRODUCTS_FILE})",
                file=STOCK_FILE,
                line=line,
                field="sku",
            )


def _check_customers(customers: Numbered[Customer]) -> None:
    _check_unique(((n, c.id, "id") for n, c in customers), CUSTOMERS_FILE, "customer id")
    _check_unique(((n, c.email.casefold(), "email") for n, c in customers), CUSTOMERS_FILE, "email")


def _check_orders(
    orders: Numbered[Order], sku_owner: dict[str, str], customer_ids: set[str]
) -> None:
    _check_unique(((n, o.number, "number") for n, o in orders), ORDERS_FILE, "order number")
    for line, order in orders:
        problem = _order_problem(order, sku_owner, customer_ids)
        if problem:
            raise StoreFormatError(problem[0], file=ORDERS_FILE, line=line, field=problem[1])


def _order_problem(
    order: Order, sku_owner: dict[str, str], customer_ids: set[str]
) -> tuple[str, str] | None:
    """The first broken reference or lifecycle date in ``order`` as (message, field)."""
    if order.customer_id not in customer_ids:
        return f"unknown customer {order.customer_id!r} (not in {CUSTOMERS_FILE})", "customer_id"
    for i, item in enumerate(order.items):
        owner = sku_owner.get(item.sku)
        if owner is None:
            return f"unknown SKU {item.sku!r} (not in {PRODUCTS_FILE})", f"items.{i}.sku"
        if owner != item.product_id:
            return (
                f"SKU {item.sku!r} belongs to product {owner!r}, not {item.product_id!r}",
                f"items.{i}.product_id",
            )
    return _lifecycle_problem(order)


def _lifecycle_problem(order: Order) -> tuple[str, str] | None:
    """A status without its date, or lifecycle dates out of order, as (message, field)."""
    required = _STATUS_DATE.get(order.status)
    if required and getattr(order, required) is None:
        return f"{required} is required when status is {order.status!r}", required
    previous, previous_name = order.placed_at.date(), "placed_at"
    for name in _LIFECYCLE_DATES:
        value = getattr(order, name)
        if value is not None:
            if value < previous:
                return f"{name} ({value}) is before {previous_name} ({previous})", name
            previous, previous_name = value, name
    if order.cancelled_at is not None and order.cancelled_at < order.placed_at.date():
        return f"cancelled_at ({order.cancelled_at}) is before placed_at", "cancelled_at"
    return None


def _read_policy_docs(directory: Path) -> dict[str, str]:
    policy_dir = directory / POLICY_DIR
    return {
        path.stem: _read_text(directory, f"{POLICY_DIR}/{path.name}")
        for path in sorted(policy_dir.glob("*.md"))
    }


# --- writing --------------------------------------------------------------------------


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
