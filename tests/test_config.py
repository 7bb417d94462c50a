import subprocess
import sys

import pytest

from orchestrator.config import DEFAULT_CONFIG, load_config, parse_config, to_toml
from orchestrator.errors import ConfigError

PUBLIC_EXAMPLE = """
[[models]]
id = "openai/gpt-4o-mini"
input_usd_per_mtok = 0.15
output_usd_per_mtok = 0.60
api_base = "http://127.0.0.1:8080/v1"
api_key_env = "OPENAI_API_KEY"
[embedder]
name = "all-MiniLM-L6-v2"
[router]
path = "router-dir"
default_model = "openai/gpt-4o-mini"
[graph]
width = 3
temperature = 0.7
max_subqueries = 5
[budget]
max_cost_usd = 1.0
max_llm_calls = 100
max_completion_tokens = 20000
max_wall_s = 600
"""


def test_the_public_example_parses(tmp_path):
    file = tmp_path / "c.toml"
    file.write_text(PUBLIC_EXAMPLE)
    config = load_config(file)
    assert config.models[0].api_key_env == "OPENAI_API_KEY"
    assert config.graph.width == 3 and config.budget.max_llm_calls == 100
    assert config.model("openai/gpt-4o-mini").cost(1_000_000, 1_000_000) == pytest.approx(0.75)


def test_built_in_default_is_the_local_pool():
    config = load_config(None)
    assert [m.id for m in config.models] == [m["id"] for m in DEFAULT_CONFIG["models"]]
    assert all(m.id.startswith("local/") for m in config.models)
    assert config.planner_model in config.model_ids


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"bogus": 1}, "bogus: Extra inputs are not permitted"),
        (
            {"models": [{"id": "a/b", "input_usd_per_mtok": -1, "output_usd_per_mtok": 1}]},
            "models.0.input_usd_per_mtok: Input should be greater than or equal to 0",
        ),
        ({"graph": {"width": 0}}, "graph.width"),
        (
            {"router": {"default_model": "nope/x"}},
            "router.default_model = 'nope/x' is not in the model pool",
        ),
        (
            {
                "models": [
                    {
                        "id": "a/b",
                        "input_usd_per_mtok": 1,
                        "output_usd_per_mtok": 1,
                        "api_key_env": "sk-not a name",
                    }
                ]
            },
            "models.0.api_key_env",
        ),
    ],
)
def test_first_bad_field_is_named(patch, message):
    data = {**DEFAULT_CONFIG, **patch}
    with pytest.raises(ConfigError) as info:
        parse_config(data, "my.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("my.toml: ")
    assert "\n" not in str(info.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[models]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_show_round_trips_and_redacts(tmp_path):
    file = tmp_path / "c.toml"
    file.write_text(PUBLIC_EXAMPLE.replace("8080/v1", "8080/v1?api_key=sk-live-abcdef123456"))
    text = to_toml(load_config(file))
    assert "sk-live-abcdef123456" not in text and "[REDACTED]" in text
    again = tmp_path / "again.toml"
    again.write_text(text)
    assert load_config(again).graph == load_config(file).graph


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_validate_reports_the_field_without_traceback(tmp_path):
    file = tmp_path / "c.toml"
    file.write_text(
        PUBLIC_EXAMPLE.replace("input_usd_per_mtok = 0.15", "input_usd_per_mtok = -0.15")
    )
    result = run_cli("config", "validate", str(file))
    assert result.returncode == 2
    assert "models.0.input_usd_per_mtok" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_show_prints_the_default():
    result = run_cli("config", "show")
    assert result.returncode == 0
    assert 'id = "local/qwen2.5-coder-0.5b"' in result.stdout


CAPABILITY_ROUTER = """
[capability_router]
artifact = "capability-router"
top_k = 3
abstain_below = 0.4
allow = ["weather", "finance.*"]
deny = ["side-effects"]
kinds = ["tool", "mcp"]
pins = { weather = ">=2,<3" }
max_cost_usd = 0.01
max_latency_s = 2.5
"""


def test_capability_router_section_parses_and_round_trips(tmp_path):
    file = tmp_path / "c.toml"
    file.write_text(PUBLIC_EXAMPLE + CAPABILITY_ROUTER)
    section = load_config(file).capability_router
    assert section.artifact == "capability-router" and section.top_k == 3
    assert section.abstain_below == 0.4 and section.kinds == ("tool", "mcp")
    assert section.allow == ("weather", "finance.*") and section.deny == ("side-effects",)
    assert section.pins == {"weather": ">=2,<3"}
    assert (section.max_cost_usd, section.max_latency_s) == (0.01, 2.5)
    again = tmp_path / "again.toml"
    again.write_text(to_toml(load_config(file)))
    assert load_config(again).capability_router == section


def test_capability_router_section_defaults_route_everything():
    section = load_config().capability_router
    assert section.artifact is None and section.top_k == 5 and section.abstain_below is None
    assert (section.allow, section.deny, section.kinds, section.pins) == ((), (), (), {})


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"pins": {"weather": "newest"}}, "capability_router.pins: .*pin for 'weather'"),
        ({"allow": ["a", "b"], "deny": ["b"]}, r"allow and deny both name \['b'\]"),
        ({"allow": [" "]}, "capability_router.allow: .*empty pattern"),
        ({"kinds": ["robot"]}, "capability_router.kinds.0"),
        ({"top_k": 0}, "capability_router.top_k"),
        ({"abstain_below": 1.5}, "capability_router.abstain_below"),
        ({"max_cost_usd": -1}, "capability_router.max_cost_usd"),
        ({"threshold": 0.5}, "capability_router.threshold: Extra inputs"),
    ],
)
def test_capability_router_section_errors_name_the_field(section, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({**DEFAULT_CONFIG, "capability_router": section})
