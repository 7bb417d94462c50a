import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli.router import add_router_parser
from orchestrator.errors import InputError, RouterArtifactError
from orchestrator.routing.artifact import load_router
from orchestrator.testing.scripted import ScriptedCall, count_tokens

DATA = Path(__file__).parents[1] / "data"
TINY = DATA / "routing_tiny.jsonl"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="orchestrator")
    add_router_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["router", *argv])
    return int(args.func(args))


def fit_tiny(tmp_path, clustering: str | None = "global"):
    out = tmp_path / "router"
    cache = str(tmp_path / "cache")
    chosen = ["--clustering", clustering] if clustering else []
    assert (
        run(
            "fit",
            "--data",
            str(TINY),
            "--out",
            str(out),
            "--k",
            "1",
            *chosen,
            "--embedder",
            "hashing-64",
            "--cache-dir",
            cache,
        )
        == 0
    )
    return out, cache


@pytest.fixture
def fitted(tmp_path):
    return fit_tiny(tmp_path)


def test_fit_writes_an_artifact(tmp_path, capsys):
    out, _ = fit_tiny(tmp_path, clustering=None)  # by default each dataset is clustered apart
    printed = capsys.readouterr().out
    assert "fitted 5 bags of 2 clusters on 6 queries × 2 models with hashing-64" in printed
    router = load_router(out, embedder_name="hashing-64", embedder_dim=64)
    assert router.models == ["big", "small"] and router.config.k == 2  # at least one per dataset
    assert router.config.bags == 5 and router.k == 10
    assert router.config.clustering == "per-dataset" and router.config.scale == "table"
    assert router.meta["datasets"] == {"math": 4, "trivia": 2}
    assert set(router.tables.weights.tolist()) == {6 / (2 * 4), 6 / (2 * 2)}  # N / (D·n_d)
    assert router.meta["text_field"] == "query_last"
    assert sorted(p.name for p in out.iterdir()) == ["centroids.npy", "router.json"]


def test_fit_with_the_papers_in_cluster_scale(tmp_path):
    out = tmp_path / "paper"
    assert (
        run(
            "fit",
            "--data",
            str(TINY),
            "--out",
            str(out),
            "--k",
            "1",
            "--scale",
            "cluster",
            "--embedder",
            "hashing-64",
            "--cache-dir",
            str(tmp_path / "cache"),
        )
        == 0
    )
    assert json.loads((out / "router.json").read_text())["config"]["scale"] == "cluster"


def test_eval_json_matches_the_hand_computed_report(fitted, capsys, tmp_path):
    out, cache = fitted
    capsys.readouterr()
    plot = tmp_path / "curve.png"
    assert (
        run(
            "eval",
            "--router",
            str(out),
            "--data",
            str(TINY),
            "--alphas",
            "0,0.4",
            "1",
            "--json",
            "--cache-dir",
            cache,
            "--plot",
            str(plot),
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 6 and report["datasets"] == {"math": 4, "trivia": 2}
    assert report["best_single"] == pytest.approx({"model": "big", "accuracy": 0.625, "cost": 0.08})
    assert report["oracle"] == pytest.approx({"accuracy": 0.75, "cost": 0.026})
    assert [p["alpha"] for p in report["sweep"]] == [0.0, 0.4, 1.0]
    assert report["sweep"][2]["accuracy"] == pytest.approx(0.625)
    assert report["sweep"][0]["model_share"] == {"big": 0.0, "small": 1.0}
    assert [p["alpha"] for p in report["pareto"]] == [0.0, 1.0]
    assert report["aiq"] == pytest.approx(0.5625)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_prints_a_table_without_json(fitted, capsys):
    out, cache = fitted
    assert run("eval", "--router", str(out), "--data", str(TINY), "--cache-dir", cache) == 0
    text = capsys.readouterr().out
    assert "oracle       accuracy 0.7500, cost 0.0260" in text
    rows = [line.split() for line in text.splitlines() if re.match(r"\s*[01](\.\d+)?\s", line)]
    assert rows[0][0] == "0" and len(rows) == 2  # the Pareto front only: small, then big
    assert re.search(r"Pareto front of the 1\d\d α swept", text)  # 101, then bisections


def test_route_writes_one_line_per_query_in_order(fitted, capsys):
    out, cache = fitted
    capsys.readouterr()
    assert (
        run(
            "route", "--router", str(out), "--data", str(TINY), "--alpha", "0", "--cache-dir", cache
        )
        == 0
    )
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    # k=1 and 5 bags: each bag's one cluster votes
    assert lines == [
        {"index": i, "model": "small", "clusters": [0, 1, 2, 3, 4]}
        for i in ["m1", "m2", "m3", "m4", "t1", "t2"]
    ]


def test_route_accepts_plain_queries_without_records(fitted, tmp_path, capsys):
    out, cache = fitted
    plain = tmp_path / "plain.jsonl"
    plain.write_text(json.dumps({"query": "What is 7 + 8?", "index": 41}) + "\n")
    capsys.readouterr()
    assert run("route", "--router", str(out), "--data", str(plain), "--cache-dir", cache) == 0
    assert json.loads(capsys.readouterr().out) == {
        "index": 41,
        "model": "big",
        "clusters": [0, 1, 2, 3, 4],
    }


def test_update_adds_a_model(fitted, tmp_path, capsys):
    out, cache = fitted
    outcomes = tmp_path / "new.jsonl"
    rows = [json.loads(x) for x in TINY.read_text().splitlines()]
    outcomes.write_text(
        "".join(
            json.dumps(
                {
                    "query": r["query"],
                    "dataset": r["dataset"],
                    "index": r["index"],
                    "records": {"new": 1.0},
                    "usages": {"new": {"cost": 0.005}},
                }
            )
            + "\n"
            for r in rows[:4]
        )
    )
    assert (
        run(
            "update",
            "--router",
            str(out),
            "--data",
            str(outcomes),
            "--out",
            str(tmp_path / "r2"),
            "--cache-dir",
            cache,
        )
        == 0
    )
    assert "added ['new']" in capsys.readouterr().out
    updated = load_router(tmp_path / "r2")
    assert updated.models == ["big", "small", "new"]
    capsys.readouterr()
    run(
        "route",
        "--router",
        str(tmp_path / "r2"),
        "--data",
        str(TINY),
        "--alpha",
        "1",
        "--cache-dir",
        cache,
    )
    assert {json.loads(x)["model"] for x in capsys.readouterr().out.splitlines()} == {"new"}


def test_user_errors_are_one_line_orchestrator_errors(fitted, tmp_path):
    out, cache = fitted
    with pytest.raises(RouterArtifactError, match="no router at"):
        run("eval", "--router", str(tmp_path / "nope"), "--data", str(TINY))
    with pytest.raises(InputError, match="data file not found"):
        run("eval", "--router", str(out), "--data", str(tmp_path / "x.jsonl"))
    with pytest.raises(InputError, match="--alphas takes numbers in \\[0, 1\\]"):
        run(
            "eval", "--router", str(out), "--data", str(TINY), "--alphas", "2", "--cache-dir", cache
        )
    other = tmp_path / "other"
    shutil.copytree(out, other)
    document = json.loads((other / "router.json").read_text())
    document["embedder"] = {"name": "hashing-32", "dim": 64}
    (other / "router.json").write_text(json.dumps(document))
    with pytest.raises(RouterArtifactError, match="fitted with embedder 'hashing-32' \\(dim 64"):
        run("route", "--router", str(other), "--data", str(TINY), "--cache-dir", cache)


def test_main_cli_prints_the_error_and_exits_2(tmp_path, capsys):
    from orchestrator.cli import main

    code = main(["router", "eval", "--router", str(tmp_path / "nope"), "--data", str(TINY)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no router at") and err.count("\n") == 1


def test_help_imports_nothing_heavy():
    probe = (
        "import sys, orchestrator.cli.router; "
        "print(sorted(m for m in ('numpy', 'sklearn', 'torch', 'litellm', 'rich') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "[]"


QA_ROWS = [
    {"id": "g1", "question": "Tom has 3 apples and buys 4. How many now?", "answers": ["7"]},
    {"id": "g2", "question": "What is 6 times 7?", "answers": ["42"]},
]
ARC_ROW = {
    "id": "a1",
    "question": "Which is a mammal?",
    "choices": ["Shark", "Whale"],
    "labels": ["A", "B"],
    "answers": ["B"],
}
CONFIG = """
[[models]]
id = "scripted/big"
input_usd_per_mtok = 10.0
output_usd_per_mtok = 30.0

[[models]]
id = "scripted/small"
input_usd_per_mtok = 1.0
output_usd_per_mtok = 2.0
"""


def answer_by_model(call: ScriptedCall) -> str:
    if call.model == "big":
        return "Counting.\nAnswer: 7" if "apples" in call.prompt else "Answer: B"
    if "apples" in call.prompt:
        raise_failure()
    return "Answer: 42" if "6 times 7" in call.prompt else "Answer: A"


def raise_failure() -> None:
    from orchestrator.testing.scripted import ScriptedFailure

    raise ScriptedFailure("bad_request", "scripted refusal")


@pytest.fixture
def qa_files(tmp_path):
    gsm = tmp_path / "gsm8k.jsonl"
    gsm.write_text("".join(json.dumps(r) + "\n" for r in QA_ROWS))
    arc = tmp_path / "arc_challenge.jsonl"
    arc.write_text(json.dumps(ARC_ROW) + "\n")
    config = tmp_path / "pool.toml"
    config.write_text(CONFIG)
    return gsm, arc, config


def test_profile_writes_exactly_the_expected_rows_and_resumes(scripted, qa_files, tmp_path):
    engine = scripted(answer_by_model)
    gsm, arc, config = qa_files
    out = tmp_path / "outcomes.jsonl"
    argv = (
        "profile",
        "--models",
        "scripted/big,scripted/small",
        "--data",
        str(gsm),
        "--data",
        str(arc),
        "--out",
        str(out),
        "--config",
        str(config),
    )
    assert run(*argv) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(r["dataset"], r["index"]) for r in rows] == [
        ("gsm8k", "g1"),
        ("gsm8k", "g2"),
        ("arc_challenge", "a1"),
    ]
    assert [r["records"] for r in rows] == [
        {"scripted/big": 1.0, "scripted/small": None},  # small failed: null, not 0
        {"scripted/big": 0.0, "scripted/small": 1.0},  # big said B to a number question
        {"scripted/big": 1.0, "scripted/small": 0.0},
    ]
    assert rows[0]["query"] == QA_ROWS[0]["question"] and "scripted/small" not in rows[0]["usages"]
    call = next(c for c in engine.calls_to("big") if "apples" in c.prompt)
    prompt_tokens = sum(count_tokens(m["content"]) for m in call.messages)
    assert rows[0]["usages"]["scripted/big"] == pytest.approx(
        {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": 3,
            "cost": (prompt_tokens * 10.0 + 3 * 30.0) / 1e6,
        }
    )
    assert any("B. Whale" in c.prompt for c in engine.calls_to("big"))
    assert call.temperature == 0.0 and call.seed == 0
    # resumable: a re-run skips what is there, a torn last line is redone
    calls = len(engine.calls)
    assert run(*argv) == 0 and len(engine.calls) == calls
    out.write_text(out.read_text()[:-20])
    assert run(*argv) == 0 and len(engine.calls) == calls + 2
    assert [json.loads(x)["index"] for x in out.read_text().splitlines()] == ["g1", "g2", "a1"]
    table_rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert table_rows[2]["records"] == rows[2]["records"]


def test_profile_rows_fit_a_router(scripted, qa_files, tmp_path):
    scripted(answer_by_model)
    gsm, arc, config = qa_files
    out = tmp_path / "outcomes.jsonl"
    run(
        "profile",
        "--models",
        "scripted/big,scripted/small",
        "--data",
        str(gsm),
        "--data",
        str(arc),
        "--out",
        str(out),
        "--config",
        str(config),
        "--limit",
        "1",
    )
    assert len(out.read_text().splitlines()) == 2  # first question of each file
    assert (
        run(
            "fit",
            "--data",
            str(out),
            "--out",
            str(tmp_path / "r"),
            "--embedder",
            "hashing-16",
            "--cache-dir",
            str(tmp_path / "c"),
        )
        == 0
    )
    assert load_router(tmp_path / "r").models == ["scripted/big", "scripted/small"]


@pytest.mark.slow
def test_fit_and_route_with_the_real_embedders(tmp_path, capsys):
    for name in ("all-MiniLM-L6-v2", "wordllama"):
        if name == "wordllama":
            pytest.importorskip("wordllama")
        out = tmp_path / name
        assert (
            run(
                "fit",
                "--data",
                str(TINY),
                "--out",
                str(out),
                "--k",
                "2",
                "--embedder",
                name,
                "--cache-dir",
                str(tmp_path / "c"),
            )
            == 0
        )
        router = load_router(out)
        assert router.dim == (384 if name == "all-MiniLM-L6-v2" else 256)
        capsys.readouterr()
        run("route", "--router", str(out), "--data", str(TINY), "--cache-dir", str(tmp_path / "c"))
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 6 and all(json.loads(x)["model"] in router.models for x in lines)


def test_open_qa_records_are_token_f1_other_datasets_keep_their_metric():
    from orchestrator.qa.data import QARecord
    from orchestrator.routing.profiling import record_score

    hotpot = QARecord("h1", "hotpotqa_distractor", "Who covered it?", ("Love and Theft",))
    # the answer inside a sentence: EM 0, F1 = 2·P·R/(P+R) with P = 3/8 tokens, R = 3/3
    assert record_score(hotpot, "It was covered by the duo Love and Theft.") == pytest.approx(
        2 * (3 / 8) / (3 / 8 + 1)
    )
    assert record_score(hotpot, "Answer: Love and Theft") == 1.0
    gsm = QARecord("g1", "gsm8k", "How many?", ("42",))
    assert record_score(gsm, "so 40 + 2 = 42.\nAnswer: 42") == 1.0
    assert record_score(gsm, "Answer: 41") == 0.0


def test_fit_with_the_frontier_names_the_models_it_never_routes_to(tmp_path, capsys):
    rows = [json.loads(line) for line in TINY.read_text().splitlines()]
    for row in rows:  # waste: as dear as big, never right
        row["records"]["waste"] = 0
        row["usages"]["waste"] = row["usages"]["big"]
    data = tmp_path / "waste.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    common = [
        "--data",
        str(data),
        "--k",
        "1",
        "--embedder",
        "hashing-64",
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    assert run("fit", *common, "--out", str(tmp_path / "f"), "--frontier") == 0
    assert (
        "never routes to waste: on no dataset's cost-accuracy frontier" in capsys.readouterr().out
    )
    assert load_router(tmp_path / "f").excluded == ("waste",)
    assert run("fit", *common, "--out", str(tmp_path / "all")) == 0
    assert "never routes" not in capsys.readouterr().out
    assert load_router(tmp_path / "all").excluded == ()
