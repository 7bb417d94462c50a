"""Progress of a long command on stderr: a live bar with an ETA on a terminal, and plain
lines every so often where stderr is a file (a run under nohup, a CI log), which a live bar
would leave empty until the end."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from rich import progress as rp
from rich.console import Console

Advance = Callable[[int, str], None]


def _clock(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))


@contextmanager
def tally(label: str, total: int, completed: int = 0, every_s: float = 30.0) -> Iterator[Advance]:
    """Yields `advance(n, note)`: n more of `total` done, `note` shown beside the count."""
    console = Console(stderr=True)
    if console.is_terminal:
        with _live(console, label, total, completed) as advance:
            yield advance
        return
    started = last = time.monotonic()
    done = completed

    def report(n: int, note: str = "") -> None:
        nonlocal done, last
        done += n
        now = time.monotonic()
        if now - last < every_s and done < total:
            return
        last = now
        rate = (now - started) / max(done - completed, 1)
        eta = f", ETA {_clock(rate * (total - done))}" if done < total else ""
        share = f" ({100 * done / total:.0f}%)" if total else ""
        extra = f", {note}" if note else ""
        print(
            f"{label} {done}/{total}{share}, {_clock(now - started)} elapsed{eta}{extra}",
            file=sys.stderr,
            flush=True,
        )

    yield report


@contextmanager
def _live(console: Console, label: str, total: int, completed: int) -> Iterator[Advance]:
    columns = (
        rp.TextColumn(f"[bold]{label}[/] {{task.description}}"),
        rp.BarColumn(),
        rp.MofNCompleteColumn(),
        rp.TimeElapsedColumn(),
        rp.TextColumn("ETA"),
        rp.TimeRemainingColumn(),
    )
    with rp.Progress(*columns, console=console) as bar:
        task = bar.add_task("", total=total, completed=completed)

        def advance(n: int, note: str = "") -> None:
            bar.update(task, advance=n, description=note)

        yield advance
