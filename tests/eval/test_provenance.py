import subprocess
from importlib.metadata import version
from pathlib import Path

from orchestrator.eval.provenance import code_version, git_revision


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_git_revision_names_the_commit_and_a_dirty_tree(tmp_path):
    assert git_revision(tmp_path) is None  # not a checkout
    git(tmp_path, "init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    git(tmp_path, "add", "a.py")
    git(tmp_path, "commit", "-qm", "first")
    sha = git(tmp_path, "rev-parse", "--short=10", "HEAD")
    assert git_revision(tmp_path) == f"g{sha}"
    (tmp_path / "new.py").write_text("untracked files do not count\n")
    assert git_revision(tmp_path) == f"g{sha}"
    (tmp_path / "a.py").write_text("x = 2\n")
    assert git_revision(tmp_path) == f"g{sha}.dirty"


def test_code_version_is_the_release_and_this_checkouts_revision():
    root = Path(__file__).resolve().parents[2]
    revision = git_revision(root)
    release = version("orchestrator")
    assert code_version() == (f"{release}+{revision}" if revision else release)
