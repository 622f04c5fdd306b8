"""Versioned prompt files from the ``prompts`` package (never inline strings)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Prompts:
    """The prompt texts one run uses, with their versions for reports."""

    system: str
    compose: str
    version: str

    @classmethod
    def load(cls, version: str = "v2") -> Prompts:
        root = resources.files("shopagent.prompts")
        return cls(
            system=root.joinpath(f"system.{version}.md").read_text(encoding="utf-8"),
            compose=root.joinpath(f"compose.{version}.md").read_text(encoding="utf-8"),
            version=version,
        )
