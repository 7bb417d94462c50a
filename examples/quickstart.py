"""Answer a multi-hop question with the embedded local models (offline, CPU only).

python examples/quickstart.py "Who was born first, Ada Lovelace or Charles Darwin?"
"""

from __future__ import annotations

import sys

from orchestrator import Orchestrator

QUESTION = "Which was founded first, the university where Alan Turing studied or Harvard?"


def main(question: str, width: int = 2) -> None:
    orchestrator = Orchestrator.from_config()  # the built-in local pool; or a TOML path
    answer = orchestrator.ask(question, width=width)
    for step in answer.steps:
        print(f"{step.subquery_id} [{step.model}] {step.question} -> {step.answer} {step.votes}")
    usage = answer.usage
    print(
        f"answer: {answer.answer}  (status {answer.status}, {usage.llm_calls} calls, "
        f"{usage.completion_tokens} completion tokens, ${usage.cost_usd:.6f})"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else QUESTION)
