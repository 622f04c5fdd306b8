"""Hostile input at scale: the properties of tests/test_fuzz_http.py, tests/test_fuzz_cli.py and
tests/test_fuzz_importer.py, run on 10,000+ generated inputs (issue 8, hostile input).

    .venv/bin/python benchmarks/fuzz.py [--scale 1.0] [--seed 8] [--only http_hand,...]

Targets: the HTTP service in-process (hand-written hostile requests and schemathesis cases
from the OpenAPI document) and over sockets to a real uvicorn server; the ``shopagent`` CLI
(``search``, ``store import``, ``keys``, ``eval``); the catalog importer and the store reader.
Each input is checked exactly as the tests check it. Generation is hypothesis' (no
shrinking: a problem is counted and a few samples are printed, the run goes on).

Prints progress to stderr and one JSON object on its last line::

    {"inputs": N, "by_target": {...}, "accepted": ..., "refused_4xx": ..., "5xx": 0,
     "crashes": 0, "partial_writes": 0, "leaks": 0, "shape": 0, "seconds": ...}

``accepted``: 2xx / exit 0 / import done; ``refused_4xx``: a clear 4xx / exit 2 / error
message / StoreFormatError. The problem counts are inputs with at least one problem of that
kind. Exit code 1 when any input had a problem.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore", message="The HMAC key is")  # the forged tokens' short keys

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the properties live with the tests

import hypothesis  # noqa: E402
from fuzz_common import PROBLEM_KINDS, Outcome, Tally  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

COUNTS = {
    "http_hand": 3000,
    "http_openapi": 1500,
    "http_real_server": 500,
    "importer": 1500,
    "store_dir": 1000,
    "cli_search": 800,
    "cli_import": 700,
    "cli_keys": 600,
    "cli_eval": 600,
}
"""Inputs per target at ``--scale 1`` (10,200 in all)."""


def drive(
    tally: Tally,
    target: str,
    strategy: st.SearchStrategy[Any],
    n: int,
    check: Callable[[Any], Outcome],
    base_seed: int,
) -> None:
    """``n`` hypothesis-generated inputs of ``strategy`` through ``check``, into ``tally``."""
    started = time.perf_counter()
    done = [0]

    @seed(base_seed)
    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(value=strategy)
    def run(value: Any) -> None:
        try:
            outcome = check(value)
        except Exception as exc:  # a harness failure is counted, never hidden
            outcome = Outcome("5xx")
            outcome.add("crash", f"harness: {type(exc).__name__}: {exc}"[:300])
        tally.add(target, outcome, repr(value))
        done[0] += 1
        if done[0] % 250 == 0 or done[0] == n:
            rate = done[0] / (time.perf_counter() - started)
            problems = sum(tally.problems.get(target, {}).values())
            print(
                f"  {target}: {done[0]}/{n} ({rate:.0f}/s), problems {problems}",
                file=sys.stderr,
                flush=True,
            )

    run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Multiply every count.")
    parser.add_argument("--seed", type=int, default=8, help="Hypothesis seed (reproducible).")
    parser.add_argument("--only", default="", help=f"Comma-separated subset of {list(COUNTS)}.")
    args = parser.parse_args()
    only = [t for t in args.only.split(",") if t] or list(COUNTS)
    unknown = set(only) - set(COUNTS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; known: {list(COUNTS)}")
    counts = {t: max(1, round(COUNTS[t] * args.scale)) for t in only}

    tally = Tally()
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="shopagent-fuzz-") as tmp:
        root = Path(tmp)
        for target, n in counts.items():
            print(f"{target}: {n} inputs", file=sys.stderr, flush=True)
            strategy, check, close = _target(target, root / target)
            try:
                drive(tally, target, strategy, n, check, args.seed)
            finally:
                close()
    seconds = time.perf_counter() - started
    print(*tally.samples, sep="\n", file=sys.stderr)
    result = _summary(tally, seconds)
    result.update(
        {
            "seed": args.seed,
            "scale": args.scale,
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in os.getloadavg()],
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "hypothesis": hypothesis.__version__,
        }
    )
    print(json.dumps(result))
    sys.exit(1 if any(result[k] for k in ("5xx", "crashes", "partial_writes", "leaks")) else 0)


def _target(
    name: str, root: Path
) -> tuple[st.SearchStrategy[Any], Callable[[Any], Outcome], Callable[[], None]]:
    """(strategy, check, close) for one target; imports only what the target needs."""
    root.mkdir(parents=True)
    nothing: Callable[[], None] = lambda: None  # noqa: E731
    if name.startswith("http_"):
        from fuzz_http_service_common import Service
        from fuzz_http_strategies_common import hand_specs, schema_specs

        service = Service(root, real=name == "http_real_server")
        strategy = {
            "http_hand": hand_specs(),
            "http_openapi": schema_specs(),
            "http_real_server": st.one_of(hand_specs(), schema_specs()),
        }[name]
        return strategy, service.run, service.close
    if name == "importer":
        from fuzz_importer_common import imports
        from fuzz_importer_targets_common import ImportTarget

        return imports, ImportTarget(root).run, nothing
    if name == "store_dir":
        from fuzz_importer_targets_common import StoreDirTarget, store_edits

        return store_edits, StoreDirTarget(root).run, nothing
    from fuzz_cli_common import (
        eval_argv,
        eval_files,
        import_argv,
        import_case,
        keys_argv,
        log_files,
        search_argv,
        suite_files,
    )
    from fuzz_cli_world_common import CliWorld

    world = CliWorld(root)
    if name == "cli_search":
        return search_argv, world.run, nothing
    if name == "cli_keys":
        return keys_argv, world.run, nothing
    if name == "cli_import":
        return import_argv, lambda case: world.run(*import_case(case)), nothing
    evals = st.tuples(eval_argv, suite_files, log_files)
    return evals, lambda t: world.run(t[0], eval_files(*t)), nothing


def _summary(tally: Tally, seconds: float) -> dict[str, Any]:
    def problems(kind: str) -> int:
        return sum(c[kind] for c in tally.problems.values())

    by_target = {
        target: {
            "inputs": n,
            "accepted": tally.statuses[target]["2xx"],
            "refused_4xx": tally.statuses[target]["4xx"],
            "5xx": tally.statuses[target]["5xx"],
            **{k: tally.problems[target][k] for k in PROBLEM_KINDS if tally.problems[target][k]},
        }
        for target, n in tally.inputs.items()
    }
    return {
        "inputs": sum(tally.inputs.values()),
        "by_target": by_target,
        "accepted": sum(s["2xx"] for s in tally.statuses.values()),
        "refused_4xx": sum(s["4xx"] for s in tally.statuses.values()),
        "5xx": sum(s["5xx"] for s in tally.statuses.values()),
        "crashes": problems("crash"),
        "partial_writes": problems("partial_write"),
        "leaks": problems("leak"),
        "shape": problems("shape"),
        "seconds": round(seconds, 1),
    }


if __name__ == "__main__":
    main()
