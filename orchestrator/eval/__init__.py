"""The evaluation harness behind `orchestrator eval`: configurations over QA questions, one
scored row each, its summary and plots, where questions run (local or Ray), calls shared
between configurations, and which code produced a result.

May import: the public API (`orchestrator.api`) and everything below it."""

from orchestrator.eval.configurations import Configuration, expand
from orchestrator.eval.harness import Harness, ResultsLog

__all__ = ["Configuration", "Harness", "ResultsLog", "expand"]
