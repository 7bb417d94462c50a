"""The routing rule's knobs and their named presets: the one place their defaults live.

`ClusterConfig()` is the recommended rule (`PRESETS["recommended"]`): k-means within each
dataset, five bagged clusterings, accuracy and cost normalised over the whole table.
`ClusterConfig.preset("paper")` is the Avengers-Pro rule as published: one
k-means over all queries, normalised within each cluster; it is also what an artifact saved
before a knob existed was fitted with, so `saved_config` fills a missing knob from it.
`ClusterRouter.fit`, the `router fit` command (its defaults and help) and the docs take their
values from here. Standard library only: the CLI's `--help` imports this module."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from orchestrator.errors import InputError

COST_NORMS = ("minmax", "max")
SCALES = ("table", "cluster")
VOTES = ("weighted", "rank")
CLUSTERINGS = ("global", "per-dataset")


@dataclass(frozen=True)
class ClusterConfig:
    """The rule's knobs, with the recommended values. `k` is the clusters per clustering:
    `None` before a fit (60, fewer when there are under ~30 queries per cluster), the number
    actually fitted in a fitted router's config. With per-dataset clustering, `cluster_size`
    gives each dataset one cluster per that many of its queries (at least one) instead of its
    share of `k`, so a small dataset is still split into clusters. `near_copy`, a cosine,
    keeps the fitted queries as a near-copy memory (`near_copies.py`): a query whose most
    similar fitted query reaches it is scored with that query's records blended in, with
    `near_copy_weight`; `None` (the default) keeps no memory."""

    k: int | None = None
    top_p: int = 4
    beta: float = 9.0
    cost_norm: str = "minmax"
    vote: str = "weighted"
    min_accuracy: float = 0.0
    seed: int = 0
    clustering: str = "per-dataset"
    bags: int = 5
    scale: str = "table"
    cluster_size: int | None = None
    near_copy: float | None = None
    near_copy_weight: float = 0.5

    def __post_init__(self) -> None:
        k = 1 if self.k is None else self.k
        size = 1 if self.cluster_size is None else self.cluster_size
        if min(k, self.top_p, self.bags, size) < 1:
            raise InputError(
                f"k, top_p, bags and cluster_size must be at least 1 (got k={self.k}, "
                f"top_p={self.top_p}, bags={self.bags}, cluster_size={self.cluster_size})"
            )
        for knob, choices in (
            ("cost_norm", COST_NORMS),
            ("vote", VOTES),
            ("scale", SCALES),
            ("clustering", CLUSTERINGS),
        ):
            if getattr(self, knob) not in choices:
                raise InputError(f"{knob} must be one of {choices}, got {getattr(self, knob)!r}")
        if not self.beta >= 0:
            raise InputError(f"beta must be a non-negative number, got {self.beta}")
        if self.near_copy is not None and not 0 < self.near_copy <= 1:
            raise InputError(f"near_copy must be a cosine in (0, 1], got {self.near_copy}")
        if not 0 <= self.near_copy_weight <= 1:
            raise InputError(f"near_copy_weight must lie in [0, 1], got {self.near_copy_weight}")

    @classmethod
    def preset(cls, name: str = "recommended", **knobs: Any) -> ClusterConfig:
        """The named preset (`PRESETS`), with `knobs` (e.g. `bags=3`) set over its values."""
        if name not in PRESETS:
            raise InputError(f"unknown preset {name!r}; the presets are {', '.join(PRESETS)}")
        if unknown := sorted(set(knobs) - set(KNOBS)):
            raise InputError(f"unknown knob(s) {unknown}; the knobs are {', '.join(KNOBS)}")
        return cls(**{**PRESETS[name], **knobs})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


KNOBS = tuple(f.name for f in fields(ClusterConfig))
# Each preset is what it changes from the recommended values, ClusterConfig's defaults.
PRESETS: dict[str, dict[str, Any]] = {
    "recommended": {},
    "paper": {"clustering": "global", "bags": 1, "scale": "cluster"},
}


def saved_config(values: dict[str, Any]) -> ClusterConfig:
    """The config an artifact saved: a knob it lacks had the paper's value (the rule before
    the knob existed); `k` it must have."""
    if not isinstance(values.get("k"), int) or isinstance(values.get("k"), bool):
        raise InputError(f"k must be the number of clusters fitted, got {values.get('k')!r}")
    return ClusterConfig.preset("paper", **values)
