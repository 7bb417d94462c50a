"""Router artifacts: `router.json` (format version, embedder name and dim, config, model
catalogue and the models never picked, per-cluster tables) beside `centroids.npy`. No
pickle. Every way a file can be missing, truncated, edited by hand or fitted with another
embedder is reported as one `RouterArtifactError` line that names the file and the fix."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from orchestrator.errors import InputError, RouterArtifactError
from orchestrator.routing.cluster_config import saved_config
from orchestrator.routing.cluster_tables import ClusterTables
from orchestrator.routing.near_copies import NearCopies
from orchestrator.routing.router import ClusterRouter

FORMAT = "orchestrator.cluster-router"
FORMAT_VERSION = 1
ROUTER_FILE = "router.json"
CENTROIDS_FILE = "centroids.npy"
_REFIT = "refit it with `orchestrator router fit` (or restore the file)"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _cluster_json(router: ClusterRouter, j: int) -> dict[str, Any]:
    t = router.tables

    def row(values: Any) -> dict[str, Any]:
        pairs = zip(router.models, values.tolist(), strict=True)
        return {m: (None if math.isnan(v) else v) for m, v in pairs}

    return {
        "id": j,
        "bag": int(t.bags[j]),
        "size": int(t.sizes[j]),
        "weight": float(t.weights[j]),
        "scores": row(t.scores[j]),
        "costs": row(t.costs[j]),
        "counts": dict(zip(router.models, t.counts[j].tolist(), strict=True)),
    }


def _save_array(folder: Path, name: str, array: Any) -> dict[str, Any]:
    """Write `name` as .npy; returns its entry: file, shape and checksum."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    blob = buffer.getvalue()
    _write_atomic(folder / name, blob)
    return {
        "file": name,
        "shape": list(np.shape(array)),
        "sha256": hashlib.sha256(blob).hexdigest(),
    }


def _memory_json(folder: Path, memory: NearCopies | None) -> dict[str, Any] | None:
    if memory is None:
        return None
    arrays = {"vectors": memory.vectors, "scores": memory.scores, "costs": memory.costs}
    entries = {key: _save_array(folder, f"near_copy_{key}.npy", a) for key, a in arrays.items()}
    return {**entries, "offsets": memory.offsets.tolist()}


def save_router(router: ClusterRouter, directory: str | Path) -> Path:
    """Write the artifact into `directory` (created if needed); returns the router.json path."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(router.tables.centroids, dtype=np.float32))
    blob = buffer.getvalue()
    _write_atomic(folder / CENTROIDS_FILE, blob)
    memory = _memory_json(folder, router.memory)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "embedder": {"name": router.embedder_name, "dim": router.dim},
        "config": router.config.to_dict(),
        "models": router.models,
        "excluded": list(router.excluded),
        "centroids": {
            "file": CENTROIDS_FILE,
            "shape": [router.k, router.dim],
            "sha256": hashlib.sha256(blob).hexdigest(),
        },
        "clusters": [_cluster_json(router, j) for j in range(router.k)],
        "fitted": router.meta,
        **({"near_copies": memory} if memory else {}),
    }
    path = folder / ROUTER_FILE
    _write_atomic(path, (json.dumps(document, indent=1, allow_nan=False) + "\n").encode())
    return path


def _bad(file: Path, what: str) -> RouterArtifactError:
    return RouterArtifactError(f"{file}: {what}; {_REFIT}")


def _get(doc: Any, key: str, kind: type | tuple[type, ...], file: Path, where: str = "") -> Any:
    value = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _bad(file, f"field {where}{key!r} is missing or has the wrong type")
    return value


def _read_document(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RouterArtifactError(
            f"no router at {file.parent}: {file.name} is missing; "
            "fit one with `orchestrator router fit --data FILE.jsonl --out DIR`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(file, f"unreadable ({exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise _bad(file, f"not valid JSON at {where} (truncated or edited by hand?)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _bad(file, f"not a router artifact (expected format {FORMAT!r})")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise _bad(file, f"format_version {version!r} is not supported (this build reads 1)")
    return document


def check_embedder(
    file: Path, fitted: tuple[str, int], embedder_name: str | None, embedder_dim: int | None
) -> None:
    """Refuse a router fitted with another embedder (name or dimension)."""
    name, dim = fitted
    if (embedder_name is not None and embedder_name != name) or (
        embedder_dim is not None and embedder_dim != dim
    ):
        using = f"{embedder_name or name!r} (dim {embedder_dim or dim})"
        raise RouterArtifactError(
            f"router {file.parent} was fitted with embedder {name!r} (dim {dim}), but this run "
            f"embeds with {using}; refit the router with --embedder {embedder_name or name}, "
            f"or embed with {name!r}"
        )


def _read_npy(file: Path, spec: dict[str, Any], where: str) -> np.ndarray[Any, Any]:
    """The .npy array `spec` names beside `file`, checked against its checksum."""
    npy = file.parent / str(_get(spec, "file", str, file, f"{where}."))
    try:
        blob = npy.read_bytes()
    except OSError:
        raise RouterArtifactError(f"{npy} is missing; the router needs it; {_REFIT}") from None
    if hashlib.sha256(blob).hexdigest() != spec.get("sha256"):
        raise _bad(npy, f"does not match {file.name} (checksum differs: truncated or edited?)")
    try:
        array = np.load(io.BytesIO(blob), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _bad(npy, f"not a readable .npy array ({exc})") from None
    return np.asarray(array)


def _load_centroids(file: Path, spec: dict[str, Any], k: int, dim: int) -> np.ndarray[Any, Any]:
    centroids = _read_npy(file, spec, "centroids")
    if centroids.shape != (k, dim) or not np.isfinite(centroids).all():
        npy = file.parent / str(spec["file"])
        raise _bad(npy, f"holds shape {centroids.shape}, expected ({k}, {dim}) finite values")
    return np.asarray(centroids, dtype=np.float32)


def _number(value: Any, file: Path, where: str, low: float, high: float) -> float:
    if value is None:
        return math.nan
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not low <= value <= high:
        raise _bad(file, f"{where} = {value!r} is not a number in [{low}, {high}] or null")
    return float(value)


_LIMITS = {"scores": 1.0, "costs": 1e9, "counts": 1e12}


def _cluster_row(file: Path, j: int, cluster: Any, models: list[str]) -> list[Any]:
    """[scores, costs, counts, size, bag, weight] of one cluster, each value checked (an
    artifact written before bagging has no `bag`: one clustering; one written before dataset
    weights has no `weight`: 1)."""
    where = f"clusters[{j}]"
    size = _get(cluster, "size", int, file, f"{where}.")
    if size < 1:
        raise _bad(file, f"cluster {j} is empty (size {size})")
    bag = cluster.get("bag", 0)
    if not isinstance(bag, int) or isinstance(bag, bool) or bag < 0:
        raise _bad(file, f"{where}.bag = {bag!r} is not a clustering number (0, 1, …)")
    weight = _number(cluster.get("weight", 1.0), file, f"{where}.weight", 1e-9, 1e9)
    if math.isnan(weight):
        raise _bad(file, f"{where}.weight must be a number, not null")
    out: list[Any] = []
    for key, high in _LIMITS.items():
        table = _get(cluster, key, dict, file, f"{where}.")
        if set(table) != set(models):
            raise _bad(file, f"{where}.{key} must list exactly the models {models}")
        out.append([_number(table[m], file, f"{where}.{key}[{m!r}]", 0.0, high) for m in models])
    if any(math.isnan(c) for c in out[2]):
        raise _bad(file, f"{where}.counts must be numbers, not null")
    return [*out, size, bag, weight]


def _build(file: Path, document: dict[str, Any], centroids: np.ndarray[Any, Any]) -> ClusterRouter:
    models = _get(document, "models", list, file)
    if not models or not all(isinstance(m, str) for m in models) or len(set(models)) < len(models):
        raise _bad(file, "field 'models' must be a non-empty list of distinct names")
    clusters = _get(document, "clusters", list, file)
    rows = [_cluster_row(file, j, cluster, models) for j, cluster in enumerate(clusters)]
    scores, costs, counts, sizes, bags, weights = ([row[i] for row in rows] for i in range(6))
    tables = ClusterTables(
        centroids,
        np.asarray(scores, dtype=np.float64).reshape(len(clusters), len(models)),
        np.asarray(costs, dtype=np.float64).reshape(len(clusters), len(models)),
        np.asarray(counts, dtype=np.int64).reshape(len(clusters), len(models)),
        np.asarray(sizes, dtype=np.int64),
        np.asarray(bags, dtype=np.int64),
        np.asarray(weights, dtype=np.float64),
    )
    try:
        config = saved_config(_get(document, "config", dict, file))  # older: fewer knobs
    except (TypeError, InputError) as exc:
        raise _bad(file, f"invalid config ({exc})") from None
    embedder = document["embedder"]["name"]
    meta = document.get("fitted") if isinstance(document.get("fitted"), dict) else {}
    excluded = document.get("excluded", [])  # none before the frontier existed
    if not isinstance(excluded, list) or not all(isinstance(m, str) for m in excluded):
        raise _bad(file, "field 'excluded' must be a list of model names")
    try:
        memory = _load_memory(file, document.get("near_copies"))
        return ClusterRouter(
            embedder, list(models), config, tables, dict(meta or {}), tuple(excluded), memory
        )
    except InputError as exc:
        raise _bad(file, str(exc)) from None


def _load_memory(file: Path, spec: Any) -> NearCopies | None:
    """The near-copy memory the artifact holds (none when the router keeps none)."""
    if spec is None:
        return None
    arrays = [
        _read_npy(file, _get(spec, key, dict, file, "near_copies."), f"near_copies.{key}")
        for key in ("vectors", "scores", "costs")
    ]
    offsets = _get(spec, "offsets", list, file, "near_copies.")
    if not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets):
        raise _bad(file, "field 'near_copies.offsets' must be a list of row numbers")
    vectors, scores, costs = arrays
    if vectors.dtype != np.float32 or scores.dtype != np.float64 or costs.dtype != np.float64:
        raise _bad(file, "near-copy arrays must be float32 vectors and float64 records")
    return NearCopies(vectors, scores, costs, np.asarray(offsets, dtype=np.int64))


def load_router(
    directory: str | Path, *, embedder_name: str | None = None, embedder_dim: int | None = None
) -> ClusterRouter:
    """Read an artifact written by `save_router`. Pass the embedder's name and dim to refuse
    a router that was fitted with another embedder."""
    path = Path(directory)
    file = path if path.suffix == ".json" else path / ROUTER_FILE
    document = _read_document(file)
    embedder = _get(document, "embedder", dict, file)
    name = _get(embedder, "name", str, file, "embedder.")
    dim = _get(embedder, "dim", int, file, "embedder.")
    check_embedder(file, (name, dim), embedder_name, embedder_dim)
    clusters = _get(document, "clusters", list, file)
    if not clusters:
        raise _bad(file, "field 'clusters' is empty")
    spec = _get(document, "centroids", dict, file)
    centroids = _load_centroids(file, spec, len(clusters), dim)
    return _build(file, document, centroids)
