"""Every example runs offline, and is run here."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"


def run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.heavy
def test_direct_graph_example_answers_with_a_scripted_model():
    result = run(str(EXAMPLES / "direct_graph.py"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("{'391': 2, '381': 1} -> 391")


def test_hosted_config_example_is_valid():
    result = run("-m", "orchestrator.cli", "config", "validate", str(EXAMPLES / "hosted.toml"))
    assert result.returncode == 0, result.stderr
    assert "valid (2 models)" in result.stdout


@pytest.mark.slow
def test_quickstart_answers_with_the_local_models():
    result = run(str(EXAMPLES / "quickstart.py"), "What is the capital of France?", timeout=900)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("answer: ") and "status" in lines[-1]
    assert any("[local/" in line for line in lines)


def test_agent_workflow_example_routes_two_steps_to_two_tools(scripted, monkeypatch, capsys):
    import runpy

    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setattr(sys, "argv", ["agent_workflow.py", "--scripted"])
    runpy.run_path(str(EXAMPLES / "agent_workflow.py"), run_name="__main__")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "answer: 105  (status ok)"
    assert any("paragraph_search(" in line and "League of Nations" in line for line in lines)
    assert '   tool:   calculator({"expression": "2025 - 1920"}) -> 105' in lines


@pytest.mark.heavy
def test_agent_workflow_example_runs_as_a_script():
    result = run(str(EXAMPLES / "agent_workflow.py"), "--scripted")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("answer: 105  (status ok)")
