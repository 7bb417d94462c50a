"""Question-answering data and its scoring: QA records in the shared JSONL format, and the
metrics each dataset is scored with (exact match, F1, numeric, MATH, choice, yes/no). Used by
aggregation, profiling and the harness alike, so it sits below all three.

May import: `orchestrator.errors` only."""

from orchestrator.qa.data import QARecord, read_qa
from orchestrator.qa.scoring import exact_match, f1_score, kind_for, score

__all__ = ["QARecord", "exact_match", "f1_score", "kind_for", "read_qa", "score"]
