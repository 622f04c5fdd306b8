"""Known hostile HTTP inputs, each once: they found bugs and stay as regression tests;
and a check that the fuzz checks can fail (tests/test_fuzz_http.py generates the rest).
"""

from __future__ import annotations

import time
from typing import Any

import fuzz_http_service_common
import pytest
from fuzz_common import deep_json
from fuzz_http_common import Reply, Spec, _json

# shared fixtures
service = fuzz_http_service_common.service


# -- known hostile inputs, each once (these found bugs; they stay as regression tests) ----
def _post(route: str, body: Any, **kwargs: Any) -> Spec:
    raw = body if isinstance(body, bytes) else _json(body, True)
    return Spec("POST", route, body=raw, content_type=b"application/json", **kwargs)


KNOWN = [
    # a message that is empty once cleaned, streamed: was a 200 cut off by an exception
    _post("/v1/threads/{t}/messages", {"message": "\x00\x01", "stream": True}),
    _post(
        "/v1/chat/completions", {"stream": True, "messages": [{"role": "user", "content": "\x00"}]}
    ),
    _post(
        "/v1/chat/completions",
        {"stream": True, "messages": [{"role": "user", "content": "x" * 5000}]},
    ),
    # the same, unstreamed, on a new thread: was refused after the thread had been claimed
    _post(
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "\x00"}]},
        headers=((b"x-thread-id", b"fz-claimed-by-a-refused-request"),),
    ),
    _post(
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "y" * 4001}]},
        thread="new",
    ),
    # a token signed with the real secret that never expires (no iat, exp in year 33658)
    Spec(
        "POST", "/v1/threads", token={"sub": "ada@example.com", "aud": "shopagent", "exp": 10**12}
    ),
    _post("/v1/threads/{t}/messages", deep_json(30_000).encode()),
    _post("/v1/threads/{t}/messages", b'{"message": "\xff\xfe"}'),
    _post("/v1/threads/{t}/confirmation", {"approve": True}, thread="pending", token="ben"),
    _post(
        "/v1/threads/{t}/messages", {"message": "where is my order?", "customer": "ben@example.com"}
    ),
]


_NOW = int(time.time())
ACCEPTED = [
    # exp as a numeric string (PyJWT accepts it): was a 500 when iat was given
    Spec(
        "POST",
        "/v1/threads",
        token={"sub": "ada@example.com", "aud": "shopagent", "exp": str(_NOW + 600), "iat": _NOW},
    ),
]


@pytest.mark.parametrize("spec", KNOWN + ACCEPTED, ids=range(len(KNOWN) + len(ACCEPTED)))
def test_known_hostile_inputs(service, spec: Spec) -> None:
    outcome = service.run(spec)
    assert not outcome.problems, outcome.explain(repr(spec)[:600])
    assert outcome.status == ("2xx" if spec in ACCEPTED else "4xx"), spec


def test_the_checks_can_fail(service) -> None:
    """The checks see what they are for: a leak, a 5xx, a write by a refused request."""
    req = service.request(_post("/v1/threads/{t}/messages", {"message": "hi"}))
    snap = service.snapshot()
    changed = {**snap, "threads": snap["threads"] + 1}
    reply = Reply(
        200, {b"content-type": b"application/json", b"x-request-id": b"r"}, b'{"a": "Ben Cruz"}'
    )
    assert [k for k, _ in service.check(req, reply, snap, snap, None).problems] == ["leak"]
    reply = Reply(500, {b"x-request-id": b"r"}, b'{"error": {"code": "x", "message": "m"}}')
    kinds = {k for k, _ in service.check(req, reply, snap, snap, None).problems}
    assert kinds == {"5xx", "shape"}
    reply = Reply(
        409,
        {b"content-type": b"application/json", b"x-request-id": b"r"},
        b'{"error": {"code": "c", "message": "m", "request_id": "r"}}',
    )
    problems = service.check(req, reply, snap, changed, None).problems
    assert problems == [("partial_write", "threads changed by a refused request")]
