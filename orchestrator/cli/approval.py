"""`orchestrator ask` and a run that pauses for a person's yes: the pending call is shown
and asked about on the terminal (y/n), or settled by `--approve all|none` for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any


def verdict(pending: dict[str, Any], mode: str | None, ask: Callable[[str], str]) -> bool | None:
    """Whether the pending call may run: `--approve`'s answer, else the person's (y/n);
    None when no one can answer (no terminal input), which leaves the run paused."""
    if mode is not None:
        return mode == "all"
    arguments = json.dumps(pending.get("arguments"), ensure_ascii=False)
    question = f"run {pending.get('capability')} with {arguments}? [y/N] "
    try:
        reply = ask(question)
    except EOFError:
        return None
    return reply.strip().lower() in ("y", "yes")


def settle(
    answer: Any,
    resume: Callable[[bool], Any],
    mode: str | None,
    ask: Callable[[str], str] = input,
) -> Any:
    """Answer every pause of the run in turn (resuming it), until it finishes or no one can
    answer; then the run stays paused, resumable with `--resume RUN_ID --approve ...`."""
    while answer.status == "interrupted" and answer.pending:
        yes = verdict(answer.pending, mode, ask)
        if yes is None:
            hint = f"orchestrator ask --resume {answer.run_id} --approve all|none"
            print(f"the run waits for approval; go on with: {hint}", file=sys.stderr)
            return answer
        answer = resume(yes)
    return answer
