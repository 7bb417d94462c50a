"""Two configurations of one results file, question by question: on the questions both
answered, how many answers are the same text, and how many went right → wrong and
wrong → right from the first to the second, with the exact two-sided sign test on those
flips (the chance of a split at least this uneven if either direction were equally likely).
The noise floor in docs/results/wide_vs_deep.md (depth 0 against width 1, the same computation) and its paired
comparisons (width 4 against depth 4, depth 2 against depth 4) come from here.

  python bench/paired_flips.py bench/results/wide_vs_deep/results.jsonl \\
      "deep w=1 d=2 model=default" "deep w=1 d=4 model=default"
  python bench/paired_flips.py --smoke    # two configurations of bench/smoke/results.jsonl
"""

from __future__ import annotations

import argparse
import json
from math import comb
from pathlib import Path
from typing import Any

import smoke

Key = tuple[str, str]
SMOKE_PAIR = ("single w=1 d=0 model=local/qwen2.5-coder-0.5b", "single w=1 d=0 model=routed")


def _rows_of(path: Path, configuration: str) -> dict[Key, dict[str, Any]]:
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return {
        (r["dataset"], r["question_id"]): r for r in rows if r["configuration"] == configuration
    }


def flips(base: dict[Any, dict], other: dict[Any, dict]) -> tuple[int, int, list[float]]:
    """On the questions both sets of rows answered (rows keyed alike): how many went right →
    wrong and wrong → right from `base` to `other`, and each question's F1 difference."""
    both = sorted(set(base) & set(other))
    lost = sum(bool(base[q]["correct"] and not other[q]["correct"]) for q in both)
    won = sum(bool(other[q]["correct"] and not base[q]["correct"]) for q in both)
    return lost, won, [other[q]["f1"] - base[q]["f1"] for q in both]


def sign_test(right_to_wrong: int, wrong_to_right: int) -> float:
    """Two-sided exact sign test: P(a split at least this uneven | each flip a fair coin)."""
    n = right_to_wrong + wrong_to_right
    tail = sum(comb(n, i) for i in range(min(right_to_wrong, wrong_to_right) + 1))
    return min(1.0, 2 * tail / 2**n) if n else 1.0


def compare(path: Path, first: str, second: str) -> dict[str, Any]:
    a, b = _rows_of(path, first), _rows_of(path, second)
    common = sorted(a.keys() & b.keys())
    if not common:
        raise SystemExit(f"no question answered by both {first!r} and {second!r} in {path}")
    per_dataset: dict[str, dict[str, int]] = {}
    for key in common:
        counts = per_dataset.setdefault(
            key[0], {"questions": 0, "same_answer": 0, "right_to_wrong": 0, "wrong_to_right": 0}
        )
        x, y = a[key], b[key]
        counts["questions"] += 1
        counts["same_answer"] += x["answer"] == y["answer"]
        counts["right_to_wrong"] += x["correct"] and not y["correct"]
        counts["wrong_to_right"] += y["correct"] and not x["correct"]
    total = {k: sum(c[k] for c in per_dataset.values()) for k in next(iter(per_dataset.values()))}
    return {"first": first, "second": second, "total": total, "by_dataset": per_dataset}


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "results", type=Path, nargs="?", help="a results.jsonl written by orchestrator eval"
    )
    p.add_argument("first", nargs="?", help="a configuration key, as in the eval table")
    p.add_argument("second", nargs="?")
    p.add_argument("--smoke", action="store_true", help="compare two of bench/smoke's results")
    args = p.parse_args()
    if args.smoke:
        vars(args).update(results=smoke.RESULTS, first=SMOKE_PAIR[0], second=SMOKE_PAIR[1])
    elif args.second is None:
        p.error("give a results file and two configurations (or --smoke)")
    report = compare(args.results, args.first, args.second)
    print(f"{args.first}  →  {args.second}")
    for name, c in [("all", report["total"]), *sorted(report["by_dataset"].items())]:
        print(
            f"  {name}: {c['questions']} questions, {c['same_answer']} same answer, "
            f"{c['right_to_wrong']} right→wrong, {c['wrong_to_right']} wrong→right, "
            f"sign test p = {sign_test(c['right_to_wrong'], c['wrong_to_right']):.2f}"
        )


if __name__ == "__main__":
    main()
