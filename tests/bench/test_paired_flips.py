"""bench/paired_flips.py: flips between two configurations and the sign test on them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "bench" / "paired_flips.py"


def _row(qid: str, configuration: str, answer: str, correct: bool) -> dict[str, object]:
    return {
        "dataset": "gsm8k",
        "question_id": qid,
        "configuration": configuration,
        "answer": answer,
        "correct": correct,
    }


def test_counts_flips_and_tests_their_split(tmp_path: Path) -> None:
    rows = [_row(f"q{i}", "A", "1", True) for i in range(6)]  # A right on q0..q5
    rows += [_row(f"q{i}", "B", "2", False) for i in range(6)]  # B wrong on all six
    rows += [_row("q6", "A", "x", False), _row("q6", "B", "x", False)]  # same answer
    rows += [_row("q7", "A", "only A", True)]  # not answered by B: left out
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    out = subprocess.run(
        [sys.executable, str(SCRIPT), str(results), "A", "B"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    # 6 right→wrong, 0 wrong→right: two-sided p = 2 / 2**6 = 0.03125
    assert "all: 7 questions, 1 same answer, 6 right→wrong, 0 wrong→right, " in out
    assert "sign test p = 0.03" in out
