"""Hostile input on the ``shopagent`` command line: ``search``, ``store import``, ``keys`` and
``eval`` with hostile arguments and options (SQL and prompt injection, control characters,
lone surrogates as from argv bytes that are not UTF-8, option look-alikes, numbers such as
``nan``/``1e309``/``-0``, hostile paths and hostile files).

The real Typer app runs in-process (``typer.testing.CliRunner``) in a scratch working
directory over a ``SHOPAGENT_HOME`` holding the tiny store (files, database, search index)
and a keys database; a few real ``shopagent`` processes get argv bytes that are not UTF-8.

Expected, always: exit 0, or a clear refusal (exit 2 with a usage error or ``error:`` and a
fix; ``keys revoke`` of an unknown key: exit 1 with ``error:``), never a traceback or another
exception; a refused command writes nothing (store files, store database, keys database,
report or output files); no command prints a stored key's secret or another customer's data;
``keys revoke`` with a hostile id never revokes a key that id does not name.

``eval run`` is fuzzed up to the point where the run would start (loading and checking the
suites and options): the runner itself is replaced by a stub, its dialogs are exercised by
the eval and red-team suites. ``SHOPAGENT_FUZZ_EXAMPLES`` scales the example counts;
``benchmarks/fuzz.py`` runs the same properties with more inputs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import yaml
from factories import tiny_store
from fuzz_common import Outcome, deep_json, fuzz_settings, hostile_text, leaks
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz_importer import RAW_MAPPINGS, csv_files, jsonl_files, mappings
from typer.testing import CliRunner

EXAMPLES = int(os.environ.get("SHOPAGENT_FUZZ_EXAMPLES", "60"))
REPO = Path(__file__).resolve().parents[1]
SECRET = "fuzz-cli-shopper-secret-0123456789abcdef"
_SQLITE_SIDECARS = ("-wal", "-shm", "-journal")
_KEY_RE = re.compile(r"sa_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")

# --------------------------------------------------------------------------- strategies

_option_like = st.sampled_from(
    ["--help", "-h", "--json", "--", "-", "-k", "--version", "--store-dir", "--x=1", "-mx"]
)
args = st.one_of(hostile_text, hostile_text, _option_like)
"""One hostile command-line argument (any string: argv bytes that are not UTF-8 arrive as
lone surrogates)."""
numbers = st.one_of(
    st.sampled_from(
        [
            "0",
            "-0",
            "-1",
            "1",
            "5",
            "100",
            "101",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "1e309",
            "1e-400",
            "9" * 40,
            "0x10",
            "1_000",
            "١٢",
            "",
            " ",
            "3.5",
            "abc",
            "--json",
        ]
    ),
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(str),
    hostile_text,
)
"""Values for numeric options."""


def _pairs(*options: tuple[str, st.SearchStrategy[str]]) -> st.SearchStrategy[list[str]]:
    """Some of ``options`` (``--name``, value strategy), each given a value, in any order."""
    one = st.sampled_from(options).flatmap(lambda o: o[1].map(lambda v: [o[0], v]))
    return st.lists(one, max_size=4).map(lambda items: [a for item in items for a in item])


_names = st.one_of(
    st.sampled_from(["Kitchen", "kitchen", "Hearth", "red", "M", "steel", "Kitchn", ""]), args
)
search_argv = st.tuples(
    st.sampled_from(["kettle", "mug under $20", "red jacket not leather", ""]) | args,
    _pairs(
        ("--min-price", numbers),
        ("--max-price", numbers),
        ("--category", _names),
        ("--brand", _names),
        ("--color", _names),
        ("--size", _names),
        ("--material", _names),
        ("--exclude", _names),
        ("--sort", st.sampled_from(["relevance", "PRICE_ASC", "price_desc", "cheapest"]) | args),
        ("-k", numbers),
    ),
    st.lists(st.sampled_from(["--json", "--in-stock", "--json"]) | args, max_size=2),
).map(lambda t: ["search", t[0], *t[1], *t[2]])

key_names = st.one_of(st.sampled_from(["fuzz-shop", "Shop & Co", " ", ""]), args)
keys_argv = st.one_of(
    st.tuples(
        key_names,
        _pairs(("--rate-limit", numbers), ("--origin", args | st.just("https://shop.example"))),
    ).map(lambda t: ["keys", "create", t[0], *t[1]]),
    st.one_of(st.sampled_from(["@victim", "@victim-secret", "@victim-prefix"]), args).map(
        lambda k: ["keys", "revoke", k]
    ),
    st.just(["keys", "list"]),
    st.tuples(
        st.sampled_from(["ada@example.com", "ben@example.com"]) | args,
        _pairs(("--ttl", numbers)),
    ).map(lambda t: ["keys", "shopper-token", t[0], *t[1]]),
    st.lists(args, max_size=3).map(lambda a: ["keys", *a]),
)
"""``@victim``: the victim key's id; ``@victim-secret``: its full key; ``@victim-prefix``: the
first characters of its id."""

_dialog_fields = st.fixed_dictionaries(
    {},
    optional={
        "id": args | st.sampled_from(["fz-1", "fz-2"]),
        "turns": st.lists(
            st.fixed_dictionaries(
                {"user": args},
                optional={"expect": st.dictionaries(args, args, max_size=2), "customer": args},
            ),
            max_size=2,
        )
        | args,
        "fixtures": st.dictionaries(st.sampled_from(["customer", "now", "store"]) | args, args),
        "vars": st.dictionaries(args, args, max_size=2),
        "tags": st.lists(args, max_size=2),
    },
)
suite_files = st.one_of(
    st.fixed_dictionaries(
        {"dialogs": st.lists(_dialog_fields, max_size=3) | args},
        optional={"suite": args, "extra": args},
    ).map(lambda d: yaml.safe_dump(d, allow_unicode=True).encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"",
            b"dialogs: []",
            b"dialogs: " + b"[" * 5_000,
            b"dialogs:\n  - id: x\n    turns: " + deep_json(3_000).encode(),
            b"- just a list",
            b"\xff\xfe\x00d\x00i\x00a",
            b"dialogs: [{id: a, turns: [{user: \xc0\xaf}]}]",
            RAW_MAPPINGS[-1].replace("columns: *i", "dialogs: *i").encode(),
            RAW_MAPPINGS[-1].replace("columns: *i", "dialogs: [{id: x, turns: *i}]").encode(),
            b"!!python/object/apply:os.system ['echo pwned']",
        ]
    ),
    st.binary(max_size=200),
)
eval_argv = st.one_of(
    st.tuples(
        st.lists(
            st.sampled_from(["@file", "@file", "@dir", "@emptydir", "orders", "nosuchsuite"])
            | args,
            max_size=3,
        ),
        _pairs(
            ("--dialog", args | st.sampled_from(["fz-*", "*", "["])),
            ("--repeat", numbers),
            ("--concurrency", numbers),
            ("--seed", numbers),
            ("--store-products", numbers),
            ("--model", args | st.sampled_from(["local", "echo", "hf:", "openai:", "adversary"])),
            ("--out", st.sampled_from(["@out", "@file", "/dev/null", "/proc/x"]) | args),
            ("--replay", args),
            ("--judge", args),
        ),
        st.lists(st.sampled_from(["--adversary"]) | args, max_size=1),
    ).map(lambda t: ["eval", "run", *t[0], *t[1], *t[2]]),
    st.tuples(st.sampled_from(["@csv", "@file"]) | args, st.booleans()).map(
        lambda t: ["eval", "import-log", t[0], "--out", "@out/log.yaml", *(["--guess"] * t[1])]
    ),
    st.tuples(st.sampled_from(["@report", "@file", "@dir"]) | args, args).map(
        lambda t: ["eval", "compare", t[0], t[1]]
    ),
)
"""``@file``: the drawn hostile suite (or log/report) file; ``@dir``: a directory holding
it; ``@out``: a fresh output directory."""

log_files = st.one_of(
    st.lists(
        st.lists(args | st.sampled_from(["conversation_id", "role", "text", "user"]), max_size=4),
        max_size=4,
    ).map(lambda rows: "\n".join(",".join(r) for r in rows).encode("utf-8", "surrogatepass")),
    st.binary(max_size=200),
)
import_argv = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["csv", "jsonl"]),
        "mapping": mappings(),
        "file": st.sampled_from(["@file"] * 6 + ["@dir", "/dev/null", "/etc/passwd"]) | args,
        "mapping_arg": st.sampled_from(["@mapping"] * 6 + ["@file", "/dev/null"]) | args,
        "options": _pairs(
            ("--format", st.sampled_from(["csv", "JSONL", "xlsx"]) | args),
            ("--store-dir", st.sampled_from(["@store"] * 3 + ["@fresh", "@file", "/etc"]) | args),
        ),
        "flags": st.lists(st.sampled_from(["--dry-run", "--no-load", "--load"]), max_size=2),
        "data": st.data(),
    }
)


# --------------------------------------------------------------------------- the world


class EvalReached(Exception):
    """Raised by the stub runner: ``eval run`` accepted its suites and options."""


def _digest(path: Path) -> str:
    """A digest of a file or a directory tree (names and bytes); ``-`` when missing."""
    if not path.exists():
        return "-"
    h = hashlib.sha256()
    items = sorted(path.rglob("*")) if path.is_dir() else [path]
    for item in items:
        h.update(str(item.relative_to(path.parent)).encode("utf-8", "surrogatepass"))
        if item.is_file():
            h.update(item.read_bytes())
    return h.hexdigest()


def _db_rows(path: Path, tables: tuple[str, ...]) -> dict[str, list[tuple[Any, ...]]]:
    if not path.exists():
        return {}
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}


@contextlib.contextmanager
def _environment(home: Path, cwd: Path) -> Iterator[None]:
    """``SHOPAGENT_HOME`` and the shopper secret set, settings re-read, the working directory
    changed; all restored afterwards."""
    from shopagent.settings import get_settings

    saved = {k: os.environ.get(k) for k in ("SHOPAGENT_HOME", "SHOPAGENT_SHOPPER_TOKEN_SECRET")}
    old_cwd = Path.cwd()
    os.environ["SHOPAGENT_HOME"] = str(home)
    os.environ["SHOPAGENT_SHOPPER_TOKEN_SECRET"] = SECRET
    get_settings.cache_clear()
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


class CliWorld:
    """A ``SHOPAGENT_HOME`` with the tiny store, its search index and keys, in which hostile
    command lines run; :meth:`run` checks each one and names every problem."""

    def __init__(self, root: Path, reset_every: int = 50) -> None:
        from shopagent.agent.cli.main import app
        from shopagent.agent.server.keys import KeyStore
        from shopagent.tools.catalog import open_catalog
        from shopagent.tools.store import writer
        from shopagent.tools.store.db import StoreDB

        from shopagent.settings import Settings

        self.app = app
        self.root = root
        self.home = root / "home"
        self.cwd = root / "cwd"
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.settings = Settings(home=self.home)
        self.base = tiny_store()
        writer.write_store(self.base, self.settings.store_path)
        db = StoreDB(self.settings.database)
        db.load(self.base)
        db.close()
        self.pristine = root / "pristine"
        shutil.copytree(self.home, self.pristine)
        open_catalog(self.settings).index(self.base.products)
        self.keys_path = self.home / "keys.sqlite"
        keys = KeyStore(str(self.keys_path), cache_s=0)
        self.victim, self.victim_secret = keys.create("victim")
        _, self.other_secret = keys.create("other")
        keys.close()
        self.secrets = [self.victim_secret, self.other_secret]
        self.secrets += [hashlib.sha256(s.encode()).hexdigest() for s in self.secrets]
        self.reset_every = reset_every
        self.count = 0
        self.key_names = ""  # what every keys command was given
        self.runner = CliRunner()

    # -- state ------------------------------------------------------------------------------
    def reset_store(self) -> None:
        """The store files and database as they were (successful imports pile up)."""
        for name in (self.settings.store_path.name, self.settings.database.name):
            target, source = self.home / name, self.pristine / name
            if target.is_dir():
                shutil.rmtree(target)
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)

    def snapshot(self) -> dict[str, Any]:
        """What a refused command must leave as it was."""
        from shopagent.tools.store.queries import TABLES

        return {
            "store": _digest(self.settings.store_path),
            "database": _db_rows(self.settings.database, tuple(TABLES)),
            "keys": _db_rows(self.keys_path, ("api_keys", "api_threads")),
            "beside": sorted(
                p.name for p in self.home.iterdir() if not p.name.endswith(_SQLITE_SIDECARS)
            ),
        }

    # -- one command line -------------------------------------------------------------------
    def prepare(self, argv: list[str], work: Path, files: dict[str, bytes]) -> list[str]:
        """``argv`` with its ``@`` placeholders made real inside ``work``."""
        for name, content in files.items():
            (work / name).write_bytes(content)
        (work / "dir").mkdir(exist_ok=True)
        (work / "emptydir").mkdir(exist_ok=True)
        for name in ("file", "csv", "report"):
            if name in files:
                shutil.copy2(work / name, work / "dir" / f"{name}.yaml")
        places = {
            "@victim": self.victim.id,
            "@victim-secret": self.victim_secret,
            "@victim-prefix": self.victim.id[:3],
            "@store": str(self.settings.store_path),
            "@fresh": str(work / "fresh-store"),
            "@out": str(work / "out"),
            "@out/log.yaml": str(work / "out" / "log.yaml"),
            "@dir": str(work / "dir"),
            "@emptydir": str(work / "emptydir"),
        }
        places.update({f"@{name}": str(work / name) for name in files})
        return [places.get(a, a) for a in argv]

    def run(self, argv: list[str], files: dict[str, bytes] | None = None) -> Outcome:
        """Run one command line in-process; every problem in the outcome."""
        self.count += 1
        if self.count % self.reset_every == 0:
            self.reset_store()
        work = Path(tempfile.mkdtemp(prefix="cli-", dir=self.root))
        try:
            real = self.prepare(argv, work, files or {})
            echo = b"\n".join((files or {}).values()).decode("utf-8", "replace")
            return self._run(real, work, echo)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _run(self, argv: list[str], work: Path, echo: str = "") -> Outcome:
        """``echo``: what the command's input files hold (quoting them back is no leak)."""
        import shopagent.evals.runner

        before = self.snapshot()
        victim_before = self._key_state(self.victim.id)

        def reached(*_: Any, **__: Any) -> Any:
            raise EvalReached

        real_open = shopagent.evals.runner.EvalRun.open
        shopagent.evals.runner.EvalRun.open = reached  # type: ignore[method-assign]
        try:
            with _environment(self.home, self.cwd):
                result = self.runner.invoke(self.app, argv)
        finally:
            shopagent.evals.runner.EvalRun.open = real_open  # type: ignore[method-assign]
        after = self.snapshot()
        output = result.output
        exc = result.exception
        code = result.exit_code
        if isinstance(exc, EvalReached):
            outcome = Outcome("2xx")
        elif exc is not None and not isinstance(exc, SystemExit):
            outcome = Outcome("5xx")
            outcome.add("crash", f"{type(exc).__name__}: {exc}"[:300])
        elif code == 0:
            outcome = Outcome("2xx")
        else:
            outcome = Outcome("4xx")
            if not _clear_error(code, output, argv):
                outcome.add("shape", f"exit {code} without a clear message: {output[-300:]!r}")
        if "Traceback (most recent call last)" in output:
            outcome.add("crash", "a traceback in the output")
        self._check_writes(argv, work, outcome, before, after)
        if argv[:2] == ["keys", "revoke"]:
            victim_after = self._key_state(self.victim.id)
            named = argv[2:3] in ([self.victim.id], [self.victim_secret])
            if victim_after != victim_before and not named:
                outcome.add("partial_write", f"revoking {argv[2:3]!r} revoked another key")
        sent = "\n".join([*argv, echo])
        if argv[:1] == ["keys"]:  # key names are shown again later: echoes, not leaks
            self.key_names = (self.key_names + sent)[-200_000:]
            sent = self.key_names
        for leak in leaks(output, sent, customer=None, secrets=self.secrets):
            outcome.add("leak", leak)
        if outcome.status == "2xx":
            self._check_accepted(argv, result.stdout, outcome)
        return outcome

    def _key_state(self, key_id: str) -> Any:
        rows = _db_rows(self.keys_path, ("api_keys",)).get("api_keys", [])
        return [r for r in rows if r[0] == key_id]

    def _check_writes(
        self,
        argv: list[str],
        work: Path,
        outcome: Outcome,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> None:
        changed = [k for k in before if before[k] != after[k]]
        command = tuple(argv[:2])
        if outcome.status != "2xx":
            if changed:
                outcome.add("partial_write", f"a refused command changed {changed}")
            out = work / "out"
            if out.exists() and any(out.iterdir()):
                outcome.add("partial_write", f"a refused command wrote {os.listdir(out)}")
            return
        allowed = {
            ("keys", "create"): {"keys"},
            ("keys", "revoke"): {"keys"},
            ("store", "import"): set()
            if "--dry-run" in argv
            else ({"store", "database"} if "--no-load" not in argv else {"store"}),
        }.get(command, set())
        if set(changed) - allowed:
            outcome.add("partial_write", f"{' '.join(command)} changed {changed}")
        if command == ("store", "import") and "store" in changed and "--dry-run" not in argv:
            self._check_store(outcome, loaded="--no-load" not in argv)

    def _check_store(self, outcome: Outcome, *, loaded: bool) -> None:
        """After an import: the store reads back with everything but products as it was, and
        (unless ``--no-load``) the database holds what the files hold."""
        from shopagent.tools.store import files
        from shopagent.tools.store.db import StoreDB

        try:
            data = files.read_store(self.settings.store_path)
        except Exception as exc:
            outcome.add("partial_write", f"the imported store does not read: {exc!r}"[:300])
            return
        for part in ("customers", "orders", "policy", "policy_docs"):
            if getattr(data, part) != getattr(self.base, part):
                outcome.add("partial_write", f"the import changed the store's {part}")
        if loaded:
            db = StoreDB.open(self.settings.database)
            try:
                skus = {str(r["sku"]) for r in db.rows("SELECT sku FROM skus")}
            finally:
                db.close()
            if skus != {v.sku for p in data.products for v in p.variants}:
                outcome.add("partial_write", "the database does not hold the imported store")

    def _check_accepted(self, argv: list[str], stdout: str, outcome: Outcome) -> None:
        """What an accepted command must have printed."""
        command = tuple(argv[:2])
        if command[0] == "search" and _flags(argv) >= {"--json"} and "--help" not in argv:
            try:
                result = json.loads(stdout.strip().splitlines()[-1])
                assert isinstance(result["results"], list) and len(result["results"]) <= 100
            except (ValueError, IndexError, KeyError, AssertionError):
                outcome.add("shape", f"search --json printed no result: {stdout[-200:]!r}")
        first = stdout.strip().splitlines()[0] if stdout.strip() else ""
        if command == ("keys", "create") and "--help" not in argv and not _KEY_RE.fullmatch(first):
            outcome.add("shape", f"keys create printed no key: {stdout[:200]!r}")
        if command == ("keys", "shopper-token") and "--help" not in argv:
            try:
                claims = jwt.decode(
                    stdout.strip(),
                    SECRET,
                    algorithms=["HS256"],
                    audience="shopagent",
                    options={"verify_exp": False},
                )
                assert claims["sub"] == argv[2]
            except Exception as exc:
                outcome.add("shape", f"keys shopper-token printed no valid token: {exc!r}"[:300])


_VALUED = {"--min-price", "--max-price", "--category", "--brand", "--color", "--colour", "--size",
           "--material", "--exclude", "--sort", "-k", "--limit"}  # fmt: skip


def _flags(argv: list[str]) -> set[str]:
    """The ``search`` flags ``argv`` really gives (not an option's value, not after ``--``)."""
    flags: set[str] = set()
    taken = False
    for arg in argv:
        if arg == "--" and not taken:
            break
        if not taken and arg.startswith("-"):
            flags.add(arg)
        taken = not taken and arg in _VALUED
    return flags


def _clear_error(code: int, output: str, argv: list[str]) -> bool:
    """A refusal a person can act on: a usage error (exit 2), ``error:`` with exit 2, or
    ``error:`` with exit 1 for an unknown key (``keys revoke``) or a regression (``eval
    compare``)."""
    text = output.casefold()
    if code == 2:
        return "error" in text or "usage:" in text
    if code == 1:
        return argv[:2] in (["keys", "revoke"], ["eval", "compare"]) and "error" in text
    return False


# --------------------------------------------------------------------------- properties


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> CliWorld:
    return CliWorld(tmp_path_factory.mktemp("fuzz-cli"))


def import_case(case: dict[str, Any]) -> tuple[list[str], dict[str, bytes]]:
    """A ``store import`` command line and its files from an :data:`import_argv` draw."""
    content = case["data"].draw(csv_files() if case["kind"] == "csv" else jsonl_files())
    source = f"catalog.{case['kind']}"  # the format is told by the name (or --format)
    argv = ["store", "import", case["file"], "--mapping", case["mapping_arg"]]
    argv += case["options"] + case["flags"]
    argv = [f"@{source}" if a == "@file" else a for a in argv]
    return argv, {source: content, "file": content, "mapping": case["mapping"]}


def eval_files(argv: list[str], suite: bytes, log: bytes) -> dict[str, bytes]:
    """The file an ``eval`` command line's ``@file`` stands for (and a valid log/report)."""
    files = {"file": log if argv[1] == "import-log" else suite}
    files["csv"] = b"conversation_id,role,text\nc1,user,where is my order?\n"
    files["report"] = json.dumps({"meta": {}, "metrics": {}, "dialogs": []}).encode()
    return files


@fuzz_settings(EXAMPLES * 2)
@given(argv=search_argv)
def test_hostile_searches(world: CliWorld, argv: list[str]) -> None:
    outcome = world.run(argv)
    assert not outcome.problems, outcome.explain(repr(argv)[:600])


@fuzz_settings(EXAMPLES * 2)
@given(case=import_argv)
def test_hostile_store_imports(world: CliWorld, case: dict[str, Any]) -> None:
    argv, files = import_case(case)
    outcome = world.run(argv, files)
    assert not outcome.problems, outcome.explain(repr(argv)[:600])


@fuzz_settings(EXAMPLES * 2)
@given(argv=keys_argv)
def test_hostile_keys(world: CliWorld, argv: list[str]) -> None:
    outcome = world.run(argv)
    assert not outcome.problems, outcome.explain(repr(argv)[:600])


@fuzz_settings(EXAMPLES * 2)
@given(argv=eval_argv, suite=suite_files, log=log_files)
def test_hostile_evals(world: CliWorld, argv: list[str], suite: bytes, log: bytes) -> None:
    outcome = world.run(argv, eval_files(argv, suite, log))
    assert not outcome.problems, outcome.explain(repr(argv)[:600])


KNOWN = [
    ["keys", "create", "\udcff\udcfe shop"],  # argv bytes that are not UTF-8
    ["keys", "revoke", "' OR '1'='1"],
    ["keys", "revoke", "@victim-prefix"],
    ["search", "kettle", "--min-price", "nan"],
    ["search", "kettle", "--max-price", "inf", "--json"],
    ["search", "kettle", "--category", "\udcc0"],
    ["eval", "run", "@file"],
]


@pytest.mark.parametrize("argv", KNOWN, ids=range(len(KNOWN)))
def test_known_hostile_command_lines(world: CliWorld, argv: list[str]) -> None:
    suite = b"dialogs: " + b"[" * 5_000
    outcome = world.run(argv, {"file": suite})
    assert not outcome.problems, outcome.explain(repr(argv))
    assert outcome.status == "4xx", argv


def test_the_checks_can_fail(world: CliWorld) -> None:
    """A command that is accepted is seen as accepted, and a write by a refused one is
    caught."""
    outcome = world.run(["keys", "create", "fuzz-check"])
    assert outcome == Outcome("2xx"), outcome.explain("keys create")
    before = world.snapshot()
    after = {**before, "keys": {}}
    refused = Outcome("4xx")
    world._check_writes(["keys", "create", "x"], world.root, refused, before, after)
    assert [k for k, _ in refused.problems] == ["partial_write"]
    assert not _clear_error(1, "Traceback ...", ["search", "x"])


# --------------------------------------------------------------------------- real processes

RAW_ARGV = [
    [b"keys", b"create", b"\xff\xfe shop"],
    [b"search", b"kettle \xff", b"--category", b"\xc0\xaf"],
    [b"store", b"import", b"cat\xff.csv", b"--mapping", b"m\xfe.yaml"],
    [b"eval", b"run", b"\xff.yaml", b"--dialog", b"\x80*"],
]


def test_real_processes_refuse_argv_that_is_not_utf8(world: CliWorld) -> None:
    """The installed entry point, as a shell runs it: bytes that are not UTF-8 in argv."""
    env = {**os.environ, "SHOPAGENT_HOME": str(world.home), "HF_HUB_OFFLINE": "1"}
    env["SHOPAGENT_SHOPPER_TOKEN_SECRET"] = SECRET
    before = world.snapshot()
    procs = [
        subprocess.Popen(
            [sys.executable.encode(), b"-m", b"shopagent.agent.cli.main", *argv],
            cwd=world.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for argv in RAW_ARGV
    ]
    for argv, proc in zip(RAW_ARGV, procs, strict=True):
        out, err = proc.communicate(timeout=300)
        text = (out + err).decode("utf-8", "replace")
        assert "Traceback" not in text, (argv, text[-2000:])
        assert proc.returncode == 2 and "error" in text.casefold(), (argv, proc.returncode, text)
    assert world.snapshot() == before


def test_echoes_and_option_values_are_not_problems(world: CliWorld) -> None:
    """False alarms the benchmark raised: a key name shown again by ``keys list`` is the
    integrator's own text; ``--color --json`` makes ``--json`` the colour, not the flag."""
    assert world.run(["keys", "create", "SA-100002 for ben@example.com"]) == Outcome("2xx")
    assert world.run(["keys", "list"]) == Outcome("2xx")
    outcome = world.run(["search", "red jacket not leather", "--color", "--json"])
    assert outcome == Outcome("2xx"), outcome.explain("--color --json")
    fresh = CliWorld(world.root / "fresh")  # no key names seen: the same text is a leak
    fresh.key_names = ""
    with contextlib.suppress(Exception):
        fresh.run(["keys", "create", "SA-100002"])
    fresh.key_names = ""
    assert [k for k, _ in fresh.run(["keys", "list"]).problems] == ["leak"]
