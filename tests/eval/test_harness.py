"""The evaluation harness: QA data, metrics by dataset, result rows, resumability,
summary.json, plots and the `eval` command, over the scripted engine."""

import json
import subprocess
import sys

import pytest
from support import (
    GSM,
    PCT,
    eval_args,
    scripted_config,
    stage,
    tool_orchestrator,
    tool_responder,
    write,
)

from orchestrator.config import parse_config
from orchestrator.embeddings.embedders import HashingEmbedder
from orchestrator.errors import ConfigError, InputError
from orchestrator.eval.configurations import Configuration, expand, pinned
from orchestrator.eval.harness import Harness, ResultsLog, answer_row, grade
from orchestrator.eval.provenance import code_version
from orchestrator.eval.report import p95, summarize, summarize_rows
from orchestrator.qa.data import QARecord, read_qa
from orchestrator.testing.scripted import ScriptedCall

HOTPOT = {
    "id": "h1",
    "question": "Which band did Aaron Lewis front?",
    "answers": ["Staind"],
    "context": [
        {"title": "Staind", "sentences": ["Staind is a band.", " Aaron Lewis fronts it."]},
        {"title": "Other", "sentences": ["Unrelated."]},
    ],
    "supporting_facts": [["Staind", 1]],
    "meta": {"type": "bridge"},
}
MUSIQUE = {
    "id": "m1",
    "question": "Who?",
    "answers": ["G. Stanley Hall", "Stanley Hall"],
    "context": [{"title": "APA", "text": "Hall  led it.", "is_supporting": True}],
}
ARC = {
    "id": "a1",
    "question": "Which is a gas?",
    "choices": ["Ice", "Steam", "Rock"],
    "labels": ["A", "B", "C"],
    "answers": ["B"],
}


def test_qa_data_reads_paragraphs_choices_and_the_dataset(tmp_path):
    hotpot = read_qa(write(tmp_path / "hotpotqa_distractor.jsonl", [HOTPOT]))[0]
    assert hotpot.dataset == "hotpotqa_distractor" and hotpot.answers == ("Staind",)
    assert (
        hotpot.context()
        == "[1] Staind: Staind is a band. Aaron Lewis fronts it.\n\n[2] Other: Unrelated."
    )
    assert [p.supporting for p in hotpot.paragraphs] == [True, False]
    musique = read_qa(write(tmp_path / "musique_context.jsonl", [MUSIQUE]))[0]
    assert musique.context() == "[1] APA: Hall led it." and musique.paragraphs[0].supporting
    arc = read_qa(write(tmp_path / "arc_challenge.jsonl", [ARC]))[0]
    assert arc.prompt() == (
        "Which is a gas?\n\nOptions:\nA. Ice\nB. Steam\nC. Rock\n\nAnswer with the option letter."
    )
    assert arc.context() == ""
    gsm = read_qa(write(tmp_path / "gsm8k.jsonl", GSM), limit=2)
    assert [q.id for q in gsm] == ["g0", "g1"] and gsm[0].prompt() == "What is 0 + 0?"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"question": "q"}, "'answers' must be a non-empty list"),
        ({"answers": ["x"]}, "needs a string 'question'"),
        ({**ARC, "labels": ["A"]}, "3 choices but 1 labels"),
    ],
)
def test_qa_data_names_the_bad_line(tmp_path, row, message):
    with pytest.raises(InputError, match=message):
        read_qa(write(tmp_path / "x.jsonl", [GSM[0], row]))


def test_qa_data_rejects_repeated_ids(tmp_path):
    with pytest.raises(InputError, match="ids repeat"):
        read_qa(write(tmp_path / "x.jsonl", [GSM[0], GSM[0]]))


@pytest.mark.parametrize("limit", [0, -1])
def test_qa_data_rejects_a_limit_under_one_instead_of_reading_everything(tmp_path, limit):
    with pytest.raises(InputError, match=f"--limit must be at least 1, not {limit}"):
        read_qa(write(tmp_path / "gsm8k.jsonl", GSM), limit=limit)


def test_grade_gives_em_and_f1_for_open_qa_and_correctness_elsewhere(tmp_path):
    hotpot = read_qa(write(tmp_path / "hotpotqa_distractor.jsonl", [HOTPOT]))[0]
    correct, em, f1 = grade(hotpot, "Staind band")
    assert (correct, em) == (False, 0.0) and f1 == pytest.approx(2 / 3)
    arc = read_qa(write(tmp_path / "arc_challenge.jsonl", [ARC]))[0]
    assert grade(arc, "Steam") == (True, 1.0, 1.0)  # the option's text counts as its letter


def test_expand_configurations():
    confs = expand(["wide", "deep", "single", "my.py:g"], [1, 2], [0, 1], (), ["m"])
    assert [c.key for c in confs] == [
        "wide w=1 d=0 model=m",
        "wide w=2 d=0 model=m",
        "deep w=1 d=0 model=m",
        "deep w=1 d=1 model=m",
        "single w=1 d=0 model=m",
        "single w=2 d=0 model=m",
        "my.py:g w=1 d=0 model=m",
        "my.py:g w=1 d=1 model=m",
        "my.py:g w=2 d=0 model=m",
        "my.py:g w=2 d=1 model=m",
    ]
    budgets = expand(["wide", "deep"], [1], [0], [500, 1000], ["a", "b"])
    assert [c.key for c in budgets][:2] == ["wide B=500 model=a", "wide B=1000 model=a"]
    assert len(budgets) == 8
    alphas = expand(["single"], [1], [0], (), ["m", "routed"], [0.5, 1.0])
    assert [c.key for c in alphas] == [
        "single w=1 d=0 model=m",
        "single w=1 d=0 model=routed alpha=0.5",
        "single w=1 d=0 model=routed alpha=1",
    ]


def test_pinned_puts_every_role_on_one_model():
    cfg = pinned(parse_config(scripted_config()), "scripted/small")
    assert (cfg.default_model, cfg.planner_model, cfg.synthesizer_model) == ("scripted/small",) * 3
    with pytest.raises(ConfigError, match="unknown model"):
        pinned(cfg, "scripted/nope")


class Crash(BaseException):
    """A crash the harness must not catch (as a kill would be)."""


def adder(crash_at: int | None = None, engine_calls: list | None = None):
    """Answers 'What is i + i?' correctly for even i, wrongly for odd i."""

    def respond(call: ScriptedCall) -> str:
        if crash_at is not None and len(engine_calls) >= crash_at:
            raise Crash()
        i = int(call.prompt.split("What is ")[1].split(" ")[0])
        return f"Answer: {2 * i if i % 2 == 0 else 2 * i + 1}"

    return respond


def harness(**graph) -> Harness:
    return Harness(parse_config(scripted_config(graph=graph)), HashingEmbedder(64))


async def test_rows_carry_question_configuration_grade_tokens_cost_latency_and_models(
    scripted, tmp_path
):
    engine = scripted(adder())
    questions = read_qa(write(tmp_path / "gsm8k.jsonl", GSM[:2]))
    log = ResultsLog(tmp_path / "out" / "results.jsonl")
    written = await harness().run(questions, [Configuration("single", 1, 0)], log)
    rows = log.rows()
    assert written == 2 and [r["correct"] for r in rows] == [True, False]
    assert set(rows[0]) >= {
        "question_id",
        "configuration",
        "answer",
        "gold",
        "correct",
        "em",
        "f1",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
        "latency_s",
        "models",
        "status",
    }
    call = engine.calls[0]
    prompt_tokens = sum(len(m["content"].split()) for m in call.messages)
    assert rows[0] | {"latency_s": 0} == {
        "question_id": "g0",
        "dataset": "gsm8k",
        "configuration": "single w=1 d=0 model=default",
        "graph": "single",
        "width": 1,
        "depth": 0,
        "budget_tokens": None,
        "model": "default",
        "alpha": None,
        "gold": ["0"],
        "answer": "0",
        "correct": True,
        "em": 1.0,
        "f1": 1.0,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": 2,
        "cost_usd": pytest.approx((prompt_tokens * 10 + 2 * 30) / 1e6),
        "latency_s": 0,
        "llm_calls": 1,
        "models": ["scripted/big"],
        "shape": {"width": 1, "depth": 0},
        "status": "ok",
        "error": None,
        "steps": [{"id": "q1", "asked": None, "answer": "0", "paragraphs": None, "tool": None}],
        "code": code_version(),
        "reused_calls": 0,
    }


async def test_a_row_says_which_steps_went_to_a_tool_and_how_the_call_went(scripted):
    scripted(tool_responder({"decompose": False}))
    record = QARecord("p1", "gsm8k", PCT, ("418.314",))
    row = await answer_row(tool_orchestrator(), record, Configuration("wide", 1, 0))
    assert row["correct"] is True
    assert [s["tool"] for s in row["steps"]] == [
        {
            "capability": "calculator",
            "arguments": {"expression": "17.3% of 2,418"},
            "status": "ok",
            "output": "418.314",
            "error_kind": None,
            "error": None,
        }
    ]


async def test_a_row_keeps_why_a_tool_call_failed(scripted):
    scripted(tool_responder({"decompose": False}, {"calculator": {"expression": "two plus two"}}))
    record = QARecord("p1", "gsm8k", PCT, ("418.314",))
    row = await answer_row(tool_orchestrator(), record, Configuration("wide", 1, 0))
    (tool,) = [s["tool"] for s in row["steps"]]
    assert (tool["capability"], tool["status"], tool["error_kind"]) == (
        "calculator",
        "error",
        "tool_error",
    )
    assert "not an arithmetic expression: 'two plus two'" in tool["error"]


async def test_a_crash_loses_only_what_was_in_flight_and_a_rerun_repeats_nothing(
    scripted, tmp_path
):
    questions = read_qa(write(tmp_path / "gsm8k.jsonl", GSM))
    confs = [Configuration("single", 1, 0), Configuration("single", 2, 0)]
    log = ResultsLog(tmp_path / "results.jsonl")
    engine = scripted()
    engine.responder = adder(crash_at=5, engine_calls=engine.calls)
    with pytest.raises(BaseExceptionGroup) as crashed:
        await harness().run(questions, confs, log)
    assert crashed.value.subgroup(Crash) is not None
    # g0 w=1 (1 call), g0 w=2 (2 calls), g1 w=1 (1 call); g1 w=2 crashed on its first call
    assert [(r["question_id"], r["width"]) for r in log.rows()] == [("g0", 1), ("g0", 2), ("g1", 1)]
    engine = scripted(adder())
    assert await harness().run(questions, confs, log) == 5
    assert len(engine.calls) == 2 + 1 + 2 + 1 + 2
    keys = [(r["question_id"], r["configuration"]) for r in log.rows()]
    assert len(keys) == len(set(keys)) == 8
    engine = scripted(adder())
    assert await harness().run(questions, confs, log) == 0 and engine.calls == []


async def test_a_torn_last_line_is_dropped_and_its_row_redone(scripted, tmp_path):
    questions = read_qa(write(tmp_path / "gsm8k.jsonl", GSM[:2]))
    log = ResultsLog(tmp_path / "results.jsonl")
    scripted(adder())
    await harness().run(questions, [Configuration("single")], log)
    text = log.path.read_text()
    log.path.write_text(text[: len(text) - 40])  # the second row was being written
    engine = scripted(adder())
    assert await harness().run(questions, [Configuration("single")], log) == 1
    assert len(engine.calls) == 1 and [r["question_id"] for r in log.rows()] == ["g0", "g1"]


async def test_context_paragraphs_reach_the_subquery_prompts_not_the_planner(scripted, tmp_path):
    def echo_plan(call: ScriptedCall) -> str:
        if stage(call) == "plan":
            question = call.prompt.removeprefix("Question: ")
            return json.dumps({"subqueries": [{"id": "q1", "question": question}]})
        return "Answer: Staind"

    engine = scripted(echo_plan)
    questions = read_qa(write(tmp_path / "hotpotqa_distractor.jsonl", [HOTPOT]))
    questions += read_qa(write(tmp_path / "gsm8k.jsonl", GSM[:1]))
    await harness().run(questions, [Configuration("wide", 1, 0)], ResultsLog(tmp_path / "r.jsonl"))
    hotpot = [c for c in engine.calls if "Aaron Lewis" in c.messages[-1]["content"]]
    samples = [c for c in hotpot if stage(c) == "draft"]
    assert samples and all("Context:\n[1] Staind: Staind is a band." in c.prompt for c in samples)
    assert all("[1] Staind" not in c.prompt for c in hotpot if stage(c) in ("plan", "synthesize"))
    closed = [c for c in engine.calls if "What is 0" in c.prompt and stage(c) == "draft"]
    assert closed and not any("Context:" in c.prompt for c in closed)


async def test_a_failing_question_is_an_error_row_and_the_sweep_goes_on(scripted, tmp_path):
    scripted(adder())
    long = {"id": "long", "question": "x " * 3000, "answers": ["1"]}
    questions = read_qa(write(tmp_path / "gsm8k.jsonl", [long, GSM[2]]))
    log = ResultsLog(tmp_path / "r.jsonl")
    await harness(max_question_chars=100).run(questions, [Configuration("single")], log)
    rows = log.rows()
    assert [r["status"] for r in rows] == ["error", "ok"]
    assert "InputError" in rows[0]["error"] and rows[0]["correct"] is False


def row(dataset, qid, correct, *, completion=10, cost=0.5, latency=1.0, status="ok", conf="c"):
    return {
        "dataset": dataset,
        "question_id": qid,
        "configuration": conf,
        "graph": "wide",
        "width": 2,
        "depth": 0,
        "budget_tokens": None,
        "model": "m",
        "correct": correct,
        "em": float(correct),
        "f1": 0.5 if not correct else 1.0,
        "prompt_tokens": 100,
        "completion_tokens": completion,
        "cost_usd": cost,
        "latency_s": latency,
        "llm_calls": 3,
        "status": status,
    }


def test_summary_values_by_hand():
    rows = [
        row("gsm8k", "1", True, completion=10, cost=0.25, latency=1.0),
        row("gsm8k", "2", False, completion=20, cost=0.25, latency=2.0),
        row("gsm8k", "3", True, completion=30, cost=0.5, latency=3.0),
        row("hotpot", "1", False, completion=40, cost=1.0, latency=10.0, status="error"),
    ]
    s = summarize_rows(rows)
    assert s["n"] == 4 and s["errors"] == 1 and s["statuses"] == {"ok": 3, "error": 1}
    assert s["accuracy"] == pytest.approx((2 / 3 + 0) / 2)  # macro over the two datasets
    assert s["accuracy_micro"] == pytest.approx(2 / 4)
    assert s["em"] == pytest.approx(0.5) and s["f1"] == pytest.approx((1 + 0.5 + 1 + 0.5) / 4)
    assert s["mean_completion_tokens"] == 25 and s["mean_prompt_tokens"] == 100
    assert s["total_cost_usd"] == pytest.approx(2.0)
    assert s["mean_latency_s"] == pytest.approx(4.0) and s["p95_latency_s"] == 10.0
    assert s["by_dataset"] == {
        "gsm8k": {
            "n": 3,
            "accuracy": pytest.approx(2 / 3),
            "em": pytest.approx(2 / 3),
            "f1": pytest.approx(2.5 / 3),
        },
        "hotpot": {"n": 1, "accuracy": 0.0, "em": 0.0, "f1": 0.5},
    }
    assert (s["graph"], s["width"], s["model"]) == ("wide", 2, "m")
    assert s["code_versions"] == ["unrecorded"]  # rows written before rows named their code


def test_p95_by_nearest_rank():
    assert p95([]) == 0.0 and p95([3.0, 1.0, 2.0]) == 3.0
    assert p95([float(i) for i in range(1, 21)]) == 19.0


def test_summary_counts_a_repeated_row_once():
    rows = [row("g", "1", False), row("g", "1", True), row("g", "1", True, conf="d")]
    summary = summarize(rows)["configurations"]
    assert list(summary) == ["c", "d"] and summary["c"]["n"] == 1 and summary["c"]["accuracy"] == 1


def test_summary_compares_configurations_on_the_questions_all_of_them_answered():
    rows = [
        row("g", "1", True),
        row("g", "2", True),
        row("h", "1", False),
        row("g", "1", False, conf="d"),
        row("h", "1", True, conf="d"),
        row("g", "3", True, conf="d"),
    ]
    summary = summarize(rows)
    assert (summary["questions"], summary["left_out_rows"]) == (2, 2)  # c's g:2, d's g:3
    assert {k: s["n"] for k, s in summary["configurations"].items()} == {"c": 2, "d": 2}
    assert summary["configurations"]["c"]["by_dataset"]["g"]["accuracy"] == 1.0
    assert summary["configurations"]["d"]["accuracy"] == pytest.approx(0.5)
    assert summarize([row("g", "1", True), row("g", "2", True, conf="d")]) == {
        "questions": 0,
        "left_out_rows": 2,
        "configurations": {},
    }


def test_eval_command_writes_results_summary_and_plots(scripted, tmp_path, capsys):
    engine = scripted(adder())
    args = eval_args(tmp_path, "--graph", "single", "--width", "1,2", "--limit", "3", "--json")
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows"] == 6 and len(engine.calls) == 3 * (1 + 2)
    assert (out["questions"], out["left_out_rows"]) == (3, 0)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())["configurations"]
    assert list(summary) == ["single w=1 d=0 model=default", "single w=2 d=0 model=default"]
    assert summary["single w=1 d=0 model=default"]["accuracy"] == pytest.approx(2 / 3)
    assert out["summary"] == summary
    for name in ("accuracy_vs_tokens.png", "accuracy_vs_cost.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_markdown_table_and_the_rows_left_out(scripted, tmp_path, capsys):
    scripted(adder())
    args = eval_args(
        tmp_path, "--graph", "single", "--width", "1,2", "--limit", "3", "--markdown", "--no-plots"
    )
    assert args.func(args) == 0
    printed = capsys.readouterr()
    assert printed.err.splitlines()[-1].startswith("eval 6/6 (100%), ")  # progress, in a log
    lines = printed.out.strip().splitlines()
    assert lines[0].startswith("| configuration | n | acc | gsm8k | EM | F1 |")
    assert lines[1].count("---") == len(lines[0].split("|")) - 2
    assert [line.split(" | ")[:4] for line in lines[2:]] == [
        ["| single w=1 d=0 model=default", "3", "0.667", "0.667"],
        ["| single w=2 d=0 model=default", "3", "0.667", "0.667"],
    ]
    args = eval_args(tmp_path, "--graph", "wide", "--limit", "1", "--markdown", "--no-plots")
    assert args.func(args) == 0  # a new configuration on one question: the others pair to it
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(" | ")[1] for line in lines[2:5]] == ["1", "1", "1"]
    assert lines[-1] == "4 rows left out: not every configuration answered their question"
    results = tmp_path / "out" / "results.jsonl"
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    results.write_text(
        "".join(json.dumps(r | {"code": "0.0.9+gold"}) + "\n" for r in rows[:2])
        + "".join(json.dumps(r) + "\n" for r in rows[2:])
    )
    assert args.func(args) == 0  # every row is there: nothing runs, the table says what mixed
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"rows come from 2 code versions: 0.0.9+gold, {code_version()}"


def test_eval_command_plots_wide_and_deep_curves_and_a_budget_sweep(scripted, tmp_path, capsys):
    scripted()
    args = eval_args(
        tmp_path, "--graph", "wide,deep,single", "--width", "1,2", "--depth", "0,1", "--limit", "1"
    )
    assert args.func(args) == 0
    args = eval_args(
        tmp_path,
        "--graph",
        "wide,deep",
        "--budget-tokens",
        "900,2000",
        "--limit",
        "1",
        "--no-plots",
    )
    assert args.func(args) == 0
    rows = ResultsLog(tmp_path / "out" / "results.jsonl").rows()
    assert len(rows) == 6 + 4
    budget = {r["configuration"]: r["shape"] for r in rows if r["budget_tokens"]}
    assert budget["deep B=2000 model=default"]["width"] == 1
    assert "summary" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flag", "value"), [("--width", "1,x"), ("--depth", "-1"), ("--alphas", "0.5,2")]
)
def test_eval_command_rejects_bad_lists(scripted, tmp_path, flag, value):
    args = eval_args(tmp_path, flag, value)
    with pytest.raises(InputError, match=flag):
        args.func(args)


def test_eval_cli_module_imports_only_the_standard_library():
    code = (
        "import sys, orchestrator.cli.eval; "
        "print(sorted(m for m in sys.modules if m.startswith(('orchestrator.', 'rich', "
        "'litellm', 'langgraph'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (
        out.stdout.strip()
        == "['orchestrator.cli', 'orchestrator.cli.command', 'orchestrator.cli.eval']"
    )


TWO_MODELS = (
    '[[models]]\nid = "scripted/big"\ninput_usd_per_mtok = 10.0\noutput_usd_per_mtok = 30.0\n'
    '[[models]]\nid = "scripted/small"\ninput_usd_per_mtok = 1.0\noutput_usd_per_mtok = 2.0\n'
    '[embedder]\nname = "hashing-32"\n'
)


def gsm_router(folder, scores, costs=None):
    """A router artifact over scripted/big and scripted/small with these per-query records
    (one row, repeated for every GSM question)."""
    import numpy as np

    from orchestrator.routing.artifact import save_router
    from orchestrator.routing.router import ClusterRouter

    texts = [q["question"] for q in GSM] * 10
    embeddings = HashingEmbedder(32).embed(texts)
    costs = None if costs is None else np.tile([costs], (len(texts), 1))
    router = ClusterRouter.fit(
        embeddings,
        np.tile([scores], (len(texts), 1)),
        costs,
        ["scripted/big", "scripted/small"],
        embedder_name="hashing-32",
        k=2,
    )
    save_router(router, folder)
    return folder


def small_is_always_right(folder):
    return gsm_router(folder, [0.0, 1.0])


def test_eval_command_adds_a_routed_configuration_next_to_pinned_ones(scripted, tmp_path, capsys):
    router = small_is_always_right(tmp_path / "router")
    engine = scripted(adder())
    args = eval_args(
        tmp_path,
        "--graph",
        "single",
        "--limit",
        "2",
        "--json",
        "--models",
        "scripted/big",
        "--router",
        str(router),
    )
    (tmp_path / "c.toml").write_text(TWO_MODELS)
    assert args.func(args) == 0
    rows = ResultsLog(tmp_path / "out" / "results.jsonl").rows()
    assert {r["model"]: r["models"] for r in rows} == {
        "scripted/big": ["scripted/big"],
        "routed": ["scripted/small"],
    }
    assert [c.model for c in engine.calls] == ["big", "small", "big", "small"]
    assert set(json.loads(capsys.readouterr().out)["summary"]) == {
        "single w=1 d=0 model=scripted/big",
        "single w=1 d=0 model=routed",
    }


def test_a_pinned_configuration_ignores_the_configs_router(scripted, tmp_path):
    router = small_is_always_right(tmp_path / "router")
    engine = scripted(adder())
    args = eval_args(
        tmp_path,
        "--graph",
        "single",
        "--limit",
        "2",
        "--json",
        "--models",
        "scripted/big,scripted/small",
    )
    (tmp_path / "c.toml").write_text(TWO_MODELS + f'[router]\npath = "{router}"\n')
    assert args.func(args) == 0
    rows = ResultsLog(tmp_path / "out" / "results.jsonl").rows()
    assert {r["model"]: r["models"] for r in rows} == {
        "scripted/big": ["scripted/big"],
        "scripted/small": ["scripted/small"],
    }
    assert [c.model for c in engine.calls] == ["big", "small", "big", "small"]


def test_alphas_route_once_per_alpha(scripted, tmp_path):
    router = gsm_router(tmp_path / "router", scores=[1.0, 0.5], costs=[30.0, 2.0])
    engine = scripted(adder())
    args = eval_args(
        tmp_path,
        "--graph",
        "single",
        "--limit",
        "1",
        "--json",
        "--router",
        str(router),
        "--alphas",
        "0,1",
    )
    (tmp_path / "c.toml").write_text(TWO_MODELS)
    assert args.func(args) == 0
    rows = ResultsLog(tmp_path / "out" / "results.jsonl").rows()
    assert {r["configuration"]: r["models"] for r in rows} == {
        "single w=1 d=0 model=routed alpha=0": ["scripted/small"],  # α=0: the cheaper
        "single w=1 d=0 model=routed alpha=1": ["scripted/big"],  # α=1: the more accurate
    }
    assert [r["alpha"] for r in rows] == [0.0, 1.0]
    assert [c.model for c in engine.calls] == ["small", "big"]


def test_plot_labels_of_nearly_coinciding_points_go_above_and_below():
    from orchestrator.eval.report import _label_offset

    drawn = [(264.0, 0.19), (289.0, 0.19), (275.0, 0.09), (560.0, 0.17), (76.0, 0.15)]
    above, below = (4, 4), (4, -11)
    assert [_label_offset(drawn, i) for i in range(5)] == [above, below, below, above, above]


def test_accuracy_axis_leaves_room_above_the_best_point_and_stops_at_one():
    from orchestrator.eval.report import accuracy_top

    assert accuracy_top([0.1, 0.21]) == pytest.approx(0.302)
    assert accuracy_top([0.9, 1.0]) == 1.02
    assert accuracy_top([]) == 1.02


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--width", "2,0", "width must be between 1 and 64, not 0"),
        ("--depth", "17", "depth must be between 0 and 16, not 17"),
        ("--budget-tokens", "0", "budget_tokens must be positive, not 0"),
    ],
)
def test_eval_rejects_a_bad_shape_before_any_row(scripted, tmp_path, flag, value, message):
    graph = "deep" if flag == "--depth" else "wide"
    args = eval_args(tmp_path, "--graph", graph, flag, value, "--no-plots")
    with pytest.raises(InputError, match=message):
        args.func(args)
    assert not (tmp_path / "out" / "results.jsonl").exists()
