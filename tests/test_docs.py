"""Docs that cannot drift: the README's configuration table against the config model, every
repository path and relative link in the docs against the tree, and every `orchestrator …`
command they show against the CLI parser."""

from __future__ import annotations

import argparse
import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from orchestrator.cli.command import _parser
from orchestrator.config import Config

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted(
    [README, *(ROOT / "docs").rglob("*.md"), *(ROOT / "bench").rglob("*.md")],
    key=str,
)

FENCE = re.compile(r"^```.*?^```", re.M | re.S)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# A repository path: one of the tracked top-level folders, not inside a longer path or word.
PATH = re.compile(
    r"(?<![\w./~$<-])((?:orchestrator|bench|examples|docs|data|tests|graphs|prompts)/[\w./-]*)"
)
COMMAND = re.compile(r"(?:^|\s--\s)\s*(?:\$\s+)?orchestrator ((?:[a-z][\w-]*)(?: [a-z][\w-]*)?)")
FLAG = re.compile(r"(?<![\w-])--[a-z][\w-]*")


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --- (a) the configuration reference ------------------------------------------------------


def config_keys() -> dict[str, FieldInfo]:
    """Every `[section] key` (`[[section]] key` for arrays of tables) of the config model."""
    keys: dict[str, FieldInfo] = {}
    for section, field in Config.model_fields.items():
        annotation = field.annotation
        if typing.get_origin(annotation) is list:
            (model,) = typing.get_args(annotation)
            tag = f"[[{section}]]"
        else:
            model, tag = annotation, f"[{section}]"
        if isinstance(model, type) and issubclass(model, BaseModel):
            keys.update({f"{tag} {name}": f for name, f in model.model_fields.items()})
        else:
            keys[section] = field
    return keys


def _cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def readme_config_table() -> dict[str, str]:
    """The README's configuration reference: `[section] key` → its default cell."""
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Configuration reference")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else None]
    table: dict[str, str] = {}
    for line in section.splitlines():
        cells = _cells(line) if line.startswith("|") else []
        spans = CODE_SPAN.findall(cells[0]) if cells else []
        if not spans or not spans[0].startswith("["):
            continue
        tag, _, first = spans[0].rpartition(" ")
        for key in [first, *spans[1:]]:
            table[f"{tag} {key}"] = cells[1]
    return table


def test_readme_documents_every_config_key() -> None:
    documented = readme_config_table()
    keys = config_keys()
    assert len(keys) > 20  # the walk found the model's sections
    missing = sorted(set(keys) - set(documented))
    assert not missing, f"README's configuration reference lacks {missing}"
    stale = sorted(set(documented) - set(keys))
    assert not stale, f"README documents config keys that do not exist: {stale}"


def _same(text: str, default: object) -> bool:
    if isinstance(default, int | float) and not isinstance(default, bool):
        try:
            return float(text) == float(default)
        except ValueError:
            return False
    return text == str(default)


def test_readme_config_defaults_match_the_model() -> None:
    """`required` for required fields; a code span holding the default where there is one;
    words (no code span) where the default is None and the meaning says what happens."""
    wrong = []
    for key, cell in readme_config_table().items():
        field = config_keys()[key]
        spans = CODE_SPAN.findall(cell)
        if field.is_required():
            ok = cell == "required"
        elif field.default is None:
            ok = not spans
        else:
            ok = len(spans) == 1 and _same(spans[0], field.default)
        if not ok:
            wrong.append(f"{key}: README says {cell!r}, the model {field.default!r}")
    assert not wrong, "\n".join(wrong)


# --- (b) paths and links -------------------------------------------------------------------


def repository_paths(text: str) -> set[str]:
    """Paths into the repository named in a Markdown text (code included)."""
    found = set()
    for match in PATH.finditer(text):
        path = match.group(1).rstrip(".")
        top, _, rest = path.partition("/")
        if top == "orchestrator" and rest and "/" not in rest and "." not in rest:
            continue  # a server policy such as orchestrator/wide, not a path
        found.add(path)
    return found


@pytest.mark.parametrize("doc", DOCS, ids=_name)
def test_named_paths_exist(doc: Path) -> None:
    paths = repository_paths(doc.read_text(encoding="utf-8"))
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, f"{_name(doc)} names paths that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=_name)
def test_relative_links_resolve(doc: Path) -> None:
    text = FENCE.sub("", doc.read_text(encoding="utf-8"))
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor on the same page
        resolved = (doc.parent / target.split("#")[0]).resolve()
        if not resolved.exists() or ROOT not in resolved.parents:
            broken.append(target)
    assert not broken, f"{_name(doc)} has broken links: {broken}"


def test_path_finder_sees_paths_and_skips_policies() -> None:
    text = (
        "`orchestrator/wide?alpha=0.4` and orchestrator/<graph>; ../shared/data/routing; "
        "--router orchestrator/data/local_router, see bench/load.py."
    )
    assert repository_paths(text) == {
        "orchestrator/",
        "orchestrator/data/local_router",
        "bench/load.py",
    }


def test_readme_layout_lists_every_subpackage() -> None:
    """The Development section's layout has one line per subpackage of orchestrator/."""
    text = README.read_text(encoding="utf-8")
    listed = set(re.findall(r"^  (\w+)/ ", text, re.M))
    packages = {p.parent.name for p in (ROOT / "orchestrator").glob("*/__init__.py")}
    assert packages <= listed, f"README's layout lacks {sorted(packages - listed)}"
    assert all((ROOT / "orchestrator" / name).is_dir() for name in listed)


# --- (c) commands --------------------------------------------------------------------------


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def shown_commands(text: str) -> list[str]:
    """Each `orchestrator …` command line in fenced code (continuations joined) or a code span,
    from its subcommand on, with any `# comment` dropped."""
    snippets = []
    for block in FENCE.findall(text):
        snippets += block.replace("\\\n", " ").splitlines()[1:-1]
    snippets += CODE_SPAN.findall(FENCE.sub("", text))
    commands = []
    for snippet in snippets:
        for match in COMMAND.finditer(snippet):
            commands.append(snippet[match.start(1) :].split(" # ")[0])
    return commands


def _check(command: str) -> list[str]:
    parser, problems = _parser(), []
    words = command.split()
    for word in words[:2]:
        choices = _subparsers(parser)
        if not choices:
            break
        if word not in choices:
            return [f"`orchestrator {command}`: no subcommand {word!r} (known: {sorted(choices)})"]
        parser = choices[word]
    known = {opt for action in parser._actions for opt in action.option_strings}
    problems += [f"`orchestrator {command}`: no option {f}" for f in FLAG.findall(command)]
    return [p for p in problems if p.rsplit(" ", 1)[-1] not in known]


@pytest.mark.parametrize("doc", DOCS, ids=_name)
def test_shown_commands_exist(doc: Path) -> None:
    problems = [p for c in shown_commands(doc.read_text(encoding="utf-8")) for p in _check(c)]
    assert not problems, "\n".join(problems)


def test_readme_shows_the_main_commands() -> None:
    commands = {" ".join(c.split()[:1]) for c in shown_commands(README.read_text("utf-8"))}
    assert set(_subparsers(_parser())) <= commands
