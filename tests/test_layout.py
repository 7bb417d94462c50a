"""The sizes the library keeps: modules of at most 300 lines, functions of at most 40, and a
docstring on every subpackage saying what lives there and what it may import."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "orchestrator"
MODULES = sorted(PACKAGE.rglob("*.py"))


def functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return [node for node in ast.walk(tree) if isinstance(node, kinds)]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_stay_small(path):
    source = path.read_text()
    assert len(source.splitlines()) <= 300, f"{path.name} has over 300 lines"
    for node in functions(ast.parse(source)):
        lines = (node.end_lineno or node.lineno) - node.lineno + 1
        assert lines <= 40, f"{path.name}:{node.lineno} {node.name} has {lines} lines"


@pytest.mark.parametrize("init", sorted(PACKAGE.glob("*/__init__.py")), ids=lambda p: p.parent.name)
def test_every_subpackage_says_what_lives_there_and_what_it_may_import(init):
    docstring = ast.get_docstring(ast.parse(init.read_text())) or ""
    assert "May import" in docstring
