"""Distributed evaluation: shards of questions as Ray tasks on a local 2-CPU runtime give the
same rows as the local executor, resume like it, and report every row to the driver."""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import worker_setup
from support import scripted_config

from orchestrator.config import parse_config
from orchestrator.embeddings.embedders import make_embedder
from orchestrator.errors import ConfigError, OrchestratorError
from orchestrator.eval.configurations import expand
from orchestrator.eval.executors import LocalExecutor, RayExecutor, make_executor, split, worker_env
from orchestrator.eval.harness import Harness, ResultsLog
from orchestrator.qa.data import read_qa

pytestmark = pytest.mark.slow
TESTS = str(Path(__file__).parents[1])
SETUP = "worker_setup:scripted"
SUMS = [
    {"id": f"s{i}", "question": f"What is {i} + {i}?", "answers": [str(2 * i)]} for i in range(8)
]
CONFIGURATIONS = expand(["wide", "single"], [1, 3], [0])


def test_eval_command_starts_and_stops_its_own_ray_runtime(tmp_path):
    """The plain CLI path: no cluster address, so the command starts a local runtime whose
    workers import the setup from the current directory. (First in the file: the module's
    shared runtime is not up yet.)"""
    pytest.importorskip("ray")
    code = (
        "import sys; from test_executors import _eval; from pathlib import Path; "
        "sys.exit(_eval(Path(sys.argv[1]), 'out', '--executor', 'ray', '--limit', '3'))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((TESTS, str(Path(__file__).parent)))}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=TESTS,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(keyed(ResultsLog(tmp_path / "out" / "results.jsonl"))) == 3 * 4


@pytest.fixture(scope="module")
def ray_workers(tmp_path_factory):
    """A local Ray runtime of 2 CPUs whose workers can import tests/ (for the setup); yields
    the folder where each worker leaves its process id."""
    ray = pytest.importorskip("ray")
    marks = tmp_path_factory.mktemp("workers")
    env = {
        "PYTHONPATH": os.pathsep.join(p for p in (TESTS, os.environ.get("PYTHONPATH")) if p),
        "ORCH_TEST_WORKER_DIR": str(marks),
        "ORCH_TEST_DRIVER_PID": str(os.getpid()),
    }
    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env}
    )
    yield marks
    ray.shutdown()


@pytest.fixture
def questions(tmp_path):
    path = tmp_path / "gsm8k.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in SUMS))
    return read_qa(path)


def harness() -> Harness:
    config = parse_config(scripted_config())
    return Harness(config, make_embedder(config.embedder.name), None, concurrency=2)


def keyed(log: ResultsLog) -> dict[tuple, dict]:
    """Rows by (dataset, question, configuration), wall time left out."""
    rows = log.rows()
    out = {(r["dataset"], r["question_id"], r["configuration"]): r for r in rows}
    assert len(out) == len(rows), "a (question, configuration) row was written twice"
    return {k: {f: v for f, v in r.items() if f != "latency_s"} for k, r in out.items()}


async def test_ray_rows_equal_local_rows_and_every_row_reaches_the_driver(
    ray_workers, questions, tmp_path
):
    worker_setup.scripted()
    local = ResultsLog(tmp_path / "local" / "results.jsonl")
    await LocalExecutor().run(harness(), questions, CONFIGURATIONS, local)
    seen: list[dict] = []
    remote = ResultsLog(tmp_path / "ray" / "results.jsonl")
    written = await RayExecutor(setup=SETUP).run(
        harness(), questions, CONFIGURATIONS, remote, seen.append
    )
    assert written == len(seen) == 8 * 4
    assert keyed(remote) == keyed(local)
    correct = sum(r["correct"] for r in local.rows())
    assert 0 < correct < 32  # the comparison covers right and wrong answers alike
    assert sum(r["cost_usd"] for r in remote.rows()) > 0
    workers = {p.name for p in ray_workers.iterdir()} - {str(os.getpid())}
    assert len(workers) >= 2, f"shards ran in {workers}"


async def test_ray_run_resumes_and_skips_rows_already_written(ray_workers, questions, tmp_path):
    worker_setup.scripted()
    log = ResultsLog(tmp_path / "results.jsonl")
    await LocalExecutor().run(harness(), questions[:3], CONFIGURATIONS, log)
    before = log.path.read_text()
    with log.path.open("a") as sink:
        sink.write('{"torn": ')  # a crash mid-write
    executor = RayExecutor(setup=SETUP)
    assert await executor.run(harness(), questions, CONFIGURATIONS, log) == 5 * 4
    assert log.path.read_text().startswith(before)
    assert len(keyed(log)) == 8 * 4
    assert await executor.run(harness(), questions, CONFIGURATIONS, log) == 0


def _eval(tmp_path: Path, out: str, *extra: str) -> int:
    from orchestrator.cli.eval import add_eval_parser

    config = tmp_path / "config.toml"
    config.write_text(
        '[[models]]\nid = "scripted/big"\ninput_usd_per_mtok = 1.0\n'
        'output_usd_per_mtok = 2.0\n[embedder]\nname = "hashing-32"\n'
    )
    data = tmp_path / "gsm8k.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in SUMS))
    parser = argparse.ArgumentParser()
    add_eval_parser(parser.add_subparsers())
    args = parser.parse_args(
        [
            "eval",
            "--data",
            str(data),
            "--graph",
            "single,wide",
            "--width",
            "1,2",
            "--config",
            str(config),
            "--out",
            str(tmp_path / out),
            "--no-plots",
            "--json",
            "--setup",
            SETUP,
            *extra,
        ]
    )
    return int(args.func(args))


def test_eval_command_with_ray_executor_writes_the_local_results(ray_workers, tmp_path, capsys):
    assert _eval(tmp_path, "local") == 0
    assert _eval(tmp_path, "ray", "--executor", "ray") == 0
    local = ResultsLog(tmp_path / "local" / "results.jsonl")
    remote = ResultsLog(tmp_path / "ray" / "results.jsonl")
    assert len(keyed(remote)) == 8 * 4 and keyed(remote) == keyed(local)
    assert _eval(tmp_path, "shared", "--executor", "ray", "--share-calls") == 0
    shared, alone = keyed(ResultsLog(tmp_path / "shared" / "results.jsonl")), keyed(local)
    assert sum(r.pop("reused_calls") for r in shared.values()) > 0  # each worker shares
    assert {r.pop("reused_calls") for r in alone.values()} == {0} and shared == alone
    summaries = [json.loads(line)["summary"] for line in capsys.readouterr().out.splitlines()]
    assert _same_but_timing(*summaries[:2]) and _same_but_timing(summaries[0], summaries[2])


def _same_but_timing(a: dict, b: dict) -> bool:
    """Summaries equal but for latencies and the count of shared calls."""

    def strip(s: dict) -> dict:
        return {
            k: {f: v for f, v in row.items() if "latency" not in f and "reused" not in f}
            for k, row in s.items()
        }

    return strip(a) == strip(b)


async def test_a_failing_worker_is_one_clear_error(ray_workers, questions, tmp_path):
    worker_setup.scripted()
    executor = RayExecutor(setup="worker_setup:broken_in_workers")
    log = ResultsLog(tmp_path / "results.jsonl")
    with pytest.raises(OrchestratorError, match=r"a Ray shard failed: .*worker setup exploded"):
        await executor.run(harness(), questions, CONFIGURATIONS, log)
    assert log.rows() == []


def test_split_keeps_order_and_balances_shards():
    assert split(list(range(7)), 3) == [[0, 1, 2], [3, 4], [5, 6]]
    assert split([1, 2], 8) == [[1], [2]]
    assert split([], 4) == []


def test_make_executor_checks_its_options():
    assert isinstance(make_executor("local"), LocalExecutor)
    assert isinstance(make_executor("ray", "ray://head:10001"), RayExecutor)
    with pytest.raises(ConfigError, match="--address only applies"):
        make_executor("local", "auto")
    with pytest.raises(ConfigError, match="cannot import"):
        make_executor("local", setup="no_such_module:f")
    with pytest.raises(ConfigError, match="MODULE:FUNCTION"):
        make_executor("local", setup="worker_setup")


def test_workers_get_the_drivers_switches_and_one_thread_per_cpu(monkeypatch):
    """A worker inherits the offline switches, the orchestrator's folders and the keys the
    config names, nothing else; its local models run on one thread (a task holds one CPU)
    unless the driver sets ORCHESTRATOR_THREADS; only local workers get the driver's path."""
    base = scripted_config()
    base["models"].append(
        {
            "id": "openai/gpt-4o",
            "api_key_env": "TEAM_KEY",
            "input_usd_per_mtok": 2.5,
            "output_usd_per_mtok": 10.0,
        }
    )
    config = parse_config(base)
    for name, value in [
        ("HF_HUB_OFFLINE", "1"),
        ("ORCHESTRATOR_CACHE_DIR", "/models"),
        ("TEAM_KEY", "sk-1"),
        ("OTHER_KEY", "sk-2"),
        ("PYTHONPATH", "/lib"),
    ]:
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ORCHESTRATOR_THREADS", raising=False)
    env = worker_env(config, None)
    assert env["HF_HUB_OFFLINE"] == "1" and env["ORCHESTRATOR_CACHE_DIR"] == "/models"
    assert env["TEAM_KEY"] == "sk-1" and "OTHER_KEY" not in env
    assert env["ORCHESTRATOR_THREADS"] == "1"
    assert env["PYTHONPATH"] == os.pathsep.join([os.getcwd(), "/lib"])
    monkeypatch.setenv("ORCHESTRATOR_THREADS", "4")
    remote = worker_env(config, "ray://head:10001")
    assert remote["ORCHESTRATOR_THREADS"] == "4" and "PYTHONPATH" not in remote
