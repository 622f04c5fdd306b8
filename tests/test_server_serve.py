"""`shopagent serve` as deployed: the default app factory (``ShopAgent.open`` from settings)
with PostgreSQL checkpoints, store database and keys, the catalog on a Chroma *server*, the
router/model on an OpenAI-compatible endpoint (a fake one on loopback that always fails, so
routing falls back to the embedding router and answers to templates). Slow-ish: two
processes load the bundled MiniLM embedder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from factories import tiny_store
from openai_server import serve_fake_openai
from server_app import PgSchema, pg_available
from shopagent.agent.server.keys import KeyStore

REPO = Path(__file__).resolve().parents[1]
CHROMA = Path(sys.executable).parent / "chroma"
_why = pg_available() or (None if CHROMA.exists() else f"{CHROMA} missing")
# CI must run this (make test); elsewhere it skips when PostgreSQL is not there
pytestmark = pytest.mark.skipif(_why is not None and not os.environ.get("CI"), reason=_why or "")

SERVE = (
    "import sys, typer; from shopagent.agent.server.cli import register; "
    "app = typer.Typer(); register(app); app()"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"process exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"{url} not ready in {timeout}s: {log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def schema():
    s = PgSchema()
    yield s
    s.drop()


def test_shopagent_serve_on_postgres_and_chroma_server(tmp_path, schema) -> None:
    from shopagent.tools.catalog import open_catalog
    from shopagent.tools.store.pg import PgStoreDB

    from shopagent.settings import Settings

    data = tiny_store()
    db = PgStoreDB(schema.url)
    db.load(data)
    db.close()
    _, key = (keys := KeyStore(schema.url, cache_s=0)).create("deployed")
    keys.close()

    chroma_port = _free_port()
    chroma_log = tmp_path / "chroma.log"
    cmd = [str(CHROMA), "run", "--path", str(tmp_path / "chroma"), "--host", "127.0.0.1",
           "--port", str(chroma_port)]  # fmt: skip
    chroma = subprocess.Popen(cmd, stdout=chroma_log.open("wb"), stderr=subprocess.STDOUT)
    server = None
    try:
        chroma_url = f"http://127.0.0.1:{chroma_port}"
        _wait(f"{chroma_url}/api/v2/heartbeat", chroma, chroma_log, 60)
        catalog = open_catalog(Settings(home=tmp_path, chroma_url=chroma_url))
        assert catalog.index(data.products).added == len(data.products)

        with serve_fake_openai() as fake_openai:  # answers 400: the agent falls back
            port = _free_port()
            env = {
                **os.environ,
                "SHOPAGENT_HOME": str(tmp_path),
                "SHOPAGENT_CHECKPOINT_URL": schema.url,
                "SHOPAGENT_STORE_URL": schema.url,
                "SHOPAGENT_KEYS_URL": schema.url,
                "SHOPAGENT_CHROMA_URL": chroma_url,
                "SHOPAGENT_MODEL": "openai:test-model",
                "OPENAI_API_KEY": "test",
                "OPENAI_BASE_URL": fake_openai.url,
                "SHOPAGENT_NOW": "2026-10-20T00:00:00+00:00",
                "SHOPAGENT_CONFIG": str(tmp_path / "none.toml"),
            }
            log = tmp_path / "serve.log"
            server = subprocess.Popen(
                [sys.executable, "-c", SERVE, "serve", "--port", str(port)],
                cwd=REPO,
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
            url = f"http://127.0.0.1:{port}"
            _wait(f"{url}/readyz", server, log)
            auth = {"Authorization": f"Bearer {key}"}
            thread = httpx.post(f"{url}/v1/threads", headers=auth).json()["thread_id"]
            first = httpx.post(
                f"{url}/v1/threads/{thread}/messages",
                headers=auth,
                json={"message": "how much is the Hearth Classic Kettle?"},
                timeout=60,
            )
            assert first.status_code == 200, first.text
            turn = first.json()
            assert turn["intent"] == "price_stock", turn
            assert [c["name"] for c in turn["tool_calls"]] == [
                "search_products",
                "check_price_stock",
            ]
            assert "$29.49" in turn["answer"] and turn["products"][0]["stock"] == 3
            second = httpx.post(
                f"{url}/v1/threads/{thread}/messages",
                headers=auth,
                json={"message": "is it in stock?"},
                timeout=60,
            ).json()
            assert second["tool_calls"][-1]["args"] == {"skus": ["K-200"]}
            metrics = httpx.get(f"{url}/metrics", headers=auth).text
            assert "shopagent_turn_latency_seconds_bucket" in metrics
            # JSON logs on stderr carry the request and thread ids
            lines = [ln for ln in log.read_text().splitlines() if '"turn answered"' in ln]
            assert lines and f'"thread_id": "{thread}"' in lines[0]
            assert '"request_id": "' in lines[0]
    finally:
        if server is not None:
            _stop(server)
        _stop(chroma)
