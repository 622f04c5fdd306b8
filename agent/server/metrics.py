"""Prometheus metrics: HTTP requests, turn latency, tool calls and errors, model tokens.

Each app has its own registry (several apps may live in one test process). With
``PROMETHEUS_MULTIPROC_DIR`` set (``uvicorn --workers N``) ``/metrics`` aggregates every
worker through prometheus-client's multiprocess collector.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "shopagent_http_requests",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.request_latency = Histogram(
            "shopagent_http_request_duration_seconds",
            "HTTP request latency (streams: until the last byte).",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.turns = Counter(
            "shopagent_turns", "Answered turns.", ["intent", "answer_source"], registry=r
        )
        self.turn_latency = Histogram(
            "shopagent_turn_latency_seconds",
            "Time to answer one turn (graph run).",
            ["intent"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tool_calls = Counter(
            "shopagent_tool_calls", "Tool calls by tool and outcome.", ["tool", "ok"], registry=r
        )
        self.tool_errors = Counter(
            "shopagent_tool_errors", "Tool calls that failed.", ["tool"], registry=r
        )
        self.model_tokens = Counter(
            "shopagent_model_tokens", "Tokens used by the chat model.", registry=r
        )
        self.llm_calls = Counter("shopagent_llm_calls", "Chat model calls.", registry=r)
        self.turn_errors = Counter(
            "shopagent_turn_errors", "Turns that failed with an error.", ["kind"], registry=r
        )
        self.rate_limited = Counter(
            "shopagent_rate_limited", "Requests refused by the rate limit.", registry=r
        )
        self.auth_failures = Counter(
            "shopagent_auth_failures", "Requests refused for a missing/invalid key.", registry=r
        )

    def observe_turn(self, result: dict[str, Any], *, skip_calls: int = 0) -> None:
        intent = str(result.get("intent") or "unknown")
        source = str(result.get("answer_source") or "").split(" ")[0] or "unknown"
        self.turns.labels(intent, source).inc()
        self.turn_latency.labels(intent).observe(float(result.get("latency_ms", 0)) / 1000)
        for call in (result.get("tool_calls") or [])[skip_calls:]:
            ok = bool(call.get("ok"))
            self.tool_calls.labels(call.get("name", "?"), str(ok).lower()).inc()
            if not ok:
                self.tool_errors.labels(call.get("name", "?")).inc()
        self.model_tokens.inc(int(result.get("tokens") or 0))
        self.llm_calls.inc(int(result.get("llm_calls") or 0))

    def render(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
