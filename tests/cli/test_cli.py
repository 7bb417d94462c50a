import json
import subprocess
import sys

import pytest

from orchestrator.cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("question", "message"),
    [("   ", "the question is empty"), ("x" * 5000, "characters long; the limit is 4000")],
)
def test_bad_questions_fail_with_one_line_and_status_2(question, message):
    result = run("ask", question)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.heavy
def test_unknown_model_id_is_a_clear_error(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[models]]\nid = "nonsense-model"\ninput_usd_per_mtok = 1\noutput_usd_per_mtok = 1\n'
    )
    result = run("ask", "What is 2+2?", "--config", str(cfg))
    assert result.returncode == 2
    assert "unknown model id 'nonsense-model'" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.heavy
def test_unknown_local_model_is_a_clear_error(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[models]]\nid = "local/gpt-9"\ninput_usd_per_mtok = 1\noutput_usd_per_mtok = 1\n'
    )
    result = run("ask", "What is 2+2?", "--config", str(cfg))
    assert result.returncode == 2
    assert "gpt-9" in result.stderr and "Traceback" not in result.stderr


def test_unknown_graph_spec(capsys, scripted, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[models]]\nid = "scripted/a"\ninput_usd_per_mtok = 1\noutput_usd_per_mtok = 1\n'
        '[embedder]\nname = "hashing-8"\n'
    )
    scripted()
    assert main(["ask", "Q?", "--config", str(cfg), "--graph", "nowhere.py:graph"]) == 2
    assert "graph file not found: nowhere.py" in capsys.readouterr().err


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys, orchestrator.cli as c\n"
        "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('litellm', 'langgraph', 'torch', 'sentence_transformers',"
        " 'llama_cpp', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_progress_output_shows_plan_routes_votes_and_answer(scripted, tmp_path):
    from rich.console import Console
    from support import scripted_config

    from orchestrator.api import Orchestrator
    from orchestrator.cli.live import render_event, summary_table
    from orchestrator.config import parse_config

    scripted()
    console = Console(record=True, width=120)
    orchestrator = Orchestrator.from_config(parse_config(scripted_config(graph={"width": 2})))
    answer = orchestrator.ask("Which is older?", on_event=lambda e: render_event(console, e))
    console.print(summary_table(answer))
    text = console.export_text()
    assert "plan (3 sub-queries)" in text
    assert "route q2 → scripted/big" in text
    assert "q3#1 scripted/big Cambridge" in text
    assert "vote q1 → Cambridge (cambridge: 2)" in text
    assert "status: ok" in text and "total" in text


def test_progress_renders_deep_rounds_and_budget_shape():
    from rich.console import Console

    from orchestrator.cli.live import render_event

    console = Console(record=True, width=120)
    render_event(console, {"event": "shape", "width": 1, "depth": 3, "budget_tokens": 900})
    render_event(console, {"event": "revise", "round": 2, "subquery_id": "q1", "answer": "Paris"})
    text = console.export_text()
    assert "budget width 1, depth 3" in text
    assert "q1 round 2: Paris" in text


def ask_config(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[models]]\nid = "scripted/a"\ninput_usd_per_mtok = 1\noutput_usd_per_mtok = 1\n'
        '[embedder]\nname = "hashing-8"\n[graph]\nmax_subqueries = 1\n'
    )
    return ["--config", str(cfg), "--runs", str(tmp_path / "runs.sqlite"), "--json"]


def test_ask_takes_depth_budget_and_seed(scripted, tmp_path, capsys):
    from support import stage

    from orchestrator.graph.depth import round_seed
    from orchestrator.graph.nodes import sample_seed

    engine = scripted()
    assert (
        main(["ask", "Q?", "--graph", "deep", "--depth", "2", "--seed", "7", *ask_config(tmp_path)])
        == 0
    )
    trajectory = [c for c in engine.calls if stage(c) in ("draft", "critique", "revise")]
    assert [stage(c) for c in trajectory] == ["draft", "critique", "revise", "critique", "revise"]
    draft_seed = sample_seed(7, 0, 0)
    assert [c.seed for c in trajectory] == [
        draft_seed,
        *(round_seed(draft_seed, s) for s in range(1, 5)),
    ]
    assert json.loads(capsys.readouterr().out)["status"] == "ok"

    for budget, samples in (("300", 1), ("3000", 11)):  # the wide graph spends B on width
        engine = scripted()
        assert main(["ask", "Q?", "--budget-tokens", budget, *ask_config(tmp_path)]) == 0
        assert [stage(c) for c in engine.calls] == ["draft"] * samples  # one step: no synthesis


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--depth", "17"], "depth must be between 0 and 16, not 17"),
        (["--budget-tokens", "0"], "budget_tokens must be positive, not 0"),
        (
            ["--resume", "abc", "--depth", "1"],
            "a resumed run keeps its own width, depth and budget",
        ),
    ],
)
def test_ask_rejects_a_bad_shape_before_any_call(scripted, tmp_path, capsys, flags, message):
    engine = scripted()
    question = [] if "--resume" in flags else ["Q?"]
    assert main(["ask", *question, *flags, *ask_config(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert engine.calls == []
