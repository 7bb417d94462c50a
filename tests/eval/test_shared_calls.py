"""Calls shared between the configurations of a sweep: a nested sweep gives the rows that
separate runs give, with each distinct request made once."""

import asyncio
import json

import pytest
from support import GSM, PLAN_3, eval_args, scripted_config, stage, write

from orchestrator.config import parse_config
from orchestrator.embeddings.embedders import HashingEmbedder
from orchestrator.errors import ProviderError
from orchestrator.eval.configurations import Configuration
from orchestrator.eval.harness import Harness, ResultsLog
from orchestrator.eval.shared_calls import SharedCalls, counting_reuse
from orchestrator.protocols import Completion, Message, TextSink, Usage
from orchestrator.qa.data import read_qa
from orchestrator.testing.scripted import ScriptedCall

SWEEP = [
    Configuration("wide", 1, 0),
    Configuration("wide", 2, 0),
    Configuration("wide", 4, 0),
    Configuration("deep", 1, 0),
    Configuration("deep", 1, 1),
    Configuration("deep", 1, 2),
]


def by_seed(call: ScriptedCall) -> str:
    """A reply that depends on the request: the seed for trajectories, the prompt else."""
    kind = stage(call)
    if kind == "plan":
        return json.dumps(PLAN_3)
    if kind == "synthesize":
        return f"Answer: {sum(map(ord, call.prompt)) % 5}"
    return f"Answer: {(call.seed or 0) % 3}"


def request(call: ScriptedCall) -> str:
    return json.dumps(
        [call.model, call.messages, call.temperature, call.max_tokens, call.seed, call.json_mode]
    )


def harness(share_calls: bool) -> Harness:
    config = parse_config(scripted_config())
    return Harness(config, HashingEmbedder(64), share_calls=share_calls)


def without_timing(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("latency_s", "reused_calls")} for r in rows]


async def test_a_shared_sweep_gives_the_rows_of_separate_runs_making_each_request_once(
    scripted, tmp_path
):
    questions = read_qa(write(tmp_path / "gsm8k.jsonl", GSM[:2]))
    alone = scripted(by_seed)
    await harness(False).run(questions, SWEEP, ResultsLog(tmp_path / "alone.jsonl"))
    shared = scripted(by_seed)
    await harness(True).run(questions, SWEEP, ResultsLog(tmp_path / "shared.jsonl"))

    distinct = {request(c) for c in alone.calls}
    assert sorted(request(c) for c in shared.calls) == sorted(distinct)
    assert len(shared.calls) < 0.6 * len(alone.calls)  # the nested configurations' drafts
    alone_rows = ResultsLog(tmp_path / "alone.jsonl").rows()
    shared_rows = ResultsLog(tmp_path / "shared.jsonl").rows()
    assert without_timing(shared_rows) == without_timing(alone_rows)
    assert {r["reused_calls"] for r in alone_rows} == {0}
    assert sum(r["reused_calls"] for r in shared_rows) == len(alone.calls) - len(shared.calls)
    assert sum(r["llm_calls"] for r in shared_rows) == len(alone.calls)  # counted where used


async def test_samples_of_one_run_are_never_collapsed(scripted, tmp_path):
    questions = read_qa(write(tmp_path / "gsm8k.jsonl", GSM[:1]))
    engine = scripted(by_seed)
    await harness(True).run(questions, [Configuration("wide", 4, 0)], ResultsLog(tmp_path / "r"))
    samples = [c for c in engine.calls if stage(c) == "draft"]
    assert len(samples) == 3 * 4 and len({c.seed for c in samples}) == 12


class Flaky:
    """A ChatModel that fails its first call and answers the others after a short wait."""

    id = "flaky/m"

    def __init__(self) -> None:
        self.calls: list[int | None] = []

    async def complete(
        self,
        messages: list[Message],
        *,
        temperature: float,
        max_tokens: int,
        seed: int | None = None,
        json_mode: bool = False,
        on_text: TextSink | None = None,
    ) -> Completion:
        self.calls.append(seed)
        await asyncio.sleep(0.01)
        if len(self.calls) == 1:
            raise ProviderError(self.id, "server", "503")
        return Completion(f"reply {seed}", self.id, Usage(3, 2), 0.5, 0.01)


async def test_a_failed_call_is_not_kept_and_identical_calls_in_flight_wait_for_the_first():
    inner, shared = Flaky(), SharedCalls()
    model = shared.wrap(inner)
    asked = [{"role": "user", "content": "hi"}]
    with pytest.raises(ProviderError):
        await model.complete(asked, temperature=0.7, max_tokens=8, seed=1)
    streamed: list[str] = []
    with counting_reuse() as reused:
        first, second, other = await asyncio.gather(
            model.complete(asked, temperature=0.7, max_tokens=8, seed=1),
            model.complete(asked, temperature=0.7, max_tokens=8, seed=1, on_text=streamed.append),
            model.complete(asked, temperature=0.7, max_tokens=9, seed=1),
        )
    assert inner.calls == [1, 1, 1]  # the failure, then one call per distinct request
    assert first is second and other is not first and first.text == "reply 1"
    assert streamed == ["reply 1"] and reused == [first]


def test_eval_share_calls_flag(scripted, tmp_path, capsys):
    engine = scripted(lambda call: f"Answer: {(call.seed or 0) % 2}")
    args = eval_args(
        tmp_path,
        "--graph",
        "single",
        "--width",
        "1,2",
        "--limit",
        "3",
        "--share-calls",
        "--markdown",
        "--no-plots",
    )
    assert args.func(args) == 0
    assert len(engine.calls) == 3 * 2  # width 2's first sample is width 1's
    rows = ResultsLog(tmp_path / "out" / "results.jsonl").rows()
    shapes = [(r["width"], r["reused_calls"], r["llm_calls"]) for r in rows]
    assert shapes == [(1, 0, 1), (2, 1, 2)] * 3
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())["configurations"]
    assert [s["mean_reused_calls"] for s in summary.values()] == [0.0, 1.0]
    assert capsys.readouterr().out.splitlines()[-1] == (
        "3 of the 9 calls counted were shared between configurations (--share-calls): "
        "those rows' latencies are shorter than alone"
    )
