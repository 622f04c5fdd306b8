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
import os
import subprocess
import sys
from typing import Any

import fuzz_cli_world_common
import pytest
from fuzz_cli_common import (
    EXAMPLES,
    SECRET,
    eval_argv,
    eval_files,
    import_argv,
    import_case,
    keys_argv,
    log_files,
    search_argv,
    suite_files,
)
from fuzz_cli_world_common import CliWorld, _clear_error
from fuzz_common import Outcome, fuzz_settings
from hypothesis import given

# shared fixtures
world = fuzz_cli_world_common.world


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
