"""The toolbox the graph gets: from a router given in Python, or from the config's
`[capability_router]` section (its artifact, policy and top_k); bad combinations fail early."""

import json

import pytest
from support import EMAIL, PCT, ToolWords, scripted_config, tool_capabilities, tool_responder

from orchestrator.agents.toolbox import CapabilityToolbox
from orchestrator.api import Orchestrator
from orchestrator.capabilities import CapabilityRouter
from orchestrator.config import parse_config
from orchestrator.embeddings.embedders import HashingEmbedder
from orchestrator.errors import ConfigError, InputError


def fitted():
    embedder = ToolWords()
    return CapabilityRouter.fit(tool_capabilities(), embedder.embed, embedder_name=embedder.name)


async def test_the_config_section_names_the_router_its_policy_and_top_k(scripted, tmp_path):
    fitted().save(tmp_path / "caps")
    section = {"artifact": str(tmp_path / "caps"), "top_k": 2, "deny": ["side-effects"]}
    cfg = parse_config(scripted_config(capability_router=section))
    engine = scripted(tool_responder({"decompose": False}))
    orch = Orchestrator.from_config(cfg, embedder=ToolWords())
    answer = await orch.aask(PCT)
    assert answer.steps[0].tool.output == "418.314"
    assert [c.tool_names for c in engine.calls if c.tools] == [["calculator"]]
    assert orch.toolbox.top_k == 2
    assert "send_email" not in [o.id for o in orch.toolbox.offer(EMAIL)]
    assert json.loads(json.dumps(answer.to_json()))["steps"][0]["tool"]["status"] == "ok"


def test_without_a_router_there_is_no_toolbox_and_tools_alone_are_refused(scripted):
    scripted()
    cfg = parse_config(scripted_config())
    assert Orchestrator.from_config(cfg).toolbox is None
    with pytest.raises(InputError, match="give capabilities= too"):
        Orchestrator.from_config(cfg, tools={"send_email": print})


def test_a_router_fitted_with_another_embedder_is_a_config_error():
    with pytest.raises(ConfigError, match="fitted with 'tool-words', not the embedder"):
        CapabilityToolbox(fitted(), HashingEmbedder(16))
