"""Capability probing: ask a model once what it can actually do, and remember the answer.

``capabilities(model)`` guesses from the backend class (``openai:`` taken as tool-capable,
``hf:`` never). A probe asks instead, with two tiny requests: one tool schema ("call
``shopagent_probe`` with value 7": did a well-formed call come back?) and one JSON-mode
request (did a JSON object come back?). The verdict is cached per model spec and endpoint in
a JSON file (``settings.home / "model_capabilities.json"``), so each model is probed once.

A backend that refuses the feature (no ``bind_tools``, HTTP 400/404/422 for ``tools`` or
``response_format``) or answers without it counts as "no". A failure that says nothing about
the model (connection refused, timeout, 429, 5xx) leaves the cache alone: the class-based
guess is returned and the next start probes again.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableBinding
from pydantic import BaseModel
from shopagent.agent.models.capabilities import ModelCapabilities, capabilities

from shopagent.settings import Settings

log = logging.getLogger(__name__)

CACHE_FILE = "model_capabilities.json"
PROBE_TOOL = {
    "type": "function",
    "function": {
        "name": "shopagent_probe",
        "description": "Report a number back to the system.",
        "parameters": {
            "type": "object",
            "properties": {"value": {"type": "integer", "description": "The number."}},
            "required": ["value"],
        },
    },
}
TOOL_PROMPT = "Call the shopagent_probe tool with value 7. Do not answer in text."
JSON_PROMPT = 'Reply with the JSON object {"ok": true} and nothing else.'


class _ProbeAnswer(BaseModel):
    ok: bool


class _Inconclusive(Exception):
    """The probe could not reach the model; its capabilities are still unknown."""


def cache_path_for(settings: Settings) -> Path:
    """Where probed capabilities live for these settings."""
    return Path(settings.home) / CACHE_FILE


def cache_key(model: Any, spec: str) -> str:
    """The spec, plus the endpoint for remote models: one ``openai:x`` spec may name
    different servers (OpenAI, vLLM, Ollama) with different features."""
    base = getattr(_unbound(model), "openai_api_base", None)
    return f"{spec}@{str(base).rstrip('/')}" if base else spec


def _unbound(model: Any) -> Any:
    while isinstance(model, RunnableBinding):
        model = model.bound
    return model


def probed(model: Any, settings: Settings) -> ModelCapabilities:
    """:func:`probe_capabilities` cached under ``settings.home`` (what ``ShopAgent.open``
    calls). The spec is the one the model was built from (``capabilities(model).name``), not
    ``settings.model``: an injected model (evals, tests) never writes under another's spec."""
    return probe_capabilities(model, capabilities(model).name, cache_path_for(settings))


def read_cache(cache_path: Path) -> dict[str, dict[str, Any]]:
    """Every cached verdict (an unreadable or corrupt file counts as empty)."""
    try:
        data = json.loads(Path(cache_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def cached_capabilities(spec: str, cache_path: Path) -> dict[str, Any] | None:
    """The cached verdict for ``spec`` (any endpoint; the newest), or None (doctor)."""
    found = [v for k, v in read_cache(cache_path).items() if k == spec or k.startswith(f"{spec}@")]
    found = [v for v in found if isinstance(v, dict)]
    return max(found, key=lambda v: str(v.get("probed_at", ""))) if found else None


def probe_capabilities(model: Any, spec: str, cache_path: Path) -> ModelCapabilities:
    """What ``model`` (built from ``spec``) can do: from the cache, else probed now and
    cached. ``streaming``, ``name`` and ``local`` come from :func:`capabilities`."""
    static = capabilities(model)
    if getattr(_unbound(model), "declared_only", False):
        return static  # e.g. a test double: probing would eat its script
    key = cache_key(model, spec)
    entry = read_cache(cache_path).get(key)
    if isinstance(entry, dict) and {"tool_calling", "json_output"} <= entry.keys():
        return replace(static, tool_calling=bool(entry["tool_calling"]),
                       json_output=bool(entry["json_output"]))  # fmt: skip
    try:
        tools, json_mode = _probe_tools(model), _probe_json(model)
    except _Inconclusive as exc:
        log.warning("capability probe of %s inconclusive (%s); not cached", spec, exc)
        return static
    _write(cache_path, key, {
        "tool_calling": tools,
        "json_output": json_mode,
        "probed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "guessed": {"tool_calling": static.tool_calling, "json_output": static.json_output},
    })  # fmt: skip
    return replace(static, tool_calling=tools, json_output=json_mode)


def _probe_tools(model: Any) -> bool:
    try:
        bound = model.bind_tools([PROBE_TOOL])
    except (NotImplementedError, TypeError, ValueError, AttributeError):
        return False
    reply = _invoke(bound, [HumanMessage(TOOL_PROMPT)])
    for call in getattr(reply, "tool_calls", None) or []:
        args = call.get("args")
        if call.get("name") == "shopagent_probe" and isinstance(args, dict) and "value" in args:
            return True
    return False


def _probe_json(model: Any) -> bool:
    try:
        structured = model.with_structured_output(_ProbeAnswer, method="json_mode",
                                                  include_raw=True)  # fmt: skip
    except (NotImplementedError, TypeError, ValueError, AttributeError):
        return False
    messages = [SystemMessage("You answer in JSON."), HumanMessage(JSON_PROMPT)]
    out = _invoke(structured, messages)
    return (
        isinstance(out, dict) and out.get("parsing_error") is None and out.get("parsed") is not None
    )


def _invoke(runnable: Any, messages: list[Any]) -> Any:
    """One probe request; a refusal of the feature is a reply of None, a failure that says
    nothing about the model raises _Inconclusive."""
    try:
        return runnable.invoke(messages)
    except (NotImplementedError, ValueError):
        return None
    except Exception as exc:
        status = getattr(exc, "status_code", None)
        if status in (400, 404, 422):  # the server rejects the parameter: not supported
            return None
        raise _Inconclusive(f"{type(exc).__name__}: {str(exc)[:200]}") from exc


def _write(cache_path: Path, key: str, entry: dict[str, Any]) -> None:
    """Add one verdict atomically (a concurrent reader never sees half a file)."""
    cache_path = Path(cache_path)
    data = read_cache(cache_path)
    data[key] = entry
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_path.parent, prefix=".caps-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
        os.replace(tmp, cache_path)
    except OSError as exc:  # a read-only home: probe again next time, never fail the start
        log.warning("cannot cache model capabilities in %s: %s", cache_path, exc)
