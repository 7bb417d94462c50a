"""A runs.sqlite written before the package was laid out in subpackages still resumes: the
graph's node names and state keys are what its checkpoints hold, and they did not change.
tests/data/runs_before_the_layout.sqlite holds run `old-run` (width 2, the three-step plan),
stopped after the plan and the first wave (two sub-queries, two samples each)."""

import shutil
from pathlib import Path

from support import kind_of, scripted_config

from orchestrator.api import Orchestrator
from orchestrator.config import parse_config

OLD_STORE = Path(__file__).parent / "data" / "runs_before_the_layout.sqlite"


async def test_a_run_stored_by_the_previous_layout_resumes_where_it_stopped(scripted, tmp_path):
    store = tmp_path / "runs.sqlite"
    shutil.copy(OLD_STORE, store)
    engine = scripted()
    cfg = parse_config(scripted_config(graph={"width": 2, "max_concurrency": 1}))
    answer = await Orchestrator.from_config(cfg).aresume("old-run", store=store)
    assert answer.status == "ok" and answer.answer == "University of Cambridge"
    made = [kind_of(call) for call in engine.calls]
    assert made == ["sample", "sample", "synthesize"]  # the last step, then the synthesis
    assert [len(step.samples) for step in answer.steps] == [2, 2, 2]
