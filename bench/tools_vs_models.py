"""Tools routed against models alone, paired question by question.

On the first N questions of GSM8K and of HotpotQA distractor, the same graph runs twice:
without tools (the models answer; HotpotQA's paragraphs are pasted into the sub-query
prompts, as `orchestrator eval` does) and with tools (a capability router over two tools,
fitted zero-shot from their descriptions with the configured embedder, sends each sub-query
to a tool or a model; the safe calculator, and a BM25 search over THAT question's own
paragraphs, which are then not pasted into any prompt). Per dataset and configuration: n,
accuracy (the harness's `correct`), EM, F1, mean completion tokens, mean cost, mean latency,
the tool calls made (ok / failed), and against the run without tools the paired flips
(right → wrong, wrong → right) with the exact sign test (bench/paired_flips.py).

The router fitted from descriptions has no calibrated abstention: without `--min-score`
every sub-query goes to its best tool (the planner's mark wins among the two); with it, a
sub-query whose best score is lower is answered by a model. Rows go to OUT/results.jsonl
through the evaluation harness, so an interrupted run resumes where it stopped, and
`--report-only` prints the table of what is there.

  python bench/tools_vs_models.py --out bench/results/tools_vs_models     # 100 a dataset
  python bench/tools_vs_models.py --limit 20 --model local/qwen2.5-coder-1.5b  # one model, every role
  python bench/tools_vs_models.py --smoke   # scripted engine, 2 questions a dataset: checks it runs
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import mean
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import smoke
from paired_flips import flips, sign_test

from orchestrator.agents.toolbox import CapabilityToolbox
from orchestrator.api import Orchestrator
from orchestrator.capabilities import CapabilityRouter
from orchestrator.capabilities.builtin_tools import SCHEMAS, ParagraphSearch
from orchestrator.capability import Capability, Location
from orchestrator.config import DEFAULT_CONFIG, Config, ConfigError, parse_config, read_toml
from orchestrator.embeddings.embedders import make_embedder
from orchestrator.eval.configurations import Configuration
from orchestrator.eval.harness import Harness, ResultsLog, answer_row
from orchestrator.protocols import Embedder
from orchestrator.qa.data import QARecord, read_qa

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa"
SEARCH = "paragraph_search"
TOOLS = [
    Capability(
        id="calculator",
        name="Calculator",
        description="Evaluate an arithmetic expression exactly: sums, products, differences, "
        "ratios, powers and percentages of numbers.",
        examples=("What is 17.3% of 2,418?", "How much is 1,250 times 12?"),
        parameters=SCHEMAS["calculate"],
        location=Location(callable="orchestrator.capabilities.builtin_tools:calculate"),
    ),
    Capability(
        id=SEARCH,
        name="Paragraph search",
        description="Search the encyclopedia paragraphs that come with the question for the "
        "facts about a person, place, film, band or organisation.",
        examples=("Which band was Scott Stapp the frontman of?", "When was the club founded?"),
        parameters=SCHEMAS["search"],
    ),  # no location: each question gets its own search (`_search`)
]


@dataclass(frozen=True)
class Arm(Configuration):
    """A configuration with tools routed or without: the key says which."""

    tools: bool = False

    @property
    def key(self) -> str:
        return super().key + (" tools" if self.tools else "")

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "tools": self.tools}


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data-dir", default=str(DATA))
    p.add_argument("--datasets", default="gsm8k,hotpotqa_distractor")
    p.add_argument("--limit", type=int, default=100, help="questions a dataset (at most)")
    p.add_argument("--model", default="default", help="default, or a model id for every role")
    p.add_argument("--graph", default="wide", help="a planned graph, the same for both arms")
    p.add_argument("--width", type=int, default=1)
    p.add_argument("--min-score", type=float, default=None, help="the tool router's floor")
    p.add_argument("--timeout-s", type=float, default=30.0, help="each tool call's limit")
    p.add_argument("--out", default="bench/results/tools_vs_models")
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--smoke", action="store_true", help="scripted engine, 2 questions a set")
    args = p.parse_args()
    if args.smoke:
        vars(args).update(data_dir=str(smoke.QA), out=str(smoke.scratch()), limit=2)
    return args


def _arms(args: argparse.Namespace) -> list[Arm]:
    return [Arm(args.graph, args.width, 0, model=args.model, tools=t) for t in (False, True)]


def _config(args: argparse.Namespace) -> Config:
    if args.smoke:
        return parse_config(read_toml(smoke.CONFIG, "smoke config", ConfigError))
    return parse_config({**DEFAULT_CONFIG, "budget": {"max_llm_calls": 200, "max_wall_s": 3600}})


def _no_paragraphs(query: str, k: int = 3) -> str:
    return "no paragraphs come with this question"


def _search(record: QARecord) -> Callable[..., str]:
    """The paragraph search for one question: over its own paragraphs, nothing else."""
    pairs = [(p.title, p.text) for p in record.paragraphs]
    return ParagraphSearch.from_paragraphs(pairs) if pairs else _no_paragraphs


class Orchestrators:
    """The arm's orchestrator for a question: the harness's (its pinning and routing) as
    is without tools; with tools, the same parts and a toolbox whose search is the
    question's own."""

    def __init__(self, config: Config, embedder: Embedder, args: argparse.Namespace) -> None:
        self.harness = Harness(config, embedder)
        router = CapabilityRouter.fit(TOOLS, embedder.embed, embedder_name=embedder.name)
        self.toolbox = CapabilityToolbox(
            router, embedder, top_k=len(TOOLS), min_score=args.min_score, timeout_s=args.timeout_s
        )

    def __call__(self, arm: Arm, record: QARecord) -> Orchestrator:
        plain = self.harness.orchestrator(arm)
        if not arm.tools:
            return plain
        toolbox = replace(self.toolbox, tools={SEARCH: _search(record)})
        parts = {"models": plain.models, "embedder": plain.embedder, "router": plain.router}
        return Orchestrator(plain.config, graph=plain.graph, toolbox=toolbox, **parts)


async def _run(records: list[QARecord], arms: list[Arm], log: ResultsLog, built: Any) -> int:
    """Every (question, arm) not yet in the log, question by question; with tools the
    question goes without its paragraphs (the search has them)."""
    done, written = log.done(), 0
    for record in records:
        for arm in arms:
            if (record.dataset, record.id, arm.key) in done:
                continue
            asked = replace(record, paragraphs=()) if arm.tools else record
            row = await answer_row(built(arm, record), asked, arm)
            log.append(row)
            _progress(row)
            written += 1
    return written


def _tool_calls(rows: list[dict]) -> str:
    tools = [s["tool"] for r in rows for s in r.get("steps") or [] if s.get("tool")]
    failed = Counter(t.get("error_kind") or t["status"] for t in tools if t["status"] != "ok")
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(failed.items()))
    return f"{len(tools) - failed.total()} ok, {failed.total()} failed" + (
        f" ({kinds})" if kinds else ""
    )


def _paired(base: dict[str, dict], other: dict[str, dict]) -> str:
    lost, won, diffs = flips(base, other)
    if not diffs:
        return "-"
    diff = mean(diffs)
    return f"{lost}→✗ {won}→✓ p={sign_test(lost, won):.2f}; ΔF1 {diff:+.3f} (n={len(diffs)})"


def _cells(dataset: str, key: str, got: list[dict], paired: str) -> list[str]:
    return [
        dataset,
        key,
        str(len(got)),
        f"{mean(r['correct'] for r in got):.3f}",
        f"{mean(r['em'] for r in got):.3f}",
        f"{mean(r['f1'] for r in got):.3f}",
        f"{mean(r['completion_tokens'] for r in got):.0f}",
        f"{mean(r['cost_usd'] for r in got):.6f}",
        f"{mean(r['latency_s'] for r in got):.1f}",
        _tool_calls(got),
        paired,
    ]


def _table(rows: list[dict], datasets: list[str], arms: list[Arm]) -> None:
    print(
        "dataset | configuration | n | accuracy | EM | F1 | compl tok | cost $ | latency s "
        "| tool calls | vs without tools (flips; sign test; ΔF1)"
    )
    print("---|---|---|---|---|---|---|---|---|---|---")
    for dataset in datasets:
        by = {a.key: {r["question_id"]: r for r in rows if r["dataset"] == dataset
                      and r["configuration"] == a.key} for a in arms}  # fmt: skip
        base = by[arms[0].key]
        for arm in arms:
            got = list(by[arm.key].values())
            if got:
                paired = _paired(base, by[arm.key]) if arm.tools else ""
                print(" | ".join(_cells(dataset, arm.key, got, paired)))


def _progress(row: dict) -> None:
    mark = "✓" if row["correct"] else "✗"
    tools = [s["tool"]["capability"] for s in row.get("steps") or [] if s.get("tool")]
    print(
        f"{mark} {row['dataset']}:{row['question_id']} {row['configuration']} "
        f"f1={row['f1']:.2f} {row['completion_tokens']} tok {row['latency_s']:.0f}s "
        f"tools={tools} {row['status']} {row['answer'][:60]!r}",
        flush=True,
    )


def smoke_engine() -> Any:
    """The smoke responder, filling the tools' arguments too (a sum, the last prompt line)."""
    from orchestrator.llm.boundary import register_engine
    from orchestrator.testing.scripted import ScriptedCall, ScriptedEngine, tool_reply

    def respond(call: ScriptedCall) -> object:
        if call.tools and call.tool_names[0] == "calculator":
            return tool_reply("calculator", {"expression": "40 + 2"})
        if call.tools:
            return tool_reply(call.tool_names[0], {"query": call.prompt.splitlines()[-1]})
        fenced = re.search(r"<<<TOOL-\w+\n(.*?)\nTOOL-", call.prompt, re.S)
        if fenced and "planner" not in call.system:
            return f"From the tool's result.\nAnswer: {fenced.group(1).split()[0]}"
        return smoke.respond(call)

    engine = ScriptedEngine(respond)
    register_engine("scripted", engine)
    return engine


def main() -> None:
    args = _args()
    datasets = [d for d in args.datasets.split(",") if d]
    records = [q for d in datasets for q in read_qa(Path(args.data_dir) / f"{d}.jsonl", args.limit)]
    arms, log = _arms(args), ResultsLog(Path(args.out) / "results.jsonl")
    if not args.report_only:
        config = _config(args)
        if args.smoke:
            smoke_engine()
        built = Orchestrators(config, make_embedder(config.embedder.name), args)
        written = asyncio.run(_run(records, arms, log, built))
        print(f"\n{written} new rows in {log.path}\n")
    asked = {(q.dataset, q.id) for q in records}
    _table([r for r in log.rows() if (r["dataset"], r["question_id"]) in asked], datasets, arms)


if __name__ == "__main__":
    main()
