"""A scripted stand-in for a capable (tool-calling) model: an OpenAI-compatible server on
loopback whose every answer is a deterministic rule over the request. NOT a language model:
it exists so the two act modes can be compared, offline and reproducibly, on the built-in
suite with a recorded cassette (BENCHMARKS.md, "Act modes on the built-in suite").

    .venv/bin/python benchmarks/stand_in_model.py --port 8765

What it answers:

* capability probes: as a capable model (a ``shopagent_probe`` call, a JSON object);
* routing (the ``RouteDecision`` tool): the intents of the intent model trained on the eval
  store (``shopagent train``'s model, as the eval runner trains it), so routing is the same
  in both modes;
* the act step (the tool-calling mode's tools): reads the intent, the product in focus and
  the order number from the act prompt's context line and picks tools the way a careful model
  would: search, then price/stock or details of the top hit; the policy for policy
  questions; the order tools (``list_orders`` for the history); ``propose_return`` /
  ``propose_cancel`` for writes, and for a message naming several items to return, the
  order's items then ``propose_return_items`` with the lines it names; then stops;
* the answer (compose): copies the required facts of the prompt verbatim.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

CONTEXT = re.compile(r"Intent: (?P<intent>\w+)\.")
TALKING = re.compile(r"Talking about: .* \(SKU (?P<sku>[^)]+)\)\.")
ORDER = re.compile(r"Order mentioned: (?P<order>[^\s.]+)\.")
REQUIRED = re.compile(r"copying names, prices.*?exactly:\n(?P<facts>.*?)\nYou may also use:", re.S)
CONDITIONS = {"sealed": "unopened", "unopened": "unopened", "unused": "unused", "used": "used"}
HISTORY = re.compile(r"\b(history|all (?:of )?my orders|my orders|list .*orders)\b", re.I)
"""A message asking for the order history rather than one order."""
SEVERAL = {"and", "both", "everything", "all"}
"""Words of a message that names several items to return."""
COMMON = {"the", "and", "from", "order", "return", "both", "my", "a", "of", "to", "please"}


class StandIn:
    """The rules; ``route`` maps a customer message to intents (set before routing)."""

    def __init__(self, route: Any = None) -> None:
        self.route = route
        self.calls = 0

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        messages = body.get("messages") or []
        tools = [t["function"]["name"] for t in body.get("tools") or []]
        last = str(messages[-1].get("content") or "") if messages else ""
        if tools == ["shopagent_probe"]:
            return _call("shopagent_probe", {"value": 7})
        if (body.get("response_format") or {}).get("type") == "json_object":
            return _text('{"ok": true}')
        if "RouteDecision" in tools:
            return _call("RouteDecision", self._route(last))
        if "search_products" in tools:
            return self._act(messages)
        return _text(_compose(messages))

    def _route(self, text: str) -> dict[str, Any]:
        u = self.route.classify(text) if self.route else None
        intents = list(getattr(u, "intents", None) or [getattr(u, "intent", "out_of_scope")])
        return {"intents": intents[:3], "confidence": round(float(u.confidence), 2) if u else 0.5}

    def _act(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        prompt = next(str(m.get("content")) for m in messages if m.get("role") == "user")
        intent = m.group("intent") if (m := CONTEXT.search(prompt)) else ""
        sku = m.group("sku") if (m := TALKING.search(prompt)) else None
        order = m.group("order") if (m := ORDER.search(prompt)) else None
        text = prompt.split("Customer:", 1)[-1].strip()
        called = {  # tool messages carry only the id of the call they answer
            c["id"]: c["function"]["name"] for m in messages for c in m.get("tool_calls") or []
        }
        done = [
            (called.get(m.get("tool_call_id"), ""), _json(m.get("content")))
            for m in messages
            if m.get("role") == "tool"
        ]
        step = _next_step(intent, text, sku, order, done)
        return _call(*step, call_id=f"call_{self.calls}") if step else _text("done")


def _next_step(
    intent: str, text: str, sku: str | None, order: str | None, done: list[tuple[str, Any]]
) -> tuple[str, dict[str, Any]] | None:
    """The next tool call, or None when the turn's tools have run."""
    names = [n for n, _ in done]
    hits = next((r.get("hits") for n, r in done if n == "search_products" and r), None) or []
    if intent in {"product_search", "price_stock", "product_question", "compare"}:
        if intent == "product_search":
            return None if names else ("search_products", {"query": text[:300]})
        if not sku and not hits:
            return None if names else ("search_products", {"query": text[:300]})
        if intent == "price_stock":
            if "check_price_stock" in names:
                return None
            return ("check_price_stock", {"skus": [sku] if sku else [hits[0]["sku"]]})
        wanted = [h["product_id"] for h in hits[: 2 if intent == "compare" else 1]]
        seen = sum(n == "get_product_details" for n in names)
        return ("get_product_details", {"product_id": wanted[seen]}) if seen < len(wanted) else None
    if intent == "return_policy":
        return None if names else ("lookup_return_policy", {"question": text[:300]})
    if intent in {"order_status", "return_request", "cancel_order"}:
        if intent == "order_status" and not order and HISTORY.search(text):
            return None if names else ("list_orders", {})
        if intent == "order_status" or not order:
            args = {"order_number": order} if order else {}
            return None if names else ("get_order_status", args)
        words = set(re.findall(r"[a-z]+", text.casefold()))
        if intent == "return_request" and words & SEVERAL and names in ([], ["get_order_status"]):
            return _several(order, words, done)
        if names:
            return None
        if intent == "cancel_order":
            return ("propose_cancel", {"order_number": order})
        args: dict[str, Any] = {"order_number": order}
        if condition := next((c for w, c in CONDITIONS.items() if w in words), None):
            args["condition"] = condition
        return ("propose_return", args)
    return None


def _several(order: str, words: set[str], done: list[tuple[str, Any]]) -> tuple[str, Any] | None:
    """A return of several items: look the order up, then propose the lines the message
    names (every line for "everything"/"all"; both units of a named line for "both")."""
    if not done:
        return ("get_order_status", {"order_number": order})
    orders = (done[-1][1] or {}).get("orders") or []
    lines = orders[0]["items"] if orders else []
    named = [
        line for line in lines
        if words & {"everything", "all"}
        or set(re.findall(r"[a-z]+", line["name"].casefold())) & (words - COMMON)
    ]  # fmt: skip
    args: dict[str, Any] = {"order_number": order}
    if condition := next((c for w, c in CONDITIONS.items() if w in words), None):
        args["condition"] = condition
    if len(named) < 2 and not any(line["quantity"] > 1 for line in named):
        return ("propose_return", args)  # one item after all
    args["items"] = [{"item_id": line["item_id"], "quantity": line["quantity"]} for line in named]
    if {"gift", "card"} <= words:
        args["refund_to_gift_card"] = True
    return ("propose_return_items", args)


def _compose(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if found := REQUIRED.search(str(m.get("content") or "")):
            lines = [ln.strip(" -•\t") for ln in found.group("facts").splitlines()]
            return " ".join(ln for ln in lines if ln)
    return ""


def _json(content: Any) -> Any:
    try:
        return json.loads(content) if isinstance(content, str) else content
    except ValueError:
        return None


def _call(name: str, args: dict[str, Any], call_id: str = "call_1") -> dict[str, Any]:
    call = {"id": call_id, "type": "function",
            "function": {"name": name, "arguments": json.dumps(args)}}  # fmt: skip
    return _reply({"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls")


def _text(content: str) -> dict[str, Any]:
    return _reply({"role": "assistant", "content": content}, "stop")


def _reply(message: dict[str, Any], finish: str) -> dict[str, Any]:
    words = len(json.dumps(message)) // 4
    return {
        "id": "chatcmpl-stand-in",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "stand-in",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 0, "completion_tokens": words, "total_tokens": words},
    }


def eval_store_router(cache_dir: Path = Path("var/evals")) -> Any:
    """The intent model the eval runner trains on the default eval store (lazy)."""
    from shopagent.agent.understanding.classifier import load_router
    from shopagent.evals.store import StoreSpec, store_digest
    from shopagent.tools.embeddings import get_embedder

    embedder = get_embedder()
    home = cache_dir / f"store-{store_digest(StoreSpec().generate())}" / "intent"
    return load_router(home, embedder.embed, embedder.identity)


class LazyRouter:
    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir, self.router = cache_dir, None

    def classify(self, text: str) -> Any:
        if self.router is None:
            self.router = eval_store_router(self.cache_dir)
        return self.router.classify(text)


def create_app(stand_in: StandIn) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> JSONResponse:
        return JSONResponse(stand_in.answer(await request.json()))

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--cache-dir", type=Path, default=Path("var/evals"))
    args = parser.parse_args()
    app = create_app(StandIn(LazyRouter(args.cache_dir)))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
