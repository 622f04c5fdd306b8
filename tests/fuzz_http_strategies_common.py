"""Hypothesis strategies for hostile HTTP requests: hand-written (bytes, headers, tokens,
bodies a schema cannot describe) and schemathesis cases from the service's OpenAPI document.
"""

from __future__ import annotations

import codecs
from typing import Any
from urllib.parse import urlencode

from factories import CUSTOMERS
from fuzz_common import deep_json, hostile_text
from fuzz_http_common import MAX_BODY, ROLES, Spec, _json, _utf8
from hypothesis import strategies as st
from server_app import RETURN_MSG
from shopagent.agent.server.app import create_app
from shopagent.agent.server.config import ServerConfig

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=6,
)
"""Any JSON value (NaN and infinities included): wrong types for every field."""

messages = st.one_of(
    hostile_text,
    st.sampled_from(
        [
            "how much is the hearth classic kettle?",
            "is it in stock?",
            "where is my order?",
            "where is my order SA-100003?",
            RETURN_MSG,
            "I want to return order SA-100004",
            "cancel order SA-100001",
            "talk to a human about ben@example.com",
            "what is your return policy?",
            "yes",
            "no",
        ]
    ),
    st.integers(3995, 4100).map(lambda n: "m" * n),  # around the 4,000 character limit
    st.just("\x00" * 10 + " \t\u200b "),  # nothing left once cleaned
)
message_values = st.one_of(messages, messages, messages, json_values)

_extra_fields = st.dictionaries(
    st.sampled_from(["customer", "customer_email", "email", "role", "thread_id", "__proto__"])
    | hostile_text,
    json_values | st.just("ben@example.com"),
    max_size=2,
)


def _with_extra(base: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    return st.one_of(base, st.tuples(base, _extra_fields).map(lambda p: {**p[0], **p[1]}))


thread_bodies = _with_extra(
    st.fixed_dictionaries(
        {}, optional={"thread_id": hostile_text | json_values | st.from_regex(r"[\w.:-]{1,70}")}
    )
)
message_bodies = _with_extra(
    st.fixed_dictionaries(
        {"message": message_values}, optional={"stream": st.booleans() | json_values}
    )
)
confirm_bodies = _with_extra(
    st.fixed_dictionaries(
        {"approve": st.booleans() | json_values}, optional={"stream": st.booleans()}
    )
)
_parts = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "image_url", "input_audio"]) | hostile_text},
        optional={"text": message_values, "image_url": json_values},
    ),
    max_size=3,
)
_chat_message = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "user", "assistant", "system", "tool", "developer"])
        | hostile_text,
        "content": message_values | _parts | st.none(),
    },
    optional={"name": hostile_text, "tool_calls": json_values},
)
chat_bodies = _with_extra(
    st.fixed_dictionaries(
        {
            "messages": st.one_of(
                st.lists(_chat_message, min_size=1, max_size=4),
                st.lists(_chat_message, max_size=0),
                st.just([{"role": "user", "content": "hi"}] * 1001),
                json_values,
            )
        },
        optional={
            "model": hostile_text,
            "stream": st.booleans(),
            "stream_options": json_values | st.just({"include_usage": True}),
            "user": hostile_text | json_values,
            "n": st.integers(-2, 3) | st.just(10**30),
            "temperature": st.floats(),
            "tools": json_values,
        },
    )
)

raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=40).map(lambda b: b'{"message": "' + b + b'"}'),
    st.integers(1, 30_000).map(lambda d: deep_json(d).encode()),
    st.integers(1, 20_000).map(lambda d: ('{"message": ' + deep_json(d) + "}").encode()),
    st.integers(1, 5_000).map(lambda d: deep_json(d, "dict").encode()),
    st.integers(1, 2_000).map(
        lambda d: ('{"messages": [{"role": "user", "content": ' + deep_json(d) + "}]}").encode()
    ),
    st.sampled_from(
        [
            b"",
            b"null",
            b"[]",
            b"0",
            b'"x"',
            b"{",
            b'{"message": "hi"',
            b'{"message": NaN}',
            b'{"message": Infinity, "approve": -Infinity}',
            b'{"message": 1e999999}',
            b'{"message": ' + b"9" * 5000 + b"}",
            b'{"message": "\\ud800"}',
            b'{"message": "\\u0000"}',
            codecs.BOM_UTF8 + b'{"message": "hi"}',
            '{"message": "hi"}'.encode("utf-16"),
            '{"message": "caf\xe9"}'.encode("latin-1"),
            b'{"message": "a", "message": 5}',
            b'{"approve": true, "approve": "no"}',
            b'{"message": "hi"}' + b" " * (MAX_BODY + 10),
            b"x" * (MAX_BODY * 3),
            b"--x\r\nContent-Disposition: form-data; name=message\r\n\r\nhi\r\n--x--",
            b"message=hi&stream=true",
        ]
    ),
)

_header_values = st.one_of(
    hostile_text.map(_utf8),
    st.binary(max_size=60),
    st.sampled_from([b"text/event-stream", b"application/json", b"*/*", b"x" * 70_000]),
)
_header_names = st.sampled_from(
    [
        b"x-thread-id",
        b"x-request-id",
        b"accept",
        b"origin",
        b"authorization",
        b"x-api-key",
        b"x-shopper-token",
        b"content-length",
        b"transfer-encoding",
        b"cookie",
        b"x-forwarded-for",
        b"host",
    ]
) | st.binary(min_size=1, max_size=20)
extra_headers = st.lists(st.tuples(_header_names, _header_values), max_size=3).map(tuple)
content_types = (
    st.sampled_from(
        [
            b"application/json",
            b"application/json",
            b"application/json",
            b"application/json; charset=utf-16",
            b"text/plain",
            b"multipart/form-data; boundary=x",
            b"application/x-www-form-urlencoded",
            b"application/json\x00\xff",
        ]
    )
    | st.none()
)
_threads = st.sampled_from(ROLES) | hostile_text.map(lambda s: "=" + s)
_keys = st.sampled_from(["key"] * 6 + ["other", "revoked", "none"]) | st.one_of(
    hostile_text, st.just("sa_00000000_" + "A" * 43)
).map(lambda s: "=" + s)
_claims = st.fixed_dictionaries(
    {},
    optional={
        "sub": st.sampled_from([c.email for c in CUSTOMERS]) | hostile_text | json_values,
        "aud": st.just("shopagent") | json_values,
        "exp": st.integers(-(2**40), 2**40) | json_values,
        "iat": st.integers(-(2**40), 2**40) | json_values,
        "nbf": st.integers(-(2**40), 2**40),
    },
)
_tokens = st.one_of(
    st.sampled_from(["none"] * 3 + ["ada"] * 3 + ["ben", "expired", "forged", "none-alg"]),
    st.just("unknown"),
    hostile_text.map(lambda s: "=" + s),
    _claims,
)
_bodies_for = {
    "/v1/threads": thread_bodies,
    "/v1/threads/{t}/messages": message_bodies,
    "/v1/threads/{t}/confirmation": confirm_bodies,
    "/v1/chat/completions": chat_bodies,
}
ROUTES = [
    ("POST", "/v1/threads/{t}/messages"),
    ("POST", "/v1/threads/{t}/messages"),
    ("POST", "/v1/threads/{t}/messages"),
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/threads/{t}/confirmation"),
    ("POST", "/v1/threads"),
    ("GET", "/v1/threads/{t}"),
    ("GET", "/v1/threads/{t}/messages"),
    ("GET", "/v1/threads/{t}/confirmation"),
    ("GET", "/v1/models"),
    ("GET", "/metrics"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/widget/"),
    ("GET", "/widget/../../pyproject.toml"),
    ("GET", "/widget/%2e%2e/%2e%2e/pyproject.toml"),
    ("GET", "/v1/threads/{t}/messages/../../../etc/passwd"),
    ("DELETE", "/v1/threads/{t}"),
    ("PUT", "/v1/threads/{t}/messages"),
    ("PATCH", "/v1/chat/completions"),
    ("OPTIONS", "/v1/chat/completions"),
    ("HEAD", "/v1/threads/{t}/messages"),
    ("GET", "//v1//threads"),
]


@st.composite
def hand_specs(draw: st.DrawFn) -> Spec:
    """A hand-written hostile request to any route."""
    method, route = draw(st.sampled_from(ROUTES))
    bodies = _bodies_for.get(route)
    if bodies is not None and draw(st.integers(0, 4)):
        body = _json(draw(bodies), ascii_only=draw(st.booleans()))
        content_type = draw(st.just(b"application/json") | content_types)
    elif draw(st.integers(0, 3)) == 0:
        body, content_type = draw(raw_bodies), draw(content_types)
    else:
        body, content_type = b"", None
    headers = list(draw(extra_headers))
    if draw(st.integers(0, 3)) == 0:
        headers.append((b"accept", b"text/event-stream"))
    return Spec(
        method=method,
        route=route,
        thread=draw(_threads),
        key=draw(_keys),
        key_header=draw(st.sampled_from(["authorization", "x-api-key", "both"])),
        token=draw(_tokens),
        headers=tuple(headers),
        content_type=content_type,
        body=body,
        query=draw(st.sampled_from([b"", b"stream=true", b"a=%00%ff", b"x=" + b"%41" * 2000])),
        chunks=draw(st.integers(1, 4)),
        content_length=draw(
            st.none() | st.none() | st.sampled_from([b"0", b"-1", b"abc", b"99999999999", b"5"])
        ),
    )


_schema_strategy: st.SearchStrategy | None = None


def _openapi() -> dict[str, Any]:
    async def never() -> Any:
        raise AssertionError("not started")

    app = create_app(None, ServerConfig(keys_url=":memory:"), open_agent=never)
    return app.openapi()


def _schema_cases() -> st.SearchStrategy:
    global _schema_strategy
    if _schema_strategy is None:
        import schemathesis
        from schemathesis import GenerationMode

        schema = schemathesis.openapi.from_dict(_openapi())
        _schema_strategy = st.one_of(
            schema.as_strategy(generation_mode=GenerationMode.POSITIVE),
            schema.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
    return _schema_strategy


@st.composite
def schema_specs(draw: st.DrawFn) -> Spec:
    """A schemathesis case from the OpenAPI document, with our keys, tokens and threads."""
    from schemathesis.core import NOT_SET

    case = draw(st.deferred(_schema_cases))
    route = case.formatted_path
    thread = "anon"
    if "thread_id" in (case.path_parameters or {}) and draw(st.booleans()):
        route, thread = case.path.replace("{thread_id}", "{t}"), draw(st.sampled_from(ROLES))
    body, content_type = b"", None
    if case.body is not NOT_SET:
        content_type = (case.media_type or "application/json").encode()
        if isinstance(case.body, bytes):
            body = case.body
        elif "json" in (case.media_type or "json"):
            body = _json(case.body, ascii_only=draw(st.booleans()))
        else:
            body = _utf8(str(case.body))
    auth = {"authorization", "x-api-key", "x-shopper-token"}
    headers = tuple(
        (_utf8(str(k)).lower(), _utf8(str(v)))
        for k, v in (case.headers or {}).items()
        if str(k).lower() not in auth
    )
    query = urlencode(case.query or {}, doseq=True).encode() if case.query else b""
    return Spec(
        method=case.method.upper(),
        route=route,
        thread=thread,
        key=draw(st.sampled_from(["key"] * 4 + ["other", "none"])),
        token=draw(st.sampled_from(["none", "none", "ada", "ben", "forged"])),
        headers=headers,
        content_type=content_type,
        body=body,
        query=query,
    )
