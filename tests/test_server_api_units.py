"""The HTTP service's units (server config, shopper-token trust, token bucket, answer pieces)
and concurrency: one turn at a time per thread, clients leaving mid-stream."""

from __future__ import annotations

import pytest
import server_api_common
from server_api_common import new_thread, say
from typer.testing import CliRunner

# shared fixtures
client = server_api_common.client
srv = server_api_common.srv


# -- units ---------------------------------------------------------------------------------
def test_server_config_from_settings_and_environment(tmp_path, monkeypatch) -> None:
    from shopagent.agent.server.config import ServerConfig

    from shopagent.settings import Settings

    monkeypatch.setenv("SHOPAGENT_CORS_ORIGINS", '["https://shop.example"]')
    monkeypatch.setenv("SHOPAGENT_RATE_LIMIT_PER_MINUTE", "30")
    monkeypatch.setenv("SHOPAGENT_SHOPPER_TOKEN_SECRET", "s3cret-s3cret-s3cret-s3cret-s3cret")
    config = ServerConfig.from_settings(Settings(home=tmp_path), max_request_bytes=4096)
    assert config.cors_origins == ("https://shop.example",)
    assert config.rate_limit_per_minute == 30 and config.max_request_bytes == 4096
    assert config.keys_url == str(tmp_path / "keys.sqlite")
    assert "s3cret" not in repr(config)


def test_the_service_trusts_only_the_shopper_token_unless_told(monkeypatch) -> None:
    from shopagent.agent.server.entry import service_settings

    from shopagent.settings import Settings

    monkeypatch.delenv("SHOPAGENT_CHAT_VERIFICATION", raising=False)
    assert Settings().chat_verification  # the CLI and evals: email + order number verify
    assert not service_settings(Settings()).chat_verification
    monkeypatch.setenv("SHOPAGENT_CHAT_VERIFICATION", "true")
    assert service_settings(Settings()).chat_verification


def test_a_short_shopper_token_secret_is_refused(tmp_path) -> None:
    from shopagent.agent.server.config import ServerConfig

    with pytest.raises(ValueError, match="at least 32 bytes"):
        ServerConfig(keys_url=str(tmp_path / "k.sqlite"), shopper_token_secret="short-secret")


def test_invalid_settings_are_a_clear_cli_error(tmp_path, monkeypatch) -> None:
    from shopagent.agent.cli.main import app

    from shopagent.settings import get_settings

    monkeypatch.setenv("SHOPAGENT_HOME", str(tmp_path))
    monkeypatch.setenv("SHOPAGENT_SHOPPER_TOKEN_SECRET", "short")
    get_settings.cache_clear()
    try:
        served = CliRunner().invoke(app, ["serve", "--port", "1"])
        assert served.exit_code == 2 and "at least 32 bytes" in served.output, served.output
        assert "Traceback" not in served.output
        monkeypatch.setenv("SHOPAGENT_TURN_BUDGET_S", "soon")
        get_settings.cache_clear()
        searched = CliRunner().invoke(app, ["search", "kettle"])
        assert searched.exit_code == 2 and "turn_budget_s" in searched.output, searched.output
    finally:
        get_settings.cache_clear()  # nothing of this test's environment stays cached


def test_token_bucket_arithmetic() -> None:
    from shopagent.agent.server.ratelimit import take

    assert take(2.0, 0.0, 0.0, 1.0, 2) == (1.0, 0.0)
    assert take(0.0, 0.0, 0.5, 1.0, 2) == (0.5, 0.5)  # half a token: wait half a second
    assert take(0.0, 0.0, 100.0, 1.0, 2) == (1.0, 0.0)  # refill stops at the burst
    assert take(1.0, 5.0, 4.0, 1.0, 2) == (0.0, 0.0)  # a clock going back adds nothing


def test_rate_limiter_refills() -> None:
    from shopagent.agent.server.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert [limiter.allow("k", 60, 2) for _ in range(2)] == [0.0, 0.0]
    assert limiter.allow("k", 60, 2) == pytest.approx(1.0)
    now[0] += 1.0
    assert limiter.allow("k", 60, 2) == 0.0
    assert limiter.allow("other", 60, 2) == 0.0 and limiter.allow("k", 0, 1) == 0.0


def test_answer_pieces_rejoin_exactly() -> None:
    from shopagent.agent.server.turns import answer_pieces

    for text in ("", "one", "The kettle is $29.49.\nThree  in stock. ", " lead"):
        assert "".join(answer_pieces(text)) == text
    assert len(answer_pieces("a b c d e f g")) == 3


# -- concurrency and disconnects -----------------------------------------------------------
def test_turns_of_one_thread_run_one_at_a_time(srv, client) -> None:
    import concurrent.futures

    thread = new_thread(client)
    messages = ["tell me about the pulse headphones", "hello", "show me kettles", "hello"]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda m: say(client, thread, m), messages))
    assert all(a["answer"] for a in answers)
    history = client.get(f"/v1/threads/{thread}/messages").json()["messages"]
    assert len(history) == 8
    assert [m["role"] for m in history] == ["user", "assistant"] * 4


def test_a_client_leaving_mid_stream_does_not_block_the_thread(srv, client) -> None:
    thread = new_thread(client)
    with client.stream(
        "POST",
        f"/v1/threads/{thread}/messages",
        json={"message": "how much is the hearth classic kettle?", "stream": True},
    ) as response:
        next(response.iter_raw())  # the first bytes, then hang up
    answer = say(client, thread, "hello")
    assert "Test Goods" in answer["answer"]


def test_serve_refuses_workers_without_shared_checkpoints(monkeypatch) -> None:
    import typer
    from shopagent.agent.server.cli import register

    monkeypatch.delenv("SHOPAGENT_CHECKPOINT_URL", raising=False)
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 2 and "SHOPAGENT_CHECKPOINT_URL" in result.output
