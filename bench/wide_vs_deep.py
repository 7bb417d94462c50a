"""Wide versus deep at matched completion tokens, side by side in one run.

On the first N questions of each dataset, with every role pinned to one local model:
the wide curve (width W samples per sub-query, voted), the deep curve (one trajectory per
sub-query, D critique → revise rounds) and the single-model point (the whole question, one
call). Rows go to OUT/results.jsonl through the evaluation harness (so an interrupted run
resumes where it stopped); OUT/summary.json and the two plots are written at the end, and a
table prints accuracy per dataset, mean completion tokens, and each point's token and
accuracy ratios against wide width 1.

Run (small; the local models are slow on 2 CPU cores):
  python bench/wide_vs_deep.py --limit 10 --model local/smollm2-135m --out runs/wide_vs_deep
  python bench/wide_vs_deep.py --smoke    # scripted engine, 1 question a dataset: checks it runs
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import smoke

from orchestrator.config import DEFAULT_CONFIG, Config, parse_config, read_toml
from orchestrator.embeddings.embedders import make_embedder
from orchestrator.errors import ConfigError
from orchestrator.eval.configurations import Configuration
from orchestrator.eval.harness import Harness, ResultsLog
from orchestrator.eval.report import write_plots, write_summary
from orchestrator.qa.data import read_qa

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa"
SMOKE = {"limit": 1, "model": smoke.MODEL, "widths": "1,2", "depths": "0,1"}


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data-dir", default=str(DATA))
    p.add_argument("--datasets", default="gsm8k,arc_challenge,hotpotqa_distractor")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--model", default="local/smollm2-135m")
    p.add_argument("--widths", default="1,2,4")
    p.add_argument("--depths", default="0,1,2")
    p.add_argument("--max-subqueries", type=int, default=1, help="plan size cap (1 keeps it cheap)")
    p.add_argument("--sample-max-tokens", type=int, default=192)
    p.add_argument("--out", default="runs/wide_vs_deep")
    p.add_argument("--report-only", action="store_true", help="summarize the rows already in OUT")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="1 question a dataset on the scripted engine, into a temporary OUT: in seconds",
    )
    args = p.parse_args()
    if args.smoke:
        vars(args).update(SMOKE, data_dir=str(smoke.QA), out=str(smoke.scratch()))
    return args


def _configurations(args: argparse.Namespace) -> list[Configuration]:
    widths = [int(w) for w in args.widths.split(",")]
    depths = [int(d) for d in args.depths.split(",")]
    return [
        *(Configuration("wide", w, 0, model=args.model) for w in widths),
        *(Configuration("deep", 1, d, model=args.model) for d in depths),
        Configuration("single", 1, 0, model=args.model),
    ]


def _config(args: argparse.Namespace) -> Config:
    base = read_toml(smoke.CONFIG, "smoke config", ConfigError) if args.smoke else DEFAULT_CONFIG
    graph = {
        **base.get("graph", {}),
        "max_subqueries": args.max_subqueries,
        "sample_max_tokens": args.sample_max_tokens,
        "synth_max_tokens": 128,
        "plan_max_tokens": 192,
        "temperature": 0.7,
    }
    # Every role is pinned to one model, so routing is not exercised: a hashing embedder
    # keeps the sentence-transformers load out of the measurement.
    return parse_config(
        {
            **base,
            "embedder": {"name": "hashing-64"},
            "graph": graph,
            "budget": {"max_llm_calls": 200, "max_wall_s": 3600},
        }
    )


def _table(summary: dict, datasets: list[str]) -> None:
    base = next(s for s in summary.values() if s["graph"] == "wide" and s["width"] == 1)
    header = ["configuration", "n", *datasets, "macro acc", "compl tok", "tok ×", "calls", "p95 s"]
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for key, s in summary.items():
        per = [f"{s['by_dataset'].get(d, {}).get('accuracy', float('nan')):.2f}" for d in datasets]
        ratio = s["mean_completion_tokens"] / max(base["mean_completion_tokens"], 1e-9)
        print(
            " | ".join(
                [
                    key,
                    str(s["n"]),
                    *per,
                    f"{s['accuracy']:.3f}",
                    f"{s['mean_completion_tokens']:.0f}",
                    f"{ratio:.2f}",
                    f"{s['mean_llm_calls']:.1f}",
                    f"{s['p95_latency_s']:.0f}",
                ]
            )
        )


def main() -> None:
    args = _args()
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    questions = [
        q for d in datasets for q in read_qa(Path(args.data_dir) / f"{d}.jsonl", args.limit)
    ]
    config = _config(args)
    if args.smoke:
        smoke.scripted_engine()
    harness = Harness(config, make_embedder(config.embedder.name))
    out = Path(args.out)
    log = ResultsLog(out / "results.jsonl")
    started = time.perf_counter()

    def on_row(row: dict) -> None:
        mark = "✓" if row["correct"] else "✗"
        print(
            f"{mark} {row['dataset']}:{row['question_id']} {row['configuration']} "
            f"{row['completion_tokens']} tok {row['latency_s']:.0f}s {row['status']}",
            flush=True,
        )

    confs = [] if args.report_only else _configurations(args)
    written = asyncio.run(harness.run(questions, confs, log, on_row))
    summary = write_summary(out, log.rows())["configurations"]
    write_plots(out, summary)
    print(f"\n{written} new rows in {time.perf_counter() - started:.0f}s; results in {out}\n")
    _table(summary, datasets)


if __name__ == "__main__":
    main()
