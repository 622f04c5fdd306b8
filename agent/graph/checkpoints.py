"""Checkpoint reads of one turn: the thread's checkpoint is fetched once per turn."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple, copy_checkpoint


class TurnReads:
    """The checkpoints one turn has read, each to be served once more (see read_once)."""

    def __init__(self) -> None:
        self.open = True
        self.saved: dict[tuple[str, str], CheckpointTuple | None] = {}

    def close(self) -> None:
        self.open = False
        self.saved.clear()


TURN_READS: ContextVar[TurnReads | None] = ContextVar("shopagent_turn_reads", default=None)


def read_once(saver: BaseCheckpointSaver) -> None:
    """Make each turn fetch its thread's checkpoint once.

    A turn reads the thread's latest checkpoint (is a confirmation pending?), then the
    graph run reads it again. Inside a turn the run's read is served from the first one,
    as a copy (LangGraph updates the checkpoint it loads in place): one fetch and one
    deserialization per turn instead of two. Reads outside a turn, of a given checkpoint
    id, and any read after the run's are passed to ``saver`` unchanged.
    """
    if getattr(saver, "_shopagent_read_once", False):
        return
    fetch = saver.aget_tuple

    async def aget_tuple(config: Any) -> CheckpointTuple | None:
        reads = TURN_READS.get()
        conf = config.get("configurable", {})
        if reads is None or not reads.open or conf.get("checkpoint_id"):
            return await fetch(config)
        key = (str(conf.get("thread_id")), str(conf.get("checkpoint_ns") or ""))
        if key in reads.saved:
            saved = reads.saved.pop(key)
        else:
            saved = reads.saved[key] = await fetch(config)
        if saved is None:
            return None
        return saved._replace(
            checkpoint=copy_checkpoint(saved.checkpoint),
            pending_writes=list(saved.pending_writes or []),
        )

    saver.aget_tuple = aget_tuple  # type: ignore[method-assign]
    saver._shopagent_read_once = True  # type: ignore[attr-defined]
