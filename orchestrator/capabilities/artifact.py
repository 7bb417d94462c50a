"""The capability router's artifact: `capability_router.json` (format version, embedder name
and dim, method, options, capabilities, fitted numbers) beside `.npy` arrays. No pickle."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from orchestrator.errors import InputError, RouterArtifactError

FORMAT = 2  # 2: abstention models replace the top-score threshold
HEADER = "capability_router.json"
ARRAYS = ("desc_vectors", "desc_owners", "labelled_vectors", "labelled_owners", "labelled_multi")


def write(directory: str | Path, header: dict[str, Any], arrays: Sequence[np.ndarray]) -> Path:
    """The header and the arrays (in the order of ARRAYS) into the folder `directory`."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in zip(ARRAYS, arrays, strict=True):
        np.save(folder / f"{name}.npy", array, allow_pickle=False)
    path = folder / HEADER
    body = {"format": FORMAT, **header}
    path.write_text(json.dumps(body, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return path


def read(directory: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    folder = Path(directory)
    path = folder / HEADER if folder.is_dir() else folder
    folder = path.parent
    try:
        header = json.loads(path.read_text(encoding="utf-8"))
        arrays = {name: np.load(folder / f"{name}.npy", allow_pickle=False) for name in ARRAYS}
    except (OSError, ValueError) as error:
        raise RouterArtifactError(f"{path}: not a capability router artifact ({error})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RouterArtifactError(f"{path}: capability router format {FORMAT} expected")
    return header, arrays


def check_embedder(header: dict[str, Any], name: str | None, dim: int | None, where: str) -> None:
    """An artifact routes only vectors of the embedder it was fitted with."""
    fitted, fitted_dim = header.get("embedder_name"), header.get("dim")
    if name is not None and name != fitted:
        raise InputError(
            f"{where}: capability router fitted with embedder {fitted!r}, not {name!r}: "
            "refit it with this embedder or use that one"
        )
    if dim is not None and dim != fitted_dim:
        raise InputError(
            f"{where}: capability router fitted on {fitted_dim}-dimensional vectors, "
            f"not {dim}: refit it with this embedder"
        )
