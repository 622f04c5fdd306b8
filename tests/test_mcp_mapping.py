"""The protocol mapping table (agent/mcp/mapping.py, the README's "MCP" table) names every
tool the MCP server lists, and nothing else."""

from __future__ import annotations

from pathlib import Path

from shopagent.agent.mcp.confirmations import Confirmations
from shopagent.agent.mcp.identity import HostIdentity
from shopagent.agent.mcp.mapping import TOOL_MAP
from shopagent.agent.mcp.tools import build_server

README = Path(__file__).resolve().parents[1] / "README.md"


async def test_every_listed_tool_is_in_the_mapping_and_the_readme() -> None:
    server = build_server(lambda: None, HostIdentity(None), Confirmations(b"k" * 32))
    listed = {t.name for t in await server.list_tools()}
    assert {name for name, _, _ in TOOL_MAP} == listed
    section = README.read_text(encoding="utf-8").split("## MCP", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    in_readme = {part.strip("` ") for row in rows for part in row.split("|")[1].split(" / ")}
    in_readme = {name.split(" ")[0].strip("`") for name in in_readme}
    assert listed <= in_readme, listed - in_readme
