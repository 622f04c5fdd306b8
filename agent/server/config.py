"""Server configuration: one immutable object handed to :func:`shopagent.agent.server.create_app`.

:meth:`ServerConfig.from_settings` reads the fields from the project's ``Settings`` when it
has them, else from ``SHOPAGENT_*`` environment variables of the same name (a bridge until
the fields live in ``shopagent/settings.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from shopagent.settings import Settings


class ServerConfig(BaseModel):
    """Everything the HTTP service needs beyond the agent itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    keys_url: str = Field(
        "var/keys.sqlite",
        description="Where API keys and thread ownership live: a SQLite path, or a "
        "postgresql:// URL (required when several server processes share the work).",
    )
    shopper_token_secret: SecretStr | None = Field(
        None, description="HMAC secret (HS256 JWT) the shop's backend signs shopper tokens with."
    )
    shopper_token_audience: str = Field("shopagent", description="Required `aud` claim.")

    @field_validator("shopper_token_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        # RFC 7518 3.2: an HS256 key must be at least as long as the hash (32 bytes)
        if secret is not None and len(secret.get_secret_value().encode()) < 32:
            raise ValueError(
                "SHOPAGENT_SHOPPER_TOKEN_SECRET must be at least 32 bytes; generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return secret

    shopper_token_max_age_s: int = Field(
        24 * 3600, ge=60, description="Longest accepted token lifetime (exp - iat)."
    )
    rate_limit_per_minute: float = Field(
        120, ge=0, description="Default per-key request rate (0: unlimited); keys may override."
    )
    rate_limit_burst: int = Field(30, ge=1, description="Requests a key may send at once.")
    max_request_bytes: int = Field(
        256 * 1024, ge=1024, description="Largest request body (OpenAI clients send history)."
    )
    cors_origins: tuple[str, ...] = Field((), description="Origins allowed to call the API.")
    key_cache_s: float = Field(
        5.0, ge=0, description="How long a verified key is cached (revocation delay)."
    )
    metrics_public: bool = Field(False, description="Serve /metrics without an API key.")
    docs: bool = Field(True, description="Serve /docs and /openapi.json.")
    stream_drafts: bool = Field(
        False,
        description="Also stream the model's unverified draft tokens (`draft` SSE events). "
        "Off: only verified answer text is ever sent.",
    )
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    heartbeat_s: float = Field(15.0, gt=0, description="SSE keep-alive comment interval.")

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ServerConfig:
        """The server's fields from the one ``Settings`` object; ``overrides`` win."""
        values: dict[str, Any] = {
            name: getattr(settings, name)
            for name in cls.model_fields
            if getattr(settings, name, None) is not None
        }
        if "keys_url" not in values:
            values["keys_url"] = str(Path(settings.home) / "keys.sqlite")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def backend_urls(settings: Settings) -> tuple[str | None, str | None]:
    """``(checkpoint_url, store_url)`` from settings."""
    return settings.checkpoint_url, settings.store_url


def is_postgres(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("postgresql://", "postgres://"))
