"""The rule's defaults live in `ClusterConfig`: the recommended values, the paper's preset,
explicit knobs over a preset (Python and CLI alike), and artifacts written before presets
existed (tests/data/routers_36f97e3, fitted by the code at commit 36f97e3) still load and
route as they did."""

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
from support import MODELS, hand_table

from orchestrator.cli.router import add_router_parser
from orchestrator.embeddings.embedders import HashingEmbedder
from orchestrator.errors import InputError, RouterArtifactError
from orchestrator.routing import ClusterConfig, ClusterRouter, load_router
from orchestrator.routing.cluster_config import KNOBS, PRESETS

DATA = Path(__file__).parents[1] / "data"
SMALL = DATA / "routing_small.jsonl"
OLD = DATA / "routers_36f97e3"
SHIPPED = Path(__file__).parents[2] / "orchestrator" / "data" / "local_router"
EXPECTED = json.loads((OLD / "routes.json").read_text())

RECOMMENDED = {
    "k": None,
    "top_p": 4,
    "beta": 9.0,
    "cost_norm": "minmax",
    "vote": "weighted",
    "min_accuracy": 0.0,
    "seed": 0,
    "clustering": "per-dataset",
    "bags": 5,
    "scale": "table",
    "cluster_size": None,
    "near_copy": None,
    "near_copy_weight": 0.5,
}
NEWER = {"cluster_size": None, "near_copy": None, "near_copy_weight": 0.5}  # knobs since 36f97e3
PAPER = {**RECOMMENDED, "clustering": "global", "bags": 1, "scale": "cluster"}


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="orchestrator")
    add_router_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["router", *argv])
    return int(args.func(args))


def fit_small(tmp_path: Path, name: str, *options: str) -> Path:
    out = tmp_path / name
    data = ["--data", str(SMALL), "--embedder", "hashing-64", "--cache-dir", str(tmp_path / "c")]
    assert run("fit", *data, "--out", str(out), *options) == 0
    return out


def test_the_recommended_values_are_the_defaults():
    assert ClusterConfig().to_dict() == RECOMMENDED
    assert ClusterConfig.preset() == ClusterConfig.preset("recommended") == ClusterConfig()


def test_the_papers_preset_is_global_kmeans_one_clustering_in_cluster_scale():
    assert ClusterConfig.preset("paper").to_dict() == PAPER
    assert set(PRESETS) == {"recommended", "paper"}


def test_knobs_set_over_a_preset():
    config = ClusterConfig.preset("paper", bags=3, beta=27.0)
    assert config.to_dict() == {**PAPER, "bags": 3, "beta": 27.0}
    assert ClusterConfig.preset("recommended", scale="cluster").scale == "cluster"


def test_an_unknown_preset_or_knob_or_value_is_refused():
    with pytest.raises(InputError, match="unknown preset 'fancy'"):
        ClusterConfig.preset("fancy")
    with pytest.raises(InputError, match="unknown knob"):
        ClusterConfig.preset("paper", bag=2)
    with pytest.raises(InputError, match="scale must be one of"):
        ClusterConfig.preset("paper", scale="global")


def test_fit_takes_a_config_and_the_old_keywords_over_it():
    x, scores, costs = hand_table()

    def fit(**options):
        return ClusterRouter.fit(x, scores, costs, MODELS, embedder_name="test-3", **options)

    default = fit()
    assert default.config.to_dict() == {**RECOMMENDED, "k": default.config.k}
    by_preset = fit(config=ClusterConfig.preset("paper"), k=2)
    by_keywords = fit(k=2, clustering="global", bags=1, scale="cluster")
    assert by_preset.config == by_keywords.config == ClusterConfig.preset("paper", k=2)
    assert np.array_equal(by_preset.tables.centroids, by_keywords.tables.centroids)
    assert fit(config=ClusterConfig.preset("paper"), bags=2).config.bags == 2
    with pytest.raises(TypeError):
        fit(bag=2)


def test_the_cli_defaults_and_help_come_from_the_config(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="orchestrator")
    add_router_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["router", "fit", "--data", "x.jsonl", "--out", "o"])
    assert args.preset == "recommended" and all(getattr(args, knob) is None for knob in KNOBS)
    with pytest.raises(SystemExit):
        parser.parse_args(["router", "fit", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--clustering global --bags 1 --scale cluster" in help_text
    assert "(default 5; paper: 1)" in help_text and "(default 4)" in help_text
    out = fit_small(tmp_path, "recommended")
    assert load_router(out).config.to_dict() == {**RECOMMENDED, "k": 3}


def test_cli_preset_paper_writes_the_papers_config(tmp_path):
    out = fit_small(tmp_path, "paper", "--preset", "paper", "--k", "6")
    assert json.loads((out / "router.json").read_text())["config"] == {**PAPER, "k": 6}


def test_cli_options_override_the_preset(tmp_path):
    out = fit_small(tmp_path, "paper", "--preset", "paper", "--bags", "2", "--top-p", "2")
    config = load_router(out).config
    assert (config.clustering, config.scale, config.bags, config.top_p) == (
        "global",
        "cluster",
        2,
        2,
    )


def probes(router: ClusterRouter) -> np.ndarray:
    """The vectors the routes in routes.json were recorded for: near random centroids."""
    rng = np.random.default_rng(0)
    c = router.tables.centroids
    near = c[rng.integers(len(c), size=32)]
    return (near + 0.25 * rng.standard_normal((32, c.shape[1]))).astype(np.float32)


@pytest.mark.parametrize("name", ["default", "paper", "variants", "shipped"])
def test_an_old_artifact_loads_and_routes_as_before(name):
    router = load_router(SHIPPED if name == "shipped" else OLD / name)
    expected = EXPECTED["routers"][name]
    assert router.config.to_dict() == {**expected["config"], **NEWER}
    assert list(router.excluded) == expected["excluded"]
    vectors = probes(router)
    for alpha in EXPECTED["alphas"]:
        key = str(alpha)
        assert [router.route(v, alpha).model for v in vectors] == expected["probes"][key]
        assert router.route_batch(vectors, alpha).tolist() == expected["batch"][key]
        for v, scores in zip(vectors[:3], expected["scores"][key], strict=True):
            assert router.route(v, alpha).scores == pytest.approx(scores, abs=1e-12)
        if "queries" in expected:
            texts = [json.loads(line)["query"] for line in SMALL.read_text().splitlines()]
            queries = HashingEmbedder(64).embed(texts)
            assert router.route_batch(queries, alpha).tolist() == expected["queries"][key]


def test_the_shipped_artifact_has_no_bags_or_scale_and_loads_with_the_papers():
    saved = json.loads((SHIPPED / "router.json").read_text())["config"]
    assert "bags" not in saved and "scale" not in saved
    config = load_router(SHIPPED).config
    assert (config.bags, config.scale, config.clustering) == (1, "cluster", "per-dataset")


def test_a_saved_config_without_k_is_refused(tmp_path):
    folder = tmp_path / "router"
    folder.mkdir()
    for file in ("router.json", "centroids.npy"):
        (folder / file).write_bytes((OLD / "paper" / file).read_bytes())
    document = json.loads((folder / "router.json").read_text())
    del document["config"]["k"]
    (folder / "router.json").write_text(json.dumps(document))
    with pytest.raises(RouterArtifactError, match="invalid config"):
        load_router(folder)


@pytest.mark.parametrize("name", ["default", "paper", "variants"])
def test_fitting_with_the_same_options_gives_the_old_router(tmp_path, name):
    options = EXPECTED["options"][name]
    out = fit_small(tmp_path, name, *options)
    new, old = (json.loads((d / "router.json").read_text()) for d in (out, OLD / name))
    assert new["config"] == {**old["config"], **NEWER}  # knobs added since
    for key in ("models", "excluded", "clusters", "embedder"):
        assert new[key] == old[key], key
    centroids = [np.load(d / "centroids.npy") for d in (out, OLD / name)]
    assert np.allclose(*centroids, atol=1e-6)
