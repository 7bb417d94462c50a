"""`orchestrator ask` when a run pauses for approval: the pending call is asked about on the
terminal, `--approve all|none` answers it for scripts, and with no one to answer the run stays
paused, resumable."""

import pytest
from support import EMAIL, Outbox, tool_orchestrator, tool_responder

from orchestrator.cli.approval import settle
from orchestrator.cli.command import _parser


def paused_run(scripted, tmp_path):
    scripted(tool_responder({"decompose": False}))
    outbox, store = Outbox(), tmp_path / "runs.sqlite"
    orch = tool_orchestrator(outbox, approval=True)
    answer = orch.ask(EMAIL, store=store)
    assert answer.status == "interrupted"

    def resume(approve):
        return orch.resume(answer.run_id, store=store, approve=approve)

    return answer, resume, outbox


def test_the_terminal_is_asked_and_a_yes_runs_the_call(scripted, tmp_path):
    answer, resume, outbox = paused_run(scripted, tmp_path)
    asked = []
    done = settle(answer, resume, None, ask=lambda q: asked.append(q) or "y")
    assert asked == ['run send_email with {"to": "ada@example.org"}? [y/N] ']
    assert done.status == "ok" and outbox.sent == ["ada@example.org"]


def test_approve_none_refuses_without_asking(scripted, tmp_path):
    answer, resume, outbox = paused_run(scripted, tmp_path)

    def never(question):
        raise AssertionError("asked despite --approve none")

    done = settle(answer, resume, "none", ask=never)
    assert done.status == "ok" and outbox.sent == [] and done.steps[0].tool.status == "refused"


def test_with_no_one_to_answer_the_run_stays_paused(scripted, tmp_path, capsys):
    answer, resume, outbox = paused_run(scripted, tmp_path)

    def no_terminal(question):
        raise EOFError

    done = settle(answer, resume, None, ask=no_terminal)
    assert done.status == "interrupted" and outbox.sent == []
    hint = f"orchestrator ask --resume {answer.run_id} --approve all|none"
    assert hint in capsys.readouterr().err
    assert settle(done, resume, "all").status == "ok" and outbox.sent == ["ada@example.org"]


def test_approve_takes_all_or_none():
    assert _parser().parse_args(["ask", "Q", "--approve", "all"]).approve == "all"
    with pytest.raises(SystemExit):
        _parser().parse_args(["ask", "Q", "--approve", "some"])
