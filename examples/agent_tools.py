"""The example's paragraph search: BM25 over the HotpotQA paragraphs shipped in
examples/data/ (CC BY-SA 4.0, see examples/data/README.md). The capabilities file
examples/data/agent_tools.jsonl names it as `examples/agent_tools.py:search`, a path
relative to the repository root, where the examples are run from."""

from pathlib import Path

from orchestrator.capabilities.builtin_tools import ParagraphSearch

CORPUS = Path(__file__).resolve().parent / "data" / "hotpotqa_paragraphs.jsonl"

search = ParagraphSearch(CORPUS)

if __name__ == "__main__":
    import sys

    print(search(" ".join(sys.argv[1:]) or "Otterington railway station"))
