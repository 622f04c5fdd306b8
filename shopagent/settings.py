"""The one settings object: environment (``SHOPAGENT_*``) over ``shopagent.toml`` over defaults.

Read it once with :func:`get_settings`; pass values down, never re-read the environment.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
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
        "static",
        description="Catalog embedder: static (distilled from MiniLM), onnx-int8, onnx or torch "
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

    # -- HTTP service (shopagent serve) --------------------------------------------------------
    checkpoint_url: str | None = Field(
        None, description="postgresql://... for shared checkpoints (default: SQLite file)."
    )
    store_url: str | None = Field(None, description="postgresql://... store database.")
    keys_url: str | None = Field(None, description="Where integrator keys live.")
    shopper_token_secret: SecretStr | None = Field(
        None, description="HMAC secret for the shop's signed shopper tokens."
    )
    shopper_token_audience: str = "shopagent"
    shopper_token_max_age_s: int = Field(86_400, gt=0)
    rate_limit_per_minute: float = Field(120, ge=0, description="Per key; 0: unlimited.")
    rate_limit_burst: int = Field(30, gt=0)
    max_request_bytes: int = Field(262_144, gt=0)
    cors_origins: list[str] = Field(default_factory=list)
    key_cache_s: float = Field(5.0, ge=0)
    metrics_public: bool = False
    docs: bool = True
    stream_drafts: bool = False
    log_format: str = "json"
    log_level: str = "INFO"
    heartbeat_s: float = Field(15.0, gt=0)

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
