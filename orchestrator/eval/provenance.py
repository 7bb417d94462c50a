"""Which code produced a result: recorded in every evaluation row, so a results file that
grew over several commits says which rows came from which."""

from __future__ import annotations

import subprocess
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def git_revision(folder: Path) -> str | None:
    """`g<short sha>` of the checkout `folder` lies in, `.dirty` when tracked files differ
    from it; None outside a git checkout or without git."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout.strip()

    try:
        sha = git("rev-parse", "--short=10", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"g{sha}.dirty" if dirty else f"g{sha}"


@cache
def code_version() -> str:
    """The package version, with the git revision when it runs from a checkout
    (`0.1.0+g7e28cea1b2`)."""
    try:
        release = version("orchestrator")
    except PackageNotFoundError:
        release = "unknown"
    source = Path(__file__).resolve().parents[2]
    # Only a source checkout: an installed wheel may sit in a venv inside some other repo.
    revision = git_revision(source) if (source / "pyproject.toml").is_file() else None
    return f"{release}+{revision}" if revision else release
