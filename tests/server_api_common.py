"""Fixtures and helpers of the HTTP service tests (tests/test_server_api*.py): a real
uvicorn server on loopback (``srv``), a client with a valid key, and thread helpers."""

from __future__ import annotations

import httpx
import pytest
from server_app import TestServer


@pytest.fixture
def srv(tmp_path):
    server = TestServer(tmp_path)
    yield server
    server.close()


@pytest.fixture
def client(srv):
    with httpx.Client(base_url=srv.url, headers=srv.headers(), timeout=10) as c:
        yield c


def new_thread(client: httpx.Client, **kwargs) -> str:
    response = client.post("/v1/threads", **kwargs)
    assert response.status_code == 201, response.text
    return response.json()["thread_id"]


def say(client: httpx.Client, thread: str, message: str, **kwargs) -> dict:
    response = client.post(f"/v1/threads/{thread}/messages", json={"message": message}, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()
