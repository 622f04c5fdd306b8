"""Shared pytest fixtures.

Sections: offline/no-network guard (autouse) · chat models. Append new shared fixtures in a
section of their own.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Set before anything imports huggingface_hub/transformers: they read these at import time.
_OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
os.environ.update(_OFFLINE_ENV)

from shopagent.agent.models.scripted import ScriptedChatModel  # noqa: E402

from shopagent.settings import Settings  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_CACHE = REPO_ROOT / "var" / "models"  # persistent: the GGUF is converted once per machine


# --------------------------------------------------------------------------- no network


def _is_local_host(host: Any) -> bool:
    if host in (None, "", b""):
        return True
    name = (host.decode() if isinstance(host, bytes) else str(host)).strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost") or name == socket.gethostname().lower():
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


class NetworkGuard:
    """What the autouse guard blocked during the current test (``blocked`` can be cleared)."""

    def __init__(self) -> None:
        self.blocked: list[str] = []


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    """Tests run offline: only loopback connections are allowed.

    * OpenAI SDK requests (httpx2) to a non-loopback host fail the test at once, with
      ``pytest.fail`` (a BaseException, so the SDK's retry loop cannot swallow it).
    * Any other socket connection or DNS lookup of a non-loopback host raises OSError and
      fails the test at teardown, even if a library swallowed the error. Mocked transports
      (respx, httpx.MockTransport, ASGI) open no sockets and keep working.
    """
    for key, value in _OFFLINE_ENV.items():
        monkeypatch.setenv(key, value)
    guard = NetworkGuard()

    def refuse(what: str) -> OSError:
        guard.blocked.append(what)
        return ConnectionRefusedError(f"network access blocked in tests: {what}")

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local_host(address[0]):
            raise refuse(f"connect to {address[0]}:{address[1]}")

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_local_host(host):
            raise refuse(f"DNS lookup of {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    _guard_openai_sdk(monkeypatch)
    yield guard
    if guard.blocked:
        pytest.fail(f"test tried to reach the network: {'; '.join(guard.blocked)}", pytrace=False)


def _guard_openai_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import httpx2  # the openai>=3 SDK's HTTP client
    except ImportError:  # pragma: no cover - older SDKs use httpx (covered by the socket guard)
        return

    def refuse(request: Any) -> None:
        if not _is_local_host(request.url.host):
            pytest.fail(
                f"real model call in a test: {request.method} {request.url} "
                "(point openai_base_url at a loopback test server)",
                pytrace=False,
            )

    real_send, real_asend = httpx2.Client.send, httpx2.AsyncClient.send

    def send(self: Any, request: Any, **kwargs: Any) -> Any:
        refuse(request)
        return real_send(self, request, **kwargs)

    async def asend(self: Any, request: Any, **kwargs: Any) -> Any:
        refuse(request)
        return await real_asend(self, request, **kwargs)

    monkeypatch.setattr(httpx2.Client, "send", send)
    monkeypatch.setattr(httpx2.AsyncClient, "send", asend)


# --------------------------------------------------------------------------- chat models


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def scripted_model(request: pytest.FixtureRequest) -> Iterator[Callable[..., ScriptedChatModel]]:
    """Factory: ``scripted_model([...steps], **fields)``; asserts every step was used.

    The check runs at teardown, and only if the test body passed (a failing test already
    says what went wrong).
    """
    built: list[ScriptedChatModel] = []

    def make(steps: Any = (), **fields: Any) -> ScriptedChatModel:
        model = ScriptedChatModel(steps, **fields)
        built.append(model)
        return model

    yield make
    if not request.node.stash.get(_CALL_FAILED, False):
        for model in built:
            model.assert_consumed()


def _model_settings(**overrides: Any) -> Settings:
    """Settings for model tests: persistent model cache, deterministic decoding."""
    values: dict[str, Any] = {
        "model": "local",
        "model_cache_dir": MODEL_CACHE,
        "max_new_tokens": 64,
        "temperature": 0.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def model_settings() -> Callable[..., Settings]:
    """Factory: ``model_settings(**overrides)`` -> Settings using the persistent model cache."""
    return _model_settings


@pytest.fixture(scope="session")
def local_chat_model() -> Any:
    """The real bundled model, built once per test session (GGUF converted once per machine)."""
    from shopagent.agent.models.providers import build_chat_model

    from shopagent.errors import ModelUnavailable

    try:
        return build_chat_model("local", _model_settings())
    except ModelUnavailable as exc:
        if os.environ.get("CI"):  # `make test` installs the model: missing is a failure there
            raise
        pytest.skip(f"bundled model unavailable: {exc}")
