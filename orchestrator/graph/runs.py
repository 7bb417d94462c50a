"""Where a run is checkpointed, and how a paused run reads and goes on: a SQLite store (a run
survives the process), or memory for a run that may pause for approval without a store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.types import Command


@asynccontextmanager
async def checkpointer(store: str | Path) -> AsyncIterator[Any]:
    """A SQLite checkpointer in autocommit mode: a cancelled run cannot leave a write
    transaction open that would lock the file for the resume."""
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with aiosqlite.connect(str(store), isolation_level=None) as conn:
        yield AsyncSqliteSaver(conn)


class RunStore:
    """A run's checkpointer: its `store` file when given; else, when the run may pause,
    one memory kept for the orchestrator's life (so `resume` works without a file)."""

    def __init__(self) -> None:
        self.memory: Any = None

    @asynccontextmanager
    async def open(self, store: str | Path | None, may_pause: bool) -> AsyncIterator[Any]:
        if store is not None:
            async with checkpointer(store) as saver:
                yield saver
        elif may_pause:
            from langgraph.checkpoint.memory import InMemorySaver

            self.memory = self.memory or InMemorySaver()
            yield self.memory
        else:
            yield None

    async def release(self, saver: Any, run_id: str | None, state: dict[str, Any]) -> None:
        """Forget a finished run kept in memory (a paused one stays, to be resumed)."""
        if saver is self.memory and run_id and state.get("status") != "interrupted":
            await saver.adelete_thread(run_id)


def paused_state(snapshot: Any) -> dict[str, Any]:
    """A run's state from its last checkpoint; a run waiting at an `interrupt()` has status
    `interrupted` and the call it waits on as `pending`."""
    state = dict(snapshot.values)
    if snapshot.interrupts:
        state.update(status="interrupted", pending=snapshot.interrupts[0].value)
    return state


def resume_input(approve: bool | None) -> Command[Any] | None:
    """What resumes a run: a person's answer to the pending call, or nothing (go on)."""
    return None if approve is None else Command(resume={"approve": approve})


def spent_of(values: dict[str, Any]) -> list[dict[str, Any]]:
    """What a checkpointed run has spent: its model calls, samples and tool steps."""
    tools = list((values.get("tools") or {}).values())
    return [*values.get("calls", []), *values.get("samples", []), *tools]
