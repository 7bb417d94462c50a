"""The model router: the embedding-cluster rule (`ClusterRouter`), its knobs and presets
(`ClusterConfig`) and cluster tables, the cost-accuracy frontier, artifacts on disk, the
labelled-data format it is fitted on, its evaluation (α sweep, Pareto front, AIQ) and plot,
and profiling models into labelled data.

May import: the root modules and `qa`; embedders and models are passed in, never imported.
The names below load lazily, so that the CLI's `--help` can read `cluster_config` without
importing numpy."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.routing.artifact import load_router, save_router
    from orchestrator.routing.cluster_config import ClusterConfig
    from orchestrator.routing.labelled import LabelledTable, read_labelled
    from orchestrator.routing.router import ClusterRouter, FixedRouter

_HOMES = {
    "ClusterConfig": "cluster_config",
    "ClusterRouter": "router",
    "FixedRouter": "router",
    "LabelledTable": "labelled",
    "load_router": "artifact",
    "read_labelled": "labelled",
    "save_router": "artifact",
}
__all__ = [
    "ClusterConfig",
    "ClusterRouter",
    "FixedRouter",
    "LabelledTable",
    "load_router",
    "read_labelled",
    "save_router",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
