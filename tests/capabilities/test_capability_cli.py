"""`orchestrator capabilities fit | route | eval` end to end on a tiny pool with the hashing
embedder, and the one-line errors (file and line, exit 2) on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.capabilities.labelled import bare_id, read_queries
from orchestrator.cli.command import main
from orchestrator.errors import InputError

CAPABILITIES = [
    {"id": "weather", "description": "Get the weather forecast, rain and temperature for a city"},
    {"id": "calculator", "description": "Evaluate an arithmetic expression: add, multiply, divide"},
    {"id": "translate", "description": "Translate text from one language into another language"},
    {"id": "send_email", "description": "Send an email message to a recipient with a subject"},
]
QUERIES = [
    {"query": "what is the weather forecast for Paris", "relevant": ["weather"], "dataset": "d"},
    {"query": "multiply 17 by 23", "relevant": ["calculator"], "dataset": "d"},
    {
        "query": "translate this text into French",
        "relevant": ["translate"],
        "candidates": ["translate", "calculator"],
        "dataset": "e",
    },
    {"query": "send an email to Ada", "relevant": ["send_email"], "candidates": ["send_email"]},
    {"query": "tell me a joke about cats", "relevant": [], "candidates": ["weather"]},
]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def fitted(tmp_path, capsys):
    tools = write_jsonl(tmp_path / "tools.jsonl", CAPABILITIES)
    labelled = write_jsonl(tmp_path / "labelled.jsonl", QUERIES[:2])
    out = tmp_path / "router"
    cache = str(tmp_path / "cache")
    argv = ["capabilities", "fit", "--capabilities", str(tools), "--data", str(labelled)]
    argv += ["--out", str(out), "--embedder", "hashing-64", "--cache-dir", cache]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "4 capabilities" in printed and "hashing-64" in printed
    return out, cache


def test_route_prints_one_line_per_query_in_order(fitted, tmp_path, capsys):
    out, cache = fitted
    data = write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    argv = ["capabilities", "route", "--router", str(out), "--data", str(data)]
    assert main([*argv, "--top-k", "2", "--cache-dir", cache]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["index"] for line in lines] == list(range(len(QUERIES)))
    ids = {c["id"] for c in CAPABILITIES}
    for line in lines:
        assert set(line) == {"index", "ranked", "abstain"}
        assert isinstance(line["abstain"], bool)
        assert 1 <= len(line["ranked"]) <= 2
        assert all(set(r) == {"id", "score"} and r["id"] in ids for r in line["ranked"])
        scores = [r["score"] for r in line["ranked"]]
        assert scores == sorted(scores, reverse=True)


def test_route_within_candidates_keeps_to_each_querys_pool(fitted, tmp_path, capsys):
    out, cache = fitted
    data = write_jsonl(tmp_path / "queries.jsonl", QUERIES[2:])
    argv = ["capabilities", "route", "--router", str(out), "--data", str(data)]
    assert main([*argv, "--within-candidates", "--cache-dir", cache]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3
    for line, query in zip(lines, QUERIES[2:], strict=True):
        assert {r["id"] for r in line["ranked"]} <= set(query["candidates"])


def test_eval_prints_a_table_and_json(fitted, tmp_path, capsys):
    out, cache = fitted
    data = write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    argv = ["capabilities", "eval", "--router", str(out), "--data", str(data), "--cache-dir", cache]
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "| dataset | n | top-1 | recall@5 |" in table and "| **all** | 5 |" in table
    assert main([*argv, "--json", "--within-candidates"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["within_candidates"] is True and report["embedder"] == "hashing-64"
    assert [d["dataset"] for d in report["datasets"]] == ["d", "e", "queries"]
    overall = report["overall"]
    assert (overall["n"], overall["n_relevant"], overall["n_none"]) == (5, 4, 1)
    assert 0.0 <= overall["overall"] <= 1.0


BAD_LINES = [
    (
        '{"query": "ok", "relevant": ["weather"]}\n{"query": "x", "relevant": [\n',
        ":2: not valid JSON",
    ),
    ('{"relevant": ["weather"]}\n', ":1: missing field 'query'"),
    ('{"query": "ok"}\n\n{"query": "   "}\n', ":3: empty query"),
    ('["query"]\n', ":1: expected a JSON object"),
    ('{"query": "q", "relevant": ["weather"], "candidates": ["calculator"]}\n', ":1: relevant id"),
    ('{"query": "q", "relevant": "weather"}\n', ":1: relevant"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_LINES)
def test_read_queries_names_the_line(tmp_path, text, expected):
    path = tmp_path / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=expected) as caught:
        read_queries(path)
    assert str(caught.value).startswith(f"{path}:")


def test_read_queries_defaults_the_dataset_to_the_file_name(tmp_path):
    path = write_jsonl(tmp_path / "mine.jsonl", [{"query": "a"}, {"query": "b", "dataset": "x"}])
    assert [(q.query, q.relevant, q.dataset) for q in read_queries(path)] == [
        ("a", (), "mine"),
        ("b", (), "x"),
    ]
    assert bare_id("weather@1.2.0") == "weather" and bare_id("a@b.c") == "a@b.c"


@pytest.mark.parametrize(
    ("rows", "flags", "expected"),
    [
        ([{"query": "q", "relevant": ["nope"]}], [], ":1: unknown capability id 'nope'"),
        (
            [{"query": "a"}, {"query": "q", "candidates": ["x"]}],
            [],
            ":2: unknown capability id 'x'",
        ),
        ([{"query": ""}], [], ":1: empty query"),
    ],
)
def test_bad_queries_are_one_line_errors(fitted, tmp_path, capsys, rows, flags, expected):
    out, cache = fitted
    data = write_jsonl(tmp_path / "bad.jsonl", rows)
    for command in ("route", "eval"):
        argv = ["capabilities", command, "--router", str(out), "--data", str(data), *flags]
        assert main([*argv, "--cache-dir", cache]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {data}{expected}") and len(err.splitlines()) == 1


def test_fit_refuses_labelled_ids_outside_the_pool(tmp_path, capsys):
    tools = write_jsonl(tmp_path / "tools.jsonl", CAPABILITIES)
    data = write_jsonl(tmp_path / "l.jsonl", [{"query": "q", "relevant": ["weather", "ghost"]}])
    argv = ["capabilities", "fit", "--capabilities", str(tools), "--data", str(data)]
    assert main([*argv, "--out", str(tmp_path / "r"), "--embedder", "hashing-8"]) == 2
    assert f"error: {data}:1: unknown capability id 'ghost'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_fit_refuses_an_unknown_method(tmp_path, capsys):
    tools = write_jsonl(tmp_path / "tools.jsonl", CAPABILITIES)
    argv = ["capabilities", "fit", "--capabilities", str(tools), "--out", str(tmp_path / "r")]
    assert main([*argv, "--embedder", "hashing-8", "--method", "magic"]) == 2
    assert "--method 'magic': not a method (known: " in capsys.readouterr().err


def test_a_missing_router_folder_is_an_error(tmp_path, capsys):
    data = write_jsonl(tmp_path / "q.jsonl", [{"query": "a"}])
    argv = ["capabilities", "route", "--router", str(tmp_path / "none"), "--data", str(data)]
    assert main(argv) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_capabilities_help_imports_nothing_heavy():
    code = (
        "import sys\nfrom orchestrator.cli.command import main\n"
        "try:\n    main(['capabilities', 'fit', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('litellm', 'langgraph', 'torch', 'sentence_transformers',"
        " 'numpy', 'pydantic') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "--capabilities FILE" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_top_k_must_be_positive(fitted, tmp_path, capsys):
    out, cache = fitted
    data = write_jsonl(tmp_path / "q.jsonl", [{"query": "a"}])
    argv = ["capabilities", "route", "--router", str(out), "--data", str(data), "--top-k", "0"]
    assert main([*argv, "--cache-dir", cache]) == 2
    assert "--top-k takes a positive number, got 0" in capsys.readouterr().err


def test_ids_with_a_version_are_compared_without_it(fitted, tmp_path, capsys):
    out, cache = fitted
    rows = [{"query": "rain in Oslo?", "relevant": ["weather@2.0"], "candidates": ["weather@0"]}]
    data = write_jsonl(tmp_path / "q.jsonl", rows)
    argv = ["capabilities", "route", "--router", str(out), "--data", str(data)]
    assert main([*argv, "--within-candidates", "--cache-dir", cache]) == 0
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in line["ranked"]] == ["weather"]
