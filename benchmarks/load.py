"""Load benchmark of the HTTP service: N concurrent clients x M turns against a real server.

    .venv/bin/python benchmarks/load.py [--clients 50] [--turns 40] [--stream]
                                        [--postgres URL] [--workers 1] [--write]

The server is a separate ``uvicorn`` process (``tests/server_app.py:make_app``): the tiny
test store, a scripted chat model that always gives the same faithful answer, a keyword
router (no embeddings), in-memory checkpoints — or, with ``--postgres``, checkpoints, store,
keys and thread owners in PostgreSQL (a fresh schema, dropped afterwards). So the figures
measure the service (HTTP, auth, graph, tools, checkpointing), not a model.

Each client creates a thread and sends ``--turns`` messages one after another (with
``--think-ms``: after a random pause, exponentially distributed with that mean, as
independent shoppers type; without it, closed-loop: the next message as soon as the answer
arrives), cycling
through greeting / price / follow-up ("is it in stock?") / search / policy / order status:
model answers, template answers and clarifications. Latency is per message, client side.
Bounded: every request times out after 30 s, the run after ``--deadline`` s.

The last line printed is JSON: requests, errors, throughput_rps, p50_ms, p95_ms, p99_ms,
max_ms, server RSS (start / peak / end, MB), settings. ``--write`` puts the figures in the
"Load (HTTP service)" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from load_report import GOAL_P95_MS, existing_rows, write_section

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO)]

MESSAGES = [
    "hello",
    "how much is the hearth classic kettle?",
    "is it in stock?",
    "show me kettles",
    "what is your return policy for electronics?",
    "tell me about the pulse headphones",
    "is it in stock?",
    "where is my order?",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class Server:
    """The service in its own process (so its RSS and CPU are its own)."""

    def __init__(self, workdir: Path, *, postgres: str | None, workers: int) -> None:
        from shopagent.agent.server.keys import KeyStore

        self.schema = None
        keys_url = str(workdir / "keys.sqlite")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO)]),
            "SHOPAGENT_HOME": str(workdir),
            "SHOPAGENT_RATE_LIMIT_PER_MINUTE": "0",
            "SHOPAGENT_LOG_LEVEL": "WARNING",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        if postgres:
            from factories import tiny_store
            from server_app import PgSchema

            os.environ["SHOPAGENT_TEST_PG_URL"] = postgres
            import server_app

            server_app.PG_URL = postgres
            self.schema = PgSchema()
            from shopagent.tools.store.pg import PgStoreDB

            db = PgStoreDB(self.schema.url)
            db.load(tiny_store())
            db.close()
            keys_url = self.schema.url
            env["SHOPAGENT_TEST_STORE_URL"] = self.schema.url
            env["SHOPAGENT_TEST_CHECKPOINT_URL"] = self.schema.url
        env["SHOPAGENT_KEYS_URL"] = keys_url
        keys = KeyStore(keys_url, cache_s=0)
        _, self.key = keys.create("load-benchmark")
        keys.close()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (workdir / "server.log").open("wb")
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "server_app:make_app",
               "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
               "--no-access-log", "--workers", str(workers)]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: {(workdir / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit("server did not become ready in 60 s")

    def _procs(self) -> list[psutil.Process]:
        root = psutil.Process(self.proc.pid)
        return [root, *root.children(recursive=True)]

    def rss_mb(self) -> float:
        try:
            return sum(p.memory_info().rss for p in self._procs()) / 2**20
        except psutil.Error:
            return 0.0

    def cpu_s(self) -> float:
        """CPU seconds (user + system) used so far by the server and its workers."""
        total = 0.0
        for p in self._procs():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        if self.schema is not None:
            self.schema.drop()


class Http:
    """A small keep-alive HTTP client: aiohttp when installed (cheap per request, so the
    load generator steals less CPU from the server on the same machine), else httpx."""

    def __init__(self, base_url: str, key: str, connections: int) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        try:
            import aiohttp
        except ImportError:
            aiohttp = None
        if aiohttp is not None:
            self._aiohttp = aiohttp.ClientSession(
                base_url,
                headers=headers,
                connector=aiohttp.TCPConnector(limit=connections),
                timeout=aiohttp.ClientTimeout(total=30),
            )
            self._httpx = None
        else:
            self._aiohttp = None
            self._httpx = httpx.AsyncClient(
                base_url=base_url,
                headers=headers,
                timeout=30,
                limits=httpx.Limits(max_connections=connections),
            )
        self.name = "aiohttp" if aiohttp is not None else "httpx"

    async def post(self, path: str, body: dict) -> tuple[int, str]:
        if self._aiohttp is not None:
            async with self._aiohttp.post(path, json=body) as response:
                return response.status, await response.text()
        response = await self._httpx.post(path, json=body)
        return response.status_code, response.text

    async def close(self) -> None:
        if self._aiohttp is not None:
            await self._aiohttp.close()
        else:
            await self._httpx.aclose()


async def client(
    http: Http, turns: int, offset: int, stream: bool, think_s: float, out: list, errors: list
) -> None:
    try:
        status, text = await http.post("/v1/threads", {})
        if status != 201:
            raise RuntimeError(f"HTTP {status}: {text[:200]}")
        thread = json.loads(text)["thread_id"]
    except Exception as exc:
        errors.append(f"create thread: {type(exc).__name__}: {exc}")
        return
    # independent shoppers: random pauses (exponential, mean think_s, seeded per client),
    # the first one before the first message so that clients do not arrive in lockstep
    pauses = random.Random(offset)
    for turn in range(turns):
        if think_s:
            await asyncio.sleep(pauses.expovariate(1 / think_s))
        message = MESSAGES[(offset + turn) % len(MESSAGES)]
        started = time.perf_counter()
        try:
            status, text = await http.post(
                f"/v1/threads/{thread}/messages", {"message": message, "stream": stream}
            )
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {text[:200]}")
            if stream and "event: final" not in text:
                raise RuntimeError(f"no final event: {text[-200:]!r}")
            if not stream and not json.loads(text).get("answer"):
                raise RuntimeError("empty answer")
        except Exception as exc:
            errors.append(f"{message!r}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        out.append((time.perf_counter() - started) * 1000)


async def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="shopagent-load-") as tmp:
        server = Server(Path(tmp), postgres=args.postgres, workers=args.workers)
        try:
            rss_start = server.rss_mb()
            latencies: list[float] = []
            errors: list[str] = []
            peak = rss_start
            http = Http(server.url, server.key, args.clients + 10)
            think = args.think_ms / 1000
            try:
                # warm-up: one conversation, not measured
                await client(http, len(MESSAGES), 0, args.stream, 0, [], [])
                server_cpu0, client_cpu0 = server.cpu_s(), time.process_time()
                started = time.perf_counter()
                tasks = [
                    asyncio.create_task(
                        client(http, args.turns, i, args.stream, think, latencies, errors)
                    )
                    for i in range(args.clients)
                ]
                done = asyncio.gather(*tasks)
                deadline = started + args.deadline
                while not done.done():
                    peak = max(peak, server.rss_mb())
                    if time.perf_counter() > deadline:
                        for task in tasks:
                            task.cancel()
                        errors.append(f"deadline of {args.deadline}s reached")
                        break
                    await asyncio.sleep(0.25)
                await asyncio.gather(done, return_exceptions=True)
                elapsed = time.perf_counter() - started
                server_cpu = server.cpu_s() - server_cpu0
                client_cpu = time.process_time() - client_cpu0
            finally:
                await http.close()
            rss_end = server.rss_mb()
        finally:
            server.stop()
    expected = args.clients * args.turns
    return {
        "clients": args.clients,
        "turns_per_client": args.turns,
        "think_ms": args.think_ms,
        "pauses": "exponential" if args.think_ms else "none",
        "mode": "sse" if args.stream else "json",
        "backend": "postgres" if args.postgres else "memory",
        "workers": args.workers,
        "http_client": http.name,
        "requests": len(latencies),
        "expected": expected,
        "errors": max(len(errors), expected - len(latencies)),
        "error_samples": errors[:5],
        "duration_s": round(elapsed, 2),
        "throughput_rps": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(_percentile(latencies, 50), 1),
        "p95_ms": round(_percentile(latencies, 95), 1),
        "p99_ms": round(_percentile(latencies, 99), 1),
        "max_ms": round(max(latencies, default=0.0), 1),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0.0,
        "server_cpu_ms_per_turn": round(1000 * server_cpu / max(1, len(latencies)), 2),
        "client_cpu_ms_per_turn": round(1000 * client_cpu / max(1, len(latencies)), 2),
        "server_cpu_util": round(server_cpu / elapsed, 2) if elapsed else 0.0,
        "client_cpu_util": round(client_cpu / elapsed, 2) if elapsed else 0.0,
        "rss_start_mb": round(rss_start, 1),
        "rss_peak_mb": round(max(peak, rss_end), 1),
        "rss_end_mb": round(rss_end, 1),
        "goal_p95_ms": GOAL_P95_MS,
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--stream", action="store_true", help="SSE instead of JSON answers")
    parser.add_argument("--postgres", help="PostgreSQL URL for checkpoints, store and keys")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--think-ms", type=float, default=0.0, help="mean random pause before each turn"
    )
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds for the run")
    parser.add_argument(
        "--write", action="store_true", help="append this run's row to BENCHMARKS.md"
    )
    args = parser.parse_args()
    result = asyncio.run(run(args))
    if args.write:
        path = REPO / "BENCHMARKS.md"
        previous = existing_rows(path)
        write_section([*previous, result], path)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
