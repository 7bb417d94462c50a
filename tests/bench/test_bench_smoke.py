"""Every script in bench/ runs in smoke mode (`--smoke`: bench/smoke's small fixtures, the
scripted engine and the hashing embedder, a few seconds, offline) and prints its result
lines, so a change that breaks a benchmark fails the suite instead of the next person who
runs it. Each runs in a subprocess, from a scratch folder, and any file it opens under
../shared (absent from a clean checkout) fails it. A script added to bench/ fails here
until EXPECTED names the lines its smoke mode prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
SCRIPTS = sorted(  # runnable scripts; modules they share (protocols.py) are not run
    path.stem for path in BENCH.glob("*.py") if '__name__ == "__main__"' in path.read_text()
)
SLOW = {"difficulty_probe", "prompt_reuse"}  # these read with the real smallest local model

EXPECTED: dict[str, tuple[str, ...]] = {
    "capability_routing": ("### metatool · hashing-64 · 1 seeds", "| blend | ", "cold start ("),
    "difficulty_probe": (
        "| arc-challenge (4), letters |",
        "| winogrande (4), blank filled |",
        "| 0.5 | ",
    ),
    "frontier": ("| routerbench | ", "| routerbench · mean of its 3 datasets | "),
    "graph_overhead": ("overhead, graph alone", "20 ms per call: wall"),
    "load": ("questions: 10 at once", "latency p50:", "status: {"),
    "local_router_cv": ("256 questions", "(shipped) | 4 | "),
    "local_threads": ("4 sample calls on scripted/m", "identical texts: 4/4"),
    "multihop": (
        "hotpotqa_distractor | wide w=1 d=0 model=default | 2 | ",
        "musique_context wide w=1 d=0 model=default: n=2, decomposed ",
        "supporting-paragraph recall 1.000 (n=2)",
    ),
    "near_copies": ("| routerbench | default α=1 | ", "| routerbench | near copy dense ≥ 0.95 | "),
    "paired_flips": ("  all: 6 questions, ", "sign test p = "),
    "planner_decisions": (
        "musique_context: 2 questions, planner scripted/m, unusable replies 0",
        "2 gold hops | 1 | 0.00 | 1.00 | 0.00",
        "bridge | 2 | 0.00 | 1.00 | -",
    ),
    "prompt_reuse": ("prompt reused:", "identical texts:  2/2"),
    "routed_alpha_sweep": ("check at the run's α = 0.8", "6 questions", "| 0.5 | "),
    "router_quality": ("· per-dataset, 5 bags, table scale (default) | ", "- route_batch() on"),
    "router_signal": ("| routerbench | ", "per-query AUC by dataset"),
    "shared_calls": ("3 questions x 10 configurations", "rows agreeing on "),
    "tools_vs_models": (
        "8 new rows",
        "gsm8k | wide w=1 d=0 model=default tools | 2 | ",
        "hotpotqa_distractor | wide w=1 d=0 model=default tools | 2 | ",
        "| 2 ok, 0 failed | 0→✗ 0→✓ p=1.00",
        "tools=['paragraph_search'] ok '[Jaclyn'",  # the question's own paragraph, searched
    ),
    "wide_vs_deep": ("15 new rows", "deep w=1 d=1 model=scripted/m | 3 | "),
}

# Runs the script as `python bench/<name>.py --smoke` would, with an audit hook that fails
# any open under the shared data folder.
GUARD = """
import os, runpy, sys

shared, script = os.path.realpath(sys.argv[1]), sys.argv[2]


def outside(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if path == shared or path.startswith(shared + os.sep):
            raise PermissionError(f"smoke mode opened {path}, outside the repository")


sys.addaudithook(outside)
sys.argv = [script, "--smoke"]
sys.path.insert(0, os.path.dirname(script))
runpy.run_path(script, run_name="__main__")
"""


def _param(name: str) -> object:
    # each smoke run is a fresh interpreter of several seconds: `heavy`, out of make test-fast
    return pytest.param(name, marks=pytest.mark.slow if name in SLOW else pytest.mark.heavy)


def test_every_script_is_smoke_tested() -> None:
    assert SCRIPTS, f"no scripts found in {BENCH}"
    missing = [name for name in SCRIPTS if name not in EXPECTED]
    assert not missing, f"add the lines their --smoke run prints to EXPECTED: {missing}"


@pytest.mark.parametrize("name", [_param(name) for name in SCRIPTS])
def test_smoke_mode_runs(name: str, tmp_path: Path) -> None:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "HF_HUB_OFFLINE": "1"}
    script = str(BENCH / f"{name}.py")
    done = subprocess.run(
        [sys.executable, "-c", GUARD, str(ROOT.parent / "shared"), script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert done.returncode == 0, output
    for line in EXPECTED.get(name, ()):
        assert line in done.stdout, f"{line!r} not printed\n{output}"
