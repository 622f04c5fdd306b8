"""Hostile input against the HTTP service: every route, header, token and body.

Two generators feed the same checks:

* schemathesis, from the service's own OpenAPI document (cases that fit the schema and cases
  that break it);
* hand-written strategies for what a schema cannot say: raw and invalid UTF-8 bytes, deeply
  nested or truncated JSON, bodies over the size limit, bodies in pieces, lying
  ``Content-Length``, hostile header bytes, forged/expired/alg-less shopper tokens, signed
  tokens with hostile claims, SQL and prompt injection in every field, and threads of
  another integrator or another shopper.

Requests go in-process straight to the ASGI app (raw scope, any header bytes) and, in a
smaller run, over raw sockets to a real uvicorn server. Every answer is checked
(:meth:`Service.check`): never a 5xx or an error logged, an exception or a hang; every error
is the JSON error shape; streams end with ``final``/``error``/``[DONE]``; a refused request
leaves the store, the checkpoints and the thread table unchanged; no request changes another
customer's orders, returns or handoffs; no answer carries another customer's data, a secret
or a stack trace, and no thread of another key or shopper answers.

``SHOPAGENT_FUZZ_EXAMPLES`` scales the example counts; ``benchmarks/fuzz.py`` runs the same
properties with 10,000+ inputs.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import hashlib
import json
import logging
import os
import socket
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

import jwt
import pytest
from factories import CUSTOMERS, tiny_store
from fuzz_common import Outcome, deep_json, fuzz_settings, hostile_text, leaks
from hypothesis import given
from hypothesis import strategies as st
from langgraph.checkpoint.memory import InMemorySaver
from server_app import RETURN_MSG, SECRET, build_agent, shopper_token, sse_events
from shopagent.agent.server.app import create_app
from shopagent.agent.server.config import ServerConfig
from shopagent.agent.server.keys import KeyStore, hash_key
from shopagent.agent.server.shopper import InvalidShopperToken, verify_shopper_token
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.queries import TABLES

EXAMPLES = int(os.environ.get("SHOPAGENT_FUZZ_EXAMPLES", "60"))
MAX_BODY = 64 * 1024
TIMEOUT_S = 30.0
ROLES = ("anon", "ada", "ben", "other", "pending", "new")
"""Threads the service has: anonymous, signed in as Ada or Ben, another key's, one waiting
for Ada's yes/no; ``new``: an unused valid id."""

PUBLIC = ("/healthz", "/readyz", "/widget", "/docs", "/openapi.json", "/")


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Spec:
    """One hostile request, before the service's real ids and keys are filled in.

    ``route`` may hold ``{t}``: the thread ``thread`` (a role of :data:`ROLES`, or ``=raw``).
    ``key``: ``key`` (valid), ``other`` (another integrator's), ``revoked``, ``none`` or
    ``=raw``; ``token``: ``none``, ``ada``, ``ben``, ``expired``, ``forged``, ``none-alg``,
    ``unknown``, ``=raw`` or a claims dict signed with the real secret.
    """

    method: str
    route: str
    thread: str = "anon"
    key: str = "key"
    key_header: str = "authorization"
    token: Any = "none"
    headers: tuple[tuple[bytes, bytes], ...] = ()
    content_type: bytes | None = None
    body: bytes = b""
    query: bytes = b""
    chunks: int = 1
    content_length: bytes | None = None


@dataclass
class Reply:
    status: int | None
    headers: dict[bytes, bytes]
    body: bytes
    errors: list[str] = field(default_factory=list)
    parser_refused: bool = False  # answered by uvicorn's HTTP parser, never reached the app


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _json(value: Any, ascii_only: bool) -> bytes:
    return _utf8(json.dumps(value, ensure_ascii=ascii_only))


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


# --------------------------------------------------------------------------- the service


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()[:200]}")


class Service:
    """The HTTP service over the tiny store (scripted model, in-memory checkpoints, SQLite
    keys), its threads and keys, and the checks every answer must pass.

    ``real=True`` also serves it with uvicorn on loopback and :meth:`send` goes over a
    socket; otherwise :meth:`send` calls the ASGI app in-process.
    """

    def __init__(self, tmp: Path, *, real: bool = False) -> None:
        self.db = StoreDB.in_memory(tiny_store())
        self.saver = InMemorySaver()
        self.keys_path = tmp / "keys.sqlite"
        self.keys = KeyStore(str(self.keys_path), cache_s=0)
        config = ServerConfig(
            keys_url=str(self.keys_path),
            shopper_token_secret=SECRET,
            key_cache_s=0,
            rate_limit_per_minute=0,
            max_request_bytes=MAX_BODY,
            heartbeat_s=5,
        )
        self.app = create_app(build_agent(self.db, self.saver), config, keys=self.keys)
        self.key_ids: dict[str, str] = {}
        self.secrets: dict[str, str] = {}
        for name in ("key", "other", "revoked"):
            record, secret = self.keys.create(f"fuzz-{name}")
            self.key_ids[name], self.secrets[name] = record.id, secret
        self.keys.revoke(self.key_ids["revoked"])
        self.tokens = {
            "ada": shopper_token("ada@example.com"),
            "ben": shopper_token("ben@example.com"),
            "expired": shopper_token("ada@example.com", ttl_s=-3600),
            "forged": shopper_token("ada@example.com", secret="not-the-secret-0123456789abcdef!"),
            "unknown": shopper_token("nobody@example.com"),
            "none-alg": jwt.encode(
                {"sub": "ada@example.com", "aud": "shopagent", "exp": int(time.time()) + 600},
                None,
                algorithm="none",
            ),
        }
        self.never_shown = [
            *self.secrets.values(),
            *(hash_key(s) for s in self.secrets.values()),
            SECRET,
        ]
        self.errors = _ErrorLog()
        logging.getLogger().addHandler(self.errors)
        self.loop = asyncio.new_event_loop()
        self.server = None
        self.threads: dict[str, str] = {}
        self.corpus: dict[str, str] = {}  # what was sent to each thread: echoes are not leaks
        self._new = 0
        self._setup_threads()
        if real:
            from shopagent.tools.inventory_api import serve_in_thread

            self.server = serve_in_thread(self.app)

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
        logging.getLogger().removeHandler(self.errors)
        self.loop.close()
        self.keys.close()
        self.db.close()

    def _setup_threads(self) -> None:
        def create(role: str, key: str, token: str) -> str:
            spec = Spec("POST", "/v1/threads", key=key, token=token)
            reply = self._call(self.request(spec))
            assert reply.status == 201, reply.body
            return json.loads(reply.body)["thread_id"]

        self.threads = {
            "anon": create("anon", "key", "none"),
            "ada": create("ada", "key", "ada"),
            "ben": create("ben", "key", "ben"),
            "other": create("other", "other", "none"),
            "pending": create("pending", "key", "ada"),
        }
        body = _json({"message": RETURN_MSG}, True)
        spec = Spec(
            "POST",
            "/v1/threads/{t}/messages",
            thread="pending",
            token="ada",
            body=body,
            content_type=b"application/json",
        )
        reply = self._call(self.request(spec))
        assert reply.status == 200 and json.loads(reply.body)["confirmation"], reply.body

    # -- building and sending ---------------------------------------------------------------
    def _thread_id(self, role: str) -> str:
        if role.startswith("="):
            return role[1:]
        if role == "new":
            self._new += 1
            return f"fz-new-{self._new}-{os.getpid()}"
        return self.threads[role]

    def _token(self, token: Any) -> bytes | None:
        if isinstance(token, dict):
            try:
                return jwt.encode(token, SECRET, algorithm="HS256").encode()
            except (TypeError, ValueError):  # claims PyJWT cannot even encode
                return b"not.a.jwt"
        if token == "none":
            return None
        if token.startswith("="):
            return _utf8(token[1:])
        return self.tokens[token].encode()

    def request(self, spec: Spec) -> dict[str, Any]:
        """The concrete request: method, raw path, query, header list, body, and who asks."""
        thread = self._thread_id(spec.thread) if "{t}" in spec.route else None
        path = spec.route.replace("{t}", quote(_utf8(thread), safe="")) if thread else spec.route
        if spec.route == "/v1/chat/completions":  # the thread is named by a header there
            named = [v for k, v in spec.headers if k.lower() == b"x-thread-id"]
            thread = named[0].decode("latin-1").strip() if named else None
        headers: list[tuple[bytes, bytes]] = [(b"host", b"testserver")]
        key = (
            None
            if spec.key == "none"
            else _utf8(spec.key[1:])
            if spec.key.startswith("=")
            else self.secrets[spec.key].encode()
        )
        if key is not None:
            if spec.key_header in ("authorization", "both"):
                headers.append((b"authorization", b"Bearer " + key))
            if spec.key_header in ("x-api-key", "both"):
                headers.append((b"x-api-key", key))
        token = self._token(spec.token)
        if token is not None:
            headers.append((b"x-shopper-token", token))
        if spec.content_type is not None:
            headers.append((b"content-type", spec.content_type))
        length = spec.content_length
        if length is None and (spec.body or spec.method in ("POST", "PUT", "PATCH")):
            length = str(len(spec.body)).encode()
        if length is not None:
            headers.append((b"content-length", length))
        headers.extend(spec.headers)
        return {
            "method": spec.method,
            "path": path,
            "query": spec.query,
            "headers": headers,
            "body": spec.body,
            "chunks": spec.chunks,
            "thread": thread,
            "key": spec.key if spec.key in self.secrets else None,
            "caller": self._caller(token),
        }

    def _caller(self, token: bytes | None) -> str | None:
        """The customer a token proves (what the server must trust, and nothing else)."""
        if token is None:
            return None
        try:
            text = token.decode("latin-1").strip()
            shopper = verify_shopper_token(text, SECRET)
        except (InvalidShopperToken, UnicodeError):
            return None
        known = {c.email for c in CUSTOMERS}
        return shopper.email if shopper.email in known else None

    def send(self, spec: Spec) -> tuple[dict[str, Any], Reply]:
        req = self.request(spec)
        return req, self._call(req)

    def _call(self, req: dict[str, Any]) -> Reply:
        before = len(self.errors.records)
        if self.server is not None:
            reply = _over_socket(self.server.url, req)
        else:
            reply = self.loop.run_until_complete(_asgi_call(self.app, req))
        reply.errors.extend(self.errors.records[before:])
        return reply

    # -- state ------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """What a refused request must leave as it was."""
        store = hashlib.sha256()
        owned: dict[Any, list[Any]] = {}
        for table in TABLES:
            for row in self.db.rows(f"SELECT * FROM {table} ORDER BY 1"):
                values = tuple(row)
                store.update(repr(values).encode())
                if table in ("orders", "returns", "handoffs"):
                    owned.setdefault(row["customer_id"], []).append((table, values))
        with contextlib.closing(sqlite3.connect(self.keys_path)) as conn:
            threads = conn.execute("SELECT count(*) FROM api_threads").fetchone()[0]
        checkpoints = sum(len(v) for ns in self.saver.storage.values() for v in ns.values())
        return {
            "store": store.hexdigest(),
            "owned": owned,
            "threads": threads,
            "checkpoints": checkpoints + len(self.saver.writes),
        }

    def owner(self, thread: str | None) -> tuple[str | None, str | None] | None:
        """(key name, customer) owning ``thread``; None when it does not exist."""
        if thread is None:
            return None
        try:
            owner = self.keys.thread(thread)
        except (UnicodeError, ValueError):
            return None
        if owner is None:
            return None
        names = {v: k for k, v in self.key_ids.items()}
        return names.get(owner.key_id), owner.customer

    # -- one input, all checks --------------------------------------------------------------
    def run(self, spec: Spec) -> Outcome:
        """Send ``spec`` and check everything; the outcome names every problem."""
        req = self.request(spec)
        owner = self.owner(req["thread"])
        before = self.snapshot()
        reply = self._call(req)
        after = self.snapshot()
        return self.check(req, reply, before, after, owner)

    def check(
        self,
        req: dict[str, Any],
        reply: Reply,
        before: dict[str, Any],
        after: dict[str, Any],
        owner: tuple[str | None, str | None] | None,
    ) -> Outcome:
        status = reply.status or 0
        kind, events = _classify(reply)
        outcome = Outcome(kind)
        for error in reply.errors:
            outcome.add("crash", error)
        if reply.status is None:
            outcome.add("crash", "no response")
        if kind == "5xx":
            outcome.add("5xx", f"status {status}: {reply.body[:300]!r}")
        _check_shape(req, reply, events, outcome)
        # nothing written by a refused request
        if kind == "4xx":
            for name in ("store", "threads", "checkpoints"):
                if before[name] != after[name]:
                    outcome.add("partial_write", f"{name} changed by a refused request")
        # no write for anyone but the verified caller
        caller_id = next((c.id for c in CUSTOMERS if c.email == req["caller"]), None)
        for customer in {*before["owned"], *after["owned"]}:
            if customer in (caller_id, None):
                continue
            if before["owned"].get(customer) != after["owned"].get(customer):
                outcome.add("partial_write", f"customer {customer}'s records changed")
        # authentication and ownership
        route = req["path"].split("?")[0]
        public = route == "/" or any(route.startswith(p) for p in PUBLIC if p != "/")
        if kind == "2xx" and not public and req["key"] not in ("key", "other"):
            outcome.add("leak", f"{status} on {route} without a valid key")
        if kind == "2xx" and owner is not None and req["method"] != "OPTIONS":
            owner_key, owner_customer = owner
            if owner_key != req["key"] or owner_customer not in (None, req["caller"]):
                outcome.add("leak", f"{status} on a thread of {owner_key}/{owner_customer}")
        # answers: no other customer's data, secret or stack trace
        sent = _request_text(req)
        thread = reply.headers.get(b"x-thread-id", b"").decode("latin-1") or req["thread"]
        echo = sent + self.corpus.get(thread or "", "")
        answer = reply.body.decode("utf-8", "replace")
        for leak in leaks(answer, echo, customer=req["caller"], secrets=self.never_shown):
            outcome.add("leak", leak)
        if thread:
            self.corpus[thread] = (self.corpus.get(thread, "") + sent)[-200_000:]
        return outcome


def _request_text(req: dict[str, Any]) -> str:
    parts = [
        unquote(req["path"]),
        req["query"].decode("latin-1"),
        req["body"].decode("utf-8", "replace"),
    ]
    parts.extend(v.decode("utf-8", "replace") for _, v in req["headers"])
    for _, value in req["headers"]:
        with contextlib.suppress(Exception):
            parts.append(json.dumps(jwt.decode(value, options={"verify_signature": False})))
    return "\n".join(parts)


_SERVER_FAULTS = {"internal_error", "upstream_unavailable", "storage_unavailable", "turn_timeout",
                  "not_ready"}  # fmt: skip


def _classify(reply: Reply) -> tuple[str, list[tuple[str, Any]]]:
    """``2xx``/``4xx``/``5xx`` (a stream that ends in an error event counts as that error)."""
    status = reply.status or 0
    events: list[tuple[str, Any]] = []
    if b"text/event-stream" in reply.headers.get(b"content-type", b""):
        events = sse_events(reply.body.decode("utf-8", "replace"), strict=False)
        errors = [d for e, d in events if e == "error" or (isinstance(d, dict) and "error" in d)]
        if errors:
            error = errors[-1].get("error", errors[-1]) if isinstance(errors[-1], dict) else {}
            failed = int(error.get("status") or 0) >= 500 or error.get("code") in _SERVER_FAULTS
            status = 500 if failed else 400
    if status >= 500 or status == 0:
        return "5xx", events
    return ("4xx" if status >= 400 else "2xx"), events


def _check_shape(
    req: dict[str, Any], reply: Reply, events: list[tuple[str, Any]], outcome: Outcome
) -> None:
    status = reply.status or 0
    ctype = reply.headers.get(b"content-type", b"")
    if status and b"x-request-id" not in reply.headers and not reply.parser_refused:
        outcome.add("shape", "no X-Request-Id header")
    if req["method"] == "HEAD" or not status or reply.parser_refused:
        return
    if b"text/event-stream" in ctype:
        if not events:
            outcome.add("shape", f"empty event stream: {reply.body[:200]!r}")
            return
        if any(e == "unparsable" for e, _ in events):
            outcome.add("shape", "an event's data is not JSON")
        last_event, last = events[-1]
        if req["path"].startswith("/v1/chat/completions"):
            if last != "[DONE]":
                outcome.add("shape", f"stream does not end with [DONE]: {last!r:.200}")
        elif last_event not in ("final", "error"):
            outcome.add("shape", f"stream ends with {last_event!r}, not final/error")
        return
    if status >= 400:
        try:
            error = json.loads(reply.body)["error"]
            assert isinstance(error["code"], str) and error["code"]
            assert isinstance(error["message"], str) and error["message"]
            assert error["request_id"]
        except (ValueError, KeyError, TypeError, AssertionError):
            outcome.add("shape", f"{status} without the error shape: {reply.body[:200]!r}")
    elif b"application/json" in ctype:
        try:
            json.loads(reply.body)
        except ValueError:
            outcome.add("shape", f"{status} JSON answer does not parse: {reply.body[:200]!r}")


# --------------------------------------------------------------------------- transports


async def _asgi_call(app: Any, req: dict[str, Any]) -> Reply:
    """One request straight into the ASGI app (any header bytes; the body in pieces)."""
    body: bytes = req["body"]
    size = max(1, -(-len(body) // req["chunks"]))
    pieces = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    path = req["path"]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": req["method"],
        "scheme": "http",
        "path": unquote(path),  # what uvicorn hands the app
        "raw_path": _utf8(path),
        "query_string": req["query"],
        "root_path": "",
        "headers": [(k.lower(), v) for k, v in req["headers"]],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    finished = asyncio.Event()
    reply = Reply(None, {}, b"")
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        if pieces:
            piece = pieces.pop(0)
            return {"type": "http.request", "body": piece, "more_body": bool(pieces)}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            if reply.status is not None:
                reply.errors.append("response started twice")
            reply.status = message["status"]
            reply.headers = {k.lower(): v for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                finished.set()

    try:
        await asyncio.wait_for(app(scope, receive, send), TIMEOUT_S)
    except TimeoutError:
        reply.errors.append(f"no answer within {TIMEOUT_S} s")
    except Exception as exc:
        reply.errors.append(f"exception escaped the app: {exc!r}"[:300])
    finished.set()
    reply.body = b"".join(chunks)
    return reply


def _over_socket(url: str, req: dict[str, Any]) -> Reply:
    """One request over a real TCP connection, bytes as given (CR/LF kept out of header
    values: those would only cut the request, which the HTTP parser answers itself)."""
    host, port = url.removeprefix("http://").split(":")
    target = req["path"] + ("?" + req["query"].decode("latin-1") if req["query"] else "")
    head = [_utf8(f"{req['method']} {target} HTTP/1.1")]
    for name, value in req["headers"]:
        if name.lower() in (b"content-length", b"transfer-encoding", b"connection"):
            continue
        clean = value.replace(b"\r", b"").replace(b"\n", b"")
        name = name.replace(b"\r", b"").replace(b"\n", b"").replace(b":", b"") or b"x"
        head.append(name + b": " + clean)
    head.append(b"content-length: " + str(len(req["body"])).encode())
    head.append(b"connection: close")
    raw = b"\r\n".join(head) + b"\r\n\r\n" + req["body"]
    reply = Reply(None, {}, b"")
    data = b""
    with socket.create_connection((host, int(port)), timeout=TIMEOUT_S) as sock:
        with contextlib.suppress(OSError):  # the server may answer 413 and close early
            sock.sendall(raw)
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except TimeoutError:
            reply.errors.append(f"no answer within {TIMEOUT_S} s")
        except OSError:
            pass  # reset after the answer (413 with unread body)
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    if not head_bytes:
        return reply
    lines = head_bytes.split(b"\r\n")
    reply.status = int(lines[0].split()[1])
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        reply.headers[name.strip().lower()] = value.strip()
    if reply.headers.get(b"transfer-encoding") == b"chunked":
        body = _dechunk(body)
    reply.body = body
    reply.parser_refused = reply.status == 400 and body == b"Invalid HTTP request received."
    return reply


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out


# --------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):
    svc = Service(tmp_path_factory.mktemp("fuzz-http"))
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def real_service(tmp_path_factory: pytest.TempPathFactory):
    svc = Service(tmp_path_factory.mktemp("fuzz-http-real"), real=True)
    yield svc
    svc.close()


@fuzz_settings(EXAMPLES * 5)
@given(spec=hand_specs())
def test_hostile_requests_get_clear_errors_and_change_nothing(service, spec: Spec) -> None:
    outcome = service.run(spec)
    assert not outcome.problems, outcome.explain(repr(spec)[:600])


@fuzz_settings(EXAMPLES * 3)
@given(spec=schema_specs())
def test_openapi_cases_positive_and_negative(service, spec: Spec) -> None:
    outcome = service.run(spec)
    assert not outcome.problems, outcome.explain(repr(spec)[:600])


@fuzz_settings(max(10, EXAMPLES))
@given(spec=st.one_of(hand_specs(), schema_specs()))
def test_real_server_over_sockets(real_service, spec: Spec) -> None:
    outcome = real_service.run(spec)
    assert not outcome.problems, outcome.explain(repr(spec)[:600])


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
