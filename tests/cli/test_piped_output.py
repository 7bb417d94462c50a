"""Output that survives a pipe: with stdout (or stderr) going to a file or a pipe, as in CI
or under nohup, the CLI's tables print whole values, never squeezed into 80 columns with '…'."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import GSM, write

from orchestrator.cli import main
from orchestrator.testing.fake_openai import FakeOpenAI, Reply

TESTS = Path(__file__).parents[1]
TINY = TESTS / "data" / "routing_tiny.jsonl"
LONG_MODEL = "openai/a-model-id-long-enough-to-be-squeezed-out-of-an-eighty-column-table"
LONG_ANSWER = "Cambridge, " * 12 + "and that is the whole answer."


def eval_config(tmp_path) -> str:
    path = tmp_path / "c.toml"
    path.write_text(
        '[[models]]\nid = "scripted/big"\ninput_usd_per_mtok = 10.0\noutput_usd_per_mtok = 30.0\n'
        '[embedder]\nname = "hashing-32"\n'
    )
    return str(path)


def unsized() -> dict[str, str]:
    """The environment without a terminal size, as under CI or nohup."""
    return {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


def assert_whole_summary(printed: str, out: Path) -> None:
    """Every configuration's row is on one line, with its full name and accuracy."""
    summary = json.loads((out / "summary.json").read_text())["configurations"]
    assert "…" not in printed
    for name, s in summary.items():
        line = next(line for line in printed.splitlines() if f" {name} " in line)
        assert f" {s['accuracy']:.3f} " in line and f" {s['total_cost_usd']:.6f} " in line


@pytest.mark.heavy
def test_eval_summary_written_to_a_file_is_whole(tmp_path):
    data = write(tmp_path / "gsm8k.jsonl", GSM)
    out = tmp_path / "out"
    args = ["eval", "--setup", "worker_setup:scripted", "--graph", "single,wide", "--width"]
    args += ["1,2", "--data", str(data), "--config", eval_config(tmp_path), "--out", str(out)]
    printed = tmp_path / "stdout.txt"
    with printed.open("w") as stdout:
        subprocess.run(
            [sys.executable, "-m", "orchestrator.cli", *args, "--no-plots"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            env={**unsized(), "PYTHONPATH": str(TESTS)},
            check=True,
            timeout=120,
        )
    text = printed.read_text()
    assert_whole_summary(text, out)
    assert len(text.splitlines()) == 4 + 4 + 1  # title, 3 rules and header, 4 rows, bottom


def test_eval_summary_in_a_pipe_is_whole(scripted, tmp_path, capsys, monkeypatch):
    for name in ("COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)
    scripted()
    data = write(tmp_path / "gsm8k.jsonl", GSM[:2])
    out = tmp_path / "out"
    args = ["--graph", "single,wide", "--width", "1,2", "--data", str(data), "--no-plots"]
    assert main(["eval", *args, "--config", eval_config(tmp_path), "--out", str(out)]) == 0
    assert_whole_summary(capsys.readouterr().out, out)


@pytest.mark.heavy
def test_ask_summary_and_answer_in_a_pipe_are_whole(tmp_path):
    with FakeOpenAI(default=Reply.ok(f"Thinking.\nAnswer: {LONG_ANSWER}")) as server:
        config = tmp_path / "c.toml"
        config.write_text(
            f'[[models]]\nid = "{LONG_MODEL}"\ninput_usd_per_mtok = 1.0\n'
            f'output_usd_per_mtok = 2.0\napi_base = "{server.base_url}"\n'
            '[graph]\nwidth = 2\n[embedder]\nname = "hashing-32"\n'
        )
        ask = ["ask", "What is 2+2?", "--graph", "single", "--config", str(config)]
        result = subprocess.run(
            [sys.executable, "-m", "orchestrator.cli", *ask, "--runs", str(tmp_path / "r.sqlite")],
            capture_output=True,
            text=True,
            env={**unsized(), "OPENAI_API_KEY": "sk-unused"},
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"answer: {LONG_ANSWER}\n"  # one line, however long
    table = result.stderr[result.stderr.index("status: ok") :]
    assert "…" not in table
    row = next(line for line in table.splitlines() if " q1 " in line)
    assert [cell.strip() for cell in row.split("│")[1:-1]] == [
        "q1",
        LONG_MODEL,
        "2",
        "20",
        "10",
        f"{(20 * 1.0 + 10 * 2.0) / 1e6:.6f}",
    ]


def test_router_commands_print_plain_text_that_is_never_cut(tmp_path, capsys):
    out, cache = tmp_path / "router", str(tmp_path / "cache")
    common = ["--data", str(TINY), "--cache-dir", cache]
    fit = ["router", "fit", *common, "--out", str(out), "--k", "1", "--embedder", "hashing-64"]
    assert main(fit) == 0
    assert main(["router", "eval", "--router", str(out), *common, "--alphas", "0,0.4,1"]) == 0
    printed = capsys.readouterr().out
    assert "…" not in printed and "best single  big: accuracy 0.6250" in printed
