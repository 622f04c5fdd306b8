"""The world the CLI fuzz suite runs in (:class:`CliWorld`): a home with the tiny store,
its database, search index and keys; it runs one command line and checks the outcome
(clear refusal, no write on refusal, no leaked secret or customer data)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from factories import tiny_store
from fuzz_cli_common import _KEY_RE, _SQLITE_SIDECARS, SECRET
from fuzz_common import Outcome, leaks
from typer.testing import CliRunner

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
