"""Capability probing against real backends: the loopback OpenAI-compatible server (one
that calls tools and answers JSON, one that refuses both) and the bundled local model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_server import FakeOpenAI, serve_fake_openai
from shopagent.agent.models.capabilities import capabilities
from shopagent.agent.models.probe import (
    cache_path_for,
    cached_capabilities,
    probe_capabilities,
)
from shopagent.agent.models.providers import build_chat_model

from shopagent.settings import Settings


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with serve_fake_openai() as fake:
        fake.answer_probes = False  # these tests script the probe's replies
        yield fake


def openai_model(server: FakeOpenAI, tmp_path: Path):
    settings = Settings(home=tmp_path, openai_base_url=server.url, openai_timeout_s=10)
    return build_chat_model("openai:test", settings), cache_path_for(settings)


def test_a_capable_server_is_probed_once_and_cached(server: FakeOpenAI, tmp_path: Path) -> None:
    model, cache = openai_model(server, tmp_path)
    server.tool_call("shopagent_probe", {"value": 7})
    server.reply({"content": '{"ok": true}'})
    caps = probe_capabilities(model, "openai:test", cache)
    assert caps.tool_calling and caps.json_output and caps.name == "openai:test"
    tools_request, json_request = (r["body"] for r in server.requests)
    assert tools_request["tools"][0]["function"]["name"] == "shopagent_probe"
    assert json_request["response_format"] == {"type": "json_object"}

    again = probe_capabilities(model, "openai:test", cache)  # from the cache: no request
    assert again == caps and len(server.requests) == 2
    assert cached_capabilities("openai:test", cache)["tool_calling"] is True


def test_a_server_without_tools_or_json_mode(server: FakeOpenAI, tmp_path: Path) -> None:
    model, cache = openai_model(server, tmp_path)
    assert capabilities(model).tool_calling  # the class-based guess is wrong here
    server.fail(400)  # "tools" rejected
    server.reply({"content": "Sure, ok!"})  # response_format ignored: not JSON
    caps = probe_capabilities(model, "openai:test", cache)
    assert not caps.tool_calling and not caps.json_output
    entry = json.loads(cache.read_text())[f"openai:test@{server.url}"]
    assert entry["tool_calling"] is False and entry["guessed"]["tool_calling"] is True


def test_a_server_that_answers_text_instead_of_a_tool_call(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    model, cache = openai_model(server, tmp_path)
    server.reply({"content": "The value is 7."})
    server.reply({"content": '{"ok": true}'})
    caps = probe_capabilities(model, "openai:test", cache)
    assert not caps.tool_calling and caps.json_output


def test_an_unreachable_server_is_not_cached(server: FakeOpenAI, tmp_path: Path) -> None:
    model, cache = openai_model(server, tmp_path)
    server.set_fault(500)  # every attempt fails (the client retries)
    caps = probe_capabilities(model, "openai:test", cache)
    assert caps == capabilities(model)  # the guess, for now
    assert not cache.exists()
    server.clear_fault()
    server.tool_call("shopagent_probe", {"value": 7})
    server.reply({"content": '{"ok": true}'})
    assert probe_capabilities(model, "openai:test", cache).tool_calling  # probed next time


def test_servers_behind_one_spec_are_cached_apart(tmp_path: Path) -> None:
    with serve_fake_openai() as capable, serve_fake_openai() as plain:
        capable.answer_probes = plain.answer_probes = False
        capable.tool_call("shopagent_probe", {"value": 7})
        capable.reply({"content": '{"ok": true}'})
        plain.reply({"content": "no tools here"})
        plain.reply({"content": "no json either"})
        first, cache = openai_model(capable, tmp_path)
        second, _ = openai_model(plain, tmp_path)
        assert probe_capabilities(first, "openai:test", cache).tool_calling
        assert not probe_capabilities(second, "openai:test", cache).tool_calling
        assert probe_capabilities(first, "openai:test", cache).tool_calling  # still cached


@pytest.mark.real_model
def test_the_bundled_local_model_has_no_tool_calling(local_chat_model, tmp_path: Path) -> None:
    cache = tmp_path / "caps.json"
    caps = probe_capabilities(local_chat_model, "local", cache)
    assert not caps.tool_calling and not caps.json_output
    assert caps.local and caps.streaming
    assert cached_capabilities("local", cache)["tool_calling"] is False


def test_doctor_prints_the_probed_capabilities(server: FakeOpenAI, tmp_path: Path) -> None:
    from shopagent.agent.cli.doctor import run_checks

    settings = Settings(
        home=tmp_path, model="openai:test", openai_base_url=server.url, openai_timeout_s=10
    )

    def row() -> str:
        checks = {name: (ok, detail) for name, ok, detail in run_checks(settings)}
        ok, detail = checks["model capabilities"]
        assert ok
        return detail

    assert "not probed yet" in row()
    server.reply({"content": "no tools"})
    server.reply({"content": '{"ok": true}'})
    probed = {n: d for n, _, d in run_checks(settings, probe=True)}["model capabilities"]
    assert probed.startswith("tool calling no, JSON mode yes (probed ")
    assert row() == probed  # later runs read the cache: no request
    assert len(server.requests) == 2


def test_a_scripted_model_keeps_its_declared_capabilities(scripted_model, tmp_path: Path) -> None:
    model = scripted_model([], tool_calling=True, json_output=False)
    caps = probe_capabilities(model, "scripted", tmp_path / "caps.json")
    assert caps == capabilities(model) and caps.tool_calling  # nothing asked, nothing eaten
    assert not (tmp_path / "caps.json").exists()
