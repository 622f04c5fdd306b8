"""The "Load (HTTP service)" section of BENCHMARKS.md: the tables written from the runs of
benchmarks/load.py (every run kept in a JSON comment, the latest 24 shown).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Load (HTTP service)"
GOAL_P95_MS = 150.0


def _think(r: dict) -> str:
    """Think time as published: mean ms and how pauses were drawn (runs before random pauses
    existed paused exactly ``think_ms``, all clients in lockstep)."""
    think = r.get("think_ms", 0.0)
    if not think:
        return "0"
    return f"{think:g} ({'random' if r.get('pauses') == 'exponential' else 'lockstep'})"


def _row(r: dict) -> str:
    return (
        f"| {r['backend']} | {r['mode']} | {r['workers']} | {r['clients']} x "
        f"{r['turns_per_client']} | {_think(r)} | {r['requests']} | {r['errors']} | "
        f"{r['throughput_rps']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
        f"{r.get('server_cpu_ms_per_turn', '-')} | "
        f"{r['rss_start_mb']} -> {r['rss_peak_mb']} | {r.get('load_avg_1m', '')} |"
    )


def _config(r: dict) -> tuple:
    return (r["backend"], r["mode"], r["workers"], r["clients"], r["turns_per_client"],
            _think(r))  # fmt: skip


def write_section(results: list[dict], path: Path = REPO / "BENCHMARKS.md") -> None:
    """Replace (or add) the "Load (HTTP service)" section of BENCHMARKS.md.

    The machine is shared, so every run is kept (the latest 24) with the load average at
    its end; the first table shows, per configuration, the run on the quietest machine.
    """
    results = results[-24:]
    quietest: dict[tuple, dict] = {}
    for r in results:
        best = quietest.get(_config(r))
        if best is None or r.get("load_avg_1m", 99) < best.get("load_avg_1m", 99):
            quietest[_config(r)] = r
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    header = [
        "| backend | mode | workers | clients x turns | think ms | requests | errors | req/s "
        "| p50 ms | p95 ms | p99 ms | server CPU ms/turn | server RSS MB (start -> peak) "
        "| load avg |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines = [
        SECTION,
        "",
        "`benchmarks/load.py`: concurrent clients, each creating a thread and sending messages "
        "one after another to a real `uvicorn` server process on loopback (scripted model, "
        "keyword router, tiny test store; the mix cycles greeting, price, follow-up, search, "
        "policy and order-status turns). Latency is per message, client side; RSS is the "
        f"server's (all workers). Goal: p95 <= {GOAL_P95_MS:g} ms, 0 errors. Machine: "
        f"{results[0]['cpus']} CPUs shared with the load generator and with other work; the "
        "last column is the 1-minute load average at the end of the run (above 2 the server "
        f"did not have the CPUs to itself). Python {results[0]['python']}.",
        "",
        "Per configuration, the run on the quietest machine:",
        "",
        *header,
        *(_row(r) for r in quietest.values()),
        "",
        "Reading the figures. With think time (`--think-ms 1000`: each client pauses a "
        "random, exponentially distributed time with a 1 s mean before each message, like "
        "independent shoppers typing) the service answers 50 concurrent conversations at "
        "about 35 turns/s with a p95 well under the goal on a quiet machine, on one or two "
        "workers, JSON or SSE, in-memory or PostgreSQL. Older `lockstep` rows paused exactly "
        "1 s, so all 50 clients arrived together and queued behind each other. Without think "
        "time the clients are closed-loop (the next message as soon as the answer arrives): "
        "mean latency = clients / throughput, so a 150 ms p95 at 50 clients would need about "
        "350 turns/s; a server process spends 7-9 ms of CPU per turn (LangGraph run, "
        "checkpoint, HTTP, auth, metrics, logs), so 2 cores top out near 240 turns/s and those "
        "rows are saturation measurements (0 errors is what holds there). PostgreSQL "
        "checkpoints cost 3-4 ms more CPU per turn.",
        "",
        "Every run (latest last):",
        "",
        *header,
        *(_row(r) for r in results),
        "",
        "Reproduce: `.venv/bin/python benchmarks/load.py --write` (add `--stream` for SSE, "
        "`--postgres postgresql://postgres@127.0.0.1:5432/test --workers 2` for shared "
        "PostgreSQL checkpoints/store/keys, `--think-ms 1000` for random pauses between turns).",
        "",
        f"<!-- load-results: {json.dumps(results)} -->",
        "",
    ]
    block = "\n".join(lines)
    pattern = re.compile(rf"{re.escape(SECTION)}\n.*?(?=\n## |\Z)", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block.rstrip("\n") + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text)


def existing_rows(path: Path) -> list[dict]:
    """Results already published (so runs of other settings are kept)."""
    if not path.exists():
        return []
    match = re.search(r"<!-- load-results: (.*?) -->", path.read_text())
    return json.loads(match.group(1)) if match else []
