import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import default_responder

from orchestrator.testing.scripted import ScriptedCall, ScriptedEngine


@pytest.fixture
def scripted() -> Callable[..., ScriptedEngine]:
    """Register a fresh scripted engine as the `scripted/` provider and return it."""
    from orchestrator.llm.boundary import register_engine

    def make(
        responder: Callable[[ScriptedCall], Any] | None = None,
        delay_s: float = 0.0,
        piece_delay_s: float = 0.0,
    ) -> ScriptedEngine:
        engine = ScriptedEngine(responder or default_responder(), delay_s, piece_delay_s)
        register_engine("scripted", engine)
        return engine

    return make


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path for fake weight packages."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return root
