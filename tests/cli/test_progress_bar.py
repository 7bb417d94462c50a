from orchestrator.cli.progress_bar import tally


def test_without_a_terminal_progress_is_plain_lines_with_count_eta_and_note(capsys):
    with tally("eval", 4, completed=1, every_s=0) as advance:
        advance(1, "acc 1.00 (this run)")
        advance(2, "")
    assert capsys.readouterr().err.splitlines() == [
        "eval 2/4 (50%), 0:00:00 elapsed, ETA 0:00:00, acc 1.00 (this run)",
        "eval 4/4 (100%), 0:00:00 elapsed",
    ]


def test_lines_are_spaced_out_but_the_last_one_always_shows(capsys):
    with tally("profiling", 3, every_s=3600) as advance:
        for _ in range(3):
            advance(1, "")
    assert capsys.readouterr().err.splitlines() == ["profiling 3/3 (100%), 0:00:00 elapsed"]
