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
