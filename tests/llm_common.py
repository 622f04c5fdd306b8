"""Settings for the chat-model factory tests (tests/test_llm*.py): a temporary home and no
OpenAI credentials unless a test gives them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shopagent.settings import Settings


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "home": tmp_path,
        "openai_api_key": None,
        "openai_base_url": None,
        "openai_timeout_s": 10.0,
    }
    values.update(overrides)
    return Settings(**values)
