"""``shopagent serve`` and ``shopagent keys ...`` (registered by :func:`register`)."""

from __future__ import annotations

from typing import Annotated

import typer
from shopagent.agent.cli.common import friendly

from shopagent.errors import ShopAgentError

keys_app = typer.Typer(help="Integrator API keys (stored hashed).", no_args_is_help=True)


def _fail(exc: ShopAgentError) -> typer.Exit:
    message = str(exc).split("\n  fix:")[0]
    typer.echo(f"error: {message}", err=True)
    if exc.hint:
        typer.echo(f"fix: {exc.hint}", err=True)
    return typer.Exit(2)


def _store():
    from shopagent.agent.server.config import ServerConfig
    from shopagent.agent.server.keys import KeyStore

    from shopagent.settings import get_settings

    return KeyStore(ServerConfig.from_settings(get_settings()).keys_url, cache_s=0)


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (need Postgres).")] = 1,
    factory: Annotated[
        str,
        typer.Option(help="App factory `module:function` (tests build a scripted agent)."),
    ] = "shopagent.agent.server.entry:app_from_settings",
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the HTTP API, the OpenAI-compatible endpoint and the chat widget."""
    import uvicorn
    from shopagent.agent.server.config import ServerConfig, backend_urls, is_postgres
    from shopagent.agent.server.entry import service_settings

    from shopagent.settings import get_settings

    # settings are checked here, where a mistake is a clear error, not in the worker
    ServerConfig.from_settings(service_settings(get_settings()))

    if workers > 1:
        checkpoint_url, _ = backend_urls(get_settings())
        if not is_postgres(checkpoint_url):
            typer.echo(
                "error: several workers need shared checkpoints\n"
                "fix: set SHOPAGENT_CHECKPOINT_URL=postgresql://... (and SHOPAGENT_STORE_URL, "
                "SHOPAGENT_KEYS_URL)",
                err=True,
            )
            raise typer.Exit(2)
    uvicorn.run(
        factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        log_level=log_level,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who the key is for, e.g. the shop's name.")],
    rate_limit: Annotated[
        float | None, typer.Option(help="Requests per minute (default: the server's).")
    ] = None,
    origin: Annotated[
        list[str] | None,
        typer.Option(help="Browser origin allowed to use it (widget keys); repeatable."),
    ] = None,
) -> None:
    """Create a key; it is printed once and stored only as a hash."""
    try:
        store = _store()
        record, secret = store.create(name, rate_limit_per_minute=rate_limit, origins=origin or ())
        store.close()
    except ShopAgentError as exc:
        raise _fail(exc) from None
    typer.echo(secret)
    typer.echo(f"key id {record.id} ({record.name}); store it now: it is not shown again", err=True)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id (or the key).")]) -> None:
    """Revoke a key (servers stop accepting it within their key cache time, 5 s)."""
    store = _store()
    ok = store.revoke(key_id)
    store.close()
    if not ok:
        typer.echo(f"error: no active key {key_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@keys_app.command("list")
def keys_list() -> None:
    """Every key: id, name, created, revoked, rate limit, origins (never the secret)."""
    store = _store()
    for key in store.list():
        state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
        limit = "default" if key.rate_limit_per_minute is None else f"{key.rate_limit_per_minute:g}"
        origins = ",".join(key.origins) or "-"
        typer.echo(f"{key.id}\t{key.name}\t{key.created_at}\t{state}\trate={limit}\t{origins}")
    store.close()


@keys_app.command("shopper-token")
def keys_shopper_token(
    email: Annotated[str, typer.Argument(help="The customer's email.")],
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 3600,
) -> None:
    """Issue a shopper token with the server's secret (development; shops issue their own)."""
    from shopagent.agent.server.config import ServerConfig
    from shopagent.agent.server.shopper import issue_shopper_token

    from shopagent.settings import get_settings

    config = ServerConfig.from_settings(get_settings())
    if config.shopper_token_secret is None:
        typer.echo("error: no shopper token secret\nfix: set SHOPAGENT_SHOPPER_TOKEN_SECRET",
                   err=True)  # fmt: skip
        raise typer.Exit(2)
    secret = config.shopper_token_secret.get_secret_value()
    typer.echo(
        issue_shopper_token(email, secret, ttl_s=ttl, audience=config.shopper_token_audience)
    )


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``keys`` to the ``shopagent`` CLI."""
    app.command("serve")(friendly(serve))
    app.add_typer(keys_app, name="keys")
