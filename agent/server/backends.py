"""Shared backends selected by URL, so server processes share nothing but these:

* checkpoints: ``postgresql://...`` -> LangGraph's ``AsyncPostgresSaver`` over a psycopg
  pool; unset -> SQLite under ``settings.home`` (one process);
* store database: ``postgresql://...`` -> :class:`shopagent.tools.store.pg.PgStoreDB`; unset ->
  SQLite;
* catalog: Chroma server mode via ``SHOPAGENT_CHROMA_URL`` (already in Settings).

A schema may be chosen in the URL: ``postgresql://host/db?options=-csearch_path%3Dshop``.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

from shopagent.agent.server.config import backend_urls, is_postgres
from shopagent.agent.service import ShopAgent

from shopagent.errors import ConfigError
from shopagent.settings import Settings


async def postgres_checkpointer(
    url: str, stack: AsyncExitStack, *, max_size: int = 10, durable_commits: bool = False
) -> Any:
    """An ``AsyncPostgresSaver`` over a connection pool (tables created once, under a lock).

    ``durable_commits`` False (default) commits checkpoints with ``synchronous_commit=off``:
    several times faster per turn on disks with slow flushes; on a PostgreSQL crash the last
    moments of conversation state may be lost, never corrupted.
    """
    from shopagent.tools.store.pg import redact  # first: a clear error without the extra

    try:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool
    except ImportError as exc:  # pragma: no cover - depends on how ShopAgent was installed
        raise ConfigError(
            "PostgreSQL checkpoints need the postgres extra",
            hint="pip install 'shopagent[postgres]' (make install does)",
        ) from exc

    async def configure(conn: Any) -> None:
        if not durable_commits:
            # a crash of PostgreSQL may lose the last few hundred ms of checkpoints (never
            # corrupt them); each step's commit no longer waits for the WAL flush
            await conn.execute("SET synchronous_commit = off")

    pool = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        open=False,
        configure=configure,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    try:
        await pool.open(wait=True, timeout=10)
    except Exception as exc:
        raise ConfigError(
            f"cannot connect to the checkpoint database {redact(url)}: {exc}",
            hint="check SHOPAGENT_CHECKPOINT_URL and that PostgreSQL is running",
        ) from exc
    stack.push_async_callback(pool.close)
    saver = AsyncPostgresSaver(pool)
    async with pool.connection() as conn:
        # Poll, never wait inside a statement: the migrations build indexes CONCURRENTLY,
        # which would wait forever for a session blocked in pg_advisory_lock.
        while not (await (await conn.execute(_TRY_LOCK)).fetchone())["locked"]:
            await asyncio.sleep(0.05)
        try:
            await saver.setup()
        finally:
            await conn.execute("SELECT pg_advisory_unlock(741852964)")
    return saver


_TRY_LOCK = "SELECT pg_try_advisory_lock(741852964) AS locked"


async def open_agent_from_settings(settings: Settings, **parts: Any) -> ShopAgent:
    """``ShopAgent.open`` with the checkpointer and store chosen by URL (see module doc).

    ``parts`` are passed through to ``ShopAgent.open`` (model, catalog, router...).
    """
    checkpoint_url, store_url = backend_urls(settings)
    stack = AsyncExitStack()
    try:
        if is_postgres(checkpoint_url) and "checkpointer" not in parts:
            parts["checkpointer"] = await postgres_checkpointer(str(checkpoint_url), stack)
        elif checkpoint_url:
            raise ConfigError(
                f"unsupported checkpoint URL {checkpoint_url!r}",
                hint="use postgresql://..., or unset it for SQLite under SHOPAGENT_HOME",
            )
        if is_postgres(store_url) and "db" not in parts:
            from shopagent.tools.store.pg import PgStoreDB

            db = PgStoreDB.open(str(store_url))
            stack.callback(db.close)
            parts["db"] = db
        agent = await ShopAgent.open(settings, **parts)
    except BaseException:
        await stack.aclose()
        raise
    inner = agent._stack
    if inner is not None:
        stack.push_async_callback(inner.aclose)
    agent._stack = stack
    return agent
