"""The model router: the embedding-cluster rule (`ClusterRouter`) and its cluster tables, the
cost-accuracy frontier, artifacts on disk, the labelled-data format it is fitted on, its
evaluation (α sweep, Pareto front, AIQ) and plot, and profiling models into labelled data.

May import: the root modules and `qa`; embedders and models are passed in, never imported."""

from orchestrator.routing.artifact import load_router, save_router
from orchestrator.routing.labelled import LabelledTable, read_labelled
from orchestrator.routing.router import ClusterConfig, ClusterRouter, FixedRouter

__all__ = [
    "ClusterConfig",
    "ClusterRouter",
    "FixedRouter",
    "LabelledTable",
    "load_router",
    "read_labelled",
    "save_router",
]
