"""The uvicorn factory ``shopagent serve`` runs in each worker process."""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI
from shopagent.agent.server.app import create_app
from shopagent.agent.server.config import ServerConfig, backend_urls
from shopagent.agent.server.logs import configure_logging

from shopagent.settings import Settings, get_settings

log = logging.getLogger("shopagent.server")


def service_settings(settings: Settings) -> Settings:
    """``settings`` as the service uses them: the signed shopper token is the only identity
    (chat verification off) unless ``SHOPAGENT_CHAT_VERIFICATION`` was set explicitly."""
    if "chat_verification" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"chat_verification": False})


def app_from_settings() -> FastAPI:
    """The service configured from ``Settings`` (+ ``SHOPAGENT_*`` server variables)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    settings = service_settings(get_settings())
    config = ServerConfig.from_settings(settings)
    configure_logging(config.log_format, config.log_level)
    checkpoint_url, store_url = backend_urls(settings)
    log.info(
        "starting",
        extra={
            "checkpoints": "postgres" if checkpoint_url else "sqlite",
            "store": "postgres" if store_url else "sqlite",
            "catalog": "chroma-server" if settings.chroma_url else "chroma-embedded",
            "langsmith_tracing": os.environ.get("LANGSMITH_TRACING", "false"),
        },
    )

    async def open_agent():
        from shopagent.agent.server.backends import open_agent_from_settings

        return await open_agent_from_settings(settings)

    return create_app(None, config, open_agent=open_agent)
