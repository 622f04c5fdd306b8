"""The one settings object: environment (``SHOPAGENT_*``) over ``shopagent.toml`` over defaults.

Read it once with :func:`get_settings`; pass values down, never re-read the environment.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """Everything ShopAgent can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPAGENT_",
        toml_file="shopagent.toml",
        extra="ignore",
        populate_by_name=True,
    )

    home: Path = Field(Path("var"), description="Directory for store data, index, checkpoints.")
    model: str = Field(
        "local", description="Chat model spec: local, hf:<id-or-path>, openai:<model>."
    )
    store_dir: Path | None = Field(None, description="Store source files (docs/store-format.md).")
    db_path: Path | None = Field(None, description="SQLite store database.")
    chroma_path: Path | None = Field(None, description="Embedded Chroma directory.")
    chroma_url: str | None = Field(None, description="Chroma server URL (server mode).")
    collection: str = Field("products", description="Chroma collection name.")
    embedder: str = Field(
        "aligned",
        description="Catalog embedder: aligned (static product vectors mapped into MiniLM's "
        "space, MiniLM queries), static (distilled from MiniLM), onnx-int8, onnx or torch "
        "(see BENCHMARKS.md).",
    )
    embedder_max_seq_length: int | None = Field(
        128, ge=8, le=512, description="Token cap per embedded text; unset: the model's 256."
    )
    checkpoint_path: Path | None = Field(None, description="SQLite checkpoint database.")
    inventory_url: str | None = Field(
        None, description="Price/stock API base URL; unset: the CLI serves it on loopback."
    )
    inventory_timeout_s: float = Field(2.0, gt=0)
    inventory_retries: int = Field(3, ge=0, le=10)
    model_cache_dir: Path | None = Field(None, description="Converted local model weights.")
    max_new_tokens: int = Field(64, ge=8, le=4096)
    temperature: float = Field(0.0, ge=0, le=2)
    search_k: int = Field(5, ge=1, le=50)
    history_turns: int = Field(
        8,
        ge=0,
        le=100,
        description="Turns of history in prompts of capable models (tiny models get none).",
    )
    now: str | None = Field(None, description="Fixed ISO clock for demos and evals.")
    chat_verification: bool = Field(
        True,
        description="Let anonymous shoppers verify in the chat with email + order number (or "
        "zip code). `shopagent serve` turns it off unless set: there the signed shopper token "
        "is the only identity.",
    )
    verification_methods: list[Literal["email_order", "email_zip", "name_zip"]] = Field(
        ["email_order", "email_zip", "name_zip"],
        description="How an anonymous shopper may verify in the chat (when `chat_verification` "
        "is on): email + order number, email + zip code, full name + zip code. Env: a JSON "
        "list, e.g. SHOPAGENT_VERIFICATION_METHODS='[\"email_order\"]'.",
    )
    verification_max_failures: int = Field(
        3,
        ge=1,
        le=100,
        description="Failed in-chat verifications a thread may make within "
        "`verification_lockout_s`; further attempts are refused, even correct ones.",
    )
    verification_lockout_s: float = Field(
        900.0, ge=0, description="How long failed verification attempts count against a thread."
    )
    act_mode: Literal["deterministic", "tools"] = Field(
        "deterministic",
        description="How the act step picks tools: fixed per intent, or chosen by the model "
        "(`tools`; only for a model whose capability probe found tool calling).",
    )
    max_tool_calls: int = Field(4, ge=1, le=16, description="Model tool calls per turn.")
    turn_budget_s: float = Field(
        30.0, gt=0, description="Most seconds a turn may take; slower parts degrade honestly."
    )
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SHOPAGENT_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("SHOPAGENT_OPENAI_BASE_URL", "OPENAI_BASE_URL")
    )
    openai_timeout_s: float = Field(30.0, gt=0)

    # -- HTTP service (shopagent serve; agent/server/config.py derives ServerConfig) ----------
    checkpoint_url: str | None = Field(
        None, description="postgresql://... for shared checkpoints (default: SQLite file)."
    )
    store_url: str | None = Field(None, description="postgresql://... store database.")
    keys_url: str | None = Field(
        None,
        description="Where API keys and thread ownership live: a SQLite path (default "
        "<home>/keys.sqlite), or a postgresql:// URL (several server processes).",
    )
    shopper_token_secret: SecretStr | None = Field(
        None, description="HMAC secret (HS256 JWT) the shop's backend signs shopper tokens with."
    )
    shopper_token_audience: str = Field("shopagent", description="Required `aud` claim.")
    shopper_token_max_age_s: int = Field(
        86_400, ge=60, description="Longest accepted token lifetime (exp - iat)."
    )
    rate_limit_per_minute: float = Field(
        120, ge=0, description="Default per-key request rate (0: unlimited); keys may override."
    )
    rate_limit_burst: int = Field(30, ge=1, description="Requests a key may send at once.")
    max_request_bytes: int = Field(
        262_144, ge=1024, description="Largest request body (OpenAI clients send history)."
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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = os.environ.get("SHOPAGENT_CONFIG", "shopagent.toml")
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )

    # Derived locations: everything lives under ``home`` unless set explicitly.
    @property
    def store_path(self) -> Path:
        return self.store_dir or self.home / "store"

    @property
    def database(self) -> Path:
        return self.db_path or self.home / "store.db"

    @property
    def chroma_dir(self) -> Path:
        return self.chroma_path or self.home / "chroma"

    @property
    def checkpoints(self) -> Path:
        return self.checkpoint_path or self.home / "checkpoints.sqlite"

    @property
    def models_dir(self) -> Path:
        return self.model_cache_dir or self.home / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
