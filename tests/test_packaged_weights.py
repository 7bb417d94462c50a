"""A zip archive split across (fake) PyPI packages: assembled, verified and unpacked once; and
a sentence-transformers model shipped that way (all-mpnet-base-v2's layout) embeds offline."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from orchestrator.embeddings import embedders as embedding
from orchestrator.embeddings.embedders import make_embedder, packaged_model_dir
from orchestrator.errors import ModelPackageError
from orchestrator.packaged_weights import PackagedArchive, split_packages, unpacked_folder


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def split_archive(site: Path, name: str, whole: bytes, count: int = 3) -> PackagedArchive:
    """Packages `<name>_part_00i` holding `input/<name>.zip.00i`, as all-mpnet-base-v2 ships."""
    packages, files = split_packages(
        name + "-part-{i:03d}", name + "_part_{i:03d}", "input/" + name + ".zip.{i:03d}", count
    )
    step = -(-len(whole) // count)
    for i, ((_, module), rel) in enumerate(zip(packages, files, strict=True)):
        path = site / module / rel
        path.parent.mkdir(parents=True)
        (site / module / "__init__.py").write_text("raise RuntimeError('imported')\n")
        path.write_bytes(whole[i * step : (i + 1) * step])
    return PackagedArchive(name, packages, files, hashlib.sha256(whole).hexdigest(), len(whole))


FILES = {"model/config.json": b'{"dim": 4}', "model/weights.bin": bytes(range(256)) * 64}


def test_archive_unpacks_once_and_drops_the_assembled_zip(site: Path, tmp_path: Path) -> None:
    spec = split_archive(site, "archa", zip_bytes(FILES))
    cache = tmp_path / "cache"
    folder = unpacked_folder(spec, cache_dir=cache)
    assert folder == cache / f"archa-{spec.sha256[:12]}"
    assert {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*.*")} == FILES
    assert [p.name for p in cache.iterdir()] == [folder.name]
    # Unpacked once: later calls do not read the packages again.
    (site / "archa_part_002" / "input" / "archa.zip.002").unlink()
    assert unpacked_folder(spec, cache_dir=cache) == folder


def test_parts_that_are_no_zip_leave_nothing_behind(site: Path, tmp_path: Path) -> None:
    spec = split_archive(site, "archb", b"not a zip at all " * 100)
    cache = tmp_path / "cache"
    with pytest.raises(ModelPackageError, match="archb-part-001 archb-part-002") as err:
        unpacked_folder(spec, cache_dir=cache)
    assert "not a zip archive" in str(err.value) and "\n" not in str(err.value)
    assert list(cache.iterdir()) == []


def test_every_missing_package_is_named_with_one_pip_command(site: Path, tmp_path: Path) -> None:
    spec = split_archive(site, "archc", zip_bytes(FILES), count=3)
    for i in (1, 3):
        shutil.rmtree(site / f"archc_part_00{i}")
    expected = (
        "archc needs the packages archc-part-001, archc-part-003, which are not installed: "
        "pip install archc-part-001 archc-part-003"
    )
    with pytest.raises(ModelPackageError, match=expected):
        unpacked_folder(spec, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_a_missing_archived_embedder_fails_when_named(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = split_archive(site, "archd", zip_bytes(FILES))
    monkeypatch.setitem(embedding.ARCHIVED_EMBEDDERS, "archd", spec)
    (site / "archd_part_002" / "input" / "archd.zip.002").unlink()
    with pytest.raises(
        ModelPackageError, match=re.escape("archd-part-002 has no input/archd.zip.002")
    ):
        make_embedder("archd")


@pytest.mark.slow
def test_an_archived_sentence_transformer_embeds_like_the_original(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MiniLM's folder, zipped and split the way all-mpnet-base-v2 ships, loads and embeds."""
    source = packaged_model_dir("all-MiniLM-L6-v2")
    files = {
        f"mini-zip/{p.relative_to(source)}": p.read_bytes()
        for p in source.rglob("*")
        if p.is_file()
    }
    spec = split_archive(site, "mini-zip", zip_bytes(files), count=4)
    monkeypatch.setitem(embedding.ARCHIVED_EMBEDDERS, "mini-zip", spec)
    monkeypatch.setenv("ORCHESTRATOR_CACHE_DIR", str(tmp_path / "cache"))
    texts = ["Where did Alan Turing study?", "How many legs does a spider have?"]
    archived = make_embedder("mini-zip")
    assert not (tmp_path / "cache").exists()  # nothing is unpacked before the first embed
    vectors = archived.embed(texts)
    assert archived.name == "mini-zip" and vectors.shape == (2, 384)
    assert np.allclose(vectors, make_embedder("all-MiniLM-L6-v2").embed(texts), atol=1e-6)


def test_callers_unpacking_at_once_all_get_the_folder(site: Path, tmp_path: Path) -> None:
    spec = split_archive(site, "archr", zip_bytes(FILES))
    cache = tmp_path / "cache"
    start = threading.Barrier(4)

    def unpack() -> Path:
        start.wait()
        return unpacked_folder(spec, cache_dir=cache)

    with ThreadPoolExecutor(4) as pool:
        folders = list(pool.map(lambda _: unpack(), range(4)))
    assert folders == [cache / f"archr-{spec.sha256[:12]}"] * 4
    assert [p.name for p in cache.iterdir()] == [folders[0].name]
