"""`orchestrator mcp` fails before serving, with one line and exit 2, when what it was
given cannot be loaded (the server itself is tested over stdio in tests/agents)."""

from orchestrator.cli.command import main


def test_a_missing_capability_router_fails_before_serving(tmp_path, capsys):
    missing = tmp_path / "no-router"
    assert main(["mcp", "--capabilities-router", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and str(missing) in err[0]


def test_a_setup_that_cannot_be_imported_fails_before_serving(capsys):
    assert main(["mcp", "--setup", "no_such_module_here:setup"]) == 2
    err = capsys.readouterr().err
    assert "setup 'no_such_module_here:setup': cannot import no_such_module_here" in err
