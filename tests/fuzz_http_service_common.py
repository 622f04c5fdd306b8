"""The service the HTTP fuzz suites attack (:class:`Service`), with the checks every answer
must pass, and its module-scoped fixtures (in-process and on a real uvicorn server).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from factories import CUSTOMERS, tiny_store
from fuzz_common import Outcome, leaks
from fuzz_http_common import (
    MAX_BODY,
    PUBLIC,
    Reply,
    Spec,
    _asgi_call,
    _check_shape,
    _classify,
    _json,
    _over_socket,
    _request_text,
    _utf8,
)
from langgraph.checkpoint.memory import InMemorySaver
from server_app import RETURN_MSG, SECRET, build_agent, shopper_token
from shopagent.agent.server.app import create_app
from shopagent.agent.server.config import ServerConfig
from shopagent.agent.server.keys import KeyStore, hash_key
from shopagent.agent.server.shopper import InvalidShopperToken, verify_shopper_token
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.queries import TABLES

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
