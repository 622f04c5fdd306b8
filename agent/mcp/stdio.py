"""``shopagent mcp``: the MCP tools over stdio, for a host (desktop chat app, IDE agent) that
starts the process. The host says who the shopper is: ``--customer`` or
``SHOPAGENT_MCP_CUSTOMER`` (an email of a customer of the store); without one, only the
catalog and policy tools work."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from contextlib import AsyncExitStack
from typing import Annotated

import typer
from shopagent.agent.cli.common import friendly, quiet_logs
from shopagent.agent.mcp.identity import ENV_CUSTOMER

from shopagent.errors import ConfigError
from shopagent.settings import get_settings


def mcp(
    customer: Annotated[
        str | None,
        typer.Option(
            "--customer",
            envvar=ENV_CUSTOMER,
            help="The signed-in shopper (a customer's email), set by the MCP host.",
        ),
    ] = None,
) -> None:
    """Serve the tools over MCP on stdio (for MCP hosts; `serve` has them at /mcp)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    quiet_logs(also=("mcp",))
    asyncio.run(_serve(customer))


async def _serve(customer: str | None) -> None:
    from shopagent.agent.mcp.confirmations import Confirmations, derive_key
    from shopagent.agent.mcp.deps import open_tool_deps
    from shopagent.agent.mcp.identity import HostIdentity
    from shopagent.agent.mcp.tools import build_server

    settings = get_settings()
    async with AsyncExitStack() as stack:
        # stdout is the protocol's wire: anything a library prints while loading goes to stderr
        with contextlib.redirect_stdout(sys.stderr):
            deps = await open_tool_deps(settings, stack)
        email = (customer or "").strip() or None
        if email and deps.orders.customer_by_email(email) is None:
            raise ConfigError(
                f"no customer with email {email!r}",
                hint=f"set --customer / {ENV_CUSTOMER} to the email of a customer of the store",
            )
        secret = settings.shopper_token_secret
        server = build_server(
            lambda: deps,
            HostIdentity(email),
            Confirmations(derive_key(secret.get_secret_value() if secret else None)),
        )
        await server.run_stdio_async()


def register(app: typer.Typer) -> None:
    """Add ``mcp`` to the ``shopagent`` CLI."""
    app.command("mcp")(friendly(mcp))
