"""Server configuration: the one :class:`~shopagent.settings.Settings`, frozen for a server.

Every field (and its validation) is declared once, in ``shopagent/settings.py``;
:class:`ServerConfig` only freezes it and fills the keys database location from ``home``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from shopagent.settings import Settings


class ServerConfig(Settings):
    """The settings one running HTTP service was started with (immutable)."""

    model_config = SettingsConfigDict(frozen=True)

    keys_url: str = ""  # type: ignore[assignment]  # always set: see _keys_beside_home

    @model_validator(mode="before")
    @classmethod
    def _keys_beside_home(cls, values: Any) -> Any:
        if isinstance(values, dict) and not values.get("keys_url"):
            home = values.get("home") or Settings.model_fields["home"].default
            values = {**values, "keys_url": str(Path(home) / "keys.sqlite")}
        return values

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ServerConfig:
        """The server's configuration from ``settings``; ``overrides`` that are not None win."""
        values = {
            name: getattr(settings, name)
            for name in Settings.model_fields
            if getattr(settings, name) is not None
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def backend_urls(settings: Settings) -> tuple[str | None, str | None]:
    """``(checkpoint_url, store_url)`` from settings."""
    return settings.checkpoint_url, settings.store_url


def is_postgres(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("postgresql://", "postgres://"))
